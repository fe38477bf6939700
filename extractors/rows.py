"""Text lines, and where a table's header ends and its body begins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

from extractors.content import Word
from extractors.numbers import parse_number

if TYPE_CHECKING:
    from extractors.grid import TableGrid


@dataclass
class Line:
    words: list[Word]
    top: float
    bottom: float

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def size(self) -> float:
        return median(w.size for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def text_lines(words: list[Word]) -> list[Line]:
    """Words grouped into lines by vertical overlap, top to bottom, each line left to right.

    A word joins the line it overlaps by half its height; a superscript or a footnote mark joins the
    line it hangs on. A label centred between two lines (a two-line cell beside one-line cells) forms
    a line of its own: the readers decide what it belongs to.
    """
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        best, best_overlap = None, 0.0
        for line in lines[-4:]:
            overlap = min(line.bottom, word.bottom) - max(line.top, word.top)
            height = min(line.bottom - line.top, word.bottom - word.top)
            if height > 0 and overlap / height > best_overlap:
                best, best_overlap = line, overlap / height
        if best is not None and best_overlap >= 0.5:
            best.words.append(word)
            best.top, best.bottom = min(best.top, word.top), max(best.bottom, word.bottom)
        else:
            lines.append(Line([word], word.top, word.bottom))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda ln: ln.top)
    return lines


YEAR = re.compile(r"^(?:19|20)\d{2}(?:年|年度)?$")


def is_number(text: str) -> bool:
    try:
        return parse_number(text) is not None
    except ValueError:
        return False


def is_data(texts: list[str]) -> bool:
    """A body row: numbers in at least half of its filled cells, and not a row of years (a header)."""
    filled = [t for t in texts if t]
    numbers = [t for t in filled if is_number(t)]
    if not numbers or len(numbers) * 2 < len(filled):
        return False
    return not all(YEAR.match(t.replace(" ", "")) for t in numbers) or len(numbers) < 2


def header_rows_of(grid: TableGrid) -> int:
    """Header rows of a drawn grid: those above the first data row, at most half the table."""
    matrix = grid.matrix()
    for r, row in enumerate(matrix):
        if is_data(row):
            return r if r * 2 <= grid.n_rows else min(1, grid.n_rows - 1)
    # A table of words: its first row is the header when a spanning cell or the grid says nothing else.
    return 1 if grid.n_rows >= 2 else 0
