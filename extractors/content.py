"""What a page shows, as the structure layer needs it: words with their size, and rules.

pdfplumber gives chars, lines, rects and curves. Tables are drawn in many ways: a rule can be a line, a
thin filled rect, the edge of a stroked rect, or the border between a shaded band and the paper. This
module turns all of those into one list of horizontal and vertical ``Rule`` segments, merged where a
publisher drew one rule as many pieces, and the chars into ``Word``s that never cross a wide gap.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pdfplumber

from extractors.layout import BBox, seen_chars

# Chars closer than this share a word; a space char always splits. Small, so that two numbers in tight
# columns stay apart: the structure layer joins words into cells, it never has to split one.
WORD_GAP = 1.5
RULE_MIN = 4.0  # a shorter stroke is a glyph part or a tick, not a rule
RULE_THICK = 3.0  # a filled rect thinner than this is drawn as a rule
JOIN_GAP = 2.0  # collinear rule pieces closer than this are one rule


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    bold: bool = False

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


@dataclass(frozen=True)
class Rule:
    """A horizontal (``y`` fixed, ``a``..``b`` along x) or vertical (``x`` fixed, ``a``..``b`` along y) rule."""

    horizontal: bool
    pos: float
    a: float
    b: float
    width: float = 0.5

    @property
    def length(self) -> float:
        return self.b - self.a


@dataclass
class PageContent:
    page: int  # 1-based
    width: float
    height: float
    words: list[Word]
    rules: list[Rule]
    fills: list[BBox] = field(default_factory=list)  # shaded areas (visible filled rects)
    images: list[BBox] = field(default_factory=list)
    curves: list[BBox] = field(default_factory=list)  # drawn curves (not straight rules): charts have many

    def words_in(self, bbox: BBox, margin: float = 0.0) -> list[Word]:
        x0, top, x1, bottom = bbox
        return [
            w
            for w in self.words
            if x0 - margin <= w.xc <= x1 + margin and top - margin <= w.yc <= bottom + margin
        ]

    def rules_in(self, bbox: BBox, margin: float = 2.0) -> list[Rule]:
        """Rules inside ``bbox``, clipped to it."""
        x0, top, x1, bottom = bbox
        out = []
        for r in self.rules:
            if r.horizontal:
                if top - margin <= r.pos <= bottom + margin and r.b > x0 and r.a < x1:
                    a, b = max(r.a, x0 - margin), min(r.b, x1 + margin)
                    if b - a >= RULE_MIN:
                        out.append(Rule(True, r.pos, a, b, r.width))
            elif x0 - margin <= r.pos <= x1 + margin and r.b > top and r.a < bottom:
                a, b = max(r.a, top - margin), min(r.b, bottom + margin)
                if b - a >= RULE_MIN:
                    out.append(Rule(False, r.pos, a, b, r.width))
        return out


def _visible(obj: dict[str, Any]) -> bool:
    """Word's and LibreOffice's white page-sized backgrounds are not rules or shading."""
    if obj.get("stroke"):
        return True
    if not obj.get("fill"):
        return False
    colour = obj.get("non_stroking_color")
    if colour is None:
        return True
    values = colour if isinstance(colour, list | tuple) else [colour]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return True  # a pattern or a named colour space: assume it shows
    if len(numbers) == 4:  # CMYK: white is no ink
        return any(v > 0.02 for v in numbers)
    return any(v < 0.98 for v in numbers)


def _is_white_fill(obj: dict[str, Any]) -> bool:
    return bool(obj.get("fill")) and not _visible({**obj, "stroke": False})


def _rules_of(page: pdfplumber.page.Page) -> tuple[list[Rule], list[BBox]]:
    rules: list[Rule] = []
    fills: list[BBox] = []
    width, height = float(page.width), float(page.height)
    for line in page.lines:
        lw = float(line.get("linewidth") or 0.5)
        if abs(line["top"] - line["bottom"]) < 1:
            rules.append(Rule(True, (line["top"] + line["bottom"]) / 2, line["x0"], line["x1"], lw))
        elif abs(line["x0"] - line["x1"]) < 1:
            rules.append(Rule(False, (line["x0"] + line["x1"]) / 2, line["top"], line["bottom"], lw))
    for rect in page.rects:
        if not _visible(rect) and not _is_white_fill(rect):
            continue
        x0, top, x1, bottom = rect["x0"], rect["top"], rect["x1"], rect["bottom"]
        w, h = x1 - x0, bottom - top
        if w >= width * 0.95 and h >= height * 0.95:
            continue  # a page background
        if rect.get("fill") and not rect.get("stroke") and (h < RULE_THICK or w < RULE_THICK):
            if _is_white_fill(rect):
                continue
            if h < RULE_THICK:
                rules.append(Rule(True, (top + bottom) / 2, x0, x1, h))
            else:
                rules.append(Rule(False, (x0 + x1) / 2, top, bottom, w))
            continue
        if rect.get("stroke"):
            lw = float(rect.get("linewidth") or 0.5)
            rules += [Rule(True, top, x0, x1, lw), Rule(True, bottom, x0, x1, lw)]
            rules += [Rule(False, x0, top, bottom, lw), Rule(False, x1, top, bottom, lw)]
        if rect.get("fill") and _visible({**rect, "stroke": False}):
            # A shaded band: its edges separate it from the paper, as a rule would.
            fills.append((x0, top, x1, bottom))
            rules += [Rule(True, top, x0, x1, 0.0), Rule(True, bottom, x0, x1, 0.0)]
    for curve in page.curves:
        if _thin(curve):
            # Some producers draw rules as curves: two points, or a flat closed path.
            x0, top, x1, bottom = curve["x0"], curve["top"], curve["x1"], curve["bottom"]
            if x1 - x0 >= bottom - top:
                rules.append(Rule(True, (top + bottom) / 2, x0, x1))
            else:
                rules.append(Rule(False, (x0 + x1) / 2, top, bottom))
    return merge_rules([r for r in rules if r.length >= RULE_MIN]), fills


def _thin(obj: dict[str, Any]) -> bool:
    """A curve no thicker than a rule and long enough to be one."""
    w, h = obj["x1"] - obj["x0"], obj["bottom"] - obj["top"]
    return min(w, h) < RULE_THICK * 0.6 and max(w, h) >= RULE_MIN


def merge_rules(rules: list[Rule], tolerance: float = 1.0) -> list[Rule]:
    """Collinear pieces (one rule drawn cell by cell, or twice over) become one rule."""
    out: list[Rule] = []
    for horizontal in (True, False):
        same = sorted((r for r in rules if r.horizontal == horizontal), key=lambda r: (r.pos, r.a))
        rows: list[list[Rule]] = []
        for rule in same:
            if rows and abs(rows[-1][0].pos - rule.pos) <= tolerance:
                rows[-1].append(rule)
            else:
                rows.append([rule])
        for row in rows:
            pos = sum(r.pos for r in row) / len(row)
            row.sort(key=lambda r: r.a)
            a, b, w = row[0].a, row[0].b, row[0].width
            for rule in row[1:]:
                if rule.a <= b + JOIN_GAP:
                    b, w = max(b, rule.b), max(w, rule.width)
                else:
                    out.append(Rule(horizontal, pos, a, b, w))
                    a, b, w = rule.a, rule.b, rule.width
            out.append(Rule(horizontal, pos, a, b, w))
    return out


def _bold(fontname: str) -> bool:
    name = fontname.lower()
    return any(k in name for k in ("bold", "black", "heavy", "semibold", "demi", "-bd", ",bd"))


_GROUP_HEAD = re.compile(r"^[+\-−－]?\d{1,3}$")
_GROUP_TAIL = re.compile(r"^\d{3}(?:[.,]\d+)?%?$")


def _join_thousands(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``12 345`` printed with a space as the thousands separator is one number, not two cells."""
    out: list[dict[str, Any]] = []
    for w in raw:
        prev = out[-1] if out else None
        if (
            prev is not None
            and abs(prev["top"] - w["top"]) < 1
            and _GROUP_TAIL.match(w["text"])
            and _GROUP_HEAD.match(prev["text"].rsplit(" ", 1)[-1])
            and 0 < w["x0"] - prev["x1"] <= 0.4 * float(w.get("size") or 10)
        ):
            out[-1] = {**prev, "text": prev["text"] + " " + w["text"], "x1": w["x1"]}
            continue
        out.append(w)
    return out


def _words_of(page: pdfplumber.page.Page) -> list[Word]:
    raw = page.extract_words(
        x_tolerance=WORD_GAP,
        y_tolerance=2,
        keep_blank_chars=False,
        use_text_flow=False,
        extra_attrs=["size", "fontname"],
    )
    words = []
    for w in _join_thousands(raw):
        if not w.get("upright", True):
            continue  # rotated text (a vertical label) is not read as table text
        text = unicodedata.normalize("NFC", w["text"])
        if text.strip():
            size = float(w.get("size") or (w["bottom"] - w["top"]))
            words.append(Word(text, w["x0"], w["top"], w["x1"], w["bottom"], size, _bold(w.get("fontname", ""))))
    return words


def page_content(page: pdfplumber.page.Page) -> PageContent:
    """Words and rules of one page (invisible and overprinted chars removed first)."""
    page = seen_chars(page)
    rules, fills = _rules_of(page)
    images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images]
    return PageContent(
        page=page.page_number,
        width=float(page.width),
        height=float(page.height),
        words=_words_of(page),
        rules=rules,
        fills=fills,
        images=images,
        curves=[(c["x0"], c["top"], c["x1"], c["bottom"]) for c in page.curves if not _thin(c)],
    )
