"""Build one variant: check every glyph, typeset with its producer, write the PDF and its truth JSON."""

from __future__ import annotations

import json
from pathlib import Path

from samples.variants import fonts
from samples.variants.content import SOURCES, Document, build_document
from samples.variants.matrix import Variant

PRODUCERS = ("weasyprint", "reportlab")


class ProducerMissing(RuntimeError):
    """The variant's PDF producer is not installed here (both are in the test extra)."""


def available(producer: str) -> bool:
    try:
        __import__({"weasyprint": "weasyprint", "reportlab": "reportlab"}[producer])
    except ImportError:
        return False
    return True


def check_glyphs(doc: Document) -> None:
    v = doc.variant
    bold_kinds = ("title", "heading", "appendix")
    for where, text in doc.strings():
        fonts.check_text(v.font, text, f"{v.name} {where}")
        is_bold = where.split(" ")[-1] in ("caption", "续表") or where in bold_kinds
        if v.producer == "weasyprint" and (is_bold or (v.header_bold and where.endswith("header"))):
            fonts.check_text(fonts.BOLD, text, f"{v.name} {where}")


def truth(doc: Document, pdf: Path, producer: str, pieces: dict[int, list[dict]], cells: dict) -> dict:
    v = doc.variant
    tables = []
    for ti, t in enumerate(doc.tables):
        tables.append(
            {
                "id": t.id,
                "caption": t.caption,
                "caption_line": t.caption_line,
                "columns": t.columns,
                "header_rows": [[label.replace("\n", "") for label in row] for row in t.header],
                "rows": t.rows,
                "unit": t.unit,
                "unit_line": t.unit_line,
                "source_note": t.source_note,
                "notes": t.notes,
                "style": v.rules,
                "canonical": t.canonical,
                "values": t.values,
                "pieces": [
                    {"page": p["page"], "bbox": [round(x, 2) for x in p["bbox"]], "rows": p["rows"]}
                    for p in pieces.get(ti, [])
                ],
                # Each body cell's box on its page: [page, x0, top, x1, bottom]; null under a span.
                "cell_boxes": [
                    [
                        [round(x, 2) for x in cells[ti][r, c]] if (r, c) in cells.get(ti, {}) else None
                        for c in range(len(row))
                    ]
                    for r, row in enumerate(t.rows)
                ],
                # Each header cell's box where the header is first printed; null under a span.
                "header_boxes": [
                    [
                        [round(x, 2) for x in cells[ti]["h", r, c]] if ("h", r, c) in cells.get(ti, {}) else None
                        for c in range(len(row))
                    ]
                    for r, row in enumerate(t.header)
                ],
                "continued_line": t.continued_line if v.continued.startswith("xubiao") else None,
                "spacer_after": t.spacer_after,
            }
        )
    return {
        "id": v.name,
        "title": doc.title,
        "pdf": pdf.name,
        "producer": producer,
        "kind": v.kind,
        "source": f"samples/truth/{SOURCES[v.kind]}.json",
        "variant": {"name": v.name, "kind": v.kind, **v.dims},
        "tables": tables,
    }


def build(variant: Variant, outdir: Path, document: Document | None = None) -> tuple[Path, dict]:
    """Typeset ``variant`` into ``outdir/<name>.pdf`` and write ``<name>.json`` beside it.

    ``document``: what to typeset instead of the replica (samples/backcatalog's editions)."""
    if not available(variant.producer):
        raise ProducerMissing(f"{variant.name}: {variant.producer} is not installed")
    doc = document or build_document(variant)
    check_glyphs(doc)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    pdf = outdir / f"{variant.name}.pdf"
    if variant.producer == "weasyprint":
        from samples.variants import weasy

        pieces, cells, producer = weasy.render(doc, pdf)
    else:
        from samples.variants import rlab

        pieces, cells, producer = rlab.render(doc, pdf)
    record = truth(doc, pdf, producer, pieces, cells)
    pdf.with_suffix(".json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return pdf, record
