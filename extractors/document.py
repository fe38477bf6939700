"""The machine-readable result of ``soetl extract FILE --json``: one JSON document per PDF.

    {"source", "sha256", "kind", "pages", "tables": [{"id", "caption", "page", "bbox", "header_rows",
     "cells": [{"row", "col", "row_span", "col_span", "text"}], "pieces"?, "unit"?, "notes"?, ...}],
     "figures": [...], "problems": [...]}

Pages are 1-based; boxes are [x0, top, x1, bottom] in PDF points from the page's top-left corner (as
pdfplumber). Header cells come first (rows 0 .. header_rows-1) with their spans; a spanning cell fills
the slots it covers, which hold no cell of their own. A table continued across pages is one table with
a ``pieces`` list of page and bbox. The JSON Schema is ``extractors/document.schema.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractors.model import ExtractedTable, ExtractionResult

SCHEMA = Path(__file__).resolve().parent / "document.schema.json"


def _box(b: tuple[float, float, float, float]) -> list[float]:
    return [round(float(v), 2) for v in b]


def table_document(table: ExtractedTable) -> dict[str, Any]:
    cells: list[dict[str, Any]] = [
        {"row": h.row, "col": h.col, "row_span": h.row_span, "col_span": h.col_span, "text": h.text}
        for h in table.header_cells
    ]
    covered: set[tuple[int, int]] = set()
    for r, row in enumerate(table.rows, start=table.header_rows):
        for c, cell in enumerate(row):
            if (r, c) in covered:
                continue
            for rr in range(r, r + cell.row_span):
                for cc in range(c, c + cell.col_span):
                    covered.add((rr, cc))
            cells.append({"row": r, "col": c, "row_span": cell.row_span, "col_span": cell.col_span, "text": cell.text})
    prov = table.provenance
    out: dict[str, Any] = {
        "id": table.table_id,
        "caption": table.caption or None,
        "page": prov.pages[0],
        "bbox": _box(prov.bboxes[0]),
        "header_rows": table.header_rows,
        "n_rows": table.header_rows + len(table.rows),
        "n_cols": len(table.columns),
        "columns": table.columns,
        "cells": cells,
        "unit": table.unit,
        "source_note": table.source_note,
        "notes": table.notes,
        "parser": prov.parser,
        "dataset": table.dataset,
    }
    if len(prov.pages) > 1:
        out["pieces"] = [{"page": p, "bbox": _box(b)} for p, b in zip(prov.pages, prov.bboxes, strict=True)]
    if table.dataset:
        out["canonical"] = table.canonical
    return out


def result_document(result: ExtractionResult) -> dict[str, Any]:
    return {
        "source": result.source_path,
        "sha256": result.source_sha256,
        "kind": result.kind,
        "year": result.year,
        "pages": result.pages,
        "tables": [table_document(t) for t in result.tables],
        "figures": [
            {
                "id": f.figure_id,
                "title": f.title,
                "page": f.page,
                "bbox": _box(f.bbox),
                "kind": f.kind,
                "image": f.image_path,
                "points": len(f.points),
            }
            for f in result.figures
        ],
        "problems": [{"page": p.page, "problem": p.problem} for p in result.problems],
    }
