"""A table's structure from one region of a page: the lattice reader where rules draw every cell,
the alignment reader for everything else (with whatever rules there are as hints)."""

from __future__ import annotations

from statistics import median

from extractors.alignment import read_alignment
from extractors.content import PageContent, Rule
from extractors.grid import TableGrid
from extractors.lattice import cluster, read_lattice
from extractors.layout import BBox

# A region found from text (or given by a user) ends at the text; its frame's rules lie a little outside.
FRAME_MARGIN = 6.0


def _drawn_grid(rules: list[Rule]) -> bool:
    xs = cluster([r.pos for r in rules if not r.horizontal])
    ys = cluster([r.pos for r in rules if r.horizontal])
    return len(xs) >= 2 and len(ys) >= 3 and len(xs) + len(ys) >= 6


def read_table(content: PageContent, bbox: BBox, *, columns: list[float] | None = None) -> TableGrid | None:
    """The table inside ``bbox`` on this page, or None when the region holds no text.

    ``columns`` (column edges of an earlier piece of the same table) makes a continuation on the next
    page keep the columns of its first page, even where one column is empty on this one.
    """
    words = content.words_in(bbox)
    if not words:
        return None
    rules = content.rules_in(bbox, margin=FRAME_MARGIN)
    if columns is None and _drawn_grid(rules):
        size = median(w.size for w in words)
        hs = sorted(cluster([r.pos for r in rules if r.horizontal]))
        # Text beyond the outer rules belongs to the grid for about one row: a last row whose bottom
        # rule is not drawn (the table runs on to the next page), a first row without its top rule.
        pitch = median(b - a for a, b in zip(hs, hs[1:], strict=False)) if len(hs) > 1 else 0.0
        reach = max(1.5 * size, min(pitch, 4 * size))
        lo, hi = hs[0] - reach, hs[-1] + reach
        framed = [w for w in words if lo <= w.yc <= hi]
        grid = read_lattice(framed, rules, content.page, bbox)
        if grid is not None:
            return grid
    return read_alignment(words, rules, content.page, bbox, columns)
