"""Reading a drawn chart back into series: bars and line vertices matched to legend entries, category
names under the plot, and the numbers printed beside each mark; pies go to chart_pie."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pdfplumber.page import Page

from extractors.chart_drawing import (
    Color,
    Drawing,
    Mark,
    Point,
    Word,
    area,
    chroma,
    hue_gap,
    inside_any,
    is_white,
    read_drawing,
    same_color,
    union,
    x_overlap,
)
from extractors.chart_geometry import (
    AxisCalibration,
    ChartReading,
    Frame,
    calibrate,
    chart_point,
    check_against_geometry,
    measure,
    tick_offset,
)
from extractors.chart_legend import LegendEntry, find_legend
from extractors.chart_pie import find_pie_slices, read_pie
from extractors.chart_proof import prove
from extractors.layout import BBox, clean_text
from extractors.model import ChartPoint, FlaggedPoint

# A label further than this many of its own heights from every mark belongs to none of them.
LABEL_REACH = 3.0
# A series whose labels miss an axis' geometry by more than this share of its span (median) is not on it.
AXIS_FIT = 0.1


def read_vector_chart(page: Page, bbox: BBox, fallback_name: str = "") -> ChartReading:
    """Series, categories and values of a drawn chart in ``bbox``, each label checked on the geometry.

    ``fallback_name`` names the series of a chart that has no legend entry for it (a pie's one series,
    a single-series bar chart).
    """
    return read_chart(read_drawing(page, bbox), fallback_name)


def read_chart(drawing: Drawing, fallback_name: str = "") -> ChartReading:
    """Series of a chart given as words and shapes, whether read from a PDF's objects or traced from
    an image's pixels (raster_drawing)."""
    legend = find_legend(drawing)
    slices = find_pie_slices(drawing, legend)
    if slices:
        return prove(read_pie(drawing, legend, slices, fallback_name))
    return prove(read_cartesian(drawing, legend, fallback_name))


def read_cartesian(drawing: Drawing, legend: Sequence[LegendEntry], fallback_name: str) -> ChartReading:
    reading = ChartReading()
    in_legend = [e.box for e in legend]
    marks = _bar_marks(drawing, legend, in_legend, fallback_name)
    marks += _line_marks(drawing, legend, in_legend, fallback_name)
    if not marks:
        reading.problems.append("no bars, lines or slices recognised in the drawing")
        return reading
    frame = _plot_frame(drawing, marks)
    legend_words = {w for e in legend for w in e.words}
    ticks = {side: _ticks(drawing, frame, side, legend_words) for side in ("primary", "secondary")}
    offset = tick_offset([w for ws in ticks.values() for w in ws], frame.rules)
    axes = {side: calibrate(ws, offset, drawing, frame, side) for side, ws in ticks.items() if ws}
    for side, axis in axes.items():
        if axis is None:
            reading.problems.append(f"{side} y axis: its tick labels do not give a scale")
    calibrated = {side: axis for side, axis in axes.items() if axis is not None}
    used = legend_words | {w for ws in ticks.values() for w in ws}
    categories = _categories(drawing, frame, used)
    labels = _data_labels(drawing, frame, used | {w for c in categories for w in c.words})
    pairs, stray = match_labels(labels, marks)
    reading.problems += [f"label {w.text} at ({w.cx:.0f}, {w.cy:.0f}) belongs to no mark" for w in stray]
    unreadable = {side for side, axis in axes.items() if axis is None}
    reading.stacked = {m.series for m in marks if m.stacked}
    _build_points(reading, marks, pairs, categories, calibrated, unreadable, legend)
    reading.problems += check_against_geometry(reading.points, reading.axes)
    return reading


def _bar_marks(
    drawing: Drawing, legend: Sequence[LegendEntry], in_legend: Sequence[BBox], fallback_name: str
) -> list[Mark]:
    patches = [e for e in legend if e.marker == "patch"]
    region_area = area(drawing.bbox)
    rects = [
        s
        for s in drawing.shapes
        if s.is_rect
        and s.fill is not None
        and not is_white(s.fill)
        and area(s.box) < 0.3 * region_area
        and not inside_any(s.box, in_legend)
    ]
    marks = []
    for s in rects:
        assert s.fill is not None
        entry = next((e for e in patches if same_color(e.color, s.fill)), None)
        if entry is None and patches:
            continue  # a coloured box the legend does not name is decoration, not data
        name = entry.name if entry else fallback_name
        marks.append(Mark(name, "bar", s.box, s.fill))
    return _mark_stacks(marks, drawing)


def _mark_stacks(bars: list[Mark], drawing: Drawing) -> list[Mark]:
    """Bars sharing a column and touching end to end are segments of one stack (in a traced image,
    the white edge drawn between segments parts them by a few pixels)."""
    edge, touch = drawing.slack(0.5, 2.0), drawing.slack(0.8, 4.0)
    out = []
    for bar in bars:
        stacked = any(
            other is not bar
            and abs(other.box[0] - bar.box[0]) < edge
            and abs(other.box[2] - bar.box[2]) < edge
            and (abs(other.box[1] - bar.box[3]) < touch or abs(other.box[3] - bar.box[1]) < touch)
            for other in bars
        )
        out.append(replace(bar, stacked=stacked))
    return out


def _line_marks(
    drawing: Drawing, legend: Sequence[LegendEntry], in_legend: Sequence[BBox], fallback_name: str
) -> list[Mark]:
    series = [(e.name, e.color) for e in legend if e.marker == "stroke"]
    if not series:
        series = _unnamed_lines(drawing, in_legend, fallback_name)
    marks = []
    for name, color in series:
        vertices = _polyline_vertices(drawing, color, in_legend) or _marker_centres(drawing, color, in_legend)
        marks += [Mark(name, "line", (x, y, x, y), color) for x, y in vertices]
    return marks


def _unnamed_lines(drawing: Drawing, in_legend: Sequence[BBox], fallback_name: str) -> list[tuple[str, Color]]:
    """Coloured polylines of a chart whose legend has no line entry; grey ones are gridlines or axes."""
    colors: list[Color] = []
    for s in drawing.shapes:
        if s.fill is None and s.stroke is not None and len(s.pts) >= 3 and chroma(s.stroke) > 0.25:
            if not inside_any(s.box, in_legend) and not any(same_color(s.stroke, c) for c in colors):
                colors.append(s.stroke)
    if len(colors) == 1:
        return [(fallback_name, colors[0])]
    return [(f"{fallback_name} ({k + 1})", c) for k, c in enumerate(colors)]


def _polyline_vertices(drawing: Drawing, color: Color, in_legend: Sequence[BBox]) -> list[Point]:
    points: dict[tuple[float, float], Point] = {}
    for s in drawing.shapes:
        if s.fill is not None or s.stroke is None or not same_color(s.stroke, color):
            continue
        if inside_any(s.box, in_legend):
            continue
        pts = s.pts or ((s.box[0], s.box[1]), (s.box[2], s.box[3]))
        for x, y in pts:
            points.setdefault((round(x, 1), round(y, 1)), (x, y))
    return sorted(points.values())


def _marker_centres(drawing: Drawing, color: Color, in_legend: Sequence[BBox]) -> list[Point]:
    return sorted(
        s.centre
        for s in drawing.shapes
        if s.fill is not None
        and same_color(s.fill, color)
        and max(s.width, s.height) <= 10.0
        and not inside_any(s.box, in_legend)
    )


def _plot_frame(drawing: Drawing, marks: Sequence[Mark]) -> Frame:
    """The plot's extent: its horizontal rules (gridlines, category axis) if drawn, else the marks'."""
    width = drawing.bbox[2] - drawing.bbox[0]
    rules = [s for s in drawing.shapes if s.height <= 1.0 and s.width >= 0.4 * width]
    boxes = [m.box for m in marks] + [r.box for r in rules]
    if rules:
        x0, x1 = min(r.box[0] for r in rules), max(r.box[2] for r in rules)
    else:
        x0, x1 = min(b[0] for b in boxes) - 5.0, max(b[2] for b in boxes) + 5.0
    ys = tuple(sorted({round((r.box[1] + r.box[3]) / 2, 2) for r in rules}))
    return Frame(x0, min(b[1] for b in boxes), x1, max(b[3] for b in boxes), ys)


def _ticks(drawing: Drawing, frame: Frame, side: str, exclude: set[Word]) -> list[Word]:
    """Numbers in a column beside the plot: left of it the primary axis, right of it the secondary."""
    out = []
    for w in drawing.words:
        if w in exclude or w.number is None:
            continue
        if not frame.top - w.height <= w.cy <= frame.bottom + w.height:
            continue
        slack = drawing.slack(0.5, 2.0)
        if (side == "primary" and w.x1 <= frame.x0 + slack) or (side == "secondary" and w.x0 >= frame.x1 - slack):
            out.append(w)
    return out


@dataclass(frozen=True)
class Category:
    name: str
    x: float
    words: tuple[Word, ...]


def _categories(drawing: Drawing, frame: Frame, exclude: set[Word]) -> list[Category]:
    """Category names under the plot, one column each; a name wrapped onto several lines is rejoined."""
    below = sorted(
        (
            w
            for w in drawing.words
            if w not in exclude and w.top >= frame.bottom - 1.0 and frame.x0 - 10.0 <= w.cx <= frame.x1 + 10.0
        ),
        key=lambda w: (w.top, w.x0),
    )
    rows = _rows_near(below, frame.bottom)
    columns: list[list[Word]] = []
    for w in (w for row in rows for w in row):
        column = next((c for c in columns if x_overlap(union([x.bbox for x in c]), w.bbox) > 0), None)
        if column is None:
            columns.append([w])
        else:
            column.append(w)
    cats = []
    for c in columns:
        lines = _group_rows(c)
        name = clean_text(" ".join(" ".join(w.text for w in line) for line in lines))
        box = union([w.bbox for w in c])
        cats.append(Category(name, (box[0] + box[2]) / 2, tuple(c)))
    return sorted(cats, key=lambda c: c.x)


def _rows_near(words: Sequence[Word], start: float) -> list[list[Word]]:
    """Rows of words from ``start`` down, stopping at a gap wider than a line (the axis title, legend)."""
    rows = _group_rows(list(words))
    kept: list[list[Word]] = []
    edge = start
    for row in rows:
        top = min(w.top for w in row)
        height = max(w.height for w in row)
        if top - edge > height:
            break
        kept.append(row)
        edge = max(w.bottom for w in row)
    return kept


def _group_rows(words: Sequence[Word]) -> list[list[Word]]:
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        if rows and abs(statistics.fmean(x.cy for x in rows[-1]) - w.cy) <= 0.4 * w.height:
            rows[-1].append(w)
        else:
            rows.append([w])
    return [sorted(r, key=lambda w: w.x0) for r in rows]


def _data_labels(drawing: Drawing, frame: Frame, exclude: set[Word]) -> list[Word]:
    return [
        w
        for w in drawing.words
        if w not in exclude
        and w.number is not None
        and frame.x0 - 5.0 <= w.cx <= frame.x1 + 5.0
        and w.cy <= frame.bottom + 2.0
    ]


def match_labels(labels: Sequence[Word], marks: Sequence[Mark]) -> tuple[dict[int, Word], list[Word]]:
    """Pair labels with marks one to one, closest pairs first. Returns mark index → label, and the
    labels left over."""
    costs = sorted((_label_cost(w, m), li, mi) for li, w in enumerate(labels) for mi, m in enumerate(marks))
    taken_labels: set[int] = set()
    pairs: dict[int, Word] = {}
    for cost, li, mi in costs:
        if li in taken_labels or mi in pairs or cost > LABEL_REACH * labels[li].height + 4.0:
            continue
        pairs[mi] = labels[li]
        taken_labels.add(li)
    return pairs, [w for i, w in enumerate(labels) if i not in taken_labels]


def _label_cost(word: Word, mark: Mark) -> float:
    x0, top, x1, bottom = mark.box
    dx = max(x0 - word.cx, 0.0, word.cx - x1)
    dy = max(top - word.cy, 0.0, word.cy - bottom)
    distance = math.hypot(dx, dy)
    # A coloured label is printed in its series' hue (lines label in a darker shade of their colour).
    if word.color is not None and chroma(word.color) > 0.25:
        if chroma(mark.color) > 0.25 and hue_gap(word.color, mark.color) < 0.06:
            return distance * 0.5
        return distance * 2.0 + 10.0
    return distance


def _build_points(
    reading: ChartReading,
    marks: Sequence[Mark],
    pairs: Mapping[int, Word],
    categories: Sequence[Category],
    axes: Mapping[str, AxisCalibration],
    unreadable: set[str],
    legend: Sequence[LegendEntry] = (),
) -> None:
    if not categories:
        reading.problems.append("no category labels found under the plot")
    if not axes:
        reading.problems.append("no y axis tick labels found; labels are unchecked")
    for name in dict.fromkeys(m.series for m in marks):
        indices = sorted((i for i, m in enumerate(marks) if m.series == name), key=lambda i: marks[i].cx)
        labels = [pairs.get(i) for i in indices]
        axis = _choose_axis([marks[i] for i in indices], labels, axes, unreadable)
        if axis is not None:
            reading.axes[name] = axis
        elif axes and any(labels):
            reading.problems.append(f"{name}: its labels fit no readable y axis; they are unchecked")
        for i, label in zip(indices, labels, strict=True):
            point = _point(marks[i], label, categories, axis)
            if point is None:
                reading.problems.append(f"{name}: a mark at x={marks[i].cx:.0f} has no category")
            elif point.value_origin == "geometry" and point.geometry_value is None:
                reading.problems.append(f"{name} / {point.category}: no label and no axis to measure on")
            else:
                reading.points.append(point)
    _flag_duplicates(reading)
    _flag_missing(reading, [*marks, *_legend_only(marks, legend)], categories)


def _choose_axis(
    marks: Sequence[Mark],
    labels: Sequence[Word | None],
    axes: Mapping[str, AxisCalibration],
    unreadable: set[str],
) -> AxisCalibration | None:
    """The axis a series is drawn on: the one its labels agree with best, if any agrees at all (a series
    on an axis whose ticks could not be read fits none). Without labels, bars go on the primary axis and
    lines on the secondary one, as charts usually draw them."""
    errors = {}
    for side, axis in axes.items():
        misses = [
            abs(float(w.number) - measure(m, axis)) / axis.span
            for m, w in zip(marks, labels, strict=True)
            if w is not None and w.number is not None
        ]
        if misses:
            errors[side] = statistics.median(misses)
    if errors:
        best = min(errors, key=lambda side: errors[side])
        return axes[best] if errors[best] <= AXIS_FIT else None
    preferred = "secondary" if marks and marks[0].kind == "line" else "primary"
    if preferred in axes:
        return axes[preferred]
    return None if preferred in unreadable or not axes else next(iter(axes.values()))


def _point(
    mark: Mark, label: Word | None, categories: Sequence[Category], axis: AxisCalibration | None
) -> ChartPoint | None:
    category = _nearest_category(mark.cx, categories)
    if category is None:
        return None
    geometry = measure(mark, axis) if axis is not None else None
    unit = (axis.unit if axis else None) or ""
    return chart_point(mark.series, category, label, unit, geometry, mark.box, axis.precision if axis else None)


def _nearest_category(x: float, categories: Sequence[Category]) -> str | None:
    if not categories:
        return None
    best = min(categories, key=lambda c: abs(c.x - x))
    xs = [c.x for c in categories]
    spacing = min((b - a for a, b in zip(xs, xs[1:], strict=False)), default=float("inf"))
    limit = 0.6 * spacing if math.isfinite(spacing) else float("inf")
    return best.name if abs(best.x - x) <= limit else None


def _legend_only(marks: Sequence[Mark], legend: Sequence[LegendEntry]) -> list[Mark]:
    """Stand-ins for the series the legend names but no mark was found of: all their points are lost."""
    drawn = {m.series for m in marks}
    return [Mark(e.name, "bar", e.box, e.color) for e in legend if e.name not in drawn]


def _flag_missing(reading: ChartReading, marks: Sequence[Mark], categories: Sequence[Category]) -> None:
    """A category with no mark of a series that has marks elsewhere: the mark was lost (hidden under
    another, or not found), and the point it would give is flagged rather than silently absent."""
    unit = {p.series: p.unit for p in reading.points}
    for name in dict.fromkeys(m.series for m in marks):
        found = {p.category for p in reading.points if p.series == name}
        for category in categories:
            if category.name not in found:
                point = ChartPoint(name, category.name, math.nan, unit.get(name, ""), "geometry")
                reading.flagged.append(FlaggedPoint(point, ["no mark of this series found in this category"]))


def _flag_duplicates(reading: ChartReading) -> None:
    seen = Counter((p.series, p.category) for p in reading.points)
    for (series, category), n in seen.items():
        if n > 1:
            reading.problems.append(f"{series} / {category}: {n} marks in one category")
