"""A table's structure from one region of a page: the lattice reader where rules draw every cell,
the alignment reader for everything else (with whatever rules there are as hints)."""

from __future__ import annotations

from statistics import median

from extractors.alignment import read_alignment
from extractors.content import PageContent, Rule, Word
from extractors.grid import TableGrid
from extractors.lattice import cluster, read_lattice
from extractors.layout import BBox
from extractors.rows import text_lines

# A region found from text (or given by a user) ends at the text; its frame's rules lie a little outside.
FRAME_MARGIN = 6.0


def _drawn_grid(rules: list[Rule]) -> bool:
    xs = cluster([r.pos for r in rules if not r.horizontal])
    ys = cluster([r.pos for r in rules if r.horizontal])
    return len(xs) >= 2 and len(ys) >= 3 and len(xs) + len(ys) >= 6


def _connected(words: list[Word], top: float, bottom: float, gap: float) -> list[Word]:
    lines = text_lines(words)
    inside = [ln for ln in lines if top - gap <= (ln.top + ln.bottom) / 2 <= bottom + gap]
    if not inside:
        return []
    lo, hi = min(ln.top for ln in inside), max(ln.bottom for ln in inside)
    for ln in lines:  # downwards
        if ln.top > hi and ln.top - hi <= gap:
            hi = ln.bottom
    for ln in reversed(lines):  # upwards
        if ln.bottom < lo and lo - ln.bottom <= gap:
            lo = ln.top
    return [w for ln in lines if lo <= ln.top and ln.bottom <= hi for w in ln.words]


def _pitch(ys: list[float]) -> float:
    """The largest spacing of the grid's rules: rows run on below the last rule at about this pitch."""
    return max((b - a for a, b in zip(ys, ys[1:], strict=False)), default=0.0)


def read_table(
    content: PageContent, bbox: BBox, *, columns: list[float] | None = None, header_only: bool = False
) -> TableGrid | None:
    """The table inside ``bbox`` on this page, or None when the region holds no text.

    ``columns`` (column edges of an earlier piece of the same table) makes a continuation on the next
    page keep the columns of its first page, even where one column is empty on this one; with
    ``header_only`` every line is header (a header printed at a page's foot, its body overleaf).
    """
    words = content.words_in(bbox)
    if not words:
        return None
    rules = content.rules_in(bbox, margin=FRAME_MARGIN)
    if columns is None and _drawn_grid(rules):
        size = median(w.size for w in words)
        hs = sorted(cluster([r.pos for r in rules if r.horizontal]))
        # Text beyond the outer rules belongs to the grid while it runs on line by line (a last row whose
        # bottom rule is not drawn, rows under a shaded header with no rules of their own); text set
        # apart from the grid by a gap does not.
        framed = _connected(words, hs[0], hs[-1], max(1.5 * size, _pitch(hs)))
        grid = read_lattice(framed, rules, content.page, bbox)
        if grid is not None:
            return grid
    return read_alignment(words, rules, content.page, bbox, columns, header_only)
