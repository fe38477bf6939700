"""Benchmark: soetl vs camelot lattice vs pdfplumber on the sample PDFs, speed, memory and cell accuracy.

    .venv/bin/python benchmarks/extract.py [--repeat N] [PDF ...]     # default: both samples/*.pdf

Tools, each over the whole document:

* ``soetl``: ``extract_pdf(path)`` (tables only, no image_dir).
* ``camelot-lattice``: ``camelot.read_pdf(path, pages="all", flavor="lattice", engine="combined")``.
* ``pdfplumber``: ``page.extract_tables()`` (default settings) on every page.

Measurement. Every (tool, PDF, repeat) runs in a fresh interpreter (this script with ``--one TOOL PDF``).
The child imports the tool's modules first, then times the extraction alone with ``time.perf_counter``
(interpreter start and imports excluded) and reads ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at
the end: the peak resident memory of the whole child, imports included (Linux reports KiB). With
``--repeat N`` the table shows the median wall time (min-max in brackets) and the largest peak memory.
pages/s is the PDF's page count over the median wall time.

Accuracy is cells equal / total truth cells, over the body rows (``tables[].rows``) of every table in
``samples/truth/<pdf stem>.json``. Cells are compared after removing all whitespace in each cell, so the
tools are not penalised for how they break lines inside a cell or space CJK text.

* soetl names its tables as the truth does, so each truth table is compared with the soetl table of the
  same id, position by position: row r, column c against row r, column c. A missing table scores 0.
* camelot and pdfplumber name nothing, so matching is by rows: a truth row counts, with all its cells,
  when some row of some table the tool found on any page equals it cell for cell (same number of cells,
  each equal). A table the tool split at a page break, or a header it merged into the body, still
  scores the rows it got right. Each tool row can match one truth row only (a multiset), so a row found
  once cannot score for two identical truth rows. A row with one wrong or split cell scores nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / "city_evaluation_2021.pdf", ROOT / "samples" / "annual_report_2021.pdf"]
TOOLS = ["soetl", "camelot-lattice", "pdfplumber"]
MARK = "BENCH-RESULT "

Rows = list[list[str]]


def squeeze(text: str | None) -> str:
    return "".join((text or "").split())


def truth_tables(pdf: Path) -> list[dict]:
    return json.loads((ROOT / "samples" / "truth" / f"{pdf.stem}.json").read_text(encoding="utf-8"))["tables"]


def score_by_id(found: dict[str, Rows], truth: list[dict]) -> tuple[int, int]:
    """Cells equal, position by position, in the table of the same id; and the truth's cell count."""
    equal = total = 0
    for table in truth:
        got = found.get(table["id"], [])
        for r, row in enumerate(table["rows"]):
            total += len(row)
            got_row = got[r] if r < len(got) else []
            equal += sum(c < len(got_row) and squeeze(got_row[c]) == squeeze(cell) for c, cell in enumerate(row))
    return equal, total


def score_by_rows(found: list[Rows], truth: list[dict]) -> tuple[int, int]:
    """Cells of the truth rows that some found row equals cell for cell; and the truth's cell count."""
    pool = Counter(tuple(squeeze(c) for c in row) for table in found for row in table)
    equal = total = 0
    for table in truth:
        for row in table["rows"]:
            total += len(row)
            key = tuple(squeeze(c) for c in row)
            if pool[key] > 0:
                pool[key] -= 1
                equal += len(row)
    return equal, total


def run_soetl(pdf: Path) -> tuple[float, tuple[int, int]]:
    sys.path.insert(0, str(ROOT))
    from extractors.extract import extract_pdf

    start = time.perf_counter()
    result = extract_pdf(pdf)
    wall = time.perf_counter() - start
    return wall, score_by_id({t.table_id: t.texts() for t in result.tables}, truth_tables(pdf))


def run_camelot(pdf: Path) -> tuple[float, tuple[int, int]]:
    import camelot

    start = time.perf_counter()
    tables = camelot.read_pdf(str(pdf), pages="all", flavor="lattice", engine="combined")
    wall = time.perf_counter() - start
    found = [[[str(c) for c in row] for row in t.df.values.tolist()] for t in tables]
    return wall, score_by_rows(found, truth_tables(pdf))


def run_pdfplumber(pdf: Path) -> tuple[float, tuple[int, int]]:
    import pdfplumber

    start = time.perf_counter()
    found: list[Rows] = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for table in page.extract_tables():
                found.append([[c or "" for c in row] for row in table])
            page.close()  # drop the page's cached objects, as a long run over many pages would
    wall = time.perf_counter() - start
    return wall, score_by_rows(found, truth_tables(pdf))


RUNNERS = {"soetl": run_soetl, "camelot-lattice": run_camelot, "pdfplumber": run_pdfplumber}


def one(tool: str, pdf: Path) -> None:
    """Child mode: run one tool once on one PDF and print its measurements as one JSON line."""
    import logging

    logging.disable(logging.WARNING)  # soetl and pdfminer log every recoverable oddity
    warnings.simplefilter("ignore")  # camelot warns on every page without a table
    wall, (equal, total) = RUNNERS[tool](pdf)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(MARK + json.dumps({"wall": wall, "peak_mib": peak_kib / 1024, "equal": equal, "total": total}))


def spawn(tool: str, pdf: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--one", tool, str(pdf)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{tool} on {pdf.name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(MARK) :])


def page_count(pdf: Path) -> int:
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        return len(doc.pages)


def table(pdf: Path, pages: int, runs: dict[str, list[dict]], repeat: int) -> str:
    wall_head = "wall s" if repeat == 1 else f"wall s (median of {repeat}, min-max)"
    out = [
        f"### {pdf.name} ({pages} pages, {sum(len(t['rows']) for t in truth_tables(pdf))} truth rows "
        f"in {len(truth_tables(pdf))} tables)",
        "",
        f"| tool | pages/s | {wall_head} | peak memory MiB | cell accuracy |",
        "|---|---:|---:|---:|---:|",
    ]
    for tool, results in runs.items():
        walls = [r["wall"] for r in results]
        wall = statistics.median(walls)
        spread = "" if repeat == 1 else f" ({min(walls):.2f}-{max(walls):.2f})"
        equal, total = results[0]["equal"], results[0]["total"]
        out.append(
            f"| {tool} | {pages / wall:.2f} | {wall:.2f}{spread} | {max(r['peak_mib'] for r in results):.0f} "
            f"| {equal}/{total} ({100 * equal / total:.1f}%) |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pdfs", nargs="*", type=Path, default=SAMPLES, help="PDFs with a samples/truth/ file")
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs per tool and PDF (default 1)")
    parser.add_argument("--one", nargs=2, metavar=("TOOL", "PDF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one[0], Path(args.one[1]))
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(f"python {sys.version.split()[0]}; each run a fresh process; accuracy method: see the docstring\n")
    for pdf in args.pdfs:
        pdf = pdf.resolve()
        runs: dict[str, list[dict]] = {tool: [] for tool in TOOLS}
        for _ in range(args.repeat):  # tools interleaved, so drift in machine load hits all alike
            for tool in TOOLS:
                runs[tool].append(spawn(tool, pdf))
        print(table(pdf, page_count(pdf), runs, args.repeat), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
