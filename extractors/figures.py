"""Figures: find each captioned chart, render it to PNG, and read drawn charts back into series.

A caption names a figure; the chart sits between the caption and its 数据来源 line (or above a caption
placed under the chart). Raster charts are recorded as images only. Drawn (vector) charts are read from
their objects: legend entries give series names and colours, coloured rects are bars, coloured polylines
are lines, filled wedges are pie slices, category names sit under the plot, and the numbers printed on or
beside each mark are the values. Every label is then checked against what the drawing itself implies
(bar height on a y axis calibrated from its tick labels, marker height, slice angle).
"""

from __future__ import annotations

import colorsys
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pdfplumber
from pdfplumber.page import Page

from extractors.layout import BBox, TextLine, clean_text
from extractors.model import ChartPoint, FigureRecord
from extractors.numbers import decimals_of, parse_number

SOURCE_PREFIX = "数据来源"
MIN_DPI = 150

Color = tuple[float, float, float]
Point = tuple[float, float]

# Objects of one chart are rarely further apart than this (plot to legend is the widest gap); captions
# and body text sit further off.
CLUSTER_GAP = 30.0
# A legend marker is a small swatch or a short stroke with its name starting just to its right.
LEGEND_PATCH_MAX = (20.0, 12.0)
LEGEND_STROKE_WIDTH = (5.0, 40.0)
LEGEND_TEXT_GAP = 10.0
# A label further than this many of its own heights from every mark belongs to none of them.
LABEL_REACH = 3.0
# How far a region keeps off the caption and the note line (glyphs overshoot their boxes by about this).
EDGE_PAD = 3.0
# The text-line count `between` of a side that holds no graphic at all.
NO_GRAPHIC = 1 << 30
# A series whose labels miss an axis' geometry by more than this share of its span (median) is not on it.
AXIS_FIT = 0.1


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AxisCalibration:
    """value = intercept + slope · y (PDF points, y downward), fitted on one axis' tick labels."""

    side: str  # "primary" (left), "secondary" (right) or "pie"
    intercept: float
    slope: float
    span: float  # the value range the ticks cover (a pie's: its total)
    unit: str | None = None

    def value_at(self, y: float) -> float:
        return self.intercept + self.slope * y


@dataclass
class ChartReading:
    """What a drawn chart says: its points, the axis each series was measured on, and what disagrees."""

    points: list[ChartPoint] = field(default_factory=list)
    axes: dict[str, AxisCalibration] = field(default_factory=dict)  # series name → its axis
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Region:
    bbox: BBox | None
    source: TextLine | None
    problems: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- entry


def extract_figures(
    pdf: pdfplumber.PDF,
    lines_by_page: dict[int, list[TextLine]],
    image_dir: Path,
    caption_re: re.Pattern[str],
    dpi: int = MIN_DPI,
) -> list[FigureRecord]:
    """One record per caption line matching ``caption_re`` (named groups ``number`` and ``title``)."""
    if dpi < MIN_DPI:
        raise ValueError(f"dpi {dpi} is below {MIN_DPI}; figure images would be too coarse to read")
    image_dir.mkdir(parents=True, exist_ok=True)
    records: list[FigureRecord] = []
    used_names: set[str] = set()
    pages = []
    for page_no in sorted(lines_by_page):
        lines = sorted(lines_by_page[page_no], key=lambda line: (line.top, line.x0))
        captions = [(line, m) for line in lines if (m := caption_re.match(line.text))]
        if captions:
            page = pdf.pages[page_no - 1]
            pages.append((page, lines, captions, page_graphics(page)))
    layout = document_layout(
        side_vote(*caption_sides(line, lines, [c for c, _ in caps], graphics, float(page.height)))
        for page, lines, caps, graphics in pages
        for line, _ in caps
    )
    for page, lines, caps, graphics in pages:
        caption_lines = [line for line, _ in caps]
        for line, match in caps:
            figure_id = f"图{match.group('number')}"
            region = locate_region(line, lines, caption_lines, graphics, float(page.height), prefer=layout)
            path = image_dir / _image_name(figure_id, used_names)
            title = match.group("title").strip()
            records.append(_figure_record(page, line, figure_id, title, region, path, dpi))
    return records


def _figure_record(
    page: Page, caption: TextLine, figure_id: str, title: str, region: Region, path: Path, dpi: int
) -> FigureRecord:
    problems = list(region.problems)
    source = region.source.text if region.source else None
    if region.bbox is None:
        # Without a region the caption is the only place on the page the record can point to.
        return FigureRecord(figure_id, title, page.page_number, caption.bbox, source, None, "unknown", [], problems)
    bbox = region.bbox
    image_path: str | None = None
    try:
        page.crop(_clamp(bbox, page)).to_image(resolution=dpi).save(path)
        image_path = str(path)
    except (OSError, ValueError) as exc:
        problems.append(f"could not render the figure region: {exc}")
    kind = classify_region(page, bbox)
    record = FigureRecord(figure_id, title, page.page_number, bbox, source, image_path, kind, [], problems)
    if kind == "vector":
        reading = _read_guarded(page, bbox, title)
        record.points = reading.points
        record.problems.extend(reading.problems)
    elif kind == "unknown":
        record.problems.append("the figure region holds neither an image nor a drawing")
    return record


def _read_guarded(page: Page, bbox: BBox, title: str) -> ChartReading:
    try:
        return read_vector_chart(page, bbox, fallback_name=title)
    except Exception as exc:  # one odd drawing must not cost the report its other figures
        return ChartReading(problems=[f"chart could not be read: {type(exc).__name__}: {exc}"])


def _image_name(figure_id: str, used: set[str]) -> str:
    stem = re.sub(r"[^0-9A-Za-z_.-]+", "_", figure_id.replace("图", "fig")).strip("_") or "figure"
    name, n = f"{stem}.png", 1
    while name in used:  # a caption printed twice must not overwrite the first image
        n += 1
        name = f"{stem}-{n}.png"
    used.add(name)
    return name


# ---------------------------------------------------------------------------------------------- region


def page_graphics(page: Page) -> list[BBox]:
    """Boxes of the page's images and drawings, without furniture that runs off the page edge."""
    height = float(page.height)
    boxes = []
    for obj in [*page.images, *page.rects, *page.curves, *page.lines]:
        box = (float(obj["x0"]), float(obj["top"]), float(obj["x1"]), float(obj["bottom"]))
        # Running-header bands and page borders touch the page edge; charts never do.
        if box[1] <= 1.0 or box[3] >= height - 1.0:
            continue
        boxes.append(box)
    return boxes


@dataclass(frozen=True)
class Side:
    """One side of a caption, as the place of its figure."""

    band: tuple[float, float] | None  # the region's vertical extent if the figure is on this side
    ink: float  # how much drawing the band holds
    between: int  # text lines between the caption and the nearest graphic on this side
    source: TextLine | None  # the 数据来源 line that goes with the figure on this side


def caption_sides(
    caption: TextLine,
    lines: Sequence[TextLine],
    captions: Sequence[TextLine],
    graphics: Sequence[BBox],
    page_height: float,
) -> tuple[Side, Side]:
    """The figure's possible places: (below the caption, above it)."""
    upper = max((c.bottom for c in captions if c.bottom <= caption.top), default=0.0)
    lower = min((c.top for c in captions if c.top >= caption.bottom), default=page_height)
    return (
        _side_below(caption, lines, graphics, lower),
        _side_above(caption, lines, graphics, upper, lower),
    )


def side_vote(below: Side, above: Side) -> str | None:
    """Where a caption's own surroundings put its figure, when they are unambiguous.

    Figures follow one another in the same order, so "chart, note, caption" repeated looks the same as
    "caption, chart, note" repeated from the middle of a page; only a caption with graphics on one side,
    or hard against them on one side, tells which."""
    if below.ink > 0 and above.ink <= 0:
        return "below"
    if above.ink > 0 and below.ink <= 0:
        return "above"
    if below.ink > 0 and above.ink > 0 and below.between != above.between:
        return "below" if below.between < above.between else "above"
    return None


def document_layout(votes: Iterable[str | None]) -> str:
    """The side most captions of a document put their figures on; "below" (caption above the chart)
    when nothing decides, as in MOFCOM's reports."""
    counts = Counter(v for v in votes if v is not None)
    return "above" if counts["above"] > counts["below"] else "below"


def locate_region(
    caption: TextLine,
    lines: Sequence[TextLine],
    captions: Sequence[TextLine],
    graphics: Sequence[BBox],
    page_height: float,
    prefer: str = "below",
) -> Region:
    """The figure region for ``caption``: below it up to the 数据来源 line, or above it up to the previous
    text line, whichever side holds its graphics; ``prefer`` (the document's layout) settles a tie."""
    below, above = caption_sides(caption, lines, captions, graphics, page_height)
    side = side_vote(below, above)
    if side is None and (below if prefer == "below" else above).ink > 0:
        side = prefer
    chosen = below if side == "below" else above if side == "above" else None
    if chosen is not None and chosen.band is not None:
        band = _trim(chosen.band, graphics)
        problems = () if chosen.source else (f"no 数据来源 line found for the figure {side} its caption",)
        return Region(_box(band, _column(lines, graphics, band)), chosen.source, problems)
    if below.band is not None and below.source is not None:
        column = _column(lines, graphics, below.band)
        return Region(
            _box(below.band, column), below.source, ("no graphics between the caption and its 数据来源 line",)
        )
    where = "at the bottom of the page" if caption.bottom > page_height * 0.85 else "near the caption"
    return Region(None, below.source, (f"no figure region found: no 数据来源 line and no graphics {where}",))


def _trim(band: tuple[float, float], graphics: Sequence[BBox]) -> tuple[float, float]:
    """Pull the band's edges off the neighbouring text lines, whose glyphs reach a little past their
    boxes and would show as slivers in the image, but never into the graphics."""
    inside = _inside_band(graphics, band)
    top = min([band[0] + EDGE_PAD, *(g[1] for g in inside)])
    bottom = max([band[1] - EDGE_PAD, *(g[3] for g in inside)])
    return (top, bottom) if bottom > top else band


def _box(band: tuple[float, float], column: tuple[float, float]) -> BBox:
    return (column[0], band[0], column[1], band[1])


def _side_below(caption: TextLine, lines: Sequence[TextLine], graphics: Sequence[BBox], limit: float) -> Side:
    source = next((ln for ln in lines if ln.text.startswith(SOURCE_PREFIX) and caption.bottom <= ln.top < limit), None)
    band: tuple[float, float] | None
    if source is not None:
        band = (caption.bottom, source.top)
    else:
        reach = _cluster_reach(caption.bottom, +1, graphics, limit)
        after = [ln.top for ln in lines if reach is not None and reach - 1.0 <= ln.top < limit]
        band = None if reach is None else (caption.bottom, min(after, default=reach))
    inside = _inside_band(graphics, band)
    nearest = min((g[1] for g in inside), default=None)
    between = _lines_between(lines, caption.bottom, nearest) if nearest is not None else NO_GRAPHIC
    return Side(band, _ink(inside), between, source)


def _side_above(
    caption: TextLine, lines: Sequence[TextLine], graphics: Sequence[BBox], upper: float, lower: float
) -> Side:
    reach = _cluster_reach(caption.top, -1, graphics, upper)
    if reach is None:
        return Side(None, 0.0, NO_GRAPHIC, None)
    before = [ln.bottom for ln in lines if upper < ln.bottom <= reach + 1.0]
    band = (max(before, default=reach), caption.top)
    notes = [ln for ln in lines if ln.text.startswith(SOURCE_PREFIX) and band[0] <= ln.top < caption.top]
    source = notes[-1] if notes else _note_after(caption, lines, lower)
    if notes:
        band = (band[0], notes[-1].top)  # the note sits between chart and caption; the region ends above it
    inside = _inside_band(graphics, band)
    nearest = max((g[3] for g in inside), default=None)
    between = _lines_between(lines, nearest, caption.top) if nearest is not None else NO_GRAPHIC
    return Side(band, _ink(inside), between, source)


def _note_after(caption: TextLine, lines: Sequence[TextLine], limit: float) -> TextLine | None:
    """A caption under its chart may have the 数据来源 line right after it."""
    following = [ln for ln in lines if caption.bottom <= ln.top < limit][:3]
    return next((ln for ln in following if ln.text.startswith(SOURCE_PREFIX)), None)


def _lines_between(lines: Sequence[TextLine], top: float, bottom: float) -> int:
    return sum(1 for ln in lines if ln.top >= top - 1.0 and ln.bottom <= bottom + 1.0)


def _inside_band(graphics: Sequence[BBox], band: tuple[float, float] | None) -> list[BBox]:
    if band is None:
        return []
    return [g for g in graphics if g[1] >= band[0] - 1.0 and g[3] <= band[1] + 1.0]


def _cluster_reach(edge: float, direction: int, graphics: Sequence[BBox], limit: float) -> float | None:
    """How far the graphics next to ``edge`` extend (direction +1 down, -1 up), absorbing objects that lie
    within CLUSTER_GAP of what is already absorbed; None when nothing lies near the edge."""
    if direction > 0:
        near = sorted((g for g in graphics if g[1] >= edge - 2.0 and g[3] <= limit), key=lambda g: g[1])
        far, found = edge, False
        for g in near:
            if g[1] > far + CLUSTER_GAP:
                break
            far, found = max(far, g[3]), True
        return far if found else None
    near = sorted((g for g in graphics if g[3] <= edge + 2.0 and g[1] >= limit), key=lambda g: -g[3])
    far, found = edge, False
    for g in near:
        if g[3] < far - CLUSTER_GAP:
            break
        far, found = min(far, g[1]), True
    return far if found else None


def _ink(graphics: Sequence[BBox]) -> float:
    """How much drawing there is: lines count by length, so a chart of strokes still scores."""
    return sum(max(x1 - x0, 1.0) * max(bottom - top, 1.0) for x0, top, x1, bottom in graphics)


def _column(lines: Sequence[TextLine], graphics: Sequence[BBox], band: tuple[float, float]) -> tuple[float, float]:
    """The text column's width, widened to any graphics of the band that stick out of it."""
    inside = _inside_band(graphics, band)
    x0 = min([*(ln.x0 for ln in lines), *(g[0] for g in inside)], default=0.0)
    x1 = max([*(ln.x1 for ln in lines), *(g[2] for g in inside)], default=0.0)
    return (max(x0, 0.0), x1)


def classify_region(page: Page, bbox: BBox) -> str:
    """`raster` for an embedded image without text on it, `vector` for a drawing with text labels,
    `unknown` for a region with neither."""
    region = page.crop(_clamp(bbox, page))
    images = [_obj_box(im) for im in page.images if _overlap_area(_obj_box(im), bbox) > 0.5 * _area(_obj_box(im))]
    chars = region.chars
    drawn = [o for o in (*region.rects, *region.curves, *region.lines) if not _is_white(_fill(o))]
    if images:
        on_image = [c for c in chars if any(_contains(im, _obj_box(c)) for im in images)]
        # Text printed over an image, with strokes beside it, is a drawing that uses the image as a backdrop.
        if not on_image or not drawn:
            return "raster"
    if drawn and chars:
        return "vector"
    return "raster" if images else "unknown"


# ---------------------------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    color: Color | None
    size: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)

    @property
    def number(self) -> float | None:
        try:
            return parse_number(self.text)
        except ValueError:
            return None


@dataclass(frozen=True)
class Shape:
    """A rect, curve or line of the drawing with its colours and (for curves) its path points."""

    box: BBox
    fill: Color | None  # None when not filled
    stroke: Color | None  # None when not stroked
    pts: tuple[Point, ...]
    is_rect: bool

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre(self) -> Point:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


@dataclass(frozen=True)
class Drawing:
    bbox: BBox
    words: tuple[Word, ...]
    shapes: tuple[Shape, ...]


@dataclass(frozen=True)
class LegendEntry:
    name: str
    color: Color
    marker: str  # "patch" (bars, slices) or "stroke" (lines)
    box: BBox  # marker and text
    words: tuple[Word, ...]


def read_drawing(page: Page, bbox: BBox) -> Drawing:
    region = page.crop(_clamp(bbox, page))
    words = tuple(
        Word(
            clean_text(w["text"]),
            float(w["x0"]),
            float(w["top"]),
            float(w["x1"]),
            float(w["bottom"]),
            _rgb(w.get("non_stroking_color")),
            float(w.get("size", 0.0)),
        )
        # A tight x tolerance keeps neighbouring data labels ("531.5" "330.2") apart.
        for w in region.extract_words(x_tolerance=1.5, extra_attrs=["non_stroking_color", "size"])
    )
    shapes = []
    for kind in ("rects", "curves", "lines"):
        for obj in getattr(region, kind):
            shapes.append(_shape(obj, kind == "rects"))
    return Drawing(bbox, tuple(w for w in words if w.text), tuple(shapes))


def _shape(obj: dict[str, Any], is_rect: bool) -> Shape:
    pts = tuple((float(x), float(y)) for x, y in obj.get("pts") or ())
    return Shape(
        _obj_box(obj),
        _rgb(obj.get("non_stroking_color")) if obj.get("fill") else None,
        _rgb(obj.get("stroking_color")) if obj.get("stroke") else None,
        pts,
        is_rect,
    )


# ---------------------------------------------------------------------------------------------- legend


def find_legend(drawing: Drawing) -> list[LegendEntry]:
    """Legend entries in reading order: a swatch or short stroke, then its name to the right."""
    markers = [(s, "patch") for s in drawing.shapes if _is_patch_marker(s, drawing.shapes)]
    markers += [(s, "stroke") for s in drawing.shapes if _is_stroke_marker(s)]
    entries = []
    starts = [s.box[2] for s, _ in markers]
    for shape, marker in markers:
        words = _legend_words(shape, drawing.words, starts)
        color = shape.fill if marker == "patch" else shape.stroke
        if not words or color is None:
            continue
        name = clean_text(" ".join(w.text for w in words))
        box = _union([shape.box, *(w.bbox for w in words)])
        entries.append(LegendEntry(name, color, marker, box, tuple(words)))
    return sorted(entries, key=lambda e: (round(e.box[1] / 4), e.box[0]))


def _is_patch_marker(shape: Shape, shapes: Sequence[Shape]) -> bool:
    # Line markers (circles) in a legend are curves of many points; swatches are rects.
    if shape.fill is None or _is_white(shape.fill) or (len(shape.pts) > 6 and not shape.is_rect):
        return False
    if not (2.0 <= shape.width <= LEGEND_PATCH_MAX[0] and 2.0 <= shape.height <= LEGEND_PATCH_MAX[1]):
        return False
    # A thin stacked segment is as small, but it touches the segments above and below it.
    return not any(
        other is not shape and other.fill is not None and not _is_white(other.fill) and _touches(other.box, shape.box)
        for other in shapes
    )


def _is_stroke_marker(shape: Shape) -> bool:
    return (
        shape.stroke is not None
        and not _is_white(shape.stroke)
        and shape.fill is None
        and shape.height <= 1.5
        and LEGEND_STROKE_WIDTH[0] <= shape.width <= LEGEND_STROKE_WIDTH[1]
    )


def _legend_words(marker: Shape, words: Sequence[Word], starts: Sequence[float]) -> list[Word]:
    cy = marker.centre[1]
    row = sorted((w for w in words if w.top - 1.0 <= cy <= w.bottom + 1.0), key=lambda w: w.x0)
    first = next((w for w in row if 0.0 <= w.x0 - marker.box[2] <= LEGEND_TEXT_GAP), None)
    if first is None:
        return []
    chosen = [first]
    for w in row[row.index(first) + 1 :]:
        # The name ends at a wide gap or where the next entry's marker begins.
        if w.x0 - chosen[-1].x1 > 0.6 * max(w.size, 1.0) or any(chosen[-1].x1 < s <= w.x0 for s in starts):
            break
        chosen.append(w)
    return chosen


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Mark:
    """One data mark: a bar (segment) or a line vertex, before its label and category are known."""

    series: str
    kind: str  # "bar" or "line"
    box: BBox  # the rect; for a vertex a zero-size box at the point
    color: Color
    stacked: bool = False

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2


def read_vector_chart(page: Page, bbox: BBox, fallback_name: str = "") -> ChartReading:
    """Series, categories and values of a drawn chart in ``bbox``, each label checked on the geometry.

    ``fallback_name`` names the series of a chart that has no legend entry for it (a pie's one series,
    a single-series bar chart).
    """
    drawing = read_drawing(page, bbox)
    legend = find_legend(drawing)
    slices = find_pie_slices(drawing, legend)
    if slices:
        return read_pie(drawing, legend, slices, fallback_name)
    return read_cartesian(drawing, legend, fallback_name)


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
    offset = _tick_offset([w for ws in ticks.values() for w in ws], frame.rules)
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
    _build_points(reading, marks, pairs, categories, calibrated, unreadable)
    reading.problems += check_against_geometry(reading.points, reading.axes)
    return reading


def _bar_marks(
    drawing: Drawing, legend: Sequence[LegendEntry], in_legend: Sequence[BBox], fallback_name: str
) -> list[Mark]:
    patches = [e for e in legend if e.marker == "patch"]
    region_area = _area(drawing.bbox)
    rects = [
        s
        for s in drawing.shapes
        if s.is_rect
        and s.fill is not None
        and not _is_white(s.fill)
        and _area(s.box) < 0.3 * region_area
        and not _inside_any(s.box, in_legend)
    ]
    marks = []
    for s in rects:
        assert s.fill is not None
        entry = next((e for e in patches if _same_color(e.color, s.fill)), None)
        if entry is None and patches:
            continue  # a coloured box the legend does not name is decoration, not data
        name = entry.name if entry else fallback_name
        marks.append(Mark(name, "bar", s.box, s.fill))
    return _mark_stacks(marks)


def _mark_stacks(bars: list[Mark]) -> list[Mark]:
    """Bars sharing a column and touching end to end are segments of one stack."""
    out = []
    for bar in bars:
        stacked = any(
            other is not bar
            and abs(other.box[0] - bar.box[0]) < 0.5
            and abs(other.box[2] - bar.box[2]) < 0.5
            and (abs(other.box[1] - bar.box[3]) < 0.8 or abs(other.box[3] - bar.box[1]) < 0.8)
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
        if s.fill is None and s.stroke is not None and len(s.pts) >= 3 and _chroma(s.stroke) > 0.25:
            if not _inside_any(s.box, in_legend) and not any(_same_color(s.stroke, c) for c in colors):
                colors.append(s.stroke)
    if len(colors) == 1:
        return [(fallback_name, colors[0])]
    return [(f"{fallback_name} ({k + 1})", c) for k, c in enumerate(colors)]


def _polyline_vertices(drawing: Drawing, color: Color, in_legend: Sequence[BBox]) -> list[Point]:
    points: dict[tuple[float, float], Point] = {}
    for s in drawing.shapes:
        if s.fill is not None or s.stroke is None or not _same_color(s.stroke, color):
            continue
        if _inside_any(s.box, in_legend):
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
        and _same_color(s.fill, color)
        and max(s.width, s.height) <= 10.0
        and not _inside_any(s.box, in_legend)
    )


@dataclass(frozen=True)
class Frame:
    x0: float
    top: float
    x1: float
    bottom: float
    rules: tuple[float, ...]  # y of horizontal rules across the plot (gridlines, the category axis)


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
        if (side == "primary" and w.x1 <= frame.x0 + 0.5) or (side == "secondary" and w.x0 >= frame.x1 - 0.5):
            out.append(w)
    return out


def _tick_offset(ticks: Sequence[Word], rules: Sequence[float]) -> float:
    """How far a tick label's box centre sits from the gridline it labels.

    The box spans the font's ascent and descent, which are unequal, so the centre is off by a constant
    for one font size. Measured on the ticks that have a gridline, it corrects those that have none
    (a secondary axis' ticks often fall between the primary's gridlines)."""
    offsets = []
    for w in ticks:
        rule = min(rules, key=lambda r: abs(r - w.cy), default=None)
        if rule is not None and abs(rule - w.cy) <= 0.6 * w.height:
            offsets.append(rule - w.cy)
    return statistics.median(offsets) if offsets else 0.0


def calibrate(
    ticks: Sequence[Word], offset: float, drawing: Drawing, frame: Frame, side: str
) -> AxisCalibration | None:
    """Least-squares value = a + b·y over the ticks, each placed at its box centre plus ``offset``.

    None when the ticks do not make a linear, upward-growing scale (a log or broken axis is not read)."""
    ys = [w.cy + offset for w in ticks]
    values = [float(w.number) for w in ticks if w.number is not None]
    if len({round(y, 1) for y in ys}) < 2 or len(set(values)) < 2:
        return None
    my, mv = statistics.fmean(ys), statistics.fmean(values)
    slope = sum((y - my) * (v - mv) for y, v in zip(ys, values, strict=True)) / sum((y - my) ** 2 for y in ys)
    intercept = mv - slope * my
    span = max(values) - min(values)
    misfit = max(abs(intercept + slope * y - v) for y, v in zip(ys, values, strict=True))
    if slope >= 0 or misfit > 0.01 * span:
        return None
    return AxisCalibration(side, intercept, slope, span, _axis_unit(ticks, drawing, frame))


def _axis_unit(ticks: Sequence[Word], drawing: Drawing, frame: Frame) -> str | None:
    """The unit printed at the head of a tick column (亿美元, %, 单位：万人): the nearest text above it."""
    x0 = min(w.x0 for w in ticks) - 10.0
    x1 = max(w.x1 for w in ticks) + 10.0
    head = min(w.top for w in ticks)
    reach = max(30.0, head - frame.top + 30.0)
    above = [
        w for w in drawing.words if w.number is None and -1.0 <= head - w.bottom <= reach and w.x1 >= x0 and w.x0 <= x1
    ]
    if not above:
        return None
    return _strip_unit(max(above, key=lambda w: w.bottom).text)


def _strip_unit(text: str) -> str:
    return re.sub(r"^单位[:：]\s*", "", text).strip("()（） ")


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
        column = next((c for c in columns if _x_overlap(_union([x.bbox for x in c]), w.bbox) > 0), None)
        if column is None:
            columns.append([w])
        else:
            column.append(w)
    cats = []
    for c in columns:
        lines = _group_rows(c)
        name = clean_text(" ".join(" ".join(w.text for w in line) for line in lines))
        box = _union([w.bbox for w in c])
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
    if word.color is not None and _chroma(word.color) > 0.25:
        if _chroma(mark.color) > 0.25 and _hue_gap(word.color, mark.color) < 0.06:
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


def measure(mark: Mark, axis: AxisCalibration) -> float:
    """The value the drawing gives a mark: a stack segment's height, a bar's far end, a vertex's height."""
    at_top, at_bottom = axis.value_at(mark.box[1]), axis.value_at(mark.box[3])
    if mark.kind == "line":
        return at_top
    if mark.stacked:
        below_zero = at_top <= 1e-9 * max(axis.span, 1.0)
        return at_bottom - at_top if below_zero else at_top - at_bottom
    return at_top if abs(at_top) >= abs(at_bottom) else at_bottom


def _point(
    mark: Mark, label: Word | None, categories: Sequence[Category], axis: AxisCalibration | None
) -> ChartPoint | None:
    category = _nearest_category(mark.cx, categories)
    if category is None:
        return None
    geometry = measure(mark, axis) if axis is not None else None
    unit = (axis.unit if axis else None) or ""
    if label is not None and label.number is not None:
        return ChartPoint(
            mark.series,
            category,
            float(label.number),
            unit,
            "label",
            label.text,
            _rounded(geometry, decimals_of(label.text) + 2),
            label.bbox,
        )
    value = _rounded(geometry, 3)
    return ChartPoint(
        mark.series,
        category,
        value if value is not None else math.nan,
        unit,
        "geometry",
        None,
        value,
        mark.box,
    )


def _nearest_category(x: float, categories: Sequence[Category]) -> str | None:
    if not categories:
        return None
    best = min(categories, key=lambda c: abs(c.x - x))
    xs = [c.x for c in categories]
    spacing = min((b - a for a, b in zip(xs, xs[1:], strict=False)), default=float("inf"))
    limit = 0.6 * spacing if math.isfinite(spacing) else float("inf")
    return best.name if abs(best.x - x) <= limit else None


def _flag_duplicates(reading: ChartReading) -> None:
    seen = Counter((p.series, p.category) for p in reading.points)
    for (series, category), n in seen.items():
        if n > 1:
            reading.problems.append(f"{series} / {category}: {n} marks in one category")


def _rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


# ---------------------------------------------------------------------------------------------- check


def label_tolerance(label_text: str | None, axis: AxisCalibration) -> float:
    """Half a unit of the label's last printed digit, or 2% of the axis span, whichever is larger."""
    decimals = decimals_of(label_text) if label_text else 0
    return max(0.5 * 10.0**-decimals, 0.02 * axis.span)


def check_against_geometry(points: Iterable[ChartPoint], axes: Mapping[str, AxisCalibration]) -> list[str]:
    """A message for every labelled point whose label and drawing disagree beyond the tolerance."""
    problems = []
    for p in points:
        axis = axes.get(p.series)
        if p.value_origin != "label" or p.geometry_value is None or axis is None:
            continue
        tolerance = label_tolerance(p.label_text, axis)
        if abs(p.value - p.geometry_value) > tolerance + 1e-9:
            problems.append(
                f"{p.series} / {p.category}: label {p.label_text} ({p.value:g}) but the drawing implies "
                f"{p.geometry_value:g} on the {axis.side} axis (tolerance {tolerance:g})"
            )
    return problems


# ---------------------------------------------------------------------------------------------- pie


@dataclass(frozen=True)
class Slice:
    color: Color
    centre: Point
    start: float  # degrees
    sweep: float  # degrees, signed by drawing direction
    box: BBox

    def contains(self, angle: float) -> bool:
        offset = (angle - self.start) % 360.0 if self.sweep >= 0 else (self.start - angle) % 360.0
        return offset <= abs(self.sweep) + 1e-6

    @property
    def middle(self) -> float:
        return self.start + self.sweep / 2


def find_pie_slices(drawing: Drawing, legend: Sequence[LegendEntry]) -> list[Slice]:
    """Filled wedges sharing one apex, in drawing order; empty when the drawing has no pie."""
    in_legend = [e.box for e in legend]
    wedges = [
        s
        for s in drawing.shapes
        if not s.is_rect
        and s.fill is not None
        and not _is_white(s.fill)
        and len(s.pts) >= 3
        and not _inside_any(s.box, in_legend)
    ]
    counts = Counter(p for s in wedges for p in {_key(pt) for pt in s.pts})
    if not counts:
        return []
    apex, n = counts.most_common(1)[0]
    if n < 2:
        return []
    slices = []
    for s in wedges:
        rim = _arc_points(s.pts, apex)
        if len(rim) >= 2 and s.fill is not None and _is_arc(rim, apex):
            slices.append(_slice(s, rim, apex))
    # Filled areas of an area chart share vertices too; only wedges cut from one circle make a pie.
    return slices if len(slices) >= 2 else []


def _is_arc(rim: Sequence[Point], apex: Point) -> bool:
    """The rim's ends lie on one circle round the apex; Bézier control points between them may stand
    a little outside it, never inside."""
    radii = [math.dist(pt, apex) for pt in rim]
    r = (radii[0] + radii[-1]) / 2
    return r > 0 and abs(radii[0] - radii[-1]) <= 0.03 * r and all(0.97 * r <= d <= 1.2 * r for d in radii)


def _key(pt: Point) -> tuple[float, float]:
    return (round(pt[0] * 2) / 2, round(pt[1] * 2) / 2)


def _arc_points(pts: Sequence[Point], apex: tuple[float, float]) -> list[Point]:
    """The wedge's rim, in path order, starting after the apex (the path may start or end there)."""
    at = [i for i, pt in enumerate(pts) if _key(pt) == apex]
    if not at:
        return []
    i = at[0]
    ordered = [*pts[i + 1 :], *pts[:i]]
    rim: list[Point] = []
    for pt in ordered:
        if _key(pt) != apex and (not rim or _key(rim[-1]) != _key(pt)):
            rim.append(pt)
    return rim


def _slice(shape: Shape, rim: Sequence[Point], apex: tuple[float, float]) -> Slice:
    angles = [_angle(pt, apex) for pt in rim]
    sweep = sum(((b - a + 180.0) % 360.0) - 180.0 for a, b in zip(angles, angles[1:], strict=False))
    assert shape.fill is not None
    return Slice(shape.fill, apex, angles[0], sweep, shape.box)


def _angle(pt: Point, centre: Point) -> float:
    # y grows downward on the page; flip it so angles run the usual way round.
    return math.degrees(math.atan2(centre[1] - pt[1], pt[0] - centre[0])) % 360.0


def read_pie(
    drawing: Drawing, legend: Sequence[LegendEntry], slices: Sequence[Slice], fallback_name: str
) -> ChartReading:
    """A pie: categories from the legend (by colour), values from the labels in or beside each slice,
    checked against each slice's share of the full turn."""
    reading = ChartReading()
    turn = sum(abs(sl.sweep) for sl in slices)
    if abs(turn - 360.0) > 2.0:
        reading.problems.append(f"pie slices cover {turn:.1f}° of the circle, not 360°")
    legend_words = {w for e in legend for w in e.words}
    labels = [w for w in drawing.words if w not in legend_words and w.number is not None]
    owner = _assign_pie_labels(labels, slices)
    unit = next((_strip_unit(w.text) for w in drawing.words if w.text.startswith("单位")), None)
    values = [float(w.number) for w in owner.values() if w.number is not None]
    percent = (unit is not None and "%" in unit) or abs(sum(values) - 100.0) <= 1.5
    total = 100.0 if percent else sum(values)
    axis = AxisCalibration("pie", 0.0, 0.0, total, unit)
    reading.axes[fallback_name] = axis
    for k, sl in enumerate(slices):
        entry = next((e for e in legend if e.marker == "patch" and _same_color(e.color, sl.color)), None)
        category = entry.name if entry else f"slice {k + 1}"
        if entry is None:
            reading.problems.append(f"pie slice {k + 1} has no legend entry of its colour")
        geometry = abs(sl.sweep) / 360.0 * total
        word = owner.get(k)
        if word is not None and word.number is not None:
            point = ChartPoint(
                fallback_name,
                category,
                float(word.number),
                unit or "",
                "label",
                word.text,
                round(geometry, decimals_of(word.text) + 2),
                word.bbox,
            )
        else:
            point = ChartPoint(
                fallback_name,
                category,
                round(geometry, 3),
                unit or "",
                "geometry",
                None,
                round(geometry, 3),
                sl.box,
            )
        reading.points.append(point)
    order = {e.name: i for i, e in enumerate(legend)}
    reading.points.sort(key=lambda p: order.get(p.category, len(order)))
    reading.problems += check_against_geometry(reading.points, reading.axes)
    return reading


def _assign_pie_labels(labels: Sequence[Word], slices: Sequence[Slice]) -> dict[int, Word]:
    """A slice's number lies inside it or just outside on its middle radius, so at an angle within it;
    where two numbers fall in one slice the one nearer its middle is taken."""
    centre = slices[0].centre
    owner: dict[int, Word] = {}
    for w in labels:
        angle = _angle((w.cx, w.cy), centre)
        hits = [k for k, s in enumerate(slices) if s.contains(angle)]
        k = hits[0] if hits else min(range(len(slices)), key=lambda k: _angle_gap(slices[k].middle, angle))
        held = owner.get(k)
        gap = _angle_gap(slices[k].middle, angle)
        if held is None or gap < _angle_gap(slices[k].middle, _angle((held.cx, held.cy), centre)):
            owner[k] = w
    return owner


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


# ---------------------------------------------------------------------------------------------- helpers


def _rgb(value: Any) -> Color | None:
    """A pdfminer colour (gray, RGB or CMYK components) as RGB; None for patterns and the unknown."""
    if value is None or isinstance(value, str):
        return None
    comps = value if isinstance(value, list | tuple) else (value,)
    try:
        c = [float(v) for v in comps]
    except (TypeError, ValueError):
        return None
    if len(c) == 1:
        return (c[0], c[0], c[0])
    if len(c) == 3:
        return (c[0], c[1], c[2])
    if len(c) == 4:
        k = 1.0 - c[3]
        return ((1.0 - c[0]) * k, (1.0 - c[1]) * k, (1.0 - c[2]) * k)
    return None


def _fill(obj: dict[str, Any]) -> Color | None:
    return _rgb(obj.get("non_stroking_color")) if obj.get("fill") else _rgb(obj.get("stroking_color"))


def _is_white(color: Color | None) -> bool:
    return color is not None and min(color) >= 0.97


def _same_color(a: Color, b: Color, tolerance: float = 0.02) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= tolerance


def _chroma(color: Color) -> float:
    return colorsys.rgb_to_hsv(*color)[1]


def _hue_gap(a: Color, b: Color) -> float:
    gap = abs(colorsys.rgb_to_hsv(*a)[0] - colorsys.rgb_to_hsv(*b)[0])
    return min(gap, 1.0 - gap)


def _obj_box(obj: dict[str, Any]) -> BBox:
    return (float(obj["x0"]), float(obj["top"]), float(obj["x1"]), float(obj["bottom"]))


def _area(box: BBox) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _overlap_area(a: BBox, b: BBox) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _x_overlap(a: BBox, b: BBox) -> float:
    return min(a[2], b[2]) - max(a[0], b[0])


def _contains(outer: BBox, inner: BBox, slack: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def _inside_any(box: BBox, boxes: Sequence[BBox]) -> bool:
    return any(_contains(b, box) for b in boxes)


def _touches(a: BBox, b: BBox, slack: float = 0.8) -> bool:
    return a[0] <= b[2] + slack and b[0] <= a[2] + slack and a[1] <= b[3] + slack and b[1] <= a[3] + slack


def _union(boxes: Sequence[BBox]) -> BBox:
    x0s, tops, x1s, bottoms = zip(*boxes, strict=True)
    return (min(x0s), min(tops), max(x1s), max(bottoms))


def _clamp(bbox: BBox, page: Page) -> BBox:
    return (
        max(bbox[0], float(page.bbox[0])),
        max(bbox[1], float(page.bbox[1])),
        min(bbox[2], float(page.bbox[2])),
        min(bbox[3], float(page.bbox[3])),
    )
