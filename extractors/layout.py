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


INVISIBLE = 0.01  # pt: a char this small or narrow is not seen on the page


def invisible(ch: dict) -> bool:
    """Set at size 0 or with no width (0 Tf, 0 Tz): in the text layer, never on the page."""
    return float(ch.get("size") or 0) <= INVISIBLE or ch["x1"] - ch["x0"] <= INVISIBLE


def seen_chars(page: pdfplumber.page.Page) -> pdfplumber.page.Page:
    """Drop chars no reader sees: printed twice on the same spot (fake bold), or set at size 0 or with
    no width (0 Tf, 0 Tz), which would otherwise join the visible line they sit on.

    pdfplumber's own dedupe is slow for all pages. The text lines and the words of a page both read it:
    it is worked out once per page and kept on it."""
    kept = page.__dict__.get("_soetl_seen_chars")
    if kept is None:
        kept = page.__dict__["_soetl_seen_chars"] = _seen_chars(page)
    return kept


def _seen_chars(page: pdfplumber.page.Page) -> pdfplumber.page.Page:
    seen: set[tuple[str, int, int]] = set()
    dropped: set[int] = set()
    for k, ch in enumerate(page.chars):
        if invisible(ch):
            dropped.add(k)
            continue
        key = (ch["text"], round(ch["x0"] * 2), round(ch["top"] * 2))
        if key in seen:
            dropped.add(k)
        seen.add(key)
    if not dropped:
        return page
    keep = {id(ch) for k, ch in enumerate(page.chars) if k not in dropped}
    return page.filter(lambda obj: obj.get("object_type") != "char" or id(obj) in keep)


def page_lines(page: pdfplumber.page.Page) -> list[TextLine]:
    """The page's text lines top to bottom; pdfplumber groups chars into lines, we normalise the text."""
    lines = []
    for line in seen_chars(page).extract_text_lines(return_chars=False, strip=True):
        text = clean_text(line["text"])
        if text:
            box = (line["x0"], line["top"], line["x1"], line["bottom"])
            lines.append(TextLine(page.page_number, text, *box))
    return lines
