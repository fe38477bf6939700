"""Statements: seconds beyond the text pass, for each sample, beside the text pass itself (one run, one process).

    .venv/bin/python benchmarks/statements.py

The text pass is pdfplumber's page_lines over every page (what extract.py already does for tables); the
statements figure is everything after it: characters' boxes, body text, paragraphs, parsing. Target: ≤ 1 s for
the 91-page report.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pdfplumber

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.layout import page_lines  # noqa: E402
from extractors.statements import extract_statements  # noqa: E402


def main() -> None:
    print(f"{'PDF':32} {'pages':>5} {'text pass s':>12} {'statements s':>13} {'rows':>6}")
    for name in ("annual_report_2021.pdf", "city_evaluation_2021.pdf"):
        with pdfplumber.open(ROOT / "samples" / name) as pdf:
            t0 = time.perf_counter()
            lines = {p.page_number: page_lines(p) for p in pdf.pages}
            t1 = time.perf_counter()
            rows = extract_statements(pdf, lines)
            t2 = time.perf_counter()
            print(f"{name:32} {len(pdf.pages):>5} {t1 - t0:>12.2f} {t2 - t1:>13.2f} {len(rows):>6}")


if __name__ == "__main__":
    main()
