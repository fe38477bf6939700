"""Reading a drawn pie: filled wedges round one apex, named by legend colour, valued by the number in
or beside each slice and checked against the slice's share of the full turn."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from extractors.chart_drawing import Color, Drawing, Point, Shape, Word, inside_any, is_white, same_color
from extractors.chart_geometry import (
    MARK_PIXELS,
    AxisCalibration,
    ChartReading,
    chart_point,
    check_against_geometry,
    strip_unit,
)
from extractors.chart_legend import LegendEntry
from extractors.layout import BBox
from extractors.model import ChartPoint, FlaggedPoint


@dataclass(frozen=True)
class Slice:
    color: Color
    centre: Point
    start: float  # degrees
    sweep: float  # degrees, signed by drawing direction
    box: BBox
    radius: float = 0.0

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
        and not is_white(s.fill)
        and len(s.pts) >= 3
        and not inside_any(s.box, in_legend)
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
    return Slice(shape.fill, apex, angles[0], sweep, shape.box, math.dist(rim[0], apex))


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
    unit = next((strip_unit(w.text) for w in drawing.words if w.text.startswith("单位")), None)
    values = [float(w.number) for w in owner.values() if w.number is not None]
    percent = (unit is not None and "%" in unit) or abs(sum(values) - 100.0) <= 1.5
    total = 100.0 if percent else sum(values)
    # A traced pie's edges are good to a pixel or two at its rim: that much of the turn, at most.
    radius = max((sl.radius for sl in slices), default=0.0)
    precision = None
    if drawing.pixel and radius > 0:
        precision = total * math.degrees(MARK_PIXELS * drawing.pixel / radius) / 360.0
    axis = AxisCalibration("pie", 0.0, 0.0, total, unit, precision)
    reading.axes[fallback_name] = axis
    for k, sl in enumerate(slices):
        entry = next((e for e in legend if e.marker == "patch" and same_color(e.color, sl.color)), None)
        category = entry.name if entry else f"slice {k + 1}"
        if entry is None:
            reading.problems.append(f"pie slice {k + 1} has no legend entry of its colour")
        geometry = abs(sl.sweep) / 360.0 * total
        reading.points.append(
            chart_point(fallback_name, category, owner.get(k), unit or "", geometry, sl.box, precision)
        )
    order = {e.name: i for i, e in enumerate(legend)}
    reading.points.sort(key=lambda p: order.get(p.category, len(order)))
    found = {p.category for p in reading.points}
    for entry in legend:
        if entry.marker == "patch" and entry.name not in found:
            # A slice the legend names but the drawing does not show apart (too thin, or merged with a
            # neighbour of a like colour): its point is withheld, not silently absent.
            point = ChartPoint(fallback_name, entry.name, math.nan, unit or "", "geometry")
            reading.flagged.append(FlaggedPoint(point, ["no slice of this legend colour found"]))
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
