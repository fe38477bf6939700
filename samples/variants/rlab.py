"""Typeset a variant with reportlab's platypus and record where each table piece and cell was drawn.

reportlab embeds TrueType outlines only, so its variants use the WenQuanYi and AR PL subsets; it has no
bold face of those, so its headers and captions are set in the body face.
"""

from __future__ import annotations

from pathlib import Path

from samples.variants import fonts, geometry
from samples.variants.content import Document, VTable
from samples.variants.matrix import Variant

TRUETYPE = ("wqy_zenhei", "wqy_microhei", "ukai")


class Unsupported(ValueError):
    """A dimension value reportlab cannot typeset: matrix.toml pairs it with another producer."""


def supports(v: Variant) -> list[str]:
    """What in ``v`` reportlab cannot do; [] when it can typeset the variant."""
    out = []
    if v.font not in TRUETYPE:
        out.append(f"font {v.font} (CFF outlines; reportlab embeds TrueType only: use {', '.join(TRUETYPE)})")
    if v.header_bold:
        out.append("header_bold (no bold TrueType face is bundled)")
    if v.letter_spacing == "css":
        out.append("letter_spacing css")
    return out


def _font_name(key: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"V-{key}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(fonts.path(key))))
    return name


def _para_text(text: str) -> str:
    from xml.sax.saxutils import escape

    return "<br/>".join(escape(line) for line in text.split("\n"))


class _Recorder:
    """Collects, per table, the pieces drawn (page, bbox, body rows) and every cell's box."""

    def __init__(self, page_height: float) -> None:
        self.height = page_height
        self.pieces: dict[int, list[dict]] = {}
        self.cells: dict[int, dict[tuple, list[float]]] = {}

    def table_class(self, ti: int, t: VTable, start: int, first_header: int, repeat: int) -> type:
        from reportlab.platypus import PageBreak, Paragraph, Table

        recorder = self

        class Recorded(Table):
            state = {"drawn": 0, "next": start}
            xubiao_style = None

            def split(self, availWidth, availHeight):  # type: ignore[no-untyped-def]  # noqa: N803
                parts = super().split(availWidth, availHeight)
                if Recorded.xubiao_style is not None and len(parts) == 2:
                    # A 续表 line is typed at the top of the continuation, on a page of its own.
                    line = Paragraph(_para_text(t.continued_line), Recorded.xubiao_style)
                    return [parts[0], PageBreak(), line, parts[1]]
                return parts

            def drawOn(self, canvas, x, y, _sW=0):  # type: ignore[no-untyped-def]  # noqa: N802, N803
                super().drawOn(canvas, x, y, _sW)
                recorder.record(self, ti, t, canvas.getPageNumber(), self._hAlignAdjust(x, _sW), y,
                                first_header if Recorded.state["drawn"] == 0 else repeat)

        return Recorded

    def record(self, table, ti: int, t: VTable, page: int, x: float, y: float, header: int) -> None:  # type: ignore
        cls = type(table)
        n_rows = len(table._cellvalues)
        first = cls.state["next"]
        body = list(range(first, first + n_rows - header))
        cls.state["drawn"] += 1
        cls.state["next"] = first + n_rows - header
        top, bottom = self.height - (y + table._height), self.height - y
        self.pieces.setdefault(ti, []).append(
            {"page": page, "bbox": [x, top, x + table._width, bottom], "rows": body}
        )
        cols, rows = table._colpositions, table._rowpositions
        spans = getattr(table, "_spanRanges", None) or {}
        for i in range(n_rows):
            for j in range(len(cols) - 1):
                rng = spans.get((j, i), (j, i, j, i))
                if rng is None:
                    continue  # covered by a span
                j0, i0, j1, i1 = rng
                if t.spacer_after is not None and j == t.spacer_after + 1:
                    continue
                c = j - 1 if t.spacer_after is not None and j > t.spacer_after + 1 else j
                box = [page, x + cols[j0], self.height - (y + rows[i0]),
                       x + cols[j1 + 1], self.height - (y + rows[i1 + 1])]
                key = ("h", i, c) if i < header else (body[i - header], c)
                if i < header and cls.state["drawn"] > 1:
                    continue  # a repeated header: the first page's boxes stand
                self.cells.setdefault(ti, {}).setdefault(key, box)


def _style_commands(v: Variant, t: VTable, n_cols: int, h: int) -> list[tuple]:
    from reportlab.lib import colors

    black, shade = colors.black, colors.Color(0.8, 0.8, 0.8)
    sp = t.spacer_after
    blocks = [(0, n_cols - 1)] if sp is None else [(0, sp), (sp + 2, n_cols - 1)]
    cmds: list[tuple] = []
    groups = [s for s in t.spans if s.row == 0 and s.cols > 1]

    def col(c: int) -> int:
        return c + 1 if sp is not None and c > sp else c

    for c0, c1 in blocks:
        if v.rules == "grid":
            cmds.append(("GRID", (c0, 0), (c1, -1), 0.6, black))
        elif v.rules in ("three_line", "header_rule", "box"):
            cmds.append(("LINEBELOW", (c0, h - 1), (c1, h - 1), 0.6, black))
            if v.rules == "three_line":
                cmds += [("LINEABOVE", (c0, 0), (c1, 0), 1.2, black), ("LINEBELOW", (c0, -1), (c1, -1), 1.2, black)]
            if v.rules == "box":
                cmds.append(("BOX", (c0, 0), (c1, -1), 0.8, black))
        elif v.rules == "row_rules":
            cmds += [("LINEABOVE", (c0, 0), (c1, 0), 0.5, black), ("LINEBELOW", (c0, h - 1), (c1, -1), 0.5, black)]
        elif v.rules == "col_rules":
            if c1 > c0:
                cmds.append(("LINEAFTER", (c0, 0), (c1 - 1, -1), 0.5, black))
        elif v.rules == "zebra":
            cmds.append(("ROWBACKGROUNDS", (c0, h), (c1, -1), [colors.white, colors.Color(0.89, 0.89, 0.89)]))
            cmds.append(("BACKGROUND", (c0, 0), (c1, h - 1), colors.Color(0.78, 0.78, 0.78)))
        if v.header_shade:
            cmds.append(("BACKGROUND", (c0, 0), (c1, h - 1), shade))
    if v.rules in ("three_line", "header_rule", "box") and h > 1:
        for s in groups:
            cmds.append(("LINEBELOW", (col(s.col), 0), (col(s.col + s.cols - 1), 0), 0.6, black))
    return cmds


def _table_flowables(rec: _Recorder, ti: int, t: VTable, v: Variant, page: geometry.Page) -> list:  # type: ignore
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, Spacer

    font = _font_name(v.font)
    size = v.size
    hpad, vpad = geometry.pads(v)
    align = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}
    head_style = ParagraphStyle("h", fontName=font, fontSize=size, leading=size * 1.3,
                                alignment=align[v.header_align], wordWrap="CJK")
    label_style = ParagraphStyle("l", fontName=font, fontSize=size, leading=size * 1.3,
                                 alignment=TA_LEFT if v.header_align == "left" else TA_CENTER, wordWrap="CJK")
    small = ParagraphStyle("s", fontName=font, fontSize=size, leading=size * 1.45, wordWrap="CJK")
    caption = ParagraphStyle("c", fontName=font, fontSize=size + 1, leading=(size + 1) * 1.5, spaceBefore=12,
                             alignment=TA_CENTER if v.caption_align == "center" else TA_LEFT, keepWithNext=1,
                             wordWrap="CJK")
    unit = ParagraphStyle("u", parent=small, alignment=TA_RIGHT, keepWithNext=1)
    xubiao = ParagraphStyle("x", parent=small, fontSize=size + 0.5, keepWithNext=1)

    widths = geometry.column_widths(v, t, page.text_width, fixed=True)
    assert widths is not None
    sp = t.spacer_after
    col_widths = list(widths)
    if sp is not None:
        col_widths.insert(sp + 1, geometry.SPACER_PT)

    def with_spacer(cells: list) -> list:  # type: ignore[type-arg]
        return cells if sp is None else [*cells[: sp + 1], "", *cells[sp + 1 :]]

    def col(c: int) -> int:
        return c + 1 if sp is not None and c > sp else c

    h = len(t.header)
    header = [with_spacer([Paragraph(_para_text(label), head_style) if label else "" for label in row])
              for row in t.header]
    n_cols = len(col_widths)
    base = [
        ("FONT", (0, 0), (-1, -1), font, size),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), hpad), ("RIGHTPADDING", (0, 0), (-1, -1), hpad),
        ("TOPPADDING", (0, 0), (-1, -1), vpad), ("BOTTOMPADDING", (0, 0), (-1, -1), vpad + 1),
    ]
    header_spans = [("SPAN", (col(s.col), s.row), (col(s.col + s.cols - 1), s.row + s.rows - 1)) for s in t.spans]
    if sp is not None and h > 1:
        header_spans.append(("SPAN", (sp + 1, 0), (sp + 1, h - 1)))

    def body_rows(rows: range, offset: int) -> tuple[list, list]:  # type: ignore[type-arg]
        data, cmds = [], []
        for k, r in enumerate(rows):
            cells = []
            for c, text in enumerate(t.rows[r]):
                if t.kinds[c] == "label" and v.label_wrap and text:
                    cells.append(Paragraph(_para_text(text), label_style))
                else:
                    cells.append(text)
            data.append(with_spacer(cells))
            for rr, c, n in t.body_spans:
                if rr == r:
                    cmds.append(("SPAN", (col(c), offset + k), (col(c + n - 1), offset + k)))
        return data, cmds

    def number_alignment(first_row: int) -> list[tuple]:
        cmds = []
        for c, kind in enumerate(t.kinds):
            j = col(c)
            if kind == "label":
                cmds.append(("ALIGN", (j, first_row), (j, -1), "LEFT" if v.header_align == "left" else "CENTER"))
                continue
            if v.num_align != "decimal":
                cmds.append(("ALIGN", (j, first_row), (j, -1), v.num_align.upper()))
                continue
            whole = max(fonts.text_width(v.font, row[c].split(".")[0], size) for row in t.rows)
            frac = max(fonts.text_width(v.font, row[c][len(row[c].split(".")[0]):], size) for row in t.rows)
            right = col_widths[j] / 2 - whole / 2 + frac / 2
            cmds += [("ALIGN", (j, first_row), (j, -1), "DECIMAL"), ("RIGHTPADDING", (j, first_row), (j, -1), right)]
        return cmds

    repeat = v.continued in ("repeat_header", "xubiao")
    xub = v.continued in ("xubiao", "xubiao_no_header")
    bounds = [0, *t.breaks, len(t.rows)]
    out: list = [Paragraph(_para_text(t.caption_line), caption)]  # type: ignore[type-arg]
    if t.unit_line:
        out.append(Paragraph(_para_text(t.unit_line), unit))
    for pi in range(len(bounds) - 1):
        rows = range(bounds[pi], bounds[pi + 1])
        with_head = pi == 0 or repeat
        hh = h if with_head else 0
        data, spans = body_rows(rows, hh)
        data = (header if with_head else []) + data
        cls = rec.table_class(ti, t, bounds[pi], hh, h if repeat else 0)
        if xub:
            cls.xubiao_style = xubiao
        style = base + _style_commands(v, t, n_cols, hh) + (header_spans if with_head else []) + spans
        style += number_alignment(hh)
        table = cls(data, colWidths=col_widths, repeatRows=h if (repeat and with_head) else 0, style=style,
                    hAlign="CENTER")
        if pi > 0:
            out.append(PageBreak())
            if xub:
                out.append(Paragraph(_para_text(t.continued_line), xubiao))
        out.append(table)
    out += [Paragraph(_para_text(line), small) for line in t.below]
    out.append(Spacer(1, 6))
    return out


def render(doc: Document, out_pdf: Path) -> tuple[dict, dict, str]:
    import reportlab
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    v = doc.variant
    if unsupported := supports(v):
        raise Unsupported(f"{v.name}: reportlab cannot typeset {'; '.join(unsupported)}")
    page = geometry.page(v)
    font = _font_name(v.font)
    body = geometry.body_size(v)
    rec = _Recorder(page.height)
    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=18,
                           wordWrap="CJK")
    para = ParagraphStyle("p", fontName=font, fontSize=body, leading=body * 1.6, firstLineIndent=2 * body,
                          spaceAfter=4, wordWrap="CJK")
    heading = ParagraphStyle("hd", fontName=font, fontSize=13, leading=20, spaceBefore=10, keepWithNext=1,
                             wordWrap="CJK")
    story: list = [Paragraph("<br/>".join(_para_text(line) for line in doc.title_lines), title)]  # type: ignore
    ti = 0
    for block in doc.blocks:
        if block.table is not None:
            story += _table_flowables(rec, ti, block.table, v, page)
            ti += 1
        elif block.kind == "appendix":
            if block.page_break:
                story.append(PageBreak())
            story.append(Paragraph(_para_text(block.text), ParagraphStyle("a", parent=heading, fontSize=14)))
        elif block.kind == "heading":
            story.append(Paragraph(_para_text(block.text), heading))
        else:
            story.append(Paragraph(_para_text(block.text), para))

    def furniture(canvas, _doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(font, 9)
        if v.running_header != "none":
            y = page.height - page.top + 4 * geometry.MM
            canvas.drawCentredString(page.width / 2, y, doc.title)
            if v.running_header == "title_rule":
                canvas.setLineWidth(0.5)
                canvas.line(page.margin, y - 2 * geometry.MM, page.width - page.margin, y - 2 * geometry.MM)
        n = canvas.getPageNumber()
        text = {"plain": f"{n}", "dash": f"- {n} -", "di_ye": f"第 {n} 页"}.get(v.page_numbers)
        if text:
            canvas.drawCentredString(page.width / 2, page.bottom - 8 * geometry.MM, text)
        canvas.restoreState()

    template = SimpleDocTemplate(
        str(out_pdf), pagesize=(page.width, page.height), leftMargin=page.margin, rightMargin=page.margin,
        topMargin=page.top, bottomMargin=page.bottom, title=doc.title, author="", invariant=1,
    )
    template.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return rec.pieces, rec.cells, f"ReportLab {reportlab.Version}"
