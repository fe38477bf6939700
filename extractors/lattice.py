"""Tables whose rules draw every cell: the cells are the rectangles the rules enclose.

Rule positions give the atomic grid; a rule missing between two atomic cells merges them (a span).
An open side (no outer frame, common in Chinese reports) gets a virtual edge beyond the text. A band
that holds several rows of text in several columns is not a drawn row, so the region is not a lattice:
``read_lattice`` returns None and the alignment reader takes it, with the rules as hints.
"""

from __future__ import annotations

from statistics import median

from extractors.content import Rule, Word
from extractors.grid import GridCell, TableGrid, bbox_of, join_words
from extractors.layout import BBox
from extractors.rows import header_rows_of, is_number, text_lines

SNAP = 2.0  # rule positions closer than this are one grid line (double rules, rounding)
COVER = 0.6  # a rule separates two cells when it covers this share of their common edge


def cluster(values: list[float], tolerance: float = SNAP) -> list[float]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tolerance:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _covered(rules: list[Rule], pos: float, a: float, b: float) -> bool:
    """Whether rules at ``pos`` cover at least COVER of the span a..b."""
    span = b - a
    if span <= 0:
        return True
    got = 0.0
    for r in rules:
        if abs(r.pos - pos) <= SNAP:
            got += max(0.0, min(r.b, b) - max(r.a, a))
    return got >= COVER * span


def _open_sides(edges: list[float], lo: float, hi: float) -> tuple[list[float], set[int]]:
    """The grid's edges with a virtual one beyond text that runs past the outer rules (an open side)."""
    virtual = set()
    if lo < edges[0] - 1:
        edges = [lo - 1, *edges]
        virtual.add(0)
    if hi > edges[-1] + 1:
        edges = [*edges, hi + 1]
        virtual.add(len(edges) - 1)
    return edges, virtual


def read_lattice(words: list[Word], rules: list[Rule], page: int, bbox: BBox) -> TableGrid | None:
    hs = [r for r in rules if r.horizontal]
    vs = [r for r in rules if not r.horizontal]
    if not words or len(hs) < 2 or len(vs) < 2:
        return None
    text = bbox_of(words)
    xs, virtual_x = _open_sides(cluster([r.pos for r in vs]), text[0], text[2])
    ys, virtual_y = _open_sides(cluster([r.pos for r in hs]), text[1], text[3])
    if len(xs) < 3 or len(ys) < 3:
        return None
    n_rows, n_cols = len(ys) - 1, len(xs) - 1

    def v_present(j: int, i: int) -> bool:  # boundary left of column j, in row band i
        return j in virtual_x or _covered(vs, xs[j], ys[i], ys[i + 1])

    def h_present(i: int, j: int) -> bool:  # boundary above row band i, in column j
        return i in virtual_y or _covered(hs, ys[i], xs[j], xs[j + 1])

    # Union-find over atomic cells: merge across every missing rule.
    parent = list(range(n_rows * n_cols))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i in range(n_rows):
        for j in range(n_cols):
            if j + 1 < n_cols and not v_present(j + 1, i):
                parent[find(i * n_cols + j + 1)] = find(i * n_cols + j)
            if i + 1 < n_rows and not h_present(i + 1, j):
                parent[find((i + 1) * n_cols + j)] = find(i * n_cols + j)
    groups: dict[int, list[tuple[int, int]]] = {}
    for i in range(n_rows):
        for j in range(n_cols):
            groups.setdefault(find(i * n_cols + j), []).append((i, j))

    placed: dict[tuple[int, int], list[Word]] = {}
    for w in words:
        i = _band(ys, w.yc)
        j = _band(xs, w.xc)
        if i is not None and j is not None:
            placed.setdefault((i, j), []).append(w)
    cells = []
    for members in groups.values():
        r0, r1 = min(i for i, _ in members), max(i for i, _ in members)
        c0, c1 = min(j for _, j in members), max(j for _, j in members)
        inside = [w for i, j in members for w in placed.get((i, j), [])]
        cells.append(
            GridCell(r0, c0, join_words(inside), (xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1]), r1 - r0 + 1, c1 - c0 + 1)
        )
    if _rows_hidden_in_bands(cells, placed) or _columns_hidden_in_spans(cells, placed):
        return None
    grid = TableGrid(page, (xs[0], ys[0], xs[-1], ys[-1]), n_rows, n_cols, 0, cells, "lattice", xs)
    grid.drop_empty()
    if grid.n_rows < 1 or grid.n_cols < 2:
        return None
    grid.header_rows = header_rows_of(grid)
    return grid


def _band(edges: list[float], v: float) -> int | None:
    for k in range(len(edges) - 1):
        if edges[k] - 0.5 <= v <= edges[k + 1] + 0.5:
            return k
    return None


def _rows_hidden_in_bands(cells: list[GridCell], placed: dict[tuple[int, int], list[Word]]) -> bool:
    """A drawn row holding undrawn rows: cells in it stack values line by line at the same heights.

    Wrapped prose in neighbouring cells also has lines at the same heights; what tells undrawn rows
    apart is that each line is a value of its own: a number, or a short label.
    """
    for row in {c.row for c in cells}:
        stacks: list[tuple[list[float], bool]] = []
        for cell in cells:
            if cell.row != row or cell.col_span != 1:
                continue
            lines = text_lines(placed.get((cell.row, cell.col), []))
            if len(lines) < 2:
                continue
            numeric = all(is_number(join_words(ln.words)) for ln in lines)
            # Short labels, one a line; a line that starts in lower case continues a wrapped phrase.
            short = all(len(ln.words) <= 3 for ln in lines) and not any(ln.text[:1].islower() for ln in lines[1:])
            if numeric or short:
                stacks.append(([ln.top for ln in lines], numeric))
        for k, (a, a_num) in enumerate(stacks):
            for b, b_num in stacks[k + 1 :]:
                common = sum(any(abs(x - y) < 2 for y in b) for x in a)
                # Two stacked numbers are two rows; a label wrapped over two or three lines is one.
                if common >= (2 if a_num and b_num else 4):
                    return True
    return False


def _columns_hidden_in_spans(cells: list[GridCell], placed: dict[tuple[int, int], list[Word]]) -> bool:
    """A drawn cell whose lines have column gaps in them: the rules do not draw all the columns (a box
    round a whole block, a cell spanning columns of text)."""
    for cell in cells:
        inside = [
            w
            for i in range(cell.row, cell.row + cell.row_span)
            for j in range(cell.col, cell.col + cell.col_span)
            for w in placed.get((i, j), [])
        ]
        gapped = 0
        for line in text_lines(inside):
            gaps = [b.x0 - a.x1 for a, b in zip(line.words, line.words[1:], strict=False)]
            prose = sum(not is_number(w.text) for w in line.words) >= 0.7 * len(line.words)
            if prose and len(gaps) >= 3 and max(gaps) <= 1.6 * median(gaps):
                continue  # justified text: every space stretched alike, not a column gap
            gapped += any(g > 1.5 * line.size for g in gaps)
        if gapped >= (1 if cell.col_span >= 2 else 2):
            return True
    return False
