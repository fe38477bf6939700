"""Chart reading against the truth, raster and vector side by side, in one run.

    .venv/bin/python benchmarks/charts.py [--variants DIR] [--skip-variants]

For the report replica (samples/annual_report_2021.pdf, 46 raster and 6 vector charts) and for the
raster-chart variant set (samples/chart_variants, built into a temporary folder unless --variants
names one): per chart kind, the points right (the printed value, published), flagged (withheld, with
reasons), missed (neither published nor flagged) and wrong (published, and not the printed value),
and seconds per chart. Then the same report extracted again over the cache: what it re-reads.

Timings are wall-clock on this machine while others may share its cores: the load average is printed
beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402

from benchmarks.chart_score import Score, score_figure  # noqa: E402
from extractors import figures as figures_module  # noqa: E402
from extractors import raster_chart  # noqa: E402
from extractors.figures import extract_figures  # noqa: E402
from extractors.layout import page_lines  # noqa: E402

CAPTION_RE = re.compile(r"^图\s*(?P<number>\d+-\d+)\s*(?P<title>.+)$")
REPORT = ROOT / "samples" / "annual_report_2021.pdf"
REPORT_TRUTH = ROOT / "samples" / "truth" / "annual_report_2021.json"


class Timer:
    """Wall-clock seconds of every chart read, raster and vector, by wrapping the two readers.

    A raster chart's time is the whole of ``_RasterReader.read``: the cache lookups, cutting or rendering
    its image and reading it (OCR and tracing) on a miss."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[int, tuple[float, ...]], float] = {}
        self.calls = 0  # raster charts actually read (not served by the cache)
        self._raster = figures_module._RasterReader.read
        self._image = raster_chart.read_raster_image
        self._vector = figures_module._read_guarded

    def __enter__(self) -> Timer:
        def raster(reader, page, bbox, title, record):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return self._raster(reader, page, bbox, title, record)
            finally:
                self.seconds[(page.page_number, tuple(bbox))] = time.perf_counter() - start

        def vector(page, bbox, title):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return self._vector(page, bbox, title)
            finally:
                self.seconds[(page.page_number, tuple(bbox))] = time.perf_counter() - start

        def image(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls += 1
            return self._image(*args, **kwargs)

        figures_module._RasterReader.read = raster  # type: ignore[method-assign]
        figures_module._read_guarded = vector
        raster_chart.read_raster_image = image
        return self

    def __exit__(self, *exc: object) -> None:
        figures_module._RasterReader.read = self._raster  # type: ignore[method-assign]
        figures_module._read_guarded = self._vector
        raster_chart.read_raster_image = self._image


def read(pdf_path: Path, cache_dir: Path, image_dir: Path) -> tuple[list, Timer, float]:
    with pdfplumber.open(pdf_path) as pdf, Timer() as timer:
        lines = {p.page_number: page_lines(p) for p in pdf.pages}
        start = time.perf_counter()
        records = extract_figures(pdf, lines, image_dir, CAPTION_RE, cache_dir=cache_dir)
        return records, timer, time.perf_counter() - start


def tabulate(title: str, records: list, truth: dict, timer: Timer) -> dict[str, Score]:
    truths = {t["id"]: t for t in truth["figures"]}
    rows: dict[tuple[str, str], Score] = defaultdict(Score)
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    wrong: list[tuple] = []
    for record in records:
        t = truths.get(record.figure_id)
        if t is None:
            continue
        score = score_figure(record, t)
        key = (t["render"], t["kind"])
        rows[key].add(score)
        rows[(t["render"], "all")].add(score)
        spent = timer.seconds.get((record.page, tuple(record.bbox)))
        if spent is not None:
            seconds[key].append(spent)
            seconds[(t["render"], "all")].append(spent)
        wrong += score.wrong_points
    print(f"\n### {title}\n")
    print(
        "| render | chart kind | charts | points | right | flagged | missed | wrong "
        "| s/chart median | s/chart mean |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for render in ("raster", "vector"):
        kinds = sorted(k for r, k in rows if r == render and k != "all") + ["all"]
        for kind in kinds:
            s = rows.get((render, kind))
            if s is None:
                continue
            secs = seconds.get((render, kind), [])
            n = len(secs)
            med = f"{statistics.median(secs):.2f}" if secs else "–"
            mean = f"{statistics.fmean(secs):.2f}" if secs else "–"
            label = f"**{kind}**" if kind == "all" else kind
            print(
                f"| {render} | {label} | {n} | {s.total} | {s.right} | {s.flagged} | {s.missed} | {s.wrong} "
                f"| {med} | {mean} |"
            )
    if wrong:
        print("\nNot right and not flagged (figure, series, category, printed, published):")
        for w in wrong:
            print(f"- {w}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=Path, help="build (or reuse) the variant set in this folder")
    parser.add_argument("--skip-variants", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="soetl-charts-bench-"))
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")

    cache = work / "cache"
    report_truth = json.loads(REPORT_TRUTH.read_text(encoding="utf-8"))
    records, timer, first = read(REPORT, cache, work / "report-images")
    tabulate(f"Report replica ({REPORT.name}): first run, no cache", records, report_truth, timer)

    again, timer2, second = read(REPORT, cache, work / "report-images-2")
    same = [(r.figure_id, repr(r.points), repr(r.flagged)) for r in again] == [
        (r.figure_id, repr(r.points), repr(r.flagged)) for r in records
    ]
    print(
        f"\nCache: first run {first:.1f} s; a second run over the unchanged PDF {second:.1f} s, "
        f"{timer2.calls} raster chart(s) re-read, results {'identical' if same else 'DIFFERENT'}."
    )

    if not args.skip_variants:
        from samples.chart_variants.build import build

        folder = args.variants or work / "variants"
        pdf = folder / "chart_variants.pdf"
        if pdf.exists() and (folder / "truth.json").exists():
            truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        else:
            pdf, truth = build(folder)
        records, timer, _ = read(pdf, work / "variant-cache", work / "variant-images")
        title = f"Raster-chart variants ({len(truth['figures'])} charts, samples/chart_variants)"
        tabulate(title, records, truth, timer)
        by_id = {r.figure_id: r for r in records}
        print("\n| variant | figure | kind | right | flagged | missed | wrong | s |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for t in truth["figures"]:
            record = by_id.get(t["id"])
            if record is None:
                continue
            s = score_figure(record, t)
            spent = timer.seconds.get((record.page, tuple(record.bbox)), float("nan"))
            print(
                f"| {t['variant']['name']} | {t['variant']['figure']} | {t['kind']} | {s.right} | {s.flagged} "
                f"| {s.missed} | {s.wrong} | {spent:.2f} |"
            )
    load = os.getloadavg()
    print(f"\nload average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
