"""A table's structure, whatever drew it: cells on a row × column grid, with spans and header rows.

Both structure readers (``lattice`` for tables whose rules draw every cell, ``alignment`` for the rest)
produce a ``TableGrid``. Everything downstream (spec mapping, datasets, the JSON document) reads this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.content import Word
from extractors.layout import BBox, clean_text

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class GridCell:
    row: int
    col: int
    text: str
    bbox: BBox
    row_span: int = 1
    col_span: int = 1
    text_x: float | None = None  # centre of the text itself (the box is the cell's), where known


@dataclass
class TableGrid:
    page: int
    bbox: BBox
    n_rows: int
    n_cols: int
    header_rows: int
    cells: list[GridCell]
    method: str  # "lattice": cells drawn by rules; "alignment": columns and rows from the text
    col_edges: list[float] = field(default_factory=list)  # n_cols + 1 x positions
    problems: list[str] = field(default_factory=list)

    def slots(self) -> list[list[GridCell | None]]:
        """Each (row, col) slot's cell; a spanning cell fills every slot it covers."""
        out: list[list[GridCell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for cell in self.cells:
            for r in range(cell.row, cell.row + cell.row_span):
                for c in range(cell.col, cell.col + cell.col_span):
                    out[r][c] = cell
        return out

    def matrix(self) -> list[list[str]]:
        """Text per slot; a spanning cell's text in its top-left slot only (as ICDAR's and CSV's convention)."""
        out = [[""] * self.n_cols for _ in range(self.n_rows)]
        for cell in self.cells:
            out[cell.row][cell.col] = cell.text
        return out

    def drop_empty(self) -> None:
        """Rows and columns with no text (double rules, an outer margin) are not part of the table."""
        used_rows = sorted({r for c in self.cells if c.text for r in range(c.row, c.row + c.row_span)})
        used_cols = sorted({k for c in self.cells if c.text for k in range(c.col, c.col + c.col_span)})
        keep_r = {r: k for k, r in enumerate(used_rows)}
        keep_c = {c: k for k, c in enumerate(used_cols)}
        cells = []
        for cell in self.cells:
            rows = [keep_r[r] for r in range(cell.row, cell.row + cell.row_span) if r in keep_r]
            cols = [keep_c[c] for c in range(cell.col, cell.col + cell.col_span) if c in keep_c]
            if not rows or not cols:
                continue
            cell.row, cell.row_span = rows[0], rows[-1] - rows[0] + 1
            cell.col, cell.col_span = cols[0], cols[-1] - cols[0] + 1
            cells.append(cell)
        edges = self.col_edges
        self.col_edges = [edges[c] for c in used_cols] + [edges[used_cols[-1] + 1]] if used_cols else []
        self.header_rows = sum(1 for r in used_rows if r < self.header_rows)
        self.cells, self.n_rows, self.n_cols = cells, len(used_rows), len(used_cols)

    def header_labels(self, joiner: str = "/") -> list[str]:
        """One label per column: the header cells above it, top to bottom, joined with ``/``.

        A spanning group label (基础评价 over 基础评价得分) is part of every column it spans; a label
        spanning header rows (序号 over both) counts once.
        """
        slots = self.slots()
        labels = []
        for c in range(self.n_cols):
            parts: list[str] = []
            seen: set[int] = set()
            for r in range(self.header_rows):
                cell = slots[r][c]
                if cell is None or id(cell) in seen or not cell.text:
                    continue
                seen.add(id(cell))
                parts.append(cell.text)
            labels.append(joiner.join(parts))
        return labels

    def body(self) -> list[list[GridCell]]:
        """Body rows as cells per column; a slot covered by a span gets an empty cell at its place."""
        slots = self.slots()
        rows = []
        for r in range(self.header_rows, self.n_rows):
            row = []
            for c in range(self.n_cols):
                cell = slots[r][c]
                if cell is not None and cell.row == r and cell.col == c:
                    row.append(cell)
                else:
                    x0 = self.col_edges[c] if self.col_edges else self.bbox[0]
                    x1 = self.col_edges[c + 1] if self.col_edges else self.bbox[2]
                    y = cell.bbox if cell is not None else (x0, self.bbox[1], x1, self.bbox[1] + 1)
                    row.append(GridCell(r, c, "", (x0, y[1], x1, y[3])))
            rows.append(row)
        return rows


def join_words(words: list[Word]) -> str:
    """The text of a cell: lines top to bottom, words left to right; CJK spacing removed."""
    if not words:
        return ""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        for line in lines:
            ref = line[0]
            overlap = min(ref.bottom, word.bottom) - max(ref.top, word.top)
            if overlap >= 0.5 * min(ref.bottom - ref.top, word.bottom - word.top):
                line.append(word)
                break
        else:
            lines.append([word])
    parts = []
    for line in lines:
        line.sort(key=lambda w: w.x0)
        text = line[0].text
        for prev, word in zip(line, line[1:], strict=False):
            # Words a producer placed side by side without a space char: a gap says whether one was meant.
            text += (" " if word.x0 - prev.x1 > 0.15 * word.size else "") + word.text
        parts.append(text)
    # Chinese typesetting breaks a line anywhere, even inside a number (201 / 6年): no space is meant.
    joiner = "" if any(_CJK.search(p) for p in parts) else " "
    return clean_text(joiner.join(parts))


def bbox_of(words: list[Word]) -> BBox:
    return (min(w.x0 for w in words), min(w.top for w in words), max(w.x1 for w in words), max(w.bottom for w in words))
