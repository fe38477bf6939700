"""What a chart's drawing implies: y axes calibrated from their tick labels, the value each mark
measures on its axis, and the check of every printed label against it."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from extractors.chart_drawing import Drawing, Mark, Word
from extractors.layout import BBox
from extractors.model import ChartPoint, FlaggedPoint
from extractors.numbers import decimals_of

# How many pixels a mark's edge or centre may be off in a traced image: anti-aliasing blurs an edge
# over one, a stack's white separators take half of one from each segment.
MARK_PIXELS = 2.5


@dataclass(frozen=True)
class AxisCalibration:
    """value = intercept + slope · y (PDF points, y downward), fitted on one axis' tick labels."""

    side: str  # "primary" (left), "secondary" (right) or "pie"
    intercept: float
    slope: float
    span: float  # the value range the ticks cover (a pie's: its total)
    unit: str | None = None
    # ± how far a mark's value can be told from a traced image's pixels; None for a drawing read from
    # its objects, whose geometry is exact.
    precision: float | None = None

    def value_at(self, y: float) -> float:
        return self.intercept + self.slope * y


@dataclass
class ChartReading:
    """What a drawn chart says: its points, the axis each series was measured on, and what disagrees."""

    points: list[ChartPoint] = field(default_factory=list)
    axes: dict[str, AxisCalibration] = field(default_factory=dict)  # series name → its axis
    problems: list[str] = field(default_factory=list)
    flagged: list[FlaggedPoint] = field(default_factory=list)  # read, but not proved (chart_proof)
    stacked: set[str] = field(default_factory=set)  # series drawn as stack segments


@dataclass(frozen=True)
class Frame:
    x0: float
    top: float
    x1: float
    bottom: float
    rules: tuple[float, ...]  # y of horizontal rules across the plot (gridlines, the category axis)


def tick_offset(ticks: Sequence[Word], rules: Sequence[float]) -> float:
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
    """Least-squares value = a + b·y over the ticks, each placed at its box centre plus ``offset``
    (in a traced image, at the gridline it labels when there is one: OCR boxes are a pixel or two off).

    None when the ticks do not make a linear, upward-growing scale (a log or broken axis is not read)."""
    ys = [_tick_y(w, offset, frame, drawing) for w in ticks]
    values = [float(w.number) for w in ticks if w.number is not None]
    if len({round(y, 1) for y in ys}) < 2 or len(set(values)) < 2:
        return None
    my, mv = statistics.fmean(ys), statistics.fmean(values)
    slope = sum((y - my) * (v - mv) for y, v in zip(ys, values, strict=True)) / sum((y - my) ** 2 for y in ys)
    intercept = mv - slope * my
    span = max(values) - min(values)
    misfit = max(abs(intercept + slope * y - v) for y, v in zip(ys, values, strict=True))
    if slope >= 0 or misfit > max(0.01 * span, 1.5 * drawing.pixel * abs(slope)):
        return None
    precision = abs(slope) * MARK_PIXELS * drawing.pixel + misfit if drawing.pixel else None
    return AxisCalibration(side, intercept, slope, span, _axis_unit(ticks, drawing, frame), precision)


def _tick_y(word: Word, offset: float, frame: Frame, drawing: Drawing) -> float:
    y = word.cy + offset
    if not drawing.pixel:
        return y
    rule = min(frame.rules, key=lambda r: abs(r - y), default=None)
    return rule if rule is not None and abs(rule - y) <= max(0.4 * word.height, 2 * drawing.pixel) else y


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
    return strip_unit(max(above, key=lambda w: w.bottom).text)


def strip_unit(text: str) -> str:
    return re.sub(r"^单位[:：]\s*", "", text).strip("()（） ")


def measure(mark: Mark, axis: AxisCalibration) -> float:
    """The value the drawing gives a mark: a stack segment's height, a bar's far end, a vertex's height."""
    at_top, at_bottom = axis.value_at(mark.box[1]), axis.value_at(mark.box[3])
    if mark.kind == "line":
        return at_top
    if mark.stacked:
        below_zero = at_top <= 1e-9 * max(axis.span, 1.0)
        return at_bottom - at_top if below_zero else at_top - at_bottom
    return at_top if abs(at_top) >= abs(at_bottom) else at_bottom


def chart_point(
    series: str,
    category: str,
    label: Word | None,
    unit: str,
    geometry: float | None,
    box: BBox,
    precision: float | None = None,
) -> ChartPoint:
    """The point a label gives, with the drawing's value beside it; without a number printed, the point
    the drawing gives (NaN when there is no axis to measure on), placed at the mark's ``box`` and
    rounded to what the drawing can tell (``precision``, for a traced image)."""
    if label is not None and label.number is not None:
        return ChartPoint(
            series,
            category,
            float(label.number),
            unit,
            "label",
            label.text,
            _rounded(geometry, decimals_of(label.text) + 2),
            label.bbox,
            mark_bbox=box,
            confidence=label.confidence,
            precision=precision,
        )
    digits = 3 if not precision else max(0, -math.floor(math.log10(precision)))
    value = _rounded(geometry, digits)
    return ChartPoint(
        series,
        category,
        value if value is not None else math.nan,
        unit,
        "geometry",
        None,
        value,
        box,
        mark_bbox=box,
        precision=precision,
    )


def _rounded(value: float | None, decimals: int) -> float | None:
    # A plain float: numpy's would not survive a round trip through JSON (the chart cache) unchanged.
    return None if value is None else round(float(value), decimals)


def label_tolerance(label_text: str | None, axis: AxisCalibration) -> float:
    """Half a unit of the label's last printed digit, or what the drawing can tell, whichever is
    larger: 2% of the axis span for a drawing's objects, the axis' pixel precision for a traced image."""
    decimals = decimals_of(label_text) if label_text else 0
    drawn = 0.02 * axis.span if axis.precision is None else axis.precision
    return max(0.5 * 10.0**-decimals, drawn)


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
