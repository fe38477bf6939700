"""Page and table geometry a variant's dimensions stand for, shared by the producers (in points)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from samples.variants import fonts
from samples.variants.content import VTable
from samples.variants.matrix import Variant

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
MARGINS_MM = {"narrow": 12.0, "normal": 22.0, "wide": 32.0}
ROW_PAD_MM = {"tight": 0.4, "normal": 1.2, "loose": 2.4}
GUTTER_MM = {"normal": 1.5, "narrow": 0.4}
SPACER_PT = 10.0


class LayoutError(ValueError):
    """A variant's table cannot fit its page: change the variant in matrix.toml."""


@dataclass
class Page:
    width: float
    height: float
    margin: float
    top: float  # top margin, more where a running header sits
    bottom: float

    @property
    def text_width(self) -> float:
        return self.width - 2 * self.margin


def page(v: Variant) -> Page:
    w, h = A4 if v.page == "portrait" else (A4[1], A4[0])
    m = MARGINS_MM[v.margin] * MM
    top = m + (6 * MM if v.running_header != "none" else 0)
    bottom = m + (4 * MM if v.page_numbers != "none" else 0)
    return Page(w, h, m, top, bottom)


def body_size(v: Variant) -> float:
    return max(10.5, v.size + 1.5)


def pads(v: Variant) -> tuple[float, float]:
    """(horizontal, vertical) cell padding."""
    return GUTTER_MM[v.gutter] * MM, ROW_PAD_MM[v.row_height] * MM


def header_font(v: Variant) -> str:
    return fonts.BOLD if v.header_bold else v.font


def _width(font: str, text: str, size: float, letter_spacing: bool = False) -> float:
    lines = text.split("\n")
    extra = 0.5 * size if letter_spacing else 0.0
    return max(fonts.text_width(font, line, size) + extra * max(0, len(line) - 1) for line in lines)


def column_widths(v: Variant, table: VTable, available: float, *, fixed: bool = False) -> list[float] | None:
    """Fixed column widths in points, or None to let the producer size the columns.

    Every body cell must fit on one line of its column (numbers never wrap); header labels wrap where
    the width or the label's own line breaks make them. ``label_wrap`` narrows the row-label column so
    its longer labels (广西壮族自治区, 乌鲁木齐) wrap. ``fixed``: the producer needs widths in any case.
    """
    pad, _ = pads(v)
    size = v.size
    n = len(table.kinds)
    body = [max(fonts.text_width(v.font, row[c], size) for row in table.rows) for c in range(n)]
    need = [b + 2 * pad + 1.5 for b in body]
    label_col = 1 if v.kind == "notice" else 0
    if v.label_wrap:
        chars = 2 if v.kind == "notice" else 3
        need[label_col] = fonts.text_width(v.font, "区" * chars, size) + 2 * pad + 1.0
    spacer = SPACER_PT if table.spacer_after is not None else 0.0
    if sum(need) + spacer > available:
        raise LayoutError(
            f"{v.name} {table.id}: the body needs {sum(need) + spacer:.0f} pt, the page has {available:.0f}"
        )
    if v.header_wrap == "auto" and not v.label_wrap and not fixed:
        return None
    if v.header_wrap in ("two_lines", "three_lines"):
        # Wide enough for every hand-broken header line, so those breaks are the only ones.
        hfont = header_font(v)
        for row in table.header:
            for c, label in enumerate(row):
                covered = any(s.col == c and s.cols > 1 for s in table.spans if row is table.header[s.row])
                if label and not covered:
                    w = _width(hfont, label, size, v.letter_spacing == "css") + 2 * pad + 1.5
                    if not (v.label_wrap and c == label_col):
                        need[c] = max(need[c], w)
    if v.header_wrap == "narrow":
        # A closing bracket may not start a line, so "长（%）" is the narrowest a label wraps to.
        hfont = header_font(v)
        for row in table.header:
            for c, label in enumerate(row):
                for m in re.finditer(r".[(（][^)）]*[)）]", label):
                    need[c] = max(need[c], _width(hfont, m[0], size) + 2 * pad + 2.0)
        if sum(need) + spacer > available:
            raise LayoutError(f"{v.name} {table.id}: narrow headers need more than the page's {available:.0f} pt")
        return need
    # Spread what is left over the columns that may widen (not a wrapping label column).
    free = available - spacer - sum(need)
    if free < 0:
        raise LayoutError(f"{v.name} {table.id}: header lines need {-free:.0f} pt more than the page has")
    grow = [c for c in range(n) if not (v.label_wrap and c == label_col)]
    return [w + (free / len(grow) if c in grow else 0.0) for c, w in enumerate(need)]
