"""Check a built variant against its PDF: each truth cell's text is what the PDF prints in the cell's box.

The truth is written from what was typeset; this reads the PDF back only to prove the two agree.
"""

from __future__ import annotations

from pathlib import Path

import pdfplumber

TOLERANCE = 1.0  # pt: border-collapse puts half a rule outside a box


def squeeze(text: str | None) -> str:
    return "".join((text or "").split())


def _crop_text(page, bbox: list[float]) -> str:  # type: ignore[no-untyped-def]
    x0, top, x1, bottom = bbox
    box = (max(0, x0 - TOLERANCE), max(0, top - TOLERANCE), min(page.width, x1 + TOLERANCE),
           min(page.height, bottom + TOLERANCE))
    # Chars whose centre lies in the box: a neighbour's glyph overhanging by a hair does not count.
    chars = [
        ch for ch in page.chars
        if box[0] <= (ch["x0"] + ch["x1"]) / 2 <= box[2] and box[1] <= (ch["top"] + ch["bottom"]) / 2 <= box[3]
    ]
    chars.sort(key=lambda ch: (round(ch["top"]), ch["x0"]))
    return squeeze("".join(ch["text"] for ch in chars))


def problems(pdf_path: Path, truth: dict) -> list[str]:
    """Every disagreement between ``truth`` and the PDF; [] when they agree."""
    out: list[str] = []
    with pdfplumber.open(pdf_path) as pdf:
        for t in truth["tables"]:
            if not t["pieces"]:
                out.append(f"{t['id']}: no pieces")
                continue
            for r, (row, boxes) in enumerate(zip(t["rows"], t["cell_boxes"], strict=True)):
                for c, (text, box) in enumerate(zip(row, boxes, strict=True)):
                    if box is None:
                        if text:
                            out.append(f"{t['id']} r{r}c{c} {text!r}: no box")
                        continue
                    page = pdf.pages[box[0] - 1]
                    got = _crop_text(page, box[1:])
                    if got != squeeze(text):
                        out.append(f"{t['id']} r{r}c{c}: truth {text!r}, PDF has {got!r} in {box}")
                    piece = next((p for p in t["pieces"] if p["page"] == box[0]), None)
                    if piece is None or r not in piece["rows"]:
                        out.append(f"{t['id']} r{r}: cell on page {box[0]}, no piece there holds row {r}")
            for r, (row, boxes) in enumerate(zip(t["header_rows"], t["header_boxes"], strict=True)):
                for c, (label, box) in enumerate(zip(row, boxes, strict=True)):
                    if bool(label) != (box is not None):
                        out.append(f"{t['id']} header r{r}c{c} {label!r}: box {box}")
                    elif box is not None:
                        got = _crop_text(pdf.pages[box[0] - 1], box[1:])
                        if got != squeeze(label):
                            out.append(f"{t['id']} header r{r}c{c}: truth {label!r}, PDF has {got!r}")
            first = t["pieces"][0]
            head = _crop_text(pdf.pages[first["page"] - 1], first["bbox"])
            if squeeze(t["caption_line"]) in head:
                out.append(f"{t['id']}: the caption lies inside the table's box")
    return out
