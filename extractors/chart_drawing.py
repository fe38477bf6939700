"""A drawn chart as objects: its words and shapes with their colours, the data marks made of them, and
the colour and box arithmetic the readers share."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pdfplumber.page import Page

from extractors.layout import BBox, clean_text
from extractors.numbers import parse_number

Color = tuple[float, float, float]
Point = tuple[float, float]


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    color: Color | None
    size: float
    anchor: Point | None = None  # where a slanted category name meets its axis (raster charts)
    confidence: float | None = None  # the OCR's, for a word read from pixels

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
    """A chart as words and shapes, whether read from a PDF's objects or traced from an image's pixels."""

    bbox: BBox
    words: tuple[Word, ...]
    shapes: tuple[Shape, ...]
    pixel: float = 0.0  # a traced image's pixel size in points; 0 for a drawing read from its objects

    def slack(self, points: float, pixels: float = 0.0) -> float:
        """A position tolerance: ``points`` for a drawing, at least ``pixels`` pixels for a traced image."""
        return max(points, pixels * self.pixel)


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


def read_drawing(page: Page, bbox: BBox) -> Drawing:
    region = page.crop(clamp(bbox, page))
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
        obj_box(obj),
        _rgb(obj.get("non_stroking_color")) if obj.get("fill") else None,
        _rgb(obj.get("stroking_color")) if obj.get("stroke") else None,
        pts,
        is_rect,
    )


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


def fill_color(obj: dict[str, Any]) -> Color | None:
    return _rgb(obj.get("non_stroking_color")) if obj.get("fill") else _rgb(obj.get("stroking_color"))


def is_white(color: Color | None) -> bool:
    return color is not None and min(color) >= 0.97


def same_color(a: Color, b: Color, tolerance: float = 0.02) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= tolerance


def chroma(color: Color) -> float:
    return colorsys.rgb_to_hsv(*color)[1]


def hue_gap(a: Color, b: Color) -> float:
    gap = abs(colorsys.rgb_to_hsv(*a)[0] - colorsys.rgb_to_hsv(*b)[0])
    return min(gap, 1.0 - gap)


def obj_box(obj: dict[str, Any]) -> BBox:
    return (float(obj["x0"]), float(obj["top"]), float(obj["x1"]), float(obj["bottom"]))


def area(box: BBox) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def overlap_area(a: BBox, b: BBox) -> float:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def x_overlap(a: BBox, b: BBox) -> float:
    return min(a[2], b[2]) - max(a[0], b[0])


def contains(outer: BBox, inner: BBox, slack: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def inside_any(box: BBox, boxes: Sequence[BBox]) -> bool:
    return any(contains(b, box) for b in boxes)


def touches(a: BBox, b: BBox, slack: float = 0.8) -> bool:
    return a[0] <= b[2] + slack and b[0] <= a[2] + slack and a[1] <= b[3] + slack and b[1] <= a[3] + slack


def union(boxes: Sequence[BBox]) -> BBox:
    x0s, tops, x1s, bottoms = zip(*boxes, strict=True)
    return (min(x0s), min(tops), max(x1s), max(bottoms))


def clamp(bbox: BBox, page: Page) -> BBox:
    return (
        max(bbox[0], float(page.bbox[0])),
        max(bbox[1], float(page.bbox[1])),
        min(bbox[2], float(page.bbox[2])),
        min(bbox[3], float(page.bbox[3])),
    )
