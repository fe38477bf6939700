"""Replica of 《2021年度中国服务外包示范城市及申请城市综合评价结果》, typeset from its text layer.

The published PDF cannot be downloaded; ``seeds/000_8a58a9cfef228a5a.txt`` is all we have of it. This
module parses that text, typesets it the way a MOFCOM notice looks (GB/T 9704 page: A4, 16 pt serif
body on a 28.95 pt line pitch, 22 lines a page), writes a .docx with python-docx, converts it with
LibreOffice Writer and returns the ground truth of the six score tables, taken from the parsed seed.

Run ``python -m samples.builder.notice`` from the project root to rebuild
``samples/city_evaluation_2021.pdf`` and ``samples/truth/city_evaluation_2021.json``.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Emu, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from fontTools.ttLib import TTCollection, TTFont
from pypdf import PdfWriter
from pypdf.generic import NameObject, NumberObject

from samples.builder.truth import DocumentTruth, TableTruth

DOC_ID = "city_evaluation_2021"
TITLE = "2021年度中国服务外包示范城市及申请城市综合评价结果"
SEED_REL = "seeds/000_8a58a9cfef228a5a.txt"
PDF_REL = f"{DOC_ID}.pdf"

SERIF = "Noto Serif CJK SC"  # stands in for 宋体
SANS = "Noto Sans CJK SC"  # stands in for 黑体

# GB/T 9704 puts 22 lines of 三号 (16 pt) text in a 225 mm type area; a fixed pitch keeps the page
# breaks close to the original's (the seed shows them as mid-sentence paragraph splits).
BODY_PT = 16.0
LINE_PT = 28.95
TITLE_PT = 22.0
CAPTION_PT = 14.0  # the longest caption fits one line, as the seed shows it unbroken
NOTE_PT = 12.0  # the seed's 注 line breaks after 35 characters, so it is smaller than the body
FOOTNOTE_PT = 10.5
TABLE_PT = 10.5
CELL_MARGIN_PT = 2.85  # 0.1 cm either side: narrow columns, as in the original
# Rows as tight as the text. The seed shows 附2-2's 注 split over a page break, so in the original
# 附2-1 and 附2-2 share one page: that needs rows no taller than the text.
CELL_PAD_PT = 0.0
# Extra room per column beyond its widest content, kept well under one character so a header that
# is meant to wrap after n characters still does.
COLUMN_SLACK_EM = 0.3

# Type area of 156 mm x 225 mm; the left margin is a little narrower than GB/T 9704's 28 mm so that
# a full line holds 28 characters in a font without a character grid.
PAGE_MARGINS_CM = {"top": 3.7, "bottom": 3.5, "left": 2.65, "right": 2.5}
PAGE_CM = (21.0, 29.7)

TERMINAL = ("。", "：", "；", "！", "？")
# Ideographs, CJK symbols and punctuation, fullwidth forms, curly quotes: text the original set
# without spaces, so any whitespace next to them in the seed is an extraction artefact.
_CJK = "[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d]"
_ASCII = "[0-9A-Za-z%]"
_SPACE_CJK_LEFT = re.compile(rf"(?<={_CJK})\s+(?={_CJK}|{_ASCII})")
_SPACE_CJK_RIGHT = re.compile(rf"(?<={_ASCII})\s+(?={_CJK})")
_SPACE_CJK_CJK = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
FOOTNOTE_RE = re.compile(rf"^([{_SUPERSCRIPTS}]+)\s*(.+)$")
APPENDIX_RE = re.compile(r"^附\s*(\d+)$")
HEADING_RES = (
    (1, re.compile(r"^[一二三四五六七八九十]+、")),
    (2, re.compile(r"^（[一二三四五六七八九十]+）")),
    (3, re.compile(r"^\d+、")),
)
ORDINAL_RE = re.compile(r"^\([一二三四五六七八九十]+\)")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?%?$")
BOLD_MARK = "**"

# Paragraph kinds whose seed paragraphs may have been split at a page break of the original.
JOINABLE = {"body", "note", "remark"}


def normalize(text: str) -> str:
    """Drop the spaces the text layer put between CJK characters and digits/latin ("2021 年")."""
    text = _SPACE_CJK_LEFT.sub("", text)
    return _SPACE_CJK_RIGHT.sub("", text)


# --------------------------------------------------------------------------------------------- parse


@dataclass
class Block:
    kind: str  # title | heading1..3 | body | appendix | note | remark
    text: str


@dataclass
class SeedTable:
    caption: str
    lines: list[list[str]]


@dataclass
class Notice:
    title_lines: list[str]
    items: list[Block | SeedTable]
    footnotes: dict[str, str]


def parse_seed(text: str) -> Notice:
    items: list[Block | SeedTable] = []
    footnotes: dict[str, str] = {}
    in_appendix = False
    for line in (ln for ln in text.splitlines() if ln.strip()):
        if "\t" in line:
            fields = [f.strip() for f in line.split("\t")]
            if isinstance(items[-1], SeedTable):
                items[-1].lines.append(fields)
            else:
                # The text layer has no caption marker: the caption is whatever paragraph sits
                # directly above the first table line.
                caption = items.pop()
                assert isinstance(caption, Block)
                items.append(SeedTable(caption=normalize(caption.text), lines=[fields]))
            continue
        para = line.strip()
        if m := FOOTNOTE_RE.match(para):
            # Footnote text is printed at the page foot, between the paragraphs of the page, so it
            # must not take part in joining the paragraph that the page break split.
            footnotes[m[1]] = normalize(m[2])
            continue
        prev = items[-1] if items else None
        if isinstance(prev, Block) and prev.kind in JOINABLE and not prev.text.endswith(TERMINAL):
            prev.text += para
            continue
        items.append(Block(_classify(para, first=not items, in_appendix=in_appendix), para))
        in_appendix = in_appendix or items[-1].kind == "appendix"

    title = items.pop(0)
    assert isinstance(title, Block) and title.kind == "title"
    for item in items:
        # "附 1" keeps its space: it is a label typed that way, not prose with an extraction gap.
        if isinstance(item, Block) and item.kind != "appendix":
            item.text = normalize(item.text)
    # A space between two CJK characters of the title is where the original broke the title line.
    title_lines = [normalize(part) for part in _SPACE_CJK_CJK.split(title.text)]
    return Notice(title_lines=title_lines, items=items, footnotes=footnotes)


def _classify(text: str, *, first: bool, in_appendix: bool) -> str:
    if first:
        return "title"
    if APPENDIX_RE.match(text):
        return "appendix"
    if text.startswith("注："):
        return "note"
    if in_appendix:
        return "remark"
    for level, pattern in HEADING_RES:
        if pattern.match(text):
            return f"heading{level}"
    return "body"


@dataclass
class Span:
    row: int
    col: int
    rows: int = 1
    cols: int = 1


@dataclass
class TableLayout:
    caption: str
    columns: list[str]  # flattened leaf labels
    header_rows: list[list[str]]  # as typeset, "" under a span
    header_spans: list[Span]
    leaf_headers: list[str]  # the label printed at the bottom of each column's header
    body: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def body_spans(self) -> list[Span]:
        """A label cell followed by empty cells spans them (平均值 over 序号 and 城市)."""
        spans: list[Span] = []
        for r, row in enumerate(self.body):
            c = 0
            while c < len(row):
                end = c + 1
                if row[c] and not NUMBER_RE.match(row[c]):
                    while end < len(row) and not row[end]:
                        end += 1
                if end - c > 1:
                    spans.append(Span(len(self.header_rows) + r, c, 1, end - c))
                c = end
        return spans


def _clean_header(label: str) -> str:
    # Header labels are CJK throughout; every space in them is a wrap point of the narrow cell.
    return re.sub(r"\s+", "", label)


def layout_table(table: SeedTable) -> TableLayout:
    def is_body(fields: list[str]) -> bool:
        filled = [f for f in fields if f]
        return bool(filled) and bool(NUMBER_RE.match(filled[-1]))

    n_header = next(i for i, fields in enumerate(table.lines) if is_body(fields))
    header = [[_clean_header(f) for f in fields] for fields in table.lines[:n_header]]
    body = table.lines[n_header:]
    assert all(is_body(fields) for fields in body), table.caption
    width = max(len(fields) for fields in body)
    body = [fields + [""] * (width - len(fields)) for fields in body]

    if n_header == 1:
        labels = [f for f in header[0] if f]
        assert len(labels) == width, table.caption
        return TableLayout(table.caption, labels, [labels], [], labels, body)
    assert n_header == 2, f"{table.caption}: {n_header} header lines"

    # Only the second header line's cells are trustworthy as a set, not by position: in the
    # applicant tables the text layer moved "(四) 政策措施保障" after the tabs of the columns that
    # follow it. What positions do tell is where the sub-columns begin, i.e. which top label groups them.
    top, sub = header
    first_sub = next(i for i, f in enumerate(sub) if f)
    group = top[first_sub]
    before = [f for f in top[:first_sub] if f]
    subs = [f for f in sub if f]
    after = [f for f in top[first_sub + 1 :] if f]
    assert len(before) + len(subs) + len(after) == width, table.caption

    g0, g1 = len(before), len(before) + len(subs)
    row0 = [*before, group, *[""] * (len(subs) - 1), *after]
    row1 = [*[""] * len(before), *subs, *[""] * len(after)]
    spans = [Span(0, c, rows=2) for c in [*range(g0), *range(g1, width)]]
    spans.append(Span(0, g0, cols=len(subs)))
    columns = [*before, *(f"{group}/{s}" for s in subs), *after]
    leaves = [*before, *subs, *after]
    return TableLayout(table.caption, columns, [row0, row1], spans, leaves, body)


def collect_tables(notice: Notice) -> Iterator[tuple[str, TableLayout]]:
    """Each table with its id 附N-k and the 注 paragraphs printed right under it."""
    appendix, k = "", 0
    current: TableLayout | None = None
    for item in notice.items:
        if isinstance(item, SeedTable):
            if current:
                yield f"附{appendix}-{k}", current
            k += 1
            current = layout_table(item)
            continue
        if item.kind == "note" and current:
            current.notes.append(item.text)
            continue
        if current:
            yield f"附{appendix}-{k}", current
            current = None
        if m := APPENDIX_RE.match(item.text):
            appendix, k = m[1], 0
    if current:
        yield f"附{appendix}-{k}", current


# ------------------------------------------------------------------------------------ measurement


@cache
def _font(family: str) -> TTFont:
    spec = subprocess.run(
        ["fc-match", "-f", "%{file}\t%{index}", family], check=True, capture_output=True, text=True
    ).stdout
    path, index = spec.split("\t")
    if path.endswith((".ttc", ".otc")):
        return TTCollection(path).fonts[int(index)]
    return TTFont(path)


def text_em(text: str, family: str = SERIF) -> float:
    font = _font(family)
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    upm = font["head"].unitsPerEm
    return sum(hmtx[cmap[ord(ch)]][0] for ch in text if ord(ch) in cmap) / upm


def header_em(label: str) -> float:
    """Width a header label needs when it wraps like the original's narrow cells.

    Labels of up to three characters stay on one line (加分项, 序号); longer ones break into two
    lines of equal length (基础评|价得分, 专家|评审). A leading ordinal "(一)" sits on a line of its own.
    """
    parts = []
    if m := ORDINAL_RE.match(label):
        parts.append(m[0])
        label = label[m.end() :]
    per_line = len(label) if len(label) <= 3 else math.ceil(len(label) / 2)
    parts += [label[i : i + per_line] for i in range(0, len(label), per_line)]
    return max(text_em(p) for p in parts)


def column_widths_pt(layout: TableLayout) -> list[float]:
    spanned = {(s.row, s.col + i) for s in layout.body_spans() for i in range(s.cols)}
    widths = []
    for c, leaf in enumerate(layout.leaf_headers):
        data = [
            text_em(row[c])
            for r, row in enumerate(layout.body)
            if (len(layout.header_rows) + r, c) not in spanned
        ]
        em = max(header_em(leaf), *data) + COLUMN_SLACK_EM
        widths.append(em * TABLE_PT + 2 * CELL_MARGIN_PT)
    return widths


# ------------------------------------------------------------------------------------------ docx


def _fonts(rpr: BaseOxmlElement, family: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):  # theme fonts would override the explicit ones
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), family)


def _run(par: Paragraph, text: str, *, family: str, size: float, bold: bool = False) -> Run:
    run = par.add_run(text)
    _fonts(run._r.get_or_add_rPr(), family)
    run.font.size = Pt(size)
    run.font.bold = bold or None
    return run


def _format(
    par: Paragraph,
    *,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent_pt: float = 0.0,
    line_pt: float | None = LINE_PT,
    before_pt: float = 0.0,
    after_pt: float = 0.0,
) -> Paragraph:
    fmt = par.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = Pt(indent_pt) if indent_pt else None
    fmt.space_before, fmt.space_after = Pt(before_pt), Pt(after_pt)
    if line_pt is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing, fmt.line_spacing_rule = Pt(line_pt), WD_LINE_SPACING.EXACTLY
    # The original has no widow/orphan control: the seed shows a page ending on a paragraph's first
    # line ("…新认定技术") and another page starting with a paragraph's last ("万人次。").
    fmt.widow_control = False
    return par


def _setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.top_margin = Cm(PAGE_MARGINS_CM["top"])
    section.bottom_margin = Cm(PAGE_MARGINS_CM["bottom"])
    section.left_margin = Cm(PAGE_MARGINS_CM["left"])
    section.right_margin = Cm(PAGE_MARGINS_CM["right"])

    # The template's defaults point at theme fonts (Calibri, and no CJK face): anything not set
    # run by run, such as footnote numbers and empty paragraphs, must still resolve to the CJK serif.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, SERIF)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr(), SERIF)

    props = doc.core_properties
    props.title, props.author, props.last_modified_by = TITLE, "", ""


class Footnotes:
    """The footnotes part python-docx lacks: separators plus one w:footnote per note."""

    def __init__(self, doc: DocxDocument) -> None:
        # LibreOffice sizes the number in the footnote area from the note's paragraph style, not
        # from the run holding w:footnoteRef, so the notes need Word's two built-in styles.
        size = round(FOOTNOTE_PT * 2)
        doc.styles.element.append(
            parse_xml(
                f'<w:style {nsdecls("w")} w:type="paragraph" w:styleId="FootnoteText">'
                '<w:name w:val="footnote text"/><w:basedOn w:val="Normal"/>'
                '<w:pPr><w:jc w:val="both"/><w:spacing w:before="0" w:after="0" w:line="240" '
                'w:lineRule="auto"/></w:pPr>'
                f'<w:rPr><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr></w:style>'
            )
        )
        doc.styles.element.append(
            parse_xml(
                f'<w:style {nsdecls("w")} w:type="character" w:styleId="FootnoteReference">'
                '<w:name w:val="footnote reference"/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                "</w:style>"
            )
        )
        self._element = parse_xml(
            f"<w:footnotes {nsdecls('w')}>"
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
            "</w:r></w:p></w:footnote></w:footnotes>"
        )
        part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, self._element, doc.part.package)
        doc.part.relate_to(part, RT.FOOTNOTES)
        self._next_id = 1

    def add(self, par: Paragraph, text: str) -> None:
        """Put the reference mark at the end of ``par`` and the note text in the footnotes part."""
        note_id = str(self._next_id)
        self._next_id += 1
        par._p.append(
            parse_xml(
                f'<w:r {nsdecls("w")}><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr>'
                f'<w:footnoteReference w:id="{note_id}"/></w:r>'
            )
        )
        note = parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{note_id}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/>'
            '</w:pPr><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>'
            "</w:p></w:footnote>"
        )
        self._element.append(note)
        _run(Paragraph(note[0], None), " " + text, family=SERIF, size=FOOTNOTE_PT)  # type: ignore[arg-type]


def _rich_text(
    par: Paragraph,
    text: str,
    footnotes: Footnotes,
    notes: dict[str, str],
    *,
    family: str,
    size: float,
    bold: bool = False,
) -> None:
    """Runs for text with **bold** spans and superscript footnote markers."""
    marker = re.compile(f"([{_SUPERSCRIPTS}]+)")
    for i, chunk in enumerate(text.split(BOLD_MARK)):
        for piece in marker.split(chunk):
            if piece in notes:
                footnotes.add(par, notes[piece])
            elif piece:
                _run(par, piece, family=family, size=size, bold=bold or i % 2 == 1)


def _borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = parse_xml(
        f"<w:tblBorders {nsdecls('w')}>"
        + "".join(
            f'<w:{edge} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
            for edge in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        + "</w:tblBorders>"
    )
    margins = parse_xml(
        f"<w:tblCellMar {nsdecls('w')}>"
        f'<w:top w:w="{round(CELL_PAD_PT * 20)}" w:type="dxa"/>'
        f'<w:left w:w="{round(CELL_MARGIN_PT * 20)}" w:type="dxa"/>'
        f'<w:bottom w:w="{round(CELL_PAD_PT * 20)}" w:type="dxa"/>'
        f'<w:right w:w="{round(CELL_MARGIN_PT * 20)}" w:type="dxa"/>'
        "</w:tblCellMar>"
    )
    layout = parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>')
    for el in (borders, layout, margins):
        existing = tbl_pr.find(el.tag)
        if existing is not None:
            tbl_pr.remove(existing)
        tbl_pr.append(el)


def _cell_text(cell: _Cell, text: str) -> None:
    par = _format(cell.paragraphs[0], align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=None)
    if m := ORDINAL_RE.match(text):
        # The original breaks after the ordinal: the seed keeps "(一) " even where it has no
        # other wrap spaces.
        _run(par, m[0], family=SERIF, size=TABLE_PT).add_break(WD_BREAK.LINE)
        text = text[m.end() :]
    if text:
        _run(par, text, family=SERIF, size=TABLE_PT)
    # An empty cell's line height comes from its paragraph mark, which would otherwise be body size
    # and make the 平均值 row (empty 序号 cell) taller than the others.
    size = round(TABLE_PT * 2)
    mark = parse_xml(f'<w:rPr {nsdecls("w")}><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr>')
    _fonts(mark, SERIF)
    par._p.get_or_add_pPr().append(mark)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def add_table(doc: DocxDocument, layout: TableLayout) -> Table:
    n_head = len(layout.header_rows)
    grid = [*layout.header_rows, *layout.body]
    table = doc.add_table(rows=len(grid), cols=len(layout.columns))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _borders(table)
    widths = column_widths_pt(layout)
    section = doc.sections[0]
    text_width = Emu(section.page_width - section.left_margin - section.right_margin).pt
    if sum(widths) > text_width:
        raise ValueError(
            f"{layout.caption}: table {sum(widths):.0f} pt wider than the page's {text_width:.0f}"
        )
    for c, w in enumerate(widths):
        table.columns[c].width = Pt(w)
        for cell in table.columns[c].cells:
            cell.width = Pt(w)
    for row in table.rows:
        tr_pr = row._tr.get_or_add_trPr()
        # A row split over two pages would cut a city's numbers in two; the header is not
        # repeated on the next page, as in the original.
        tr_pr.append(OxmlElement("w:cantSplit"))
    for r, values in enumerate(grid):
        for c, value in enumerate(values):
            _cell_text(table.cell(r, c), value)
    for span in [*layout.header_spans, *layout.body_spans()]:
        merged = table.cell(span.row, span.col).merge(
            table.cell(span.row + span.rows - 1, span.col + span.cols - 1)
        )
        # merge() appends the covered cells' empty paragraphs below the label: drop them so the
        # label stays vertically centred in the span.
        for extra in merged.paragraphs[1:]:
            extra._p.getparent().remove(extra._p)
    # Keep the header with the first body row, so a table that starts near the foot of a page is
    # not left as a lone header there (LibreOffice honours keep-with-next on the row's paragraphs).
    for tr in table._tbl.tr_lst[:n_head]:
        for p in tr.iter(qn("w:p")):
            Paragraph(p, None).paragraph_format.keep_with_next = True  # type: ignore[arg-type]
    return table


# Body paragraph kinds: (font family, bold). Level one headings are 黑体, level two bold 宋体.
BODY_KINDS = {
    "heading1": (SANS, False),
    "heading2": (SERIF, True),
    "heading3": (SERIF, False),
    "body": (SERIF, False),
}


def write_docx(notice: Notice, path: Path) -> list[tuple[str, TableLayout]]:
    doc = Document()
    _setup(doc)
    footnotes = Footnotes(doc)

    title = _format(doc.add_paragraph(), align=WD_ALIGN_PARAGRAPH.CENTER, after_pt=LINE_PT)
    for i, line in enumerate(notice.title_lines):
        run = _run(title, line, family=SANS, size=TITLE_PT, bold=True)
        if i < len(notice.title_lines) - 1:
            run.add_break(WD_BREAK.LINE)

    laid_out = list(collect_tables(notice))
    layouts = iter(layout for _, layout in laid_out)
    after_table = False
    for item in notice.items:
        if isinstance(item, SeedTable):
            layout = next(layouts)
            cap = _format(
                doc.add_paragraph(),
                align=WD_ALIGN_PARAGRAPH.CENTER,
                line_pt=None,
                before_pt=12 if after_table else 0,
                after_pt=6,
            )
            cap.paragraph_format.keep_with_next = True
            _run(cap, layout.caption, family=SERIF, size=CAPTION_PT, bold=True)
            add_table(doc, layout)
            after_table = True
            continue
        if item.kind == "appendix":
            par = _format(doc.add_paragraph(), align=WD_ALIGN_PARAGRAPH.LEFT)
            par.paragraph_format.page_break_before = True
            par.paragraph_format.keep_with_next = True
            _run(par, item.text, family=SANS, size=BODY_PT)
            after_table = False
        elif item.kind in ("note", "remark"):
            indent = 2 * NOTE_PT if item.kind == "remark" else 0.0
            par = _format(doc.add_paragraph(), line_pt=None, before_pt=4, indent_pt=indent)
            _rich_text(par, item.text, footnotes, notice.footnotes, family=SERIF, size=NOTE_PT)
        else:
            family, bold = BODY_KINDS[item.kind]
            par = _format(doc.add_paragraph(), indent_pt=2 * BODY_PT)
            par.paragraph_format.keep_with_next = item.kind.startswith("heading")
            _rich_text(par, item.text, footnotes, notice.footnotes, family=family, size=BODY_PT, bold=bold)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return laid_out


# ------------------------------------------------------------------------------------- convert


def _soffice(workdir: Path, *args: str) -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    # A private profile: the default one is shared, locked while another conversion runs, and
    # refused when running as root without it.
    profile = (workdir / "lo-profile").resolve()
    cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", *args]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    return done.stdout


def libreoffice_version(workdir: Path) -> str:
    return _soffice(workdir, "--version").strip()


def convert(docx_path: Path, out_pdf: Path, workdir: Path) -> None:
    outdir = workdir / "pdf"
    outdir.mkdir(parents=True, exist_ok=True)
    produced = outdir / f"{docx_path.stem}.pdf"
    produced.unlink(missing_ok=True)
    _soffice(workdir, "--convert-to", "pdf", "--outdir", str(outdir), str(docx_path))
    if not produced.exists():
        raise RuntimeError(f"LibreOffice wrote no PDF for {docx_path}")
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(produced, out_pdf)


def repair_font_descriptors(pdf: Path) -> int:
    """Give the embedded CJK fonts the ascent and descent LibreOffice 7.4 leaves at zero.

    LibreOffice 7.4 embeds the CFF-based Noto CJK faces as Type 1 subsets whose FontDescriptor says
    /Ascent 0 /Descent 0. Parsers that size glyph boxes from those values fall back on the FontBBox
    (descent about -1.05 em): camelot 2 then places every text line about one row too low, and
    the last row of each table (平均值) falls out of the grid. The published original, with sane
    descriptors, would not mislead them, so the replica must not either. The fix is appended as an
    incremental update: LibreOffice's own bytes, drawing and fonts stay as written.
    """
    writer = PdfWriter(pdf, incremental=True)
    fixed: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            descriptor_ref = ref.get_object().get("/FontDescriptor")
            if descriptor_ref is None or descriptor_ref.idnum in fixed:
                continue
            descriptor = descriptor_ref.get_object()
            if descriptor.get("/Ascent", 0) != 0 or descriptor.get("/Descent", 0) != 0:
                continue
            font = _font(SANS if "Sans" in str(descriptor["/FontName"]) else SERIF)
            scale = 1000 / font["head"].unitsPerEm
            descriptor[NameObject("/Ascent")] = NumberObject(round(font["hhea"].ascent * scale))
            descriptor[NameObject("/Descent")] = NumberObject(round(font["hhea"].descent * scale))
            fixed.add(descriptor_ref.idnum)
    if fixed:
        # An update's trailer carries /Info only when /Info changed, and poppler reads /Info from
        # the last trailer alone: record the modification so Title and Producer stay visible.
        writer.add_metadata({"/ModDate": time.strftime("D:%Y%m%d%H%M%SZ", time.gmtime())})
        with pdf.open("wb") as fh:
            writer.write(fh)
    return len(fixed)


# ----------------------------------------------------------------------------------------- entry


def build(seed: Path, out_pdf: Path, workdir: Path) -> DocumentTruth:
    notice = parse_seed(seed.read_text(encoding="utf-8"))
    if "".join(notice.title_lines) != TITLE:
        raise ValueError(f"unexpected title {notice.title_lines!r}")
    workdir.mkdir(parents=True, exist_ok=True)
    docx_path = workdir / f"{DOC_ID}.docx"
    laid_out = write_docx(notice, docx_path)
    convert(docx_path, out_pdf, workdir)
    repair_font_descriptors(out_pdf)

    tables = [
        TableTruth(
            id=table_id,
            caption=layout.caption,
            columns=layout.columns,
            header_rows=[list(row) for row in layout.header_rows],
            # Cells as the seed has them. Where the seed has "平均值" then an empty field (附1-2,
            # 附2-1 … 附2-3) the label is one cell merged across 序号 and 城市: it is recorded
            # under 序号 and 城市 is "", the covered cell. Where it has an empty field then
            # "平均值" (附1-1, 附1-3) 序号 is a real empty cell and the label sits under 城市.
            rows=[list(row) for row in layout.body],
            unit=None,
            notes=list(layout.notes),
            style="ruled",
        )
        for table_id, layout in laid_out
    ]
    return DocumentTruth(
        id=DOC_ID,
        title=TITLE,
        pdf=PDF_REL,
        seed=SEED_REL,
        producer=libreoffice_version(workdir),
        tables=tables,
    )


if __name__ == "__main__":
    samples = Path(__file__).resolve().parents[1]
    truth = build(samples / SEED_REL, samples / PDF_REL, samples / ".build" / DOC_ID)
    print(truth.write())
