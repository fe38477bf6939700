"""Summarise the bundled sample PDFs and their ground truth (what `make run` does until the flow exists).

Opens each replica, counts pages, tables and figures, and confirms that every table cell of the truth is
in the PDF's text layer. Exits non-zero if a cell is missing.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pdfplumber

SAMPLES = Path(__file__).resolve().parent


def check(truth_path: Path) -> int:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    pdf_path = SAMPLES / truth["pdf"]
    with pdfplumber.open(pdf_path) as pdf:
        pages = len(pdf.pages)
        text = "".join(re.sub(r"\s+", "", page.extract_text() or "") for page in pdf.pages)
        producer = pdf.metadata.get("Producer", "?")
    cells = [c for t in truth["tables"] for row in t["rows"] for c in row if c]
    missing = [c for c in cells if c not in text]
    origins = Counter(p["origin"] for f in truth["figures"] for s in f["series"] for p in s["points"])
    renders = Counter(f["render"] for f in truth["figures"])
    print(f"{pdf_path.relative_to(SAMPLES.parent)}: {pages} pages, producer {producer}")
    print(f"  {len(truth['tables'])} tables, {len(cells)} non-empty cells, {len(missing)} not in the text")
    if truth["figures"]:
        print(f"  {len(truth['figures'])} figures ({dict(renders)}), chart points by origin: {dict(origins)}")
    return len(missing)


def main() -> int:
    missing = sum(check(path) for path in sorted((SAMPLES / "truth").glob("*.json")))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
