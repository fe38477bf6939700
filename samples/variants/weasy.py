"""Typeset a variant with WeasyPrint (HTML + CSS paged media) and read each table's boxes from its layout."""

from __future__ import annotations

import html
from pathlib import Path

from samples.variants import fonts, geometry
from samples.variants.content import Document, VTable
from samples.variants.matrix import Variant

PX = 0.75  # WeasyPrint lays out in CSS px; 1 px = 0.75 pt
MAX_PASSES = 6

Pieces = dict[int, list[dict]]  # table index -> [{page, bbox, rows}]
# table index -> (row, col) -> [page, x0, top, x1, bottom]; header cells under row ("h", r).
Cells = dict[int, dict[tuple, list[float]]]


def _esc(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def _font_faces(v: Variant) -> str:
    faces = {"VBody": v.font, "VBold": fonts.BOLD}
    return "".join(
        f"@font-face {{ font-family: {name}; src: url({fonts.path(key).as_uri()}); }}" for name, key in faces.items()
    )


def _page_css(v: Variant, doc: Document) -> str:
    page = geometry.page(v)
    size = "A4" if v.page == "portrait" else "A4 landscape"
    boxes = ""
    if v.running_header != "none":
        rule = "border-bottom: 0.5pt solid #333; padding-bottom: 1.5mm;" if v.running_header == "title_rule" else ""
        boxes += f'@top-center {{ content: "{doc.title}"; font: 9pt VBody; width: 100%; {rule} }}'
    numbers = {
        "plain": "counter(page)",
        "dash": '"- " counter(page) " -"',
        "di_ye": '"第 " counter(page) " 页"',
    }.get(v.page_numbers)
    if numbers:
        boxes += f"@bottom-center {{ content: {numbers}; font: 9pt VBody; }}"
    return (
        f"@page {{ size: {size}; margin: {page.top:.2f}pt {page.margin:.2f}pt {page.bottom:.2f}pt "
        f"{page.margin:.2f}pt; {boxes} }}"
    )


def _rules_css(v: Variant) -> str:
    rules = {
        "grid": "td, th { border: 0.6pt solid #000; }",
        "three_line": (
            "table { border-top: 1.2pt solid #000; border-bottom: 1.2pt solid #000; }"
            "tr.hlast th, th.group { border-bottom: 0.6pt solid #000; }"
        ),
        "header_rule": "tr.hlast th, th.group { border-bottom: 0.8pt solid #000; }",
        "row_rules": "table { border-top: 0.5pt solid #000; } tr { border-bottom: 0.5pt solid #000; }",
        "col_rules": "td + td, th + th, th.sub { border-left: 0.5pt solid #000; }",
        "box": "table { border: 0.8pt solid #000; } tr.hlast th, th.group { border-bottom: 0.6pt solid #000; }",
        "zebra": "tr.body:nth-child(even) td { background: #e4e4e4; } th { background: #c8c8c8; }",
        "none": "",
    }
    css = rules[v.rules]
    if v.header_shade:
        css += "th { background: #d0d0d0; }"
    return css


def _css(v: Variant, doc: Document) -> str:
    hpad, vpad = geometry.pads(v)
    body = geometry.body_size(v)
    head_family = "VBold" if v.header_bold else "VBody"
    label_align = "left" if v.header_align == "left" else "center"
    num_align = {"right": "right", "center": "center", "left": "left", "decimal": "center"}[v.num_align]
    return (
        _font_faces(v)
        + _page_css(v, doc)
        + f"html {{ font-family: VBody; font-size: {body}pt; line-height: 1.6; }}"
        "body { margin: 0; }"
        "h1 { font: 18pt/1.4 VBold; text-align: center; margin: 4mm 0 8mm 0; font-weight: normal; }"
        "h2 { font: 13pt VBold; margin: 5mm 0 2mm 0; break-after: avoid; font-weight: normal; }"
        "p.para { text-indent: 2em; margin: 0 0 2mm 0; text-align: justify; }"
        "p.appendix { font: 14pt VBold; margin: 0 0 3mm 0; break-after: avoid; }"
        f"p.caption {{ font: {v.size + 1}pt VBold; text-align: {v.caption_align}; margin: 5mm 0 1mm 0;"
        " break-after: avoid; }"
        f"p.unit {{ font-size: {v.size}pt; text-align: right; margin: 0 0 1mm 0; break-after: avoid; }}"
        f"p.xubiao {{ font-size: {v.size + 0.5}pt; text-align: left; margin: 0 0 1mm 0; break-after: avoid; }}"
        f"p.below {{ font-size: {v.size}pt; margin: 1mm 0 0 0; line-height: 1.4; }}"
        f"table {{ border-collapse: collapse; font-size: {v.size}pt; line-height: 1.3; }}"
        "table.auto { width: 100%; }"
        "table.fixed { table-layout: fixed; margin: 0 auto; }"
        f"td, th {{ padding: {vpad:.2f}pt {hpad:.2f}pt; vertical-align: middle; white-space: normal; }}"
        f"th {{ font-family: {head_family}; font-weight: normal; text-align: {v.header_align}; }}"
        f"td.label {{ text-align: {label_align}; }}"
        f"td.num {{ text-align: {num_align}; white-space: nowrap; }}"
        "td.spacer, th.spacer { border: none !important; background: none !important; padding: 0; }"
        "span.dec { display: inline-block; text-align: right; }"
        "span.ls { letter-spacing: 0.5em; margin-right: -0.5em; }"
        "tr { break-inside: avoid; }"  # a row cut in two would leave its remainder on the next page
        "div.short { break-inside: avoid; }"
        "div.cont { break-before: page; }"
        + _rules_css(v)
    )


def _label(text: str, v: Variant) -> str:
    if v.letter_spacing == "css" and len(text) == 2:
        return f'<span class="ls">{_esc(text)}</span>'
    return _esc(text)


def _header_html(ti: int, t: VTable, v: Variant) -> str:
    out = []
    n_rows = len(t.header)
    for r, row in enumerate(t.header):
        cells = []
        for c, label in enumerate(row):
            if t.spacer_after is not None and c == t.spacer_after + 1 and r == 0:
                cells.append(f'<th class="spacer" rowspan="{n_rows}"></th>')
            if not label:
                continue
            span = next((s for s in t.spans if s.row == r and s.col == c), None)
            attrs, classes = "", []
            if span and span.cols > 1:
                attrs += f' colspan="{span.cols}"'
                classes.append("group")
            if span and span.rows > 1:
                attrs += f' rowspan="{span.rows}"'
            if r > 0:
                classes.append("sub")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f'<th data-t="{ti}" data-h="{r}" data-c="{c}"{attrs}{cls}>{_label(label, v)}</th>')
        cls = ' class="hlast"' if r == n_rows - 1 else ""
        out.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return "".join(out)


def _body_html(ti: int, t: VTable, v: Variant, rows: range, dec_widths: list[float]) -> str:
    out = []
    spans = {(r, c): n for r, c, n in t.body_spans}
    for r in rows:
        cells, skip = [], 0
        for c, text in enumerate(t.rows[r]):
            if t.spacer_after is not None and c == t.spacer_after + 1:
                cells.append('<td class="spacer"></td>')
            if skip:
                skip -= 1
                continue
            attrs = ""
            if (r, c) in spans:
                attrs = f' colspan="{spans[r, c]}"'
                skip = spans[r, c] - 1
            if t.kinds[c] == "number":
                inner = html.escape(text)
                if v.num_align == "decimal":
                    inner = f'<span class="dec" style="width:{dec_widths[c]:.2f}pt">{inner}</span>'
                cells.append(f'<td class="num" data-c="{c}"{attrs}>{inner}</td>')
            else:
                cells.append(f'<td class="label" data-c="{c}"{attrs}>{html.escape(text)}</td>')
        out.append(f'<tr class="body" data-t="{ti}" data-r="{r}">{"".join(cells)}</tr>')
    return "".join(out)


def _table_html(ti: int, t: VTable, v: Variant, breaks: list[int]) -> str:
    page = geometry.page(v)
    widths = geometry.column_widths(v, t, page.text_width)
    dec = [
        max(fonts.text_width(v.font, row[c], v.size) for row in t.rows) + 0.5 if k == "number" else 0.0
        for c, k in enumerate(t.kinds)
    ]
    cols = ""
    cls = "auto"
    if widths is not None:
        cw = list(widths)
        if t.spacer_after is not None:
            cw.insert(t.spacer_after + 1, geometry.SPACER_PT)
        cols = "<colgroup>" + "".join(f'<col style="width:{w:.2f}pt">' for w in cw) + "</colgroup>"
        cls = f'fixed" style="width:{sum(cw):.2f}pt'
    repeat = v.continued in ("repeat_header", "xubiao")
    xubiao = v.continued in ("xubiao", "xubiao_no_header")
    bounds = [0, *breaks, len(t.rows)]
    parts = []
    for pi in range(len(bounds) - 1):
        rows = range(bounds[pi], bounds[pi + 1])
        head = _header_html(ti, t, v)
        with_head = pi == 0 or repeat
        if v.continued == "no_header" or v.continued == "xubiao_no_header":
            # The header is printed once, as the first rows of the body: nothing to repeat.
            thead = ""
            body = (head if pi == 0 else "") + _body_html(ti, t, v, rows, dec)
        else:
            thead = f"<thead>{head}</thead>" if with_head else ""
            body = _body_html(ti, t, v, rows, dec)
        table = f'<table id="T{ti}P{pi}" class="{cls}">{cols}{thead}<tbody>{body}</tbody></table>'
        if pi == 0:
            parts.append(table)
        else:
            line = f'<p class="xubiao">{_esc(t.continued_line)}</p>' if xubiao else ""
            parts.append(f'<div class="cont">{line}{table}</div>')
    caption = f'<p class="caption">{_esc(t.caption_line)}</p>'
    unit = f'<p class="unit">{_esc(t.unit_line)}</p>' if t.unit_line else ""
    below = "".join(f'<p class="below">{_esc(line)}</p>' for line in t.below)
    short = ' class="short"' if v.kind == "annual" and not breaks else ""
    return f"<div{short}>{caption}{unit}{parts[0]}</div>{''.join(parts[1:])}{below}"


def document_html(doc: Document, breaks: dict[int, list[int]]) -> str:
    v = doc.variant
    body = [f"<h1>{'<br>'.join(html.escape(line) for line in doc.title_lines)}</h1>"]
    ti = 0
    for block in doc.blocks:
        if block.table is not None:
            body.append(_table_html(ti, block.table, v, breaks.get(ti, [])))
            ti += 1
        elif block.kind == "heading":
            body.append(f"<h2>{_esc(block.text)}</h2>")
        elif block.kind == "appendix":
            style = ' style="break-before: page"' if block.page_break else ""
            body.append(f'<p class="appendix"{style}>{_esc(block.text)}</p>')
        else:
            body.append(f'<p class="para">{_esc(block.text)}</p>')
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(doc.title)}</title>'
        f"<style>{_css(v, doc)}</style></head><body>{''.join(body)}</body></html>"
    )


def _bbox(box) -> list[float]:  # type: ignore[no-untyped-def]
    x, y = box.border_box_x(), box.border_box_y()
    return [x * PX, y * PX, (x + box.border_width()) * PX, (y + box.border_height()) * PX]


def _layout(rendered) -> tuple[Pieces, dict[int, dict[int, int]], Cells]:  # type: ignore[no-untyped-def]
    """Each table's box per page (in pt, top-left origin), the page of each body row, each body cell's box."""
    from weasyprint.formatting_structure import boxes

    pieces: Pieces = {}
    row_pages: dict[int, dict[int, int]] = {}
    cells: Cells = {}
    for number, page in enumerate(rendered.pages, start=1):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None:
                continue
            if isinstance(box, boxes.TableBox) and (eid := element.get("id", "")).startswith("T"):
                ti = int(eid[1:].split("P")[0])
                bbox = _bbox(box)
                mine = pieces.setdefault(ti, [])
                if mine and mine[-1]["page"] == number:
                    last = mine[-1]["bbox"]
                    mine[-1]["bbox"] = [min(last[0], bbox[0]), min(last[1], bbox[1]),
                                        max(last[2], bbox[2]), max(last[3], bbox[3])]
                else:
                    mine.append({"page": number, "bbox": bbox})
            elif isinstance(box, boxes.TableRowBox) and element.get("data-r") is not None:
                ti = int(element.get("data-t"))
                row_pages.setdefault(ti, {}).setdefault(int(element.get("data-r")), number)
                for cell in box.children:
                    c = int(cell.element.get("data-c", -1))
                    if c >= 0:
                        cells.setdefault(ti, {})[int(element.get("data-r")), c] = [number, *_bbox(cell)]
            elif isinstance(box, boxes.TableCellBox) and element.get("data-h") is not None:
                key = ("h", int(element.get("data-h")), int(element.get("data-c")))
                # The first page's header: a repeated header is the same text again.
                cells.setdefault(int(element.get("data-t")), {}).setdefault(key, [number, *_bbox(box)])
    return pieces, row_pages, cells


def render(doc: Document, out_pdf: Path) -> tuple[Pieces, Cells, str]:
    """Write the PDF; return each table's pieces (page, bbox, body rows), its cells' boxes, the producer."""
    import weasyprint

    v = doc.variant
    tables = doc.tables
    breaks = {ti: list(t.breaks) for ti, t in enumerate(tables)}
    explicit = v.continued in ("xubiao", "xubiao_no_header")
    for _ in range(MAX_PASSES):
        rendered = weasyprint.HTML(string=document_html(doc, breaks)).render()
        pieces, row_pages, cells = _layout(rendered)
        if not explicit:
            break
        # A 续表 line is typed by hand where the page breaks: break there by hand and lay out again,
        # until no table breaks anywhere else.
        changed = False
        for ti, pages in row_pages.items():
            bounds = [0, *breaks[ti], len(tables[ti].rows)]
            for a, b in zip(bounds, bounds[1:], strict=False):
                first = pages[a]
                new = next((r for r in range(a, b) if pages[r] != first), None)
                if new is not None:
                    breaks[ti] = sorted({*breaks[ti], new})
                    changed = True
                    break
        if not changed:
            break
    else:
        raise geometry.LayoutError(f"{v.name}: 续表 breaks did not settle in {MAX_PASSES} passes")
    rendered.write_pdf(out_pdf)
    for ti, mine in pieces.items():
        pages = row_pages.get(ti, {})
        for piece in mine:
            piece["rows"] = sorted(r for r, p in pages.items() if p == piece["page"])
    return pieces, cells, f"WeasyPrint {weasyprint.__version__}"
