"""Tables read from the alignment of their text: columns from the body, the header fitted over them.

Whatever rules a table has (three-line, header rule only, row rules only, column rules only, shading,
none), its body rows say where the columns are: a column boundary is a vertical river no body word
crosses, or a drawn column rule. Rows are the body's text lines, split at row rules where the body has
them, with wrapped cells joined. The header is segmented on its own gaps and rules, and each segment is
placed over the columns it covers, so a label left-aligned over right-aligned numbers, or a group label
over its sub-columns, lands where a reader puts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from extractors.content import Rule, Word
from extractors.grid import GridCell, TableGrid, bbox_of, join_words
from extractors.layout import BBox
from extractors.rows import Line, is_data, is_number, text_lines

SEGMENT_GAP = 0.6  # em: a wider gap between words on a line separates two cells' texts
# em: the narrowest river that separates columns. Word spaces line up by chance over a few rows, never
# over many, so the more rows show a river the narrower it may be (tight tables set 0.3 em gutters).
RIVER_MIN = ((6, 0.25), (3, 0.45), (0, 1.0))
# em: the widest line step of a wrapped label (1.2 em is usual, loose settings reach 1.45).
WRAP_STEP_MAX = 1.55
LONG_RULE = 0.6  # share of the table's width a rule spans to separate the header or rows


@dataclass
class HeaderCell:
    cols: tuple[int, int]  # first and last column
    words: list[Word] = field(default_factory=list)
    top: float = 0.0
    bottom: float = 0.0
    depth: int = 0


def segments(line: Line, size: float, cuts: list[float] = (), soft: list[float] = ()) -> list[list[Word]]:  # type: ignore[assignment]
    """A line's words grouped into cell texts: split at wide gaps, at drawn column rules, and at column
    edges the body shows (``soft``) wherever a word gap falls on one."""
    out: list[list[Word]] = []
    for word in line.words:
        if out:
            prev = out[-1][-1]
            gap = word.x0 - prev.x1
            ruled = any(prev.xc < c < word.xc for c in cuts)
            # A word gap on a cell edge parts two labels: any gap between CJK labels (they have none
            # inside), only a gap wider than a word space between Latin words.
            latin = prev.text[-1:].isascii() and prev.text[-1:].isalpha() and word.text[:1].isascii()
            # The edge is a river's middle in the body: a CJK label wider than its column's figures (序 over
            # single digits) may reach over it, so there the edge need only lie between the two words' centres
            # (Latin labels of several words are set across such edges).
            cjk = _cjk(prev.text[-1:]) and _cjk(word.text[:1])
            edge = gap >= (0.45 if latin else 0.2) * size and any(
                prev.x1 - 1 <= c <= word.x0 + 1 or (cjk and prev.xc < c < word.xc) for c in soft
            )
            # 区　域, 序　号: a two-character label spaced out to its cell's width is one label.
            spaced = _single_cjk(prev) and _single_cjk(word) and gap <= 1.3 * size and len(out[-1]) == 1
            # Between two drawn column rules everything on a line is one cell's text, however wide its
            # spaces are set (justified text in a narrow cell).
            walled = bool(cuts) and any(c < prev.x0 for c in cuts) and any(c > word.x1 for c in cuts)
            if (gap < SEGMENT_GAP * size or spaced or walled) and not ruled and not (edge and not walled):
                out[-1].append(word)
                continue
        out.append([word])
    return out


def _cjk(char: str) -> bool:
    return len(char) == 1 and "\u3400" <= char <= "\u9fff"


def _single_cjk(word: Word) -> bool:
    return _cjk(word.text)


def _seg_texts(line: Line, size: float) -> list[str]:
    """Cell texts as far as one line shows them: numbers set close together still count one by one."""
    out: list[str] = []
    for seg in segments(line, size):
        # A stub and its figures set with gutters narrower than a word gap: the figures still count one by one.
        tail = len(seg)
        while tail > 0 and is_number(seg[tail - 1].text):
            tail -= 1
        if len(seg) - tail >= 2 or tail == 0:
            out += ([join_words(seg[:tail])] if tail else []) + [w.text for w in seg[tail:]]
        else:
            out.append(join_words(seg))
    return out


def _signature(texts: list[str]) -> tuple[str, ...]:
    """A row's shape: per cell a decimal number (d), an integer (i) or text (t)."""
    out = []
    for t in texts:
        if not is_number(t):
            out.append("t")
        else:
            out.append("d" if "." in t or "．" in t else "i")
    return tuple(out)


def _alike(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if len(a) != len(b) or not a:
        return 0.0
    return sum(1.0 if x == y else 0.5 if {x, y} == {"d", "i"} else 0.0 for x, y in zip(a, b, strict=True)) / len(a)


def split_header(lines: list[Line], long_rules: list[Rule], size: float) -> int:
    """How many of ``lines`` (bands of lines, wrapped cells joined) are header.

    The body's rows share a shape (text stub, then numbers of a given precision); the header is the run
    of leading rows that do not have it — even a row of numbers does not (a wrapped year 20 / 16年). A
    long rule under those rows (three-line, box and header-rule tables) marks the header's end exactly.
    """
    texts = [_seg_texts(line, size) for line in lines]
    sigs = [_signature(t) for t in texts]
    lower = [s for s in sigs[len(sigs) // 3 :] if len(s) >= 2] or [s for s in sigs if len(s) >= 2]
    modal = max(sorted(set(lower)), key=lower.count) if lower else ()
    # A long rule under leading rows none of which has the body's shape: the header rule.
    cap = min(6, max(1, len(lines) // 2))
    for rule in sorted((r.pos for r in long_rules), reverse=True):
        above = [k for k, ln in enumerate(lines) if ln.bottom <= rule + 1]
        if 0 < len(above) <= cap and len(above) < len(lines) and lines[len(above)].top >= rule - 1:
            if modal and all(_alike(sigs[k], modal) < 0.7 for k in above):
                return len(above)
    first_data = None
    for k, (line_texts, sig) in enumerate(zip(texts, sigs, strict=True)):
        if len(line_texts) >= 2 and is_data(line_texts) and (not modal or _alike(sig, modal) >= 0.7 or k > 0):
            first_data = k
            break
    limit = first_data if first_data is not None else min(len(lines), 5)
    # The lowest long rule between the first line and the first data line ends the header.
    floor = lines[limit].top + 1 if limit < len(lines) else lines[-1].bottom + 2
    rules = [r.pos for r in long_rules if lines[0].bottom - 1 <= r.pos <= floor] if limit else []
    if rules:
        below = max(rules)
        k = sum(1 for ln in lines if ln.bottom <= below + 1)
        if 0 < k < len(lines):
            return k
    if first_data is not None:
        return first_data if first_data * 2 <= len(lines) + 1 else 0
    return 1 if len(lines) >= 3 else 0


def _uncovered(intervals: list[tuple[float, float]], left: float, right: float) -> list[tuple[float, float]]:
    gaps, reach = [], left
    for a, b in sorted(intervals):
        if a > reach:
            gaps.append((reach, a))
        reach = max(reach, b)
    if right > reach:
        gaps.append((reach, right))
    return gaps


def column_edges(body: list[Line], vrules: list[Rule], size: float) -> tuple[list[float], set[int]]:
    """Column boundaries: rivers through the body's multi-cell lines, and drawn column rules.

    Returns the edges (outer ones included) and the indices of edges that are drawn rules.
    """
    multi = [ln for ln in body if len(segments(ln, size)) >= 2]
    counted = multi if len(multi) >= max(1, len(body) // 3) else body
    left = min(ln.x0 for ln in body)
    right = max(ln.x1 for ln in body)
    top, bottom = min(ln.top for ln in body), max(ln.bottom for ln in body)
    min_gap = next(em for rows, em in RIVER_MIN if len(counted) >= rows) * size
    tall = [r for r in vrules if left < r.pos < right and min(r.b, bottom) - max(r.a, top) >= 0.5 * (bottom - top)]
    # A word over a column rule that stops short of its row is a spanning cell (平均值 over 序号 and 城市):
    # it does not hide the gutter the other rows show.
    intervals = [(w.x0, w.x1) for ln in counted for w in ln.words if not _spans_a_gap(w, tall)]
    rivers = [
        (a, b)
        for a, b in _uncovered(intervals, left, right)
        if left < a
        and b < right
        and (b - a >= min_gap or (b - a >= 0.2 * size and _between_numbers(counted, a, b, size)))
    ]
    rivers = _label_gutters(counted, rivers)
    rivers += _crossed_rivers(counted, rivers, left, right, min_gap, size)
    all_words = [w for ln in body for w in ln.words]
    edges: list[float] = []
    ruled: list[float] = []
    for a, b in rivers:
        inside = [r.pos for r in tall if a - 1 <= r.pos <= b + 1]
        if inside:
            ruled.append(inside[0])
            edges.append(inside[0])
        else:
            edges.append((a + b) / 2)
    for r in tall:
        if any(abs(r.pos - e) < 2 for e in edges):
            continue
        if not any(w.x0 < r.pos - 1 and w.x1 > r.pos + 1 and not _spans_a_gap(w, [r]) for w in all_words):
            edges.append(r.pos)
            ruled.append(r.pos)
    edges = sorted(edges)
    out = [left - 1.0, *edges, right + 1.0]
    return out, {k for k, e in enumerate(out) if e in ruled}


def _between_numbers(lines: list[Line], a: float, b: float, size: float) -> bool:
    """A narrow river is a column gutter when a number follows it on every line (a number has no gap in
    it), and either a number precedes it too or the gutter is wider than a word space."""
    parted = 0
    for line in lines:
        before = [w for w in line.words if w.x1 <= a + 0.01 and a - w.x1 < 2 * size]
        after = [w for w in line.words if w.x0 >= b - 0.01 and w.x0 - b < 2 * size]
        if before and after:
            if not is_number(after[0].text):
                return False
            if not is_number(before[-1].text) and b - a < 0.3 * size:
                return False
            parted += 1
    return parted >= 2


def _spans_a_gap(word: Word, rules: list[Rule]) -> bool:
    """The word crosses a column rule at a height where that rule is not drawn."""
    return any(word.x0 < r.pos - 1 and word.x1 > r.pos + 1 and not (r.a - 1 <= word.yc <= r.b + 1) for r in rules)


def _crossed_rivers(
    lines: list[Line], rivers: list[tuple[float, float]], left: float, right: float, min_gap: float, size: float
) -> list[tuple[float, float]]:
    """Rivers one or two lines cross: a label spanning two columns (平均值 over 序号 and 城市, a total row).

    Only wide ones count, or (a rank column's gutter in a short table, set as narrow as a word space) ones
    that every other line reaches with a number, in a table whose other gutters show it has more columns
    than a numbered list; and only when the lines crossing them are few; their words become spanning cells.
    """
    allowed = 2 if len(lines) >= 16 else 1 if len(lines) >= 3 else 0
    if allowed < 1:
        return []
    step = 0.5
    bins = int((right - left) / step) + 1
    cover: list[set[int]] = [set() for _ in range(bins)]
    for k, line in enumerate(lines):
        for w in line.words:
            for b in range(max(0, int((w.x0 - left) / step)), min(bins, int((w.x1 - left) / step) + 1)):
                cover[b].add(k)
    out = []
    b = 0
    while b < bins:
        if len(cover[b]) > allowed:
            b += 1
            continue
        start, crossing = b, set(cover[b])
        while b < bins and len(cover[b]) <= allowed and len(crossing | cover[b]) <= allowed:
            crossing |= cover[b]
            b += 1
        a, z = left + start * step, left + b * step
        if (
            crossing
            and (
                z - a >= max(2 * min_gap, 0.8 * size)
                or (z - a >= min_gap and bool(rivers) and _numbered(lines, crossing, a, z, size))
            )
            and left < a
            and z < right
            and not any(r[0] < z and a < r[1] for r in rivers)
        ):
            out.append((a, z))
        b = max(b, start + 1)
    return out


def _label_gutters(lines: list[Line], rivers: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Two rivers with nothing between them but a row's label, set before its row's figures in the gutter
    of two columns (平均值 centred under 序号 and 城市): one gutter, which the label crosses as a cell
    spanning both columns, instead of a column of its own. Only one or two lines may hold such a label."""
    if len(lines) < 3:
        return rivers
    allowed = 2 if len(lines) >= 16 else 1
    out = list(rivers)
    k = 0
    while k + 1 < len(out):
        (a, left), (right, b) = out[k], out[k + 1]
        between = [(ln, w) for ln in lines for w in ln.words if left <= w.xc <= right]
        owners = {id(ln) for ln, _ in between}
        if (
            between
            and len(owners) <= allowed
            and all(w is ln.words[0] and not is_number(w.text) for ln, w in between)
        ):
            out[k : k + 2] = [(a, b)]
            continue
        k += 1
    return out


def _numbered(lines: list[Line], crossing: set[int], a: float, b: float, size: float) -> bool:
    """Every line but the ``crossing`` ones has a number just before the gap and a word after it (a
    label, not a leader of dots)."""
    parted = 0
    for k, line in enumerate(lines):
        if k in crossing:
            continue
        before = [w for w in line.words if w.x1 <= a + 0.01 and a - w.x1 < 2 * size]
        after = [w for w in line.words if w.x0 >= b - 0.01]
        if not before or not is_number(before[-1].text) or not after or not any(ch.isalpha() for ch in after[0].text):
            return False
        parted += 1
    return parted >= 2


def _col(edges: list[float], x: float) -> int:
    for k in range(len(edges) - 1):
        if x < edges[k + 1]:
            return k
    return len(edges) - 2


def _row_separators(body: list[Line], hrules: list[Rule], width: tuple[float, float]) -> list[bool]:
    """For each pair of consecutive body lines, whether a row rule (or a shading edge) runs between them."""
    span = width[1] - width[0]
    seps = []
    for a, b in zip(body, body[1:], strict=False):
        between = [
            r
            for r in hrules
            if a.bottom - 1 <= r.pos <= b.top + 1 and min(r.b, width[1]) - max(r.a, width[0]) >= 0.5 * span
        ]
        seps.append(bool(between))
    return seps


def interleave_groups(lines: list[Line], size: float) -> list[list[Line]]:
    """Lines that overlap vertically are one row's: a label wrapped over two lines with the row's other
    cells centred between them."""
    groups: list[list[Line]] = []
    bottom = 0.0
    for line in lines:
        if groups and line.top - bottom < -0.1 * size:
            groups[-1].append(line)
            bottom = max(bottom, line.bottom)
        else:
            groups.append([line])
            bottom = line.bottom
    return groups


def interleaved(lines: list[Line], size: float) -> list[Line]:
    """Each interleaved group as one line: column rivers are read over these, so a wrapped cell counts."""
    return [
        Line(sorted((w for ln in g for w in ln.words), key=lambda w: w.x0), g[0].top, max(ln.bottom for ln in g))
        for g in interleave_groups(lines, size)
    ]


def body_rows(body: list[Line], hrules: list[Rule], edges: list[float], size: float) -> list[list[Line]]:
    """Body lines grouped into rows: at row rules where the body has them, else lines with wraps joined."""
    if not body:
        return []
    seps = _row_separators(body, hrules, (edges[0], edges[-1]))
    ruled = len(body) >= 3 and sum(seps) >= 0.5 * len(seps)
    rows: list[list[Line]] = [[body[0]]]
    if ruled:
        for line, sep in zip(body[1:], seps, strict=True):
            if sep:
                rows.append([line])
            else:
                rows[-1].append(line)
        return rows
    n_cols = len(edges) - 1

    def cols_of(group: list[Line]) -> set[int]:
        return {_col(edges, w.xc) for ln in group for w in ln.words}

    groups = interleave_groups(body, size)
    # Columns most rows fill: a line missing one of them is part of a row, not a row (counted over rows
    # of interleaved lines, so that a name wrapped one character a line does not outnumber the rows).
    anchors = [g for g in groups if any(is_number(w.text) for ln in g for w in ln.words)] or groups
    filled = [cols_of(g) for g in anchors]
    dense = {c for c in range(n_cols) if sum(c in f for f in filled) >= 0.6 * len(anchors)}
    gaps = [b[0].top - max(ln.bottom for ln in a) for a, b in zip(groups, groups[1:], strict=False)]
    typical = median(gaps) if gaps else size

    def fragment(group: list[Line]) -> bool:
        numbers = any(is_number(w.text) for ln in group for w in ln.words)
        return not numbers and bool(dense - cols_of(group))

    # How closely a wrapped cell's lines are set, where interleaved rows show it (鲁 over 木 beside the
    # row's numbers): a fragment that close to a row is that row's, however tight the rows are.
    inner = []
    for g in groups:
        for c in cols_of(g):
            stack = [ln for ln in g if cols_of([ln]) == {c}]
            inner += [b.top - a.bottom for a, b in zip(stack, stack[1:], strict=False) if b.top > a.bottom]
    leading = median(inner) if inner else None

    def tight(gap: float) -> bool:
        if gap >= 0.5 * size:
            return False
        return gap < 0.8 * typical or (leading is not None and gap <= leading + 1.0)

    # A wrapped cell's other lines (no numbers, only some columns) join the row they are nearest to, above
    # (top-aligned cells) or below (bottom- or centre-aligned ones), when set as close as a cell's lines.
    merged = True
    while merged:
        merged = False
        for k, group in enumerate(groups):
            if not fragment(group):
                continue
            best = None
            if k > 0 and not fragment(groups[k - 1]):
                prev = groups[k - 1]
                gap = group[0].top - max(ln.bottom for ln in prev)
                if tight(gap) and cols_of(group) <= cols_of(prev) and not _starts_row(group[0], prev, edges):
                    best = (gap, k - 1)
            if k + 1 < len(groups) and not fragment(groups[k + 1]):
                nxt = groups[k + 1]
                gap = nxt[0].top - max(ln.bottom for ln in group)
                if tight(gap) and cols_of(group) <= cols_of(nxt) and (best is None or gap < best[0] - 0.5):
                    best = (gap, k + 1)
            if best is not None:
                target = best[1]
                groups[target] = sorted(groups[target] + group, key=lambda ln: ln.top)
                del groups[k]
                merged = True
                break
    return groups


def _starts_row(line: Line, row: list[Line], edges: list[float]) -> bool:
    """A stub label that starts left of the previous row's label is a new row, not its wrap."""
    first = line.words[0]
    c = _col(edges, first.xc)
    prev = [w for ln in row for w in ln.words if _col(edges, w.xc) == c]
    return bool(prev) and first.x0 < min(w.x0 for w in prev) - 0.5 * first.size


def _body_cells(
    rows: list[list[Line]],
    edges: list[float],
    ruled_edges: set[int],
    first_row: int,
    vrules: list[Rule] = (),  # type: ignore[assignment]
) -> list[GridCell]:
    cells = []
    n_cols = len(edges) - 1
    for r, row in enumerate(rows, start=first_row):
        words = [w for ln in row for w in ln.words]
        # A word crossing a boundary no rule draws joins the columns on both sides (a spanning cell).
        joined = [False] * (n_cols + 1)
        for w in words:
            for k in range(1, n_cols):
                if w.x0 < edges[k] - 1 and w.x1 > edges[k] + 1:
                    drawn = k in ruled_edges and any(
                        abs(r.pos - edges[k]) < 2 and r.a - 1 <= w.yc <= r.b + 1 for r in vrules
                    )
                    joined[k] = joined[k] or not drawn
        groups: list[list[int]] = []
        for c in range(n_cols):
            if groups and joined[c]:
                groups[-1].append(c)
            else:
                groups.append([c])
        top = min(ln.top for ln in row)
        bottom = max(ln.bottom for ln in row)
        for group in groups:
            inside = [w for w in words if group[0] <= _col(edges, w.xc) <= group[-1]]
            box = (edges[group[0]], top, edges[group[-1] + 1], bottom)
            cell = GridCell(r, group[0], join_words(inside), box, 1, len(group))
            if inside:
                cell.text_x = (min(w.x0 for w in inside) + max(w.x1 for w in inside)) / 2
            cells.append(cell)
    return cells


def cell_edges(rows: list[list[Line]], edges: list[float], size: float) -> list[float]:
    """Where the cells' own edges most likely are, from how each column's body is aligned.

    Right-aligned numbers end just inside their cell's right edge, so the cell boundary after such a
    column lies just past its text, not in the middle of the gutter; likewise before a left-aligned
    column. A label set over a column is placed against these edges, not the gutters' midpoints.
    """
    n_cols = len(edges) - 1
    spans: list[tuple[float, float] | None] = []
    align: list[str] = []
    for c in range(n_cols):
        words = [w for row in rows for ln in row for w in ln.words if _col(edges, w.xc) == c]
        if not words:
            spans.append(None)
            align.append("")
            continue
        spans.append((min(w.x0 for w in words), max(w.x1 for w in words)))
        lefts, rights = [w.x0 for w in words], [w.x1 for w in words]
        spread_l, spread_r = max(lefts) - min(lefts), max(rights) - min(rights)
        if spread_r + 1 < spread_l:
            align.append("right")
        elif spread_l + 1 < spread_r:
            align.append("left")
        else:
            align.append("centre")
    known = [a for a in align if a in ("left", "right")]
    if known:
        usual = max(sorted(set(known)), key=known.count)
        # Numbers of one width give no sign of their alignment: they share the table's usual one.
        align = [
            usual if a == "centre" and spans[c] and _same_width(rows, edges, c) else a for c, a in enumerate(align)
        ]
    out = list(edges)
    pad = 0.4 * size
    for k in range(1, n_cols):
        before, after = spans[k - 1], spans[k]
        if before is None or after is None:
            continue
        gutter = after[0] - before[1]
        if align[k - 1] == "right" and align[k] != "left":
            out[k] = before[1] + min(pad, gutter / 2)
        elif align[k] == "left" and align[k - 1] != "right":
            out[k] = after[0] - min(pad, gutter / 2)
    return out


def _same_width(rows: list[list[Line]], edges: list[float], c: int) -> bool:
    widths = [w.x1 - w.x0 for row in rows for ln in row for w in ln.words if _col(edges, w.xc) == c]
    return bool(widths) and max(widths) - min(widths) < 1.0


def _place(segs: list[BBox], slots: list[float]) -> list[tuple[int, int]]:
    """Columns for each segment of one header line: in order, one label per column unless two labels
    must share one, each over the cell it overlaps most.

    A segment covering two or more cells spans them (a group label set wide); any other sits over one.
    ``slots`` are the cells' estimated edges (``cell_edges``).
    """
    n_cols = len(slots) - 1
    options: list[list[tuple[int, int, float]]] = []
    for x0, _, x1, _ in segs:
        width = max(x1 - x0, 0.1)
        overlaps = [max(0.0, min(x1, slots[c + 1]) - max(x0, slots[c])) for c in range(n_cols)]
        covered = [c for c in range(n_cols) if overlaps[c] > 0.5 * min(width, slots[c + 1] - slots[c])]
        opts = [(covered[0], covered[-1], 0.0)] if len(covered) >= 2 else []
        centre = (x0 + x1) / 2
        for c in range(n_cols):
            outside = width - overlaps[c]
            distance = 0.0 if overlaps[c] > 0 else min(abs(centre - slots[c]), abs(centre - slots[c + 1]))
            opts.append((c, c, outside + distance))
        options.append(opts)
    share = 1e3  # two labels on one line over one column: only when nothing else fits
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {-1: (0.0, [])}
    for opts in options:
        nxt: dict[int, tuple[float, list[tuple[int, int]]]] = {}
        for last, (cost, path) in best.items():
            for a, b, c in opts:
                if a < last or (a == last and not (a == b and path and path[-1] == (a, a))):
                    continue
                total = cost + c + (share if a == last else 0.0)
                if b not in nxt or total < nxt[b][0]:
                    nxt[b] = (total, [*path, (a, b)])
        best = nxt
    return min(best.values())[1]


def _off_axis_spans(cells: list[GridCell], edges: list[float], size: float) -> list[GridCell]:
    """A label off its column's axis, centred on it and an empty neighbour, spans both (平均值 set over
    序号 and 城市 in a table with no rules to show the merged cell)."""
    by_col: dict[int, list[GridCell]] = {}
    for cell in cells:
        if cell.col_span == 1 and cell.text:
            by_col.setdefault(cell.col, []).append(cell)
    slot = {(c.row, c.col): c for c in cells}
    out = list(cells)
    for cell in cells:
        if cell.col_span != 1 or not cell.text or is_number(cell.text) or cell not in out:
            continue
        others = [(o.bbox[0] + o.bbox[2]) / 2 for o in by_col.get(cell.col, []) if o is not cell and o.row != cell.row]
        words = cell.text
        if len(others) < 2 or not words:
            continue
        centre = _text_centre(cell)
        axis = median(_text_centre(o) for o in by_col[cell.col] if o is not cell)
        spread = max(abs(_text_centre(o) - axis) for o in by_col[cell.col] if o is not cell)
        if spread > 1.5 or abs(centre - axis) < 0.3 * size:
            continue
        for step in (-1, 1):
            nb = slot.get((cell.row, cell.col + step))
            if nb is None or nb.text or nb.col_span != 1 or nb not in out:
                continue
            lo, hi = min(cell.col, nb.col), max(cell.col, nb.col)
            union = (edges[lo] + edges[hi + 1]) / 2
            if abs(centre - union) < abs(centre - axis) / 2:
                cell.col, cell.col_span = lo, 2
                cell.bbox = (edges[lo], cell.bbox[1], edges[hi + 1], cell.bbox[3])
                out.remove(nb)
                break
    return out


def _text_centre(cell: GridCell) -> float:
    return cell.text_x if cell.text_x is not None else (cell.bbox[0] + cell.bbox[2]) / 2


def _header_cells(
    header: list[Line],
    edges: list[float],
    ruled_edges: set[int],
    hrules: list[Rule],
    size: float,
    slots: list[float],
) -> tuple[list[HeaderCell], int]:
    """Header segments placed over the columns they cover, wraps joined, group labels as parents."""
    cuts = [edges[k] for k in ruled_edges]
    pieces: list[HeaderCell] = []
    for line in header:
        segs = segments(line, size, cuts, [*edges[1:-1], *slots[1:-1]])
        boxes = [bbox_of(seg) for seg in segs]
        for seg, box, cols in zip(segs, boxes, _place(boxes, slots), strict=True):
            pieces.append(HeaderCell(cols, list(seg), box[1], box[3]))
    # Stack pieces over the same columns into one label unless a rule separates them (a level), or the
    # step between them is wider than a wrap's: wider than the header's own wraps, or beyond any line
    # spacing a wrapped label is set in (a group label over a sub-label with no rule between them).
    leading = _wrap_leading([w for line in header for w in line.words], size)
    cells: list[HeaderCell] = []
    for piece in sorted(pieces, key=lambda p: (p.top, p.cols[0])):
        for cell in cells:
            if cell.cols != piece.cols or piece.top - cell.bottom > 0.8 * size:
                continue
            step = min(w.top for w in piece.words) - max(w.top for w in cell.words)
            if step > leading + 0.2 * size or step >= WRAP_STEP_MAX * size:
                continue
            if any(cell.bottom - 1 <= r.pos <= piece.top + 1 and r.a < _mid(piece) < r.b for r in hrules):
                continue
            if any(o is not cell and o.top >= cell.bottom - 1 and o.bottom <= piece.top + 1 and _overlaps(o, piece)
                   for o in cells):  # fmt: skip
                continue
            cell.words += piece.words
            cell.bottom = max(cell.bottom, piece.bottom)
            break
        else:
            cells.append(piece)
    _assign_depths(cells)
    if _widen_groups(cells, hrules, edges, size):
        _assign_depths(cells)
    cells = _untangle(cells)
    levels = max((c.depth for c in cells), default=-1) + 1
    return cells, levels


def _wrap_leading(words: list[Word], size: float) -> float:
    """The header's line step inside a wrapped label: the median step from a word to the one under it
    (overlapping it on the page, less than a line's gap below)."""
    steps = [
        b.top - a.top
        for a in words
        for b in words
        if b.top - a.top > 0.3 * size
        and b.top - a.bottom <= 0.8 * size
        and min(a.x1, b.x1) - max(a.x0, b.x0) > 0
    ]
    return median(steps) if steps else float("inf")


def _assign_depths(cells: list[HeaderCell]) -> None:
    for cell in sorted(cells, key=lambda c: c.top):
        parents = [
            p
            for p in cells
            if p is not cell and p.bottom <= cell.top + 1 and p.cols[0] <= cell.cols[0] and cell.cols[1] <= p.cols[1]
        ]
        cell.depth = max((p.depth + 1 for p in parents), default=0)


def _widen_groups(cells: list[HeaderCell], hrules: list[Rule], edges: list[float], size: float) -> bool:
    """A group label spans more columns than its text covers: as far as the rule under it runs, or, with
    no rule, over the neighbouring columns whose labels sit in the level below it rather than beside it.

    Labels beside a group (序号 beside 基础评价) span both levels, so a centred one is centred on the whole
    header; a sub-label is centred on the level under the group.
    """
    n_cols = len(edges) - 1
    top = min(c.top for c in cells) if cells else 0.0
    bottom = max(c.bottom for c in cells) if cells else 0.0
    changed = False
    groups = [
        g
        for g in cells
        if g.depth == 0 and any(c is not g and c.top >= g.bottom - 1 and _overlaps(c, g) for c in cells)
    ]

    owners = _group_owners(groups, cells, edges)

    def nearest(c: int, group: HeaderCell) -> bool:
        # Groups side by side over one rule share it: each column goes to the group that owns it.
        return owners.get(c, group) is group

    for group in groups:
        children = [c for c in cells if c is not group and c.top >= group.bottom - 1 and _overlaps(c, group)]
        under = [r for r in hrules if group.bottom - 1 <= r.pos <= min(c.top for c in children) + 1
                 and r.a < _mid(group) < r.b]  # fmt: skip
        if under:
            rule = max(under, key=lambda r: r.length)
            span = [
                c
                for c in range(n_cols)
                if min(rule.b, edges[c + 1]) - max(rule.a, edges[c]) > 0.5 * (edges[c + 1] - edges[c])
                and (group.cols[0] <= c <= group.cols[1] or nearest(c, group))
            ]
            if span and (span[0], span[-1]) != group.cols and span[0] <= group.cols[0] and group.cols[1] <= span[-1]:
                group.cols, changed = (span[0], span[-1]), True
            continue
        sub_centre = (group.bottom + bottom) / 2
        whole_centre = (top + bottom) / 2
        for step in (-1, 1):
            c = group.cols[0] - 1 if step < 0 else group.cols[1] + 1
            while 0 <= c < n_cols and nearest(c, group):
                own = [x for x in cells if x is not group and x.cols == (c, c)]
                if not own or any(x.top < group.bottom - 1 for x in own):
                    break
                centre = (min(x.top for x in own) + max(x.bottom for x in own)) / 2
                if abs(centre - sub_centre) >= abs(centre - whole_centre) - 0.1 * size:
                    break
                group.cols = (c, group.cols[1]) if step < 0 else (group.cols[0], c)
                changed = True
                c += step
    return changed


def _group_owners(groups: list[HeaderCell], cells: list[HeaderCell], edges: list[float]) -> dict[int, HeaderCell]:
    """Which group label each column belongs to, when several sit side by side.

    Publishers set group labels left-aligned, centred or right-aligned over their sub-columns; the
    reading that puts each group's edge (or centre) where its sub-labels' edge (or centre) is wins.
    """
    if len(groups) < 2:
        return {}
    n_cols = len(edges) - 1
    ordered = sorted(groups, key=lambda g: g.cols[0])

    def by(rule: str) -> dict[int, HeaderCell]:
        out = {}
        for c in range(n_cols):
            if rule == "left":
                owner = [g for g in ordered if g.cols[0] <= c]
                chosen = owner[-1] if owner else None
            elif rule == "right":
                owner = [g for g in ordered if g.cols[1] >= c]
                chosen = owner[0] if owner else None
            else:
                centre = (edges[c] + edges[c + 1]) / 2
                chosen = min(ordered, key=lambda g: abs(centre - _mid(g)))
            if chosen is not None:
                out[c] = chosen
        return out

    def misfit(rule: str, owners: dict[int, HeaderCell]) -> float:
        total = 0.0
        for g in ordered:
            subs = [x for x in cells if x not in groups and owners.get(x.cols[0]) is g and x.top >= g.bottom - 1]
            if not subs:
                continue
            sx0 = min(w.x0 for x in subs for w in x.words)
            sx1 = max(w.x1 for x in subs for w in x.words)
            gx0, gx1 = min(w.x0 for w in g.words), max(w.x1 for w in g.words)
            total += {"left": abs(gx0 - sx0), "right": abs(gx1 - sx1)}.get(rule, abs((gx0 + gx1 - sx0 - sx1) / 2))
        return total

    readings = {rule: by(rule) for rule in ("centre", "left", "right")}
    return min(readings.items(), key=lambda kv: misfit(*kv))[1]


def _mid(cell: HeaderCell) -> float:
    return (min(w.x0 for w in cell.words) + max(w.x1 for w in cell.words)) / 2


def _overlaps(a: HeaderCell, b: HeaderCell) -> bool:
    return a.cols[0] <= b.cols[1] and b.cols[0] <= a.cols[1]


def read_alignment(
    words: list[Word],
    rules: list[Rule],
    page: int,
    bbox: BBox,
    columns: list[float] | None = None,
    header_only: bool = False,
) -> TableGrid | None:
    """The table in ``bbox`` read from its text's alignment; ``columns`` imposes known column edges."""
    lines = text_lines(words)
    if not lines:
        return None
    size = median(w.size for w in words)
    hrules = [r for r in rules if r.horizontal]
    vrules = [r for r in rules if not r.horizontal]
    left, right = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    long_rules = [r for r in hrules if min(r.b, right) - max(r.a, left) >= LONG_RULE * (right - left)]
    # The header ends where a band of lines (wrapped cells joined) first reads as data.
    groups = interleave_groups(lines, size)
    k = len(groups) if header_only else split_header(interleaved(lines, size), long_rules, size)
    header, body = [ln for g in groups[:k] for ln in g], [ln for g in groups[k:] for ln in g]
    if columns:
        edges, ruled = list(columns), set()
        edges[0], edges[-1] = min(edges[0], left - 1), max(edges[-1], right + 1)
    else:
        edges, ruled = column_edges(interleaved(body, size), vrules, size)
    n_cols = len(edges) - 1
    rows = body_rows(body, hrules, edges, size)
    hcells, levels = _header_cells(header, edges, ruled, hrules, size, cell_edges(rows, edges, size))
    cells: list[GridCell] = []
    for cell in hcells:
        below = [c.depth for c in hcells if c is not cell and c.depth > cell.depth and _overlaps(c, cell)]
        span = (min(below) if below else levels) - cell.depth
        box = (edges[cell.cols[0]], cell.top, edges[cell.cols[1] + 1], cell.bottom)
        cells.append(
            GridCell(cell.depth, cell.cols[0], join_words(cell.words), box, span, cell.cols[1] - cell.cols[0] + 1)
        )
    body = _body_cells(rows, edges, ruled, levels, vrules)
    cells += _off_axis_spans(body, edges, size)
    n_rows = levels + len(rows)
    grid = TableGrid(page, (edges[0], lines[0].top, edges[-1], lines[-1].bottom), n_rows, n_cols, levels, cells,
                     "alignment", edges)  # fmt: skip
    grid.drop_empty()  # a spacer column between two boxes, an empty gutter
    return grid


def _untangle(cells: list[HeaderCell]) -> list[HeaderCell]:
    """Two labels at one level claiming a column: the wider gives it up, or they are one label."""
    changed = True
    while changed:
        changed = False
        for a in cells:
            for b in cells:
                if a is b or a.depth != b.depth or not _overlaps(a, b):
                    continue
                wide, narrow = (a, b) if a.cols[1] - a.cols[0] >= b.cols[1] - b.cols[0] else (b, a)
                if narrow.cols[0] > wide.cols[0] and narrow.cols[1] >= wide.cols[1]:
                    wide.cols = (wide.cols[0], narrow.cols[0] - 1)
                elif narrow.cols[1] < wide.cols[1] and narrow.cols[0] <= wide.cols[0]:
                    wide.cols = (narrow.cols[1] + 1, wide.cols[1])
                else:
                    wide.words += narrow.words
                    wide.top, wide.bottom = min(wide.top, narrow.top), max(wide.bottom, narrow.bottom)
                    cells = [c for c in cells if c is not narrow]
                changed = True
                break
            if changed:
                break
    return cells
