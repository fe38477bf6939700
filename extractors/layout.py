"""Text lines of a page, with CJK spacing removed, and the regions between them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pdfplumber

from extractors.numbers import squash_cjk

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points, origin top-left (pdfplumber)


@dataclass(frozen=True)
class TextLine:
    page: int  # 1-based
    text: str  # whitespace beside CJK removed, other runs of whitespace folded to one space
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


def clean_text(text: str) -> str:
    return re.sub(r"\s+", " ", squash_cjk(text)).strip()


def page_lines(page: pdfplumber.page.Page) -> list[TextLine]:
    """The page's text lines top to bottom; pdfplumber groups chars into lines, we normalise the text."""
    lines = []
    for line in page.extract_text_lines(return_chars=False, strip=True):
        text = clean_text(line["text"])
        if text:
            box = (line["x0"], line["top"], line["x1"], line["bottom"])
            lines.append(TextLine(page.page_number, text, *box))
    return lines
