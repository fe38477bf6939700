"""A drawn chart's legend: each swatch or short stroke with the series name printed to its right."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from extractors.chart_drawing import Color, Drawing, Shape, Word, is_white, touches, union
from extractors.layout import BBox, clean_text

# A legend marker is a small swatch or a short stroke with its name starting just to its right.
LEGEND_PATCH_MAX = (20.0, 12.0)
LEGEND_STROKE_WIDTH = (5.0, 40.0)
LEGEND_TEXT_GAP = 10.0


@dataclass(frozen=True)
class LegendEntry:
    name: str
    color: Color
    marker: str  # "patch" (bars, slices) or "stroke" (lines)
    box: BBox  # marker and text
    words: tuple[Word, ...]


def find_legend(drawing: Drawing) -> list[LegendEntry]:
    """Legend entries in reading order: a swatch or short stroke, then its name to the right."""
    markers = [(s, "patch") for s in drawing.shapes if _is_patch_marker(s, drawing.shapes, drawing.slack(0.8, 4.0))]
    markers += [(s, "stroke") for s in drawing.shapes if _is_stroke_marker(s)]
    entries = []
    starts = [s.box[2] for s, _ in markers]
    for shape, marker in markers:
        words = _legend_words(shape, drawing.words, starts, drawing.slack(0.0, 2.0))
        color = shape.fill if marker == "patch" else shape.stroke
        if not words or color is None:
            continue
        name = clean_text(" ".join(w.text for w in words))
        box = union([shape.box, *(w.bbox for w in words)])
        entries.append(LegendEntry(name, color, marker, box, tuple(words)))
    return sorted(entries, key=lambda e: (round(e.box[1] / 4), e.box[0]))


def _is_patch_marker(shape: Shape, shapes: Sequence[Shape], slack: float) -> bool:
    # Line markers (circles) in a legend are curves of many points; swatches are rects.
    if shape.fill is None or is_white(shape.fill) or (len(shape.pts) > 6 and not shape.is_rect):
        return False
    if not (2.0 <= shape.width <= LEGEND_PATCH_MAX[0] and 2.0 <= shape.height <= LEGEND_PATCH_MAX[1]):
        return False
    # A thin stacked segment is as small, but it touches the segments above and below it.
    return not any(
        other is not shape
        and other.fill is not None
        and not is_white(other.fill)
        and touches(other.box, shape.box, slack)
        for other in shapes
    )


def _is_stroke_marker(shape: Shape) -> bool:
    return (
        shape.stroke is not None
        and not is_white(shape.stroke)
        and shape.fill is None
        and shape.height <= 1.5
        and LEGEND_STROKE_WIDTH[0] <= shape.width <= LEGEND_STROKE_WIDTH[1]
    )


def _legend_words(marker: Shape, words: Sequence[Word], starts: Sequence[float], overlap: float) -> list[Word]:
    cy = marker.centre[1]
    row = sorted((w for w in words if w.top - 1.0 <= cy <= w.bottom + 1.0), key=lambda w: w.x0)
    first = next((w for w in row if -overlap <= w.x0 - marker.box[2] <= LEGEND_TEXT_GAP), None)
    if first is None:
        return []
    chosen = [first]
    for w in row[row.index(first) + 1 :]:
        # The name ends at a wide gap or where the next entry's marker begins.
        if w.x0 - chosen[-1].x1 > 0.6 * max(w.size, 1.0) or any(chosen[-1].x1 < s <= w.x0 for s in starts):
            break
        chosen.append(w)
    return chosen
