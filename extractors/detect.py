"""Where tables are on a page, with or without a caption: ruled grids, rule-framed (three-line) blocks,
and blocks of text lines whose gaps line up into columns. Running text, charts and page furniture are
not tables; neither is a block of two-column prose.
"""

from __future__ import annotations

from statistics import median

from extractors.alignment import SEGMENT_GAP, column_edges, segments
from extractors.content import PageContent, Rule
from extractors.grid import TableGrid
from extractors.layout import BBox
from extractors.rows import Line, is_data, is_number, text_lines
from extractors.structure import FRAME_MARGIN, read_table

PROSE_WIDTH = 0.72  # a single-segment line this wide (share of the text block) is running text
MIN_ROWS = 2


def _overlaps(a: BBox, b: BBox, pad: float = 0.0) -> bool:
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]


def _union(boxes: list[BBox]) -> BBox:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _line_box(line: Line) -> BBox:
    return (line.x0, line.top, line.x1, line.bottom)


def _is_prose(line: Line, width: float, size: float) -> bool:
    """Running text: one segment, and either as wide as the block or written in sentences."""
    if len(segments(line, size)) != 1:
        return False
    # A row of figures set with gutters narrower than a word gap (0.4 em) reads as one segment: numbers
    # side by side are a table's row, not a sentence.
    figures = sum(is_number(w.text) for w in line.words)
    if figures >= 2 and figures >= len(line.words) - 1:
        return False
    text = "".join(w.text for w in line.words)
    sentences = any(p in text for p in "。；") or text.count("，") >= 2 or text.count(". ") >= 1
    return len(text) >= 12 and (line.x1 - line.x0 >= PROSE_WIDTH * width or sentences)


def _with_rules(box: BBox, rules: list[Rule]) -> BBox:
    """The text's box grown to the frame rules that touch it (a three-line table's top and bottom rules)."""
    x0, top, x1, bottom = box
    for r in rules:
        if r.horizontal and r.a < x1 and r.b > x0 and top - FRAME_MARGIN <= r.pos <= bottom + FRAME_MARGIN:
            x0, x1 = min(x0, r.a), max(x1, r.b)
            top, bottom = min(top, r.pos), max(bottom, r.pos)
        elif not r.horizontal and r.a < bottom and r.b > top and x0 - FRAME_MARGIN <= r.pos <= x1 + FRAME_MARGIN:
            top, bottom = min(top, r.a), max(bottom, r.b)
            x0, x1 = min(x0, r.pos), max(x1, r.pos)
    return (x0, top, x1, bottom)


def table_extent(content: PageContent, bbox: BBox, *, ended: bool) -> BBox | None:
    """The table's box inside a caption's region: all of it when an end line closes the region, else
    down to where running text resumes."""
    words = content.words_in(bbox)
    if not words:
        return None
    lines = text_lines(words)
    if not ended:
        size = median(w.size for w in words)
        # A drawn table ends with its frame: text after it (a paragraph, another table) is not part of it.
        rules = content.rules_in(bbox)
        first = lines[0]
        frames = sorted(_rule_clusters(rules), key=_area, reverse=True) + _stacked_rules(rules, size)
        for frame in frames:
            if frame[1] - FRAME_MARGIN <= first.top and first.bottom <= frame[3] + FRAME_MARGIN:
                inside = [ln for ln in lines if ln.bottom <= frame[3] + FRAME_MARGIN]
                # A row set below the last rule (an unshaded last stripe, its name wrapped over three
                # lines) still belongs; a label or a paragraph does not.
                after = _next_band(lines[len(inside) :], size)
                if not any(len(segments(ln, size)) >= 2 for ln in after):
                    lines = inside
                break
        width = max(ln.x1 for ln in lines) - min(ln.x0 for ln in lines)
        kept: list[Line] = []
        for line in lines:
            if kept and (_is_prose(line, width, size) or line.top - kept[-1].bottom > 3 * size):
                break
            kept.append(line)
        lines = kept
    if not lines:
        return None
    box = _union([_line_box(ln) for ln in lines])
    keep = _prose_sides(lines, median(w.size for w in words))
    if keep is not None:
        box = _union([w.bbox for ln in lines for w in ln.words if keep[0] <= w.xc <= keep[1]])
    return _with_rules(box, content.rules_in(bbox))


def _next_band(lines: list[Line], size: float) -> list[Line]:
    """The first lines of ``lines`` set as closely as one row's wrapped lines."""
    band: list[Line] = []
    for line in lines:
        if band and line.top - band[-1].bottom > 0.6 * size:
            break
        band.append(line)
    return band


def _rule_clusters(rules: list[Rule]) -> list[BBox]:
    """Boxes of rules that touch or cross one another (a drawn grid), or stack with a common width."""
    boxes = [(r.a, r.pos, r.b, r.pos) if r.horizontal else (r.pos, r.a, r.pos, r.b) for r in rules if r.length >= 10]
    parent = list(range(len(boxes)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if _overlaps(boxes[i], boxes[j], pad=2.5):
                parent[find(j)] = find(i)
    groups: dict[int, list[BBox]] = {}
    for k, box in enumerate(boxes):
        groups.setdefault(find(k), []).append(box)
    return [_union(g) for g in groups.values() if len(g) >= 3]


def _tabular(content: PageContent, box: BBox, size: float, width: float) -> bool:
    """Text between rules that reads as rows of cells, not as paragraphs (a page's header and footer
    rules, or a rule above a heading, have running text between them)."""
    lines = text_lines(content.words_in(box))
    if not lines:
        return False
    multi = sum(len(segments(ln, size * 1.6)) >= 2 for ln in lines)
    prose = sum(_is_prose(ln, width, size) for ln in lines)
    return multi * 2 >= len(lines) and prose * 5 <= len(lines)


def _joined_frames(content: PageContent, frames: list[BBox]) -> list[BBox]:
    """Two drawn frames side by side with the same top and bottom and text between them are one table
    whose middle column the publisher drew no rules in; two with an empty gutter are two tables."""
    out = list(frames)
    joined = True
    while joined:
        joined = False
        for a in out:
            for b in out:
                if (
                    a is not b
                    and abs(a[1] - b[1]) <= 3
                    and abs(a[3] - b[3]) <= 3
                    and 0 <= b[0] - a[2] <= 0.5 * max(a[2] - a[0], b[2] - b[0])
                    and content.words_in((a[2], a[1], b[0], a[3]))
                ):
                    out = [x for x in out if x is not a and x is not b] + [_union([a, b])]
                    joined = True
                    break
            if joined:
                break
    return out


def _stacked_rules(rules: list[Rule], size: float) -> list[BBox]:
    """Three-line and header-rule tables: long horizontal rules of one width, one above the other."""
    hs = sorted((r for r in rules if r.horizontal and r.length >= 60), key=lambda r: r.pos)
    out = []
    used: set[int] = set()
    for i, r in enumerate(hs):
        if i in used:
            continue
        stack = [r]
        for j in range(i + 1, len(hs)):
            s = hs[j]
            if abs(s.a - r.a) <= 6 and abs(s.b - r.b) <= 6 and s.pos - stack[-1].pos <= 40 * size:
                stack.append(s)
                used.add(j)
        if len(stack) >= 2:
            out.append((min(s.a for s in stack), stack[0].pos, max(s.b for s in stack), stack[-1].pos))
    return out


def _starts(line: Line, size: float) -> list[float]:
    return [seg[0].x0 for seg in segments(line, size * 1.6)]


def _text_blocks(lines: list[Line], size: float, width: float) -> list[BBox]:
    """Runs of lines whose gaps line up into two or more columns.

    A line of one segment joins a run only between two multi-cell lines and where one of the run's
    columns starts (a wrapped stub label, a section row); anything else — a paragraph's short last
    line, a list item, a heading — ends it.
    """
    multi = [len(segments(ln, size * 1.6)) >= 2 for ln in lines]
    runs: list[list[int]] = []
    current: list[int] = []
    for k, line in enumerate(lines):
        near = not current or line.top - lines[current[-1]].bottom <= 1.6 * size
        if multi[k] and near:
            current.append(k)
            continue
        if not multi[k] and near and current and k + 1 < len(lines) and multi[k + 1]:
            nxt = lines[k + 1]
            starts = {round(x) for j in current if multi[j] for x in _starts(lines[j], size)}
            aligned = any(abs(line.x0 - x) <= 2 for x in starts)
            if aligned and nxt.top - line.bottom <= 1.6 * size and not _is_prose(line, width, size):
                current.append(k)
                continue
        if current:
            runs.append(current)
        current = [k] if multi[k] else []
    if current:
        runs.append(current)
    out = []
    for run in runs:
        block = [lines[k] for k in run]
        cells = [ln for k, ln in zip(run, block, strict=True) if multi[k]]
        if len(cells) < 3:
            continue
        edges, _ = column_edges(cells, [], size)
        if len(edges) < 3 or _two_column_prose(cells, edges, width):
            continue
        box = _union([_line_box(ln) for ln in block])
        keep = _prose_sides(block, size)
        if keep is not None:
            box = _union([w.bbox for ln in block for w in ln.words if keep[0] <= w.xc <= keep[1]])
        out.append(box)
    return out


def _prose_sides(lines: list[Line], size: float) -> tuple[float, float] | None:
    """The x-range left once a column of running text beside the table is dropped (a table set in one
    column of a two-column page, with the paragraph flowing beside it); None when there is none."""
    multi = [ln for ln in lines if len(segments(ln, size * 1.6)) >= 2]
    if len(multi) < 3:
        return None
    edges, _ = column_edges(multi, [], size)
    if len(edges) < 4:
        return None
    total = edges[-1] - edges[0]

    def worded(seg: list) -> bool:
        # A row of figures, or of header labels, set with narrow gutters segments like a sentence; a
        # sentence is words (not figures) a word space apart (not a gutter's width).
        gaps = [b.x0 - a.x1 for a, b in zip(seg, seg[1:], strict=False) if b.x0 >= a.x1]  # not stacked words
        return 2 * sum(is_number(w.text) for w in seg) < len(seg) and bool(gaps) and median(gaps) < 0.5 * size

    def prose(c: int) -> bool:
        segs = [
            seg
            for ln in lines
            for seg in segments(ln, size * 1.6)
            if edges[c] <= (seg[0].x0 + seg[-1].x1) / 2 < edges[c + 1]
        ]
        words = sorted(len(seg) if len(seg) == 1 or worded(seg) else 0 for seg in segs)  # figures vote for a table
        return bool(words) and words[len(words) // 2] >= 4 and edges[c + 1] - edges[c] >= 0.25 * total

    lo, hi = 0, len(edges) - 1
    if prose(0):
        lo = 1
    if prose(len(edges) - 2):
        hi = len(edges) - 2
    if (lo, hi) == (0, len(edges) - 1) or hi - lo < 2:
        return None
    return edges[lo], edges[hi]


def _two_column_prose(lines: list[Line], edges: list[float], width: float) -> bool:
    """A page set in two columns lines up too: two wide columns of long segments are prose, not a table."""
    if len(edges) != 3:
        return False
    widths = [edges[1] - edges[0], edges[2] - edges[1]]
    chars = [sum(len(w.text) for w in ln.words) for ln in lines]
    return min(widths) >= 0.3 * width and median(chars) >= 40


def _chart_like(content: PageContent, box: BBox) -> bool:
    """A picture or a chart with labels, not a table: an image under most of it, curves in it, or many
    filled shapes with no text in them (bars; a table's shaded cells hold their text)."""
    if any(_overlaps(box, img) and _area(img) >= 0.3 * _area(box) for img in content.images):
        return True
    if sum(_overlaps(box, c) for c in content.curves) >= 8:
        return True
    fills = [f for f in content.fills if _overlaps(box, f) and _area(f) < 0.5 * _area(box)]
    empty = [f for f in fills if not content.words_in(f)]
    return len(fills) >= 6 and len(empty) >= 0.6 * len(fills)


def _area(b: BBox) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _looks_like_table(grid: TableGrid) -> bool:
    matrix = grid.matrix()
    filled = sum(bool(t) for row in matrix for t in row)
    if grid.n_rows < MIN_ROWS or grid.n_cols < 2 or filled * 2 < grid.n_rows * grid.n_cols * 0.8:
        return False
    data = sum(is_data(row) for row in matrix)
    return grid.method == "lattice" or data >= 1 or grid.n_rows >= 3


def find_tables(content: PageContent, taken: list[BBox]) -> list[TableGrid]:
    """Tables on a page outside ``taken`` (captioned tables, figures), top to bottom."""
    free = [w for w in content.words if not any(_overlaps(w.bbox, t) for t in taken)]
    if not free:
        return []
    size = median(w.size for w in free)
    lines = text_lines(free)
    width = max(ln.x1 for ln in lines) - min(ln.x0 for ln in lines)
    rules = [r for r in content.rules if not any(_overlaps(_rule_box(r), t) for t in taken)]
    frames = [_grow(content, c) for c in _joined_frames(content, _rule_clusters(rules))]
    blocks = [_grow(content, c) for c in _text_blocks(lines, size, width)]
    stacks = [_grow(content, c) for c in _stacked_rules(rules, size) if _tabular(content, c, size, width)]
    # A candidate holding two separate drawn or aligned tables (a page frame, rules of one width stacked
    # over several tables) is their union, not a table.
    solid = frames + blocks
    candidates = [c for c in frames + blocks + stacks if not _holds_several(c, solid)]
    merged: list[BBox] = []
    for box in sorted(candidates, key=_area, reverse=True):
        if any(_overlaps(box, m) for m in merged) or any(_overlaps(box, t) for t in taken):
            continue
        if _chart_like(content, box) or not content.words_in(box):
            continue
        merged.append(box)
    grids = []
    for box in sorted(merged, key=lambda b: (b[1], b[0])):
        grid = read_table(content, box)
        if grid is None:
            continue
        parts = _side_by_side(content, grid, size)
        for part in parts or [grid]:
            if _looks_like_table(part):
                grids.append(part)
    return grids


def _kind(text: str) -> str:
    from extractors.rows import YEAR, is_number

    if not text:
        return ""
    if YEAR.match(text.replace(" ", "")):
        return "y"
    return "n" if is_number(text) else "t"


def _side_by_side(content: PageContent, grid: TableGrid, size: float) -> list[TableGrid]:
    """Two tables set side by side read as one: split them at a gutter far wider than the others that no
    header label spans, when each side has two columns or more."""
    if grid.method != "alignment" or grid.n_cols < 4:
        return []
    extents = []
    for c in range(grid.n_cols):
        boxes = [cell.bbox for cell in grid.cells if cell.col == c and cell.col_span == 1 and cell.text]
        words = [w for w in content.words_in(grid.bbox) if grid.col_edges[c] <= w.xc < grid.col_edges[c + 1]]
        if not words or not boxes:
            return []
        extents.append((min(w.x0 for w in words), max(w.x1 for w in words)))
    gutters = [extents[c + 1][0] - extents[c][1] for c in range(grid.n_cols - 1)]
    k = max(range(len(gutters)), key=lambda i: gutters[i])
    others = sorted(g for i, g in enumerate(gutters) if i != k)
    typical = others[len(others) // 2] if others else 0.0
    if gutters[k] < max(3 * size, 2.5 * typical) or k < 1 or k > grid.n_cols - 3:
        return []
    if any(cell.col <= k < cell.col + cell.col_span - 1 for cell in grid.cells):
        return []  # a label spans the gutter: one table with two groups of columns
    # Each of two tables starts with its own stub: the column after the gutter reads like the first one
    # (labels, or years, or the same header), not like the numbers beside it.
    matrix = grid.matrix()
    kinds = [[_kind(row[c]) for row in matrix[grid.header_rows :]] for c in (0, k + 1)]
    same = sum(a == b for a, b in zip(*kinds, strict=True)) >= 0.8 * len(kinds[0])
    repeated = grid.header_rows and matrix[0][0] and matrix[0][0] == matrix[0][k + 1]
    if not (same or repeated):
        return []
    cut = (extents[k][1] + extents[k + 1][0]) / 2
    x0, top, x1, bottom = grid.bbox
    parts = [read_table(content, (x0, top, cut, bottom)), read_table(content, (cut, top, x1, bottom))]
    return [p for p in parts if p is not None]


def _contains(a: BBox, b: BBox, pad: float = 2.0) -> bool:
    return a[0] - pad <= b[0] and a[1] - pad <= b[1] and b[2] <= a[2] + pad and b[3] <= a[3] + pad


def _holds_several(box: BBox, others: list[BBox]) -> bool:
    inside = [o for o in others if o != box and _contains(box, o) and _area(o) < 0.8 * _area(box)]
    return any(not _overlaps(a, b) for k, a in enumerate(inside) for b in inside[k + 1 :])


def _rule_box(r: Rule) -> BBox:
    return (r.a, r.pos - 0.5, r.b, r.pos + 0.5) if r.horizontal else (r.pos - 0.5, r.a, r.pos + 0.5, r.b)


def _grow(content: PageContent, box: BBox) -> BBox:
    """A candidate's box with the words it cuts through, and the rules that frame them."""
    for _ in range(3):
        inside = [w for w in content.words if _overlaps(w.bbox, box)]
        if not inside:
            return box
        grown = _with_rules(_union([box, *[w.bbox for w in inside]]), content.rules)
        if grown == box:
            break
        box = grown
    return box


__all__ = ["SEGMENT_GAP", "find_tables", "table_extent"]
