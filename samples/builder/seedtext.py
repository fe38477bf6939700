"""Turn the annual report's text layer (the seed) back into document structure.

The seed is what a PDF text extractor gave for the original: one printed line per line (blank lines
between them), running headers and page numbers in the flow, footnotes where the page ended, a leading
space on many lines that began a page, and table cells one per line where they wrapped. This module
recovers parts, chapters, sections, paragraphs, footnotes, figure captions and tables from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CJK = r"\u3400-\u9fff\uff00-\uffef\u3000-\u303f"
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<=[{CJK}“”‘’（）])\s+|\s+(?=[{CJK}“”‘’（）])")

PART_RE = re.compile(r"^第[一二三四五六七八九十]+篇\s*\S+$")
CHAPTER_RE = re.compile(r"^第[一二三四五六七八九十]+章\s*\S+$")
SECTION_RE = re.compile(r"^[一二三四五六七八九十]+、[^，。；\s]{2,30}$")
FIGURE_RE = re.compile(r"^图\s*(\d+-\d+)\s*(.+)$")
TABLE_RE = re.compile(r"^表\s*(\d+-\d+)\s*(.+)$")
SOURCE_RE = re.compile(r"^数据来源[：:]")
UNIT_RE = re.compile(r"^金额单位[：:]\s*(\S+)$")
# Running headers: the report title letter-spaced (even pages) and the part title (odd pages).
RUNNING_HEADER_RE = re.compile(r"^(中 国 服 务 外 包 发 展 报 告 20 2 1|第 [一二三四五] 篇( \S)+)$")
PAGE_NUMBER_RE = re.compile(r"^\d{1,3}$")
# A footnote starts with its number at the foot of a page. The character after the number rules out
# wrapped body lines that merely begin with a quantity ("3亿户家庭…", "5国及…").
FOOTNOTE_RE = re.compile(r"^([1-9]) ?([^\d\s.%，。、：；）\-－～亿万千百个年月日家倍项条所国省市人].*)$")
TABLE_ROW_RE = re.compile(r"^(\S+)((?: -?\d+(?:\.\d+)?)+)$")
SENTENCE_END = "。：；！？）”"


def squash(text: str) -> str:
    """Drop the spaces a text extractor puts beside CJK characters; keep those between Latin words."""
    return _SPACE_NEXT_TO_CJK.sub("", text.strip())


def display_width(line: str) -> float:
    return sum(1.0 if ord(ch) > 0x2E80 else 0.5 for ch in line.strip())


@dataclass
class Footnote:
    number: str
    text: str


@dataclass
class Block:
    kind: str  # part | chapter | section | paragraph | figure | table
    text: str = ""
    id: str = ""  # 图/表 number, "1-1"
    source_note: str = ""
    unit: str = ""
    rows: list[list[str]] = field(default_factory=list)
    # Footnotes called from this paragraph: (position in text where the call goes, footnote).
    footnotes: list[tuple[int, Footnote]] = field(default_factory=list)


@dataclass
class Line:
    text: str
    # The extractor marks a page's first line with a leading space; a running header also precedes one.
    starts_page: bool


def _clean_lines(raw: str) -> list[Line]:
    lines: list[Line] = []
    after_header = False
    for line in raw.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if RUNNING_HEADER_RE.match(stripped) or (PAGE_NUMBER_RE.match(stripped) and stripped not in "12"):
            after_header = True
            continue
        lines.append(Line(stripped, after_header or line.startswith(" ")))
        after_header = False
    return lines


def _starts_block(text: str) -> bool:
    return bool(
        PART_RE.match(text) or CHAPTER_RE.match(text) or FIGURE_RE.match(text) or TABLE_RE.match(text)
    )


def parse_report(raw: str, max_width: float = 39.0) -> list[Block]:
    """Parse the annual report seed into blocks in reading order."""
    lines = _clean_lines(raw)
    blocks: list[Block] = []
    para: list[str] = []
    # Each footnote with the number of blocks that existed when it was met: its call is in the
    # paragraph open at that moment or in one shortly before.
    notes: list[tuple[int, Footnote]] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", text=squash("".join(para))))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i].text
        if line in ("1", "2"):
            # A superscript call the extractor put on a line of its own.
            para.append(f"\x00{line}\x00")
            i += 1
            continue
        note = FOOTNOTE_RE.match(line)
        if note:
            text = note.group(2)
            i += 1
            while i < len(lines) and _continues_footnote(lines[i], note.group(1)):
                text += lines[i].text
                i += 1
            notes.append((len(blocks), Footnote(note.group(1), squash(text))))
            continue
        # A section heading is short and unpunctuated; a long one mid-paragraph is a wrapped line.
        heading = SECTION_RE.match(line) and (not para or display_width(line) < 20)
        if PART_RE.match(line) or CHAPTER_RE.match(line) or heading:
            flush()
            kind = "part" if PART_RE.match(line) else "chapter" if CHAPTER_RE.match(line) else "section"
            blocks.append(Block(kind, text=squash(line) if kind == "section" else _heading(line)))
            i += 1
            continue
        fig = FIGURE_RE.match(line)
        tab = TABLE_RE.match(line)
        if fig or tab:
            flush()
            i = _parse_figure(lines, i, blocks) if fig else _parse_table(lines, i, blocks)
            continue
        para.append(line)
        if display_width(line) < max_width - 3 and line.endswith(tuple(SENTENCE_END)):
            flush()
        i += 1
    flush()
    for at, note in notes:
        _attach_footnote(blocks, at, note)
    return blocks


def _heading(line: str) -> str:
    # "第一章 中国服务外包发展概况": keep one space between the number and the name.
    m = re.match(r"^(第[一二三四五六七八九十]+[章篇])\s*(.+)$", line)
    assert m
    return f"{m.group(1)} {squash(m.group(2))}"


def _continues_footnote(line: Line, number: str) -> bool:
    # A footnote runs to the page's end: it stops at the next page's first line, at a heading or
    # caption, or at the next footnote.
    if line.starts_page or _starts_block(line.text):
        return False
    nxt = FOOTNOTE_RE.match(line.text)
    return not (nxt and int(nxt.group(1)) == int(number) + 1)


_UNIT_AFTER = "亿万千百个年月日家倍项条所国省市人%．.0123456789"


def _attach_footnote(blocks: list[Block], at: int, note: Footnote) -> None:
    """Find the footnote's call in the paragraphs before it and remember where it is."""
    standalone = f"\x00{note.number}\x00"
    inline = re.compile(rf"(?<=[{CJK}A-Za-z）)”])({note.number})(?=[^{_UNIT_AFTER}]|$)")
    candidates = [b for b in blocks[max(0, at - 8) : at + 1] if b.kind == "paragraph"]
    for block in reversed(candidates):
        pos = block.text.find(standalone)
        if pos >= 0:
            block.text = block.text[:pos] + block.text[pos + len(standalone) :]
            block.footnotes.append((pos, note))
            return
        hits = [m for m in inline.finditer(block.text) if not _taken(block, m.start())]
        if hits:
            pos = hits[-1].start()
            block.text = block.text[:pos] + block.text[pos + 1 :]
            block.footnotes.append((pos, note))
            return
    # No call found: hang the note on the nearest paragraph's end, where a reader would look.
    target = candidates[-1] if candidates else blocks[-1]
    target.footnotes.append((len(target.text), note))


def _taken(block: Block, pos: int) -> bool:
    return any(p == pos for p, _ in block.footnotes)


def _parse_figure(lines: list[Line], i: int, blocks: list[Block]) -> int:
    m = FIGURE_RE.match(lines[i].text)
    assert m
    block = Block("figure", id=m.group(1), text=squash(m.group(2)))
    i += 1
    if i < len(lines) and SOURCE_RE.match(lines[i].text):
        block.source_note = squash(lines[i].text)
        i += 1
    blocks.append(block)
    return i


def _parse_table(lines: list[Line], i: int, blocks: list[Block]) -> int:
    m = TABLE_RE.match(lines[i].text)
    assert m
    block = Block("table", id=m.group(1), text=squash(m.group(2)))
    i += 1
    unit = UNIT_RE.match(lines[i].text) if i < len(lines) else None
    if unit:
        block.unit = unit.group(1)
        i += 1
    # Header fragments come next; the typeset header is in report_tables.toml, so skip them.
    while i < len(lines) and not TABLE_ROW_RE.match(lines[i].text):
        i += 1
    while i < len(lines) and (row := TABLE_ROW_RE.match(lines[i].text)):
        block.rows.append([row.group(1), *row.group(2).split()])
        i += 1
    if i < len(lines) and SOURCE_RE.match(lines[i].text):
        block.source_note = squash(lines[i].text)
        i += 1
    blocks.append(block)
    return i
