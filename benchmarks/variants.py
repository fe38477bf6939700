"""Benchmark: cells right on the layout variants (samples/variants), soetl beside camelot stream and lattice.

    .venv/bin/python benchmarks/variants.py [--outdir DIR] [--only NAME,...] [--reuse] [--json FILE]

Builds every variant of samples/variants/matrix.toml (or reuses DIR's PDFs and truth with --reuse), then:

* ``soetl``: ``extractors.extract.extract_pdf(pdf)``, every table it returns, whatever its dataset.
* ``stream`` / ``lattice``: camelot's own grids, ``camelot.read_pdf(pdf, pages=P, flavor=F,
  table_areas=[...])`` on exactly the regions the truth's ``pieces`` give (one call per page, all the
  page's regions at once). A table's pieces are joined in page order; its columns are the first rows of
  the first piece joined down with "/" (camelot has no header notion), and every row, header rows
  included, is offered as a body row: the matcher skips rows that match nothing.

All three are scored by ``samples.variants.score.score_tables``: a truth cell counts when its text
(whitespace removed) is in the right row and column after an order-preserving alignment. soetl's tables
are paired with the truth's by id, then by content; camelot's by region. The matrix prints, per variant
and table, ``soetl stream lattice / cells``, then the totals and seconds per PDF for each. A PDF a tool
fails on shows ERR in its cells and the error below the matrix: the benchmark reports, never stops.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from samples.variants import ProducerMissing, build, matrix  # noqa: E402
from samples.variants.score import Grid, score_tables  # noqa: E402

TOOLS = ("soetl", "stream", "lattice")


def run_soetl(pdf: Path, truth: dict) -> tuple[list, float]:  # type: ignore[type-arg]
    from extractors.extract import extract_pdf

    t0 = time.perf_counter()
    result = extract_pdf(pdf)
    elapsed = time.perf_counter() - t0
    return score_tables(truth, list(result.tables)), elapsed


def run_camelot(pdf: Path, truth: dict, flavor: str) -> tuple[list, float]:  # type: ignore[type-arg]
    import camelot
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        heights = [p.height for p in doc.pages]
    by_page: dict[int, list[tuple[int, list[float]]]] = {}
    for ti, t in enumerate(truth["tables"]):
        for piece in t["pieces"]:
            by_page.setdefault(piece["page"], []).append((ti, piece["bbox"]))
    rows: dict[int, list[list[str]]] = {}
    first_rows: dict[int, list[list[str]]] = {}
    t0 = time.perf_counter()
    for page in sorted(by_page):
        h = heights[page - 1]
        regions = by_page[page]
        areas = [
            f"{x0 - 2:.1f},{h - top + 2:.1f},{x1 + 2:.1f},{h - bottom - 2:.1f}" for _, (x0, top, x1, bottom) in regions
        ]
        found = camelot.read_pdf(str(pdf), pages=str(page), flavor=flavor, table_areas=areas)
        for table in found:
            x0, y0, x1, y1 = table._bbox
            cx, cy = (x0 + x1) / 2, h - (y0 + y1) / 2
            ti = next(
                (ti for ti, (a, top, b, bottom) in regions if a - 3 <= cx <= b + 3 and top - 3 <= cy <= bottom + 3),
                None,
            )
            if ti is None:
                continue
            grid = [[str(c) for c in row] for row in table.df.values.tolist()]
            first_rows.setdefault(ti, grid)
            rows.setdefault(ti, []).extend(grid)
    elapsed = time.perf_counter() - t0
    grids = []
    for ti, t in enumerate(truth["tables"]):
        if ti not in rows:
            continue
        head = first_rows[ti][: len(t["header_rows"])]
        width = max(len(r) for r in rows[ti])
        columns = ["/".join(r[c] for r in head if c < len(r) and r[c].strip()) for c in range(width)]
        grids.append(Grid(columns, rows[ti], t["id"]))
    return score_tables(truth, grids), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, help="where the variant PDFs go (default: a temp dir)")
    parser.add_argument("--only", default="", help="comma-separated variant names")
    parser.add_argument("--reuse", action="store_true", help="use the PDFs and truth already in --outdir")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # camelot warns on regions it finds no text in
    outdir = args.outdir or Path(tempfile.mkdtemp(prefix="soetl-variants-"))
    wanted = {n for n in args.only.split(",") if n}
    variants = [v for v in matrix() if not wanted or v.name in wanted]

    results: dict[str, dict] = {}
    errors: list[str] = []
    for v in variants:
        entry: dict = {"kind": v.kind, "producer": v.producer, "tables": {}, "seconds": {}, "errors": {}}
        results[v.name] = entry
        pdf, truth_path = outdir / f"{v.name}.pdf", outdir / f"{v.name}.json"
        try:
            if args.reuse and pdf.exists() and truth_path.exists():
                truth = json.loads(truth_path.read_text(encoding="utf-8"))
            else:
                pdf, truth = build(v, outdir)
        except ProducerMissing as exc:
            entry["errors"]["build"] = str(exc)
            continue
        except Exception as exc:  # a variant that does not build is reported, not fatal
            entry["errors"]["build"] = f"{type(exc).__name__}: {exc}"
            errors.append(f"{v.name} build: {entry['errors']['build']}")
            continue
        entry["cells"] = {t["id"]: sum(1 for r in t["rows"] for c in r if "".join(c.split())) for t in truth["tables"]}
        for tool in TOOLS:
            try:
                if tool == "soetl":
                    scores, seconds = run_soetl(pdf, truth)
                else:
                    scores, seconds = run_camelot(pdf, truth, tool)
            except Exception as exc:  # noqa: BLE001 - every failure is shown in the matrix
                last = traceback.extract_tb(exc.__traceback__)[-1]
                entry["errors"][tool] = f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
                errors.append(f"{v.name} {tool}: {entry['errors'][tool]}")
                continue
            entry["seconds"][tool] = seconds
            for s in scores:
                entry["tables"].setdefault(s.id, {})[tool] = {
                    "right": s.right, "cells": s.cells, "headers_right": s.headers_right, "headers": s.headers,
                }
        print(f"... {v.name}: " + ", ".join(f"{k} {sec:.1f}s" for k, sec in entry["seconds"].items()),
              file=sys.stderr, flush=True)

    print_matrix(results)
    if errors:
        print("\nErrors (the cells above show ERR):")
        for line in errors:
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nPDFs and truth: {outdir}")
    return 0


def print_matrix(results: dict[str, dict]) -> None:
    for kind in ("annual", "notice"):
        names = [n for n, e in results.items() if e["kind"] == kind]
        if not names:
            continue
        ids = next((list(e["cells"]) for n, e in results.items() if n in names and "cells" in e), [])
        width = max(len(n) for n in names)
        print(f"\n{kind}: cells right per table as soetl stream lattice / truth cells; totals; seconds per PDF")
        head = " | ".join(f"{i:^15}" for i in ids)
        print(f"{'variant':<{width}} | {head} | {'soetl':>11} {'stream':>11} {'lattice':>11} | s: soetl stream lattice")
        sums = {tool: [0, 0] for tool in TOOLS}
        for n in names:
            e = results[n]
            if "cells" not in e:
                print(f"{n:<{width}} | not built: {e['errors'].get('build')}")
                continue
            cells = []
            for i in ids:
                got = e["tables"].get(i, {})
                parts = [("ERR" if tool in e["errors"] else str(got.get(tool, {}).get("right", 0))) for tool in TOOLS]
                cells.append(f"{' '.join(parts):>10}/{e['cells'][i]:<4}")
            totals = []
            for tool in TOOLS:
                right = sum(t.get(tool, {}).get("right", 0) for t in e["tables"].values())
                total = sum(e["cells"].values())
                if tool in e["errors"]:
                    totals.append(f"{'ERR':>11}")
                else:
                    sums[tool][0] += right
                    totals.append(f"{100 * right / total:>10.1f}%")
                sums[tool][1] += total
            secs = " ".join(f"{e['seconds'][t]:.1f}" if t in e["seconds"] else "-" for t in TOOLS)
            print(f"{n:<{width}} | {' | '.join(cells)} | {' '.join(totals)} | {secs}")
        line = " ".join(f"{tool} {r}/{t} ({100 * r / t:.1f}%)" if t else f"{tool} -" for tool, (r, t) in sums.items())
        print(f"{'all ' + kind:<{width}} | {line}")


if __name__ == "__main__":
    sys.exit(main())
