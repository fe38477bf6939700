"""The body text of a seed text layer, and the numbers in it followed by a unit: independent of the extractor.

Deliberately simple and separate from ``extractors/statements.py`` (no shared code, no shared rules): the
coverage test counts with this what a reader would call "a number with a unit" in the running text, and
checks the extractor found them. Body text is every line except table and figure floats (caption to the
数据来源 line), table notes (注：… to the end of its sentence), running headers (letter-spaced), page
numbers, footnotes (a line opening with its call, "1 企业数据…", to the page's end) and the notice's
结果说明 (the notes closing its annex of tables).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "samples" / "seeds"

_CAPTION = re.compile(r"^\s*[图表]\s*\d+\s*-\s*\d+")
_FLOAT_END = re.compile(r"^\s*数据来源")
_RUNNING_HEADER = re.compile(r"^\s*(?:\S ){5,}\S*\s*$")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
# "1 企业数据来自…" (the space may be lost: "1中国服务外包研究中心认为…"), running to the page's end; a body line
# may open with a number too ("3亿户家庭"), but then a unit follows it.
_FOOTNOTE = re.compile(r"^[1-9] ?(?=[\u4e00-\u9fffA-Za-z])(?![亿万个家项倍])")
_SUPERSCRIPT_FOOTNOTE = re.compile(r"^\s*[¹²³⁴⁵⁶⁷⁸⁹]")  # "¹ 指标数据…": one line
_TABLE_NOTE = re.compile(r"^\s*注[:：]")
_RESULT_NOTES = re.compile(r"^\s*结果说明[:：]")
_NOTICE_TITLE = re.compile(r"^\s*\d{4}\s*年度.*(情况|结果)\s*$")

UNITS = (
    "万亿美元|亿美元|万美元|美元|万亿元人民币|亿元人民币|万元人民币|万亿人民币|亿人民币|万亿元|亿元|万元|元|"
    "个百分点|百分点|%|％|倍|万家|家|万人次|人次|万人|人|亿户|万户|户|万个|个|件|项|条|所|支|名|位|座|台|款|部|期|批|"
    "套|种|分|亿|万"
)
NUMBER_WITH_UNIT = re.compile(rf"(?<![\d.．])(\d+(?:\.\d+)?)\s*({UNITS})")


def body_text(path: Path) -> str:
    """The seed's body lines joined (a wrapped sentence becomes one string again)."""
    out: list[str] = []
    in_float = in_footnote = in_note = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        if raw.startswith(" "):  # the seed marks a page start with a leading space: footnotes end there
            in_footnote = False
        line = raw.strip()
        if "\t" in raw or _RUNNING_HEADER.match(line) or _PAGE_NUMBER.match(line):
            continue
        if in_footnote:
            continue
        if in_float:
            in_float = not _FLOAT_END.match(line)
            continue
        if _CAPTION.match(line):
            in_float = True
            continue
        if in_note or _TABLE_NOTE.match(line):
            in_note = not line.endswith("。")
            continue
        if _SUPERSCRIPT_FOOTNOTE.match(raw):
            continue
        if _FOOTNOTE.match(raw):
            in_footnote = True
            continue
        if _NOTICE_TITLE.match(line) or line.startswith("附 "):
            continue
        if _RESULT_NOTES.match(line):
            break  # the notice's 结果说明 closes its annex of tables: notes to them, set as notes

        out.append(line)
    return "".join(out)


def numbers_with_units(path: Path) -> Counter[tuple[str, str]]:
    """(number as printed, unit) → how often the body text prints it."""
    text = body_text(path)
    return Counter((m.group(1), _unit(m.group(2))) for m in NUMBER_WITH_UNIT.finditer(text))


def _unit(unit: str) -> str:
    return "%" if unit == "％" else unit
