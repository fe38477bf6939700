"""The audit report's side-by-side section: every disagreement the reconciliation finds (``schemas/reconcile.py``),
the sentence that states the figure on the left — its text with the number marked, and a crop of the page
line with the number outlined — and on the right what it disagrees with: the table cell, the chart point or
the other sentence, each as a crop of its page with the printed number outlined.

A reader checks a stated figure against the source without opening the PDF, the same as for the other checks'
evidence (``schemas/report.py`` writes the rest of the report and calls ``reconciliation_section``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path
from typing import Any

from extractors.datasets import Curated
from schemas.checks import Instance
from schemas.report import _AMBER, _RED, RESOLUTION, _crop_box, _e, _num, _Pdfs, _slug
from schemas.validate import ValidationRun
from schemas.values import BBox, CellRef

_LINES = 1.6  # text lines shown above and below a stated number
_CHART_SPAN = (170.0, 110.0)  # pt left/right and above/below a chart label: enough to see its bar or point
_TEXT_MARGIN = 40.0

_CSS = """
.sbs { border:1px solid var(--line); border-left:5px solid var(--line); border-radius:6px; padding:8px 14px;
       margin:14px 0; break-inside: avoid; page-break-inside: avoid; }
.sbs.failed { border-left-color: var(--bad); } .sbs.finding { border-left-color: var(--warn); }
.sbs-grid { display:grid; grid-template-columns: 1fr 1fr; gap:14px; align-items:start; }
.sbs-grid > div > h4 { margin:4px 0; font-size:.85rem; color:var(--muted); font-weight:600; }
.sbs p.sentence { margin:4px 0 6px; font-size:.92rem; }
.sbs mark { background:#ffe08a; padding:0 2px; border-radius:2px; font-weight:700; }
.sbs mark.failed { background:#f9c4bf; }
.sbs figure { margin:4px 0 10px; } .sbs figure img { width:100%; height:auto; }
.sbs .why { font-size:.85rem; margin:6px 0; }
@media (max-width: 800px) { .sbs-grid { grid-template-columns: 1fr; } }
"""


def reconciliation_section(
    run: ValidationRun, curated: dict[str, Curated], pdfs: _Pdfs, folder: Path
) -> tuple[str, list[dict[str, Any]]]:
    """(HTML section, JSON items): one entry per failed or known-finding reconciliation instance."""
    whys = {(r.name, f["instance"]): f["why"] for r in run.results if r.kind == "reconciliation" for f in r.findings}
    crops: dict[tuple[Any, ...], dict[str, Any]] = {}
    blocks, items = [], []
    for result in run.results:
        if result.kind != "reconciliation":
            continue
        for inst in result.failures:
            if not inst.cells:
                continue
            stated, others = inst.cells[0], [c for c in inst.cells[1:] if c.key != inst.cells[0].key]
            left = _side([stated], inst.status, curated, pdfs, folder, crops)
            right = [_side(group, inst.status, curated, pdfs, folder, crops) for group in _groups(others, curated)]
            blocks.append(_block(result.name, inst, left, right, whys.get((result.name, inst.key), "")))
            items.append(
                {
                    "check": result.name,
                    "instance": inst.key,
                    "status": inst.status,
                    "stated": _plain(left),
                    "printed_elsewhere": [_plain(r) for r in right],
                }
            )
    if not blocks:
        return "", []
    failed = sum(i["status"] == "failed" for i in items)
    head = (
        f"<style>{_CSS}</style><h2 id='side-by-side'>Stated figures side by side with the tables and charts</h2>"
        f"<p class='meta'>{len(items)} figure(s) the text states disagree with the same figure printed elsewhere "
        f"({failed} failed, {len(items) - failed} known inconsistencies of the published reports). Left: the "
        "sentence, its number marked, and its lines on the page; right: the table cells, chart points or other "
        "sentences it was compared with. The numbers are outlined on the crops.</p>"
    )
    return head + "".join(blocks), items


def _groups(cells: list[CellRef], curated: dict[str, Curated]) -> list[list[CellRef]]:
    """Cells shown on one crop: those of one table or chart on one page, or of one sentence."""
    out: dict[tuple[Any, ...], list[CellRef]] = {}
    for cell in cells:
        sentence = _sentence(curated.get(cell.source_id), [cell])[0] if cell.dataset == "statements" else ""
        out.setdefault((cell.source_id, cell.dataset, cell.table_id, cell.page, sentence), []).append(cell)
    return list(out.values())


def _plain(side: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in side.items() if k not in ("data_uri", "html")}


def _block(name: str, inst: Instance, left: dict[str, Any], right: list[dict[str, Any]], why: str) -> str:
    tolerance = f" ±{_num(inst.tolerance)}" if inst.tolerance is not None else ""
    parts = [
        f"<div class='sbs {inst.status}' id='sbs-{_e(_slug(name + '-' + inst.key))}'>",
        f"<p><span class='badge {inst.status}'>{_e(inst.status)}</span> <b>{_e(name)}</b> · {_e(inst.key)}<br>"
        f"<span class='meta'>stated <b>{_e(inst.cells[0].text)}</b>, expected <b>{_num(inst.expected)}</b>"
        f"{tolerance}{' — ' + _e(_basis(inst)) if _basis(inst) else ''}</span></p>",
    ]
    if why:
        parts.append(f"<div class='why'>{_e(' '.join(why.split()))}</div>")
    parts.append("<div class='sbs-grid'><div><h4>stated in the text</h4>" + left["html"] + "</div>")
    parts.append("<div><h4>printed elsewhere</h4>" + "".join(r["html"] for r in right) + "</div></div></div>")
    return "".join(parts)


def _basis(inst: Instance) -> str:
    """How the expected value comes from the printed ones ("800.6 → 1008.4", "539.4 ÷ 2264.8 × 100")."""
    return inst.note.split("; stated:", 1)[0] if "; stated:" in inst.note else ""


def _side(
    cells: list[CellRef],
    status: str,
    curated: dict[str, Curated],
    pdfs: _Pdfs,
    folder: Path,
    crops: dict[tuple[Any, ...], dict[str, Any]],
) -> dict[str, Any]:
    first = cells[0]
    kind = "text" if first.dataset == "statements" else "chart" if first.dataset == "chart_series" else "table"
    where = f"{first.source_id}, {first.table_id + ', ' if first.table_id and kind != 'text' else ''}p.{first.page}"
    printed = "、".join(f"“{c.text}”" for c in cells)
    side: dict[str, Any] = {"kind": kind, "where": where, "printed": [c.text for c in cells]}
    side["cells"] = [c.to_dict() for c in cells]
    html = []
    if kind == "text":
        sentence, marks = _sentence(curated.get(first.source_id), cells)
        side["sentence"] = sentence
        html.append(f"<p class='sentence'>{_marked(sentence, marks, status)}</p>")
    key = (first.source_id, first.page, first.table_id, tuple(c.bbox for c in cells), status)
    if key not in crops:
        crops[key] = _crop(cells, kind, status, curated, pdfs, folder)
    crop = crops[key]
    side.update({k: v for k, v in crop.items() if k != "data_uri"})
    if crop.get("data_uri"):
        html.append(
            f"<figure><img src='{crop['data_uri']}' alt='{_e(where)}' width='{crop['size'][0]}' "
            f"height='{crop['size'][1]}'><figcaption>{_e(where)} — {_e(printed)}</figcaption></figure>"
        )
    else:
        html.append(f"<p class='meta'>{_e(where)} — {_e(printed)}: {_e(crop.get('problem', 'no crop'))}</p>")
    side["html"] = "".join(html)
    return side


def _sentence(curated: Curated | None, cells: list[CellRef]) -> tuple[str, list[tuple[str, int]]]:
    """The sentence the statement rows are from, and for each its number and which printing of that number
    in the sentence it is (a sentence's rows are in reading order: count the earlier ones printing it)."""
    frame = curated.frames.get("statements") if curated is not None else None
    rows = [c.row for c in cells if frame is not None and c.row in frame.index]
    if frame is None or not rows:
        return "", []
    sentence = str(frame.at[rows[0], "sentence"])
    same = frame[(frame["sentence"] == sentence) & (frame["page"] == frame.at[rows[0], "page"])]
    marks = []
    for cell in cells:
        earlier = same[(same.index < cell.row) & (same["value_text"].astype(str) == str(cell.text))]
        marks.append((str(cell.text), len(earlier)))
    return sentence, marks


def _marked(sentence: str, marks: list[tuple[str, int]], status: str) -> str:
    """The sentence with the numbers marked."""
    spans = []
    for text, occurrence in marks:
        hits = list(re.finditer(rf"(?<![\d.．]){re.escape(text)}(?![\d.．])", sentence)) if text else []
        if hits:
            spans.append(hits[min(occurrence, len(hits) - 1)].span())
    out, at = [], 0
    for a, b in sorted(set(spans)):
        if a < at:
            continue
        out.append(_e(sentence[at:a]) + f"<mark class='{_e(status)}'>{_e(sentence[a:b])}</mark>")
        at = b
    return "".join(out) + _e(sentence[at:])


def _crop(
    cells: list[CellRef], kind: str, status: str, curated: dict[str, Curated], pdfs: _Pdfs, folder: Path
) -> dict[str, Any]:
    first = cells[0]
    page = pdfs.page(first.source_id, first.page) if first.page else None
    boxes = [c.bbox for c in cells if c.bbox]
    if page is None or not boxes:
        return {"problem": "the source PDF or the number's box is not available to this report"}
    box = _region(page, first, boxes, kind, curated)
    try:
        image = page.crop(box, strict=False).to_image(resolution=RESOLUTION)
    except Exception as exc:  # noqa: BLE001 - a page that will not render must not lose the report
        return {"problem": f"the page could not be rendered: {exc}"}
    color = _RED if status == "failed" else _AMBER
    for bbox in boxes:
        image.draw_rect(bbox, fill=(*color, 40), stroke=color, stroke_width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    name = f"side-{_slug(first.source_id)}-p{first.page}-{hashlib.sha1(data).hexdigest()[:10]}.png"
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    (folder / "evidence" / name).write_bytes(data)
    return {
        "image": f"evidence/{name}",
        "crop_bbox": [round(v, 2) for v in box],
        "size": list(image.annotated.size),
        "data_uri": "data:image/png;base64," + base64.b64encode(data).decode("ascii"),
    }


def _region(page: Any, cell: CellRef, boxes: list[BBox], kind: str, curated: dict[str, Curated]) -> BBox:
    x0, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
    px0, ptop, px1, pbottom = (float(v) for v in page.bbox)
    region: BBox | None = None
    if kind == "table":
        region = _crop_box(page, curated.get(cell.source_id), cell.table_id, cell.page, boxes)
    elif kind == "chart":
        dx, dy = _CHART_SPAN
        region = (x0 - dx, top - dy, x1 + dx, bottom + dy)
    if region is None:  # running text: whole lines, one above and one below the number's
        region = _text_lines(page, top, bottom, x0, x1)
    return (max(px0, region[0]), max(ptop, region[1]), min(px1, region[2]), min(pbottom, region[3]))


def _text_lines(page: Any, top: float, bottom: float, x0: float, x1: float) -> BBox:
    height = bottom - top
    try:
        lines = page.extract_text_lines()
    except Exception:  # noqa: BLE001 - without lines, a band around the number still shows it
        lines = []
    near = [ln for ln in lines if ln["bottom"] > top - _LINES * height and ln["top"] < bottom + _LINES * height]
    if near:
        top, bottom = min(top, *(ln["top"] for ln in near)), max(bottom, *(ln["bottom"] for ln in near))
        x0, x1 = min(x0, *(ln["x0"] for ln in near)), max(x1, *(ln["x1"] for ln in near))
    return (min(x0, _TEXT_MARGIN) if not near else x0 - 6, top - 4, x1 + 6, bottom + 4)
