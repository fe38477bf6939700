"""Figures the reports state in running text (not in a table), read with pdfplumber, with where they are.

The evaluation notice states how many cities it evaluated and sums up the tables (37 demonstration
cities, their offshore execution 1109.23 亿美元, the average scores). Those sentences are the publisher's
own statement of what the tables and the annual report should agree with, so the checks compare them.
The extractors stay table-only: this module reads the text layer itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber

from schemas.values import BBox, CellRef, Term, printed_decimals

_NUM = r"(\d+(?:\.\d+)?)"
# A section of the notice: the same sentence ("专家评审的平均得分为…") appears once per city type.
_SECTION = re.compile(r"[一二三四五六七八九十]+、(示范城市|申请城市)评价结果分析")


@dataclass(frozen=True)
class StatedPattern:
    name: str
    pattern: str  # regex over the page text with all whitespace removed; {n} is the stated number
    description: str
    section: str | None = None  # only inside this section of the document (示范城市 / 申请城市)


# Which documents state these figures: the first page's title says so (the annual report is not read).
STATING_DOCUMENT = re.compile(r"示范城市及\s*申请城市综合评价结果")

# Whitespace is removed before matching: LibreOffice puts spaces between CJK and digits and lines wrap
# anywhere, so "37 个服务\n外包示范城市" reads as "37个服务外包示范城市".
STATED_PATTERNS: tuple[StatedPattern, ...] = (
    StatedPattern("demonstration_city_count", "对{n}个服务外包示范城市", "number of demonstration cities evaluated"),
    StatedPattern("applicant_city_count", "及{n}个服务外包申请城市", "number of applicant cities evaluated"),
    StatedPattern(
        "demonstration_offshore_usd_100m",
        "示范城市承接国际服务外包执行额{n}亿美元",
        "offshore (international) execution of the demonstration cities, 亿美元",
        "示范城市",
    ),
    StatedPattern(
        "demonstration_offshore_share_pct",
        r"示范城市承接国际服务外包执行额[\d.]+亿美元，同比增长[\d.]+%，占全国的{n}%",
        "the demonstration cities' share of national offshore execution, %",
        "示范城市",
    ),
    StatedPattern("demonstration_mean_total", "示范城市平均得分为{n}分", "average 综合得分", "示范城市"),
    StatedPattern("demonstration_mean_base", "权重为70%。示范城市平均得分为{n}分", "average 基础评价得分", "示范城市"),
    StatedPattern("demonstration_mean_expert", "专家评审的平均得分为{n}分", "average 专家评审", "示范城市"),
    StatedPattern("demonstration_mean_survey", r"\d+个示范城市平均得分为{n}分", "average 问卷调查", "示范城市"),
    StatedPattern("applicant_mean_total", "综合评价平均得分为{n}分", "average 综合得分", "申请城市"),
    StatedPattern("applicant_mean_base", "申请城市平均得分为{n}分", "average 基础评价得分", "申请城市"),
    StatedPattern("applicant_mean_expert", "专家评审的平均得分为{n}分", "average 专家评审", "申请城市"),
    StatedPattern("applicant_mean_survey", r"\d+个申请城市平均得分为{n}分", "average 问卷调查", "申请城市"),
)


@dataclass(frozen=True)
class StatedFact:
    name: str
    value: float
    text: str  # the number as printed
    source_id: str
    page: int
    bbox: BBox
    quote: str  # the sentence around it, for the report
    description: str = ""

    def term(self, row: int) -> Term:
        ref = CellRef(
            self.source_id,
            "stated",
            row,
            self.name,
            None,
            self.page,
            self.bbox,
            self.text,
            f"text p.{self.page}: …{self.quote}…",
        )
        return Term(ref, self.value, printed_decimals(self.text, self.value))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "text": self.text,
            "source_id": self.source_id,
            "page": self.page,
            "bbox": list(self.bbox),
            "quote": self.quote,
            "description": self.description,
        }


def _document_chars(pdf: pdfplumber.PDF) -> tuple[str, list[dict[str, Any]]]:
    """The document's text with whitespace removed, and the char object behind each character."""
    text: list[str] = []
    chars: list[dict[str, Any]] = []
    for page in pdf.pages:
        for string, char in page.get_textmap().tuples:
            if char is None or not string.strip():
                continue
            for piece in string:  # a ligature maps one char object to several characters
                text.append(piece)
                chars.append(char)
    return "".join(text), chars


def read_stated_facts(
    pdf_paths: dict[str, Path], patterns: tuple[StatedPattern, ...] = STATED_PATTERNS
) -> list[StatedFact]:
    """Every stated figure the patterns find, first match per pattern (and section) per document."""
    facts: list[StatedFact] = []
    for source_id, path in pdf_paths.items():
        with pdfplumber.open(path) as pdf:
            if not pdf.pages or not STATING_DOCUMENT.search(pdf.pages[0].extract_text() or ""):
                continue
            text, chars = _document_chars(pdf)
        sections = [(m.start(), m.group(1)) for m in _SECTION.finditer(text)]
        for spec in patterns:
            regex = re.compile(spec.pattern.replace("{n}", _NUM))
            for match in regex.finditer(text):
                if spec.section is not None and _section_at(sections, match.start()) != spec.section:
                    continue
                facts.append(_fact(spec, source_id, text, chars, match))
                break
    return facts


def _section_at(sections: list[tuple[int, str]], offset: int) -> str | None:
    current = None
    for start, name in sections:
        if start > offset:
            break
        current = name
    return current


def _fact(spec: StatedPattern, source_id: str, text: str, chars: list[dict[str, Any]], match: re.Match) -> StatedFact:
    start, end = match.span(1)
    number = chars[start:end]
    page = int(number[0]["page_number"])
    on_page = [c for c in number if c["page_number"] == page]
    bbox = (
        min(float(c["x0"]) for c in on_page),
        min(float(c["top"]) for c in on_page),
        max(float(c["x1"]) for c in on_page),
        max(float(c["bottom"]) for c in on_page),
    )
    quote = text[max(0, match.start() - 8) : min(len(text), match.end() + 8)]
    return StatedFact(spec.name, float(match.group(1)), match.group(1), source_id, page, bbox, quote, spec.description)
