"""One fuzz run, in its own interpreter: extract a PDF as the flow does and print a JSON summary.

    python -m tests.fuzz.child FILE.pdf IMAGE_DIR [KIND]

KIND forces the report kind (a corpus PDF is no MOFCOM report: forced, it still goes through tables,
the generic layer and figures instead of stopping at UnknownReportKind).

Prints ``{"outcome": "result", ...}`` or ``{"outcome": "named", ...}`` for an ExtractionError. Any
other exception is left to end the process with a traceback: that is what the harness looks for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import warnings
from pathlib import Path


def summarize(result) -> dict:  # type: ignore[no-untyped-def]
    """What a fuzz run is compared on: the document's shape, every cell's text, where it came from."""
    tables = []
    for table in result.tables:
        texts = table.texts()
        tables.append(
            {
                "id": table.table_id,
                "dataset": table.dataset,
                "caption": table.caption,
                "pages": list(table.provenance.pages),
                "rows": len(texts),
                "cols": len(table.columns),
                "filled": sum(bool(t.strip()) for row in texts for t in row),
                "digest": hashlib.sha1(json.dumps([table.columns, texts]).encode()).hexdigest()[:16],
            }
        )
    figures = [
        {
            "id": f.figure_id,
            "page": f.page,
            "kind": f.kind,
            "points": len(f.points),
            "image": bool(f.image_path and Path(f.image_path).exists()),
            "problems": list(f.problems),
        }
        for f in result.figures
    ]
    problems = [{"page": p.page, "kind": getattr(p, "kind", ""), "problem": p.problem} for p in result.problems]
    return {
        "outcome": "result",
        "kind": result.kind,
        "year": result.year,
        "pages": result.pages,
        "tables": tables,
        "figures": figures,
        "problems": problems,
        "complete": bool(getattr(result, "complete", True)),
    }


def main(argv: list[str]) -> int:
    pdf, image_dir = Path(argv[0]), Path(argv[1])
    kind = argv[2] if len(argv) > 2 else None
    logging.basicConfig(level=logging.ERROR)
    warnings.simplefilter("ignore")
    from extractors.errors import ExtractionError
    from extractors.extract import extract_pdf

    try:
        result = extract_pdf(pdf, kind=kind, image_dir=image_dir)
    except ExtractionError as exc:
        print(json.dumps({"outcome": "named", "error": type(exc).__name__, "page": exc.page, "message": str(exc)}))
        return 0
    print(json.dumps(summarize(result), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
