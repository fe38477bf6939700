"""Where a caption's figure is on its page: below the caption down to the 数据来源 line, or above a
caption printed under its chart, decided by where the graphics are and by the document's habit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pdfplumber.page import Page

from extractors.chart_drawing import obj_box
from extractors.layout import BBox, TextLine

SOURCE_PREFIX = "数据来源"
# Objects of one chart are rarely further apart than this (plot to legend is the widest gap); captions
# and body text sit further off.
CLUSTER_GAP = 30.0
# How far a region keeps off the caption and the note line (glyphs overshoot their boxes by about this).
EDGE_PAD = 3.0
# The text-line count `between` of a side that holds no graphic at all.
NO_GRAPHIC = 1 << 30


@dataclass(frozen=True)
class Region:
    bbox: BBox | None
    source: TextLine | None
    problems: tuple[str, ...] = ()


def page_graphics(page: Page) -> list[BBox]:
    """Boxes of the page's images and drawings, without furniture that runs off the page edge."""
    height = float(page.height)
    boxes = []
    for obj in [*page.images, *page.rects, *page.curves, *page.lines]:
        box = obj_box(obj)
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
