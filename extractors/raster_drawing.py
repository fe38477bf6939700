"""A raster chart turned back into the objects of a drawing: the same words and shapes a vector chart
has, so one reader serves both (chart_reading, chart_pie, chart_legend).

The picture is split by colour (a palette found from the pixels themselves), then each colour's
connected regions are classified by shape: filled rectangles (bars, stack segments, legend swatches),
long thin horizontal runs (gridlines, the category axis), strokes with round markers (line series and
their legend handles), and a disc cut into sectors (a pie). Text comes from OCR, with each box pulled
in to its ink so that it sits where a text layer's glyph box would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from extractors.chart_drawing import Color, Drawing, Shape, Word
from extractors.layout import clean_text
from extractors.ocr import OcrText
from extractors.raster_image import RegionImage

# Colours within this distance (0-255 RGB, Euclidean) are one ink; JPEG noise and anti-aliasing stay
# inside it, while the lightest palettes' neighbouring steps stay outside.
MERGE_DISTANCE = 26.0
# A pixel further than this from every palette colour is a blend of two and belongs to neither.
ASSIGN_DISTANCE = 40.0
# A colour this close to the blend of an ink with the ground, most of whose pixels touch that ink,
# is the ink's anti-aliased edge.
TINT_RESIDUAL = 18.0
TINT_ADJACENT = 0.6
# A colour most of whose pixels lie inside OCR text boxes is a text colour, not a mark's.
TEXT_SHARE = 0.6
# Glyphs cover at most this share of their boxes.
TEXT_COVER = 0.45
# A pixel this close to an ink is that ink itself, not a blend of it with a neighbour.
PURE_DISTANCE = 12.0
# A one-pixel row of an ink at least this long (points) is a segment, not a stray blend.
THIN_RUN = 4.0
# A pie's sector narrower than this (degrees) in a blend of its neighbour's colour lies along a separator.
SECTOR_BLEND_MAX = 3.0
# No glyph of a chart's text is this large (points); any region this large is a mark.
GLYPH_MAX = 20.0
# A region filling this share of its box (holes for labels filled) is a rectangle.
RECT_FILL = 0.86
# Round markers on a stroke are at least this many times the stroke's half-width across.
MARKER_RATIO = 1.55
# A gridline covers at least this share of the image width, in a grey no more saturated than this.
RULE_COVER = 0.3
RULE_CHROMA = 0.15
RULE = -2  # the label of pixels on a rule


@dataclass(frozen=True)
class Palette:
    colors: np.ndarray  # K×3 float, 0-255
    background: int  # index of the background colour
    labels: np.ndarray  # H×W int: palette index per pixel, -1 for blends


@dataclass(frozen=True)
class Region:
    """One connected region of one ink (after the anti-aliased fringe is opened away)."""

    ink: int  # palette index
    box: tuple[int, int, int, int]  # pixel edges x0, y0, x1, y1
    mask: np.ndarray  # the region within its box
    solid: np.ndarray  # the same with its holes (labels printed inside) filled
    thin: bool = False  # a one-pixel row of pure ink, kept only where it caps or underlies a stack

    @property
    def fill(self) -> float:
        return float(self.solid.sum()) / self.solid.size

    @property
    def is_rect(self) -> bool:
        return self.fill >= RECT_FILL


@dataclass(frozen=True)
class Trace:
    """A raster chart split into inks, with its rules (gridlines, axes) and its regions of one ink."""

    image: RegionImage
    palette: Palette  # labels carry RULE on the rules' pixels
    rules: tuple[Shape, ...]
    regions: tuple[Region, ...]

    def for_ocr(self) -> np.ndarray:
        """The picture as the text detector should see it: only the text. Gridlines go (a rule struck
        through a label hides it), and so do the marks (a label sitting on a bar's top is lost in the
        bar's edge, a line drawn across a label eats its digits, a round marker reads as "0"); text
        printed inside a mark is kept, dark on the ground."""
        ground = self.palette.colors[self.palette.background]
        clean = self.image.pixels.copy()
        clean[self.palette.labels == RULE] = np.round(ground).astype(np.uint8)
        marks = [r for r in self.regions if self._is_mark(r)]
        # Fringes first, interiors after: a fringe may reach into another mark's printed label.
        for region in marks:
            self._erase_fringe(clean, region, ground, self.palette.colors[region.ink])
        for region in marks:
            x0, y0, x1, y1 = region.box
            fill = self.palette.colors[region.ink]
            crop = self.image.pixels[y0:y1, x0:x1].astype(np.float64)
            # How far each pixel is from the fill, as a share of the contrast a glyph on it would have.
            contrast = max(float(np.linalg.norm(ground - fill)), 60.0)
            away = np.clip(np.linalg.norm(crop - fill, axis=2) / contrast, 0.0, 1.0)
            ink = np.round(ground[None, None, :] * (1.0 - away[:, :, None]) + 40.0 * away[:, :, None])
            view = clean[y0:y1, x0:x1]
            view[region.solid] = ink[region.solid].astype(np.uint8)
        return clean

    def _erase_fringe(self, clean: np.ndarray, region: Region, ground: np.ndarray, fill: np.ndarray) -> None:
        """The blended edge just outside a mark goes too (a hollow ring reads as "0"); glyphs beside the
        mark are no blend of the mark with the ground, and stay."""
        pad = 3
        h, w = clean.shape[:2]
        x0, y0, x1, y1 = region.box
        ex0, ey0, ex1, ey1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad, h)
        solid = np.zeros((ey1 - ey0, ex1 - ex0), np.uint8)
        solid[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = region.solid
        ring = cv2.dilate(solid, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)).astype(bool) & ~solid.astype(bool)
        crop = self.image.pixels[ey0:ey1, ex0:ex1].astype(np.float64)
        axis = fill - ground
        alpha = (crop - ground) @ axis / max(float(axis @ axis), 1e-9)
        residual = np.linalg.norm(crop - (ground + np.clip(alpha, 0.0, 1.0)[:, :, None] * axis), axis=2)
        # Lighter than the fill, on the way to the ground: a darker pixel is a glyph's, even in the
        # fill's own hue (a line's labels are printed in a darker shade of the line).
        blend = ring & (residual <= 2 * TINT_RESIDUAL) & (alpha <= 0.95)
        clean[ey0:ey1, ex0:ex1][blend] = np.round(ground).astype(np.uint8)

    def _is_mark(self, region: Region) -> bool:
        """Bigger than any glyph, or a filled box too thick to be a glyph's stroke."""
        x0, y0, x1, y1 = region.box
        w, h = (x1 - x0) * self.image.pixel, (y1 - y0) * self.image.pixel
        return max(w, h) >= GLYPH_MAX or (region.is_rect and min(w, h) >= 1.2 and max(w, h) >= 6.0)


def trace(image: RegionImage) -> Trace:
    palette = find_palette(image.pixels)
    # Gridlines and axes first: their grey is often the grey of anti-aliased text, and a bar's colour
    # may run into a gridline; their pixels are then no one else's.
    shapes, on_rules = _rules(palette, image)
    labels = np.where(on_rules, RULE, palette.labels)
    palette = Palette(palette.colors, palette.background, labels)
    regions = tuple(
        r
        for k in range(len(palette.colors))
        if k != palette.background
        for r in _components(labels == k, k, image, palette.colors[k])
    )
    return Trace(image, palette, tuple(shapes), regions)


def raster_drawing(traced: Trace, texts: Sequence[OcrText]) -> Drawing:
    """The drawing a raster chart shows: OCR'd words and the shapes its colours make."""
    image, palette = traced.image, traced.palette
    labels = palette.labels
    shapes = list(traced.rules)
    text_boxes = [_px_box(t.box, labels.shape, pad=1) for t in texts]
    text_colors = _text_colors(palette, text_boxes)
    words = tuple(
        w for t, box in zip(texts, text_boxes, strict=True) for w in _words(t, box, image, palette, text_colors)
    )
    fills = [k for k in range(len(palette.colors)) if k != palette.background and k not in text_colors]
    disc = _pie(labels, fills, image, palette)
    taken = np.zeros(labels.shape, bool)
    if disc is not None:
        wedges, covered = disc
        shapes += wedges
        taken |= covered
    stacks = [r for r in traced.regions if r.is_rect and not r.thin and r.ink not in text_colors]
    for region in traced.regions:
        if region.ink in text_colors or _in_text(region.box, text_boxes):
            continue
        if region.thin and not _caps_a_stack(region, stacks, image.pixel):
            continue
        x0, y0, x1, y1 = region.box
        if taken[y0:y1, x0:x1][region.mask].mean() > 0.5:
            continue
        shapes += _shapes(region, image, _color(palette.colors[region.ink]), words)
    return Drawing(image.bbox, words, tuple(_close_stack_gaps(shapes, image.pixel)), pixel=image.pixel)


def _caps_a_stack(thin: Region, stacks: Sequence[Region], pixel: float) -> bool:
    """A thin row of an ink is a stack segment when it lies on or under a bar of another ink, across
    its whole width, parted from it by a separator; its ink fills rectangles elsewhere
    (its legend swatch at least: a blend of two inks never does), and no bar of its own ink touches
    it (then it is that bar's edge)."""
    x0, y0, x1, y1 = thin.box
    reach = max(2, int(round(1.2 / pixel)))

    def gap(r: Region) -> int | None:
        """Pixels between ``thin`` and a bar in its column, above (negative) or below; None if not near."""
        if abs(r.box[0] - x0) > 2 or abs(r.box[2] - x1) > 2:
            return None
        if 0 <= y0 - r.box[3] <= reach:
            return -(y0 - r.box[3])
        if 0 <= r.box[1] - y1 <= reach:
            return r.box[1] - y1
        return None

    if not any(r.ink == thin.ink for r in stacks) or any(r.ink == thin.ink and gap(r) is not None for r in stacks):
        return False  # its ink fills no bar anywhere (a blend), or it is the edge of a bar of its own ink
    gaps = [g for r in stacks if r.ink != thin.ink and (g := gap(r)) is not None]
    above, below = [g for g in gaps if g <= 0], [g for g in gaps if g >= 0]
    # Between two segments, a one-pixel row is the white separator blended with them, whatever colour
    # that blend happens to take; a cap (or foot) is parted from its stack by a separator of its own.
    if above and below:
        return False
    return any(abs(g) >= 1 for g in gaps)


def _close_stack_gaps(shapes: list[Shape], pixel: float) -> list[Shape]:
    """Stacked segments drawn with a white separator: each reaches to the middle of the separator,
    where the drawing put the boundary between them."""
    rects = sorted(
        (i for i, s in enumerate(shapes) if s.is_rect and s.fill is not None), key=lambda i: shapes[i].box[1]
    )
    boxes = {i: list(shapes[i].box) for i in rects}
    for a in rects:
        for b in rects:
            ba, bb = boxes[a], boxes[b]
            if a == b or abs(ba[0] - bb[0]) > 2 * pixel or abs(ba[2] - bb[2]) > 2 * pixel:
                continue
            gap = bb[1] - ba[3]
            if 0 < gap <= 4 * pixel:
                middle = (ba[3] + bb[1]) / 2
                ba[3] = bb[1] = middle
    out = list(shapes)
    for i, box in boxes.items():
        x0, top, x1, bottom = box
        out[i] = Shape((x0, top, x1, bottom), shapes[i].fill, None, ((x0, top), (x1, bottom)), True)
    return out


# ---------------------------------------------------------------- colours


def find_palette(pixels: np.ndarray) -> Palette:
    """The inks of the picture: frequent colours, near neighbours merged, every pixel given its nearest
    (or none, when it is a blend between two)."""
    q = (pixels >> 3).astype(np.int32)
    codes = (q[:, :, 0] << 10) | (q[:, :, 1] << 5) | q[:, :, 2]
    counts = np.bincount(codes.ravel(), minlength=1 << 15)
    sums = np.stack(
        [np.bincount(codes.ravel(), weights=pixels[:, :, c].ravel(), minlength=1 << 15) for c in range(3)], 1
    )
    order = np.argsort(-counts)
    minimum = max(12, int(2e-4 * codes.size))
    # An ink of few pixels (the labels of one line) spreads over several quantised codes, none of them
    # frequent: codes are merged first and the merged inks thresholded after.
    centres: list[np.ndarray] = []
    weights: list[float] = []
    for code in order[:6000]:
        n = counts[code]
        if n < 4:
            break
        colour = sums[code] / n
        if centres:
            d = np.linalg.norm(np.array(centres) - colour, axis=1)
            j = int(np.argmin(d))
            if d[j] <= MERGE_DISTANCE:
                total = weights[j] + n
                centres[j] = (centres[j] * weights[j] + colour * n) / total
                weights[j] = total
                continue
        centres.append(colour)
        weights.append(float(n))
    kept = [i for i, w in enumerate(weights) if w >= minimum]
    centres = [centres[i] for i in kept]
    weights = [weights[i] for i in kept]
    colors = np.array(centres) if centres else np.array([[255.0, 255.0, 255.0]])
    background = int(np.argmax(weights)) if weights else 0
    # Nearest palette colour for every quantised code, then for every pixel through that table.
    grid = (np.arange(1 << 15)[:, None] >> np.array([10, 5, 0])[None, :] & 31) * 8 + 4
    d = np.linalg.norm(grid[:, None, :] - colors[None, :, :], axis=2)
    nearest = np.argmin(d, axis=1)
    nearest[d[np.arange(len(d)), nearest] > ASSIGN_DISTANCE] = -1
    labels = nearest[codes]
    labels = _fold_tints(labels, colors, background, pixels)
    return Palette(colors, background, labels)


def _fold_tints(labels: np.ndarray, colors: np.ndarray, background: int, pixels: np.ndarray) -> np.ndarray:
    """Anti-aliased edges are blends of an ink with the ground, frequent enough along a long edge to
    look like inks of their own. A colour on the line from the ground to another ink, whose pixels hug
    that ink, is its edge: each of its pixels goes to the ink when more than half covered by it, else
    to the ground. Edges then sit where the drawing put them, and thin strokes keep their width."""
    bg = colors[background]
    out = labels.copy()
    masks = {k: labels == k for k in range(len(colors))}
    counts = {k: int(m.sum()) for k, m in masks.items()}
    near: dict[int, np.ndarray] = {}
    for t in range(len(colors)):
        if t == background or counts[t] == 0:
            continue
        best = None
        for k in range(len(colors)):
            if k in (t, background) or counts[k] == 0:
                continue
            axis = colors[k] - bg
            alpha = float((colors[t] - bg) @ axis / max(axis @ axis, 1e-9))
            residual = float(np.linalg.norm(colors[t] - (bg + alpha * axis)))
            if 0.05 < alpha < 0.95 and residual <= TINT_RESIDUAL and (best is None or residual < best[0]):
                best = (residual, k)
        if best is None:
            continue
        k = best[1]
        if k not in near:
            near[k] = cv2.dilate(masks[k].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if (masks[t] & near[k]).sum() < TINT_ADJACENT * counts[t]:
            continue
        ys, xs = np.nonzero(masks[t])
        axis = colors[k] - bg
        alpha = (pixels[ys, xs].astype(np.float64) - bg) @ axis / max(float(axis @ axis), 1e-9)
        out[ys, xs] = np.where(alpha >= 0.5, k, background)
    return out


def _text_colors(palette: Palette, boxes: Sequence[tuple[int, int, int, int]]) -> set[int]:
    """Colours drawn as glyphs: most of their pixels inside text boxes, covering only a thin share of
    the boxes they appear in (a label's ground, such as the bar it is printed on, fills its box)."""
    inside = np.zeros(palette.labels.shape, bool)
    for x0, y0, x1, y1 in boxes:
        inside[y0:y1, x0:x1] = True
    out = set()
    for k in range(len(palette.colors)):
        if k == palette.background:
            continue
        mask = palette.labels == k
        total = int(mask.sum())
        within = int((mask & inside).sum())
        if not total or within < TEXT_SHARE * total:
            continue
        hits = [(int(mask[y0:y1, x0:x1].sum()), (x1 - x0) * (y1 - y0)) for x0, y0, x1, y1 in boxes]
        hits = [(n, a) for n, a in hits if n]
        if sum(n for n, _ in hits) <= TEXT_COVER * sum(a for _, a in hits):
            out.add(k)
    return out


def _chroma(rgb: np.ndarray) -> float:
    high, low = float(rgb.max()), float(rgb.min())
    return (high - low) / high if high > 0 else 0.0


def _color(rgb: np.ndarray) -> Color:
    return (float(rgb[0]) / 255.0, float(rgb[1]) / 255.0, float(rgb[2]) / 255.0)


# ---------------------------------------------------------------- words


def _px_box(box: tuple[float, float, float, float], shape: tuple[int, ...], pad: int = 0) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    return (
        max(int(math.floor(x0)) - pad, 0),
        max(int(math.floor(y0)) - pad, 0),
        min(int(math.ceil(x1)) + pad, w),
        min(int(math.ceil(y1)) + pad, h),
    )


def _words(
    text: OcrText, box: tuple[int, int, int, int], image: RegionImage, palette: Palette, text_colors: set[int]
) -> list[Word]:
    """A Word per token of an OCR line, its box shrunk to the ink; numbers set apart by spaces are
    separate labels that the detector ran together."""
    ink = _ink(box, image.pixels, palette, text_colors)
    if ink is None:
        return []
    (x0, y0, x1, y1), color = ink
    tokens = [t for t in re.split(r"\s+", text.text.strip()) if t]
    angle = text.angle
    if len(tokens) > 1 and all(_numeric(t) for t in tokens) and abs(angle) < 10:
        return _split(tokens, (x0, y0, x1, y1), image, color, text)
    return [_word(clean_text(text.text), (x0, y0, x1, y1), image, color, angle, text)]


def _word(
    text: str,
    px: tuple[float, float, float, float],
    image: RegionImage,
    color: Color | None,
    angle: float = 0.0,
    source: OcrText | None = None,
) -> Word:
    x0, top, x1, bottom = image.to_pt(px)
    horizontal = abs(angle) < 10
    size = (bottom - top) * 1.35 if horizontal else (x1 - x0) * 1.35
    anchor = None
    if not horizontal and source is not None:
        # Where a slanted name meets the axis: its end nearest the plot (the top end of its box).
        top_end = min(source.quad, key=lambda p: p[1])
        anchor = image.point_to_pt(*top_end)
    confidence = source.score if source is not None else None
    return Word(text, x0, top, x1, bottom, color, size, anchor=anchor, confidence=confidence)


def _numeric(token: str) -> bool:
    return re.fullmatch(r"[-−－+]?\d[\d,]*(\.\d+)?%?", token) is not None


def _split(
    tokens: list[str], px: tuple[float, float, float, float], image: RegionImage, color: Color | None, source: OcrText
) -> list[Word]:
    x0, y0, x1, y1 = px
    gaps = len(tokens) - 1
    chars = sum(len(t) for t in tokens) + gaps
    per = (x1 - x0) / max(chars, 1)
    out, at = [], x0
    for token in tokens:
        width = per * len(token)
        out.append(_word(token, (at, y0, at + width, y1), image, color, 0.0, source))
        at += width + per
    return out


def _ink(
    box: tuple[int, int, int, int], pixels: np.ndarray, palette: Palette, text_colors: set[int]
) -> tuple[tuple[float, float, float, float], Color | None] | None:
    """The box of the glyphs inside an OCR box, and their colour: pixels that differ from the box's
    ground and are no mark's fill (a bar edge or a line crossing the box is not ink)."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return None
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    lab = palette.labels[y0:y1, x0:x1]
    values, counts = np.unique(lab, return_counts=True)
    ground_label = int(values[np.argmax(counts)])
    ground = palette.colors[ground_label] if ground_label >= 0 else np.median(crop.reshape(-1, 3), axis=0)
    dist = np.linalg.norm(crop - ground, axis=2)
    glyphs = np.isin(lab, list(text_colors))
    if ground_label == palette.background and glyphs.sum() >= 3:
        ink = glyphs  # on the page's ground: the text colours' own pixels, not a neighbour's blended edge
    else:
        # On a fill (a label inside a bar): whatever differs from it and is enclosed by it (a stack's
        # white separator crossing the box is not; the glyphs' blended edges may look like any ink).
        ground_mask = lab == ground_label
        enclosed = _solid(ground_mask) & ~ground_mask
        ink = (dist > 60) & (lab != RULE) & enclosed
    if ink.sum() < 3:
        return None
    ink = _main_body(ink)
    rows = np.flatnonzero(ink.sum(axis=1) >= 1)
    cols = np.flatnonzero(ink.sum(axis=0) >= 1)
    if rows.size == 0 or cols.size == 0:
        return None
    core = ink & (dist > 0.7 * dist[ink].max())
    color = _color(crop[core].mean(axis=0)) if core.any() else None
    return (x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1), color


def _main_body(ink: np.ndarray) -> np.ndarray:
    """The glyphs without specks at the box's edge (the blended end of a neighbouring stroke, a bar's
    foot on the axis): runs of ink split where a gap is wider than a word space, and runs holding
    little ink dropped; one line of text is one run of rows."""
    rows = np.flatnonzero(ink.sum(axis=1) >= 1)
    if rows.size == 0:
        return ink
    keep_rows = _heavy_runs(ink.sum(axis=1), 2, 0.35, relative_to_largest=True)
    ink = ink & keep_rows[:, None]
    rows = np.flatnonzero(ink.sum(axis=1) >= 1)
    height = rows[-1] - rows[0] + 1 if rows.size else 1
    keep_cols = _heavy_runs(ink.sum(axis=0), max(2, int(0.6 * height)), 0.1, relative_to_largest=False)
    return ink & keep_cols[None, :]


def _heavy_runs(profile: np.ndarray, max_gap: int, share: float, *, relative_to_largest: bool) -> np.ndarray:
    """Which positions of a projection profile belong to runs (split at gaps over ``max_gap``) holding
    at least ``share`` of the total ink (or of the heaviest run's)."""
    at = np.flatnonzero(profile > 0)
    keep = np.zeros(profile.shape[0], bool)
    if at.size == 0:
        return keep
    runs, start = [], at[0]
    for a, b in zip(at, at[1:], strict=False):
        if b - a > max_gap:
            runs.append((start, a + 1))
            start = b
    runs.append((start, at[-1] + 1))
    masses = [float(profile[a:b].sum()) for a, b in runs]
    base = max(masses) if relative_to_largest else sum(masses)
    for (a, b), mass in zip(runs, masses, strict=True):
        if mass >= share * base:
            keep[a:b] = True
    return keep


# ---------------------------------------------------------------- rules


def _rules(palette: Palette, image: RegionImage) -> tuple[list[Shape], np.ndarray]:
    """Gridlines and the category axis: thin bands of grey rows much fuller than the rows beside them.
    Returns their shapes (zero-height lines at each band's centre) and the pixels they cover."""
    pixels = image.pixels.astype(np.int16)
    high, low = pixels.max(axis=2), pixels.min(axis=2)
    bg = palette.colors[palette.background]
    grey = ((high - low) <= RULE_CHROMA * np.maximum(high, 1)) & (np.abs(pixels - bg).max(axis=2) > 12)
    h, w = grey.shape
    per_row = grey.sum(axis=1).astype(np.int64)
    thick = max(3, int(round(1.6 / image.pixel)))  # rules are hairlines, at most a point and a half
    shortest = max(10, int(round(6.0 / image.pixel)))  # longer than a glyph's stroke beside the rule
    full = per_row >= RULE_COVER * w
    shapes: list[Shape] = []
    covered = np.zeros(grey.shape, bool)
    r = 0
    while r < h:
        if not full[r]:
            r += 1
            continue
        start = r
        while r < h and full[r]:
            r += 1
        end = r  # rows start..end-1
        above = per_row[max(start - thick, 0) : start]
        below = per_row[end : end + thick]
        around = max(above.max() if above.size else 0, below.max() if below.size else 0)
        if end - start > thick or around >= 0.5 * per_row[start:end].max():
            continue  # a wide band (a grey bar, a block of text), not a rule
        band = grey[start:end]
        extent = _long_runs(band.any(axis=0), shortest)
        if extent is None:
            continue
        rows = np.arange(start, end)
        y = float((rows + 0.5) @ per_row[start:end] / per_row[start:end].sum())
        x0, y_pt = image.point_to_pt(float(extent[0]), y)
        x1, _ = image.point_to_pt(float(extent[1]), y)
        seg = slice(extent[0], extent[1])
        ink = image.pixels[start:end, seg][band[:, seg]].astype(np.float64)
        median = np.median(ink, axis=0)
        color = _color(median)
        shapes.append(Shape((x0, y_pt, x1, y_pt), None, color, ((x0, y_pt), (x1, y_pt)), False))
        # The rule's own pixels, not the glyphs of a label it runs through (those are darker).
        own = np.linalg.norm(image.pixels[start:end, seg].astype(np.float64) - median, axis=2) <= MERGE_DISTANCE
        covered[start:end, seg] = band[:, seg] & own
    return shapes, covered


def _long_runs(covered: np.ndarray, shortest: int) -> tuple[int, int] | None:
    """From the first to the last run of at least ``shortest`` covered columns: a gridline broken by
    bars, without the specks of tick labels beside it."""
    padded = np.concatenate([[False], covered, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= shortest]
    return (int(runs[0][0]), int(runs[-1][1])) if runs else None


# ---------------------------------------------------------------- regions of one colour


def _components(mask: np.ndarray, ink: int, image: RegionImage, color: np.ndarray) -> list[Region]:
    if not mask.any():
        return []
    k = 3 if image.pixel <= 1 / 2.2 else 2
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    out = _regions_of(opened, ink, k)
    # A stack's thinnest segment may be a single row of its colour between two white separators; the
    # opening above removes it, so rows of the pure colour (no blend: a blended edge is never pure)
    # long enough to span a bar are taken as well.
    x0, y0, x1, y1 = cv2.boundingRect(mask.astype(np.uint8))
    crop = image.pixels[y0 : y0 + y1, x0 : x0 + x1].astype(np.float64)
    pure = np.zeros(mask.shape, np.uint8)
    pure[y0 : y0 + y1, x0 : x0 + x1] = mask[y0 : y0 + y1, x0 : x0 + x1] & (
        np.linalg.norm(crop - color, axis=2) <= PURE_DISTANCE
    )
    run = max(6, int(round(THIN_RUN / image.pixel)))
    rows = cv2.morphologyEx(pure, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    rows[cv2.dilate(opened, np.ones((3, 3), np.uint8)) > 0] = 0
    out += [replace(r, thin=True) for r in _regions_of(rows, ink, 1) if r.box[3] - r.box[1] < k]
    return out


def _regions_of(mask: np.ndarray, ink: int, smallest: int) -> list[Region]:
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, count = (int(v) for v in stats[i])
        if w < smallest or h < smallest or count < 6:
            continue
        roi = comp[y : y + h, x : x + w] == i
        out.append(Region(ink, (x, y, x + w, y + h), roi, _solid(roi)))
    return out


def _shapes(region: Region, image: RegionImage, color: Color, words: Sequence[Word]) -> list[Shape]:
    x0, y0, x1, y1 = region.box
    box = image.to_pt((x0, y0, x1, y1))
    if region.is_rect:
        if not region.thin and _legend_stroke(box, image, words):
            cy = (box[1] + box[3]) / 2
            return [Shape((box[0], cy, box[2], cy), None, color, (), False)]
        return [Shape(box, color, None, ((box[0], box[1]), (box[2], box[3])), True)]
    return _strokes(region.mask, (x0, y0), image, color, box, words)


def _in_text(box: tuple[int, int, int, int], boxes: Sequence[tuple[int, int, int, int]]) -> bool:
    """A speck of ground enclosed by a glyph (the hole of an 8 printed on a bar) is no mark."""
    x0, y0, x1, y1 = box
    return any(
        x0 >= b[0]
        and y0 >= b[1]
        and x1 <= b[2]
        and y1 <= b[3]
        and (x1 - x0) * (y1 - y0) < 0.3 * (b[2] - b[0]) * (b[3] - b[1])
        for b in boxes
    )


def _solid(roi: np.ndarray) -> np.ndarray:
    """The region with its holes (labels printed inside a bar) filled."""
    contours, _ = cv2.findContours(roi.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    solid = np.zeros(roi.shape, np.uint8)
    cv2.drawContours(solid, contours, -1, 1, thickness=cv2.FILLED)
    return solid.astype(bool)


def _legend_stroke(box: tuple[float, float, float, float], image: RegionImage, words: Sequence[Word]) -> bool:
    """A short horizontal stroke with a name starting just right of it is a line's legend handle."""
    width, height = box[2] - box[0], box[3] - box[1]
    if not (5.0 <= width <= 40.0 and height <= max(2.2, 3 * image.pixel)):
        return False
    cy = (box[1] + box[3]) / 2
    return any(w.top - 1.0 <= cy <= w.bottom + 1.0 and 0.0 <= w.x0 - box[2] <= 10.0 for w in words)


def _strokes(
    roi: np.ndarray,
    origin: tuple[int, int],
    image: RegionImage,
    color: Color,
    box: tuple[float, float, float, float],
    words: Sequence[Word],
) -> list[Shape]:
    """A line series (its markers are its vertices) or a line's legend handle (a short stroke with a
    marker in the middle and its name to the right)."""
    dist = cv2.distanceTransform(roi.astype(np.uint8), cv2.DIST_L2, 5)
    inner = dist[roi]
    if inner.size == 0:
        return []
    half = float(np.median(inner[inner >= 1.0])) if (inner >= 1.0).any() else 1.0
    width, height = box[2] - box[0], box[3] - box[1]
    cy = (box[1] + box[3]) / 2
    if (
        5.0 <= width <= 40.0
        and height <= 8.0
        and any(w.top - 1.0 <= cy <= w.bottom + 1.0 and 0.0 <= w.x0 - box[2] <= 10.0 for w in words)
    ):
        return [Shape((box[0], cy, box[2], cy), None, color, (), False)]
    vertices = _markers(dist, half, origin, image)
    if not vertices:
        return []
    return [Shape(box, None, color, tuple(vertices), False)]


def _markers(dist: np.ndarray, half: float, origin: tuple[int, int], image: RegionImage) -> list[tuple[float, float]]:
    """Centres of the round markers on a stroke: blobs much wider than the stroke itself."""
    peak = float(dist.max())
    threshold = max(MARKER_RATIO * max(half, 1.0), 2.0)
    if peak < threshold:
        return []
    core = (dist >= max(threshold, 0.6 * peak)).astype(np.uint8)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(core, connectivity=8)
    out = []
    for i in range(1, n):
        cx, cy = centroids[i]
        out.append(image.point_to_pt(origin[0] + float(cx) + 0.5, origin[1] + float(cy) + 0.5))
    return out


# ---------------------------------------------------------------- pies


def _pie(
    labels: np.ndarray, fills: Sequence[int], image: RegionImage, palette: Palette
) -> tuple[list[Shape], np.ndarray] | None:
    """A disc (or ring) of several fill colours: its sectors as wedges round one apex."""
    if not fills:
        return None
    ink = np.isin(labels, list(fills)).astype(np.uint8)
    # Thin strokes first (leader lines, a legend's line), then the separators between the sectors.
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    gap = max(3, int(round(2.5 / image.pixel)))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((gap, gap), np.uint8))
    n, comp, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if n < 2:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, count = (int(v) for v in stats[i])
    if min(w, h) < 0.3 * min(labels.shape) or abs(w - h) > 0.06 * max(w, h):
        return None
    region = comp == i
    solid = _solid(region[y : y + h, x : x + w])
    fill = solid.sum() / float(w * h)
    if not 0.72 <= fill <= 0.84:
        return None
    ys, xs = np.nonzero(solid)
    # The disc's centre of mass (pixel centres at +0.5), a steadier centre than its box's middle.
    cx, cy = x + float(xs.mean()) + 0.5, y + float(ys.mean()) + 0.5
    radius = (w + h) / 4.0
    inner = _inner_radius(region, cx, cy, radius)
    sectors = _sectors(labels, fills, cx, cy, inner, radius, palette.colors, palette.background)
    if len(sectors) < 2:
        return None
    apex = image.point_to_pt(cx, cy)
    r_pt = radius * image.pixel
    wedges = []
    for k, start, sweep in sectors:
        rim = [
            (apex[0] + r_pt * math.cos(math.radians(a)), apex[1] - r_pt * math.sin(math.radians(a)))
            for a in np.linspace(start, start + sweep, max(3, int(abs(sweep) / 4) + 2))
        ]
        pts = (apex, *rim)
        xs, ys = zip(*pts, strict=True)
        wedges.append(Shape((min(xs), min(ys), max(xs), max(ys)), _color(palette.colors[k]), None, pts, False))
    covered = np.zeros(labels.shape, bool)
    covered[y : y + h, x : x + w] = solid
    return wedges, covered


def _absorb_blends(
    runs: list[tuple[int, float, float]], colors: np.ndarray, background: int
) -> list[tuple[int, float, float]]:
    """A narrow run whose colour is a neighbour's blended with the ground lies along a separator: its
    angle goes half to each neighbour, where the separator's middle is."""
    bg = colors[background]
    out = list(runs)
    changed = True
    while changed and len(out) > 2:
        changed = False
        for j, (k, _, sweep) in enumerate(out):
            before, after = out[j - 1], out[(j + 1) % len(out)]
            if sweep >= SECTOR_BLEND_MAX or not any(_is_tint(colors[k], colors[n[0]], bg) for n in (before, after)):
                continue
            out[j - 1] = (before[0], before[1], before[2] + sweep / 2)
            nxt = (j + 1) % len(out)
            out[nxt] = (after[0], after[1] - sweep / 2, after[2] + sweep / 2)
            del out[j]
            changed = True
            break
    return out


def _is_tint(color: np.ndarray, of: np.ndarray, ground: np.ndarray) -> bool:
    axis = of - ground
    alpha = float((color - ground) @ axis / max(float(axis @ axis), 1e-9))
    residual = float(np.linalg.norm(color - (ground + np.clip(alpha, 0.0, 1.0) * axis)))
    return 0.0 < alpha < 0.95 and residual <= 2 * TINT_RESIDUAL


def _inner_radius(region: np.ndarray, cx: float, cy: float, radius: float) -> float:
    """A donut's hole: how far out from the centre the ring begins (0 for a full pie)."""
    h, w = region.shape
    steps = np.linspace(0.0, radius, int(radius))
    starts = []
    for a in np.linspace(0, 2 * math.pi, 16, endpoint=False):
        xs = np.clip((cx + steps * math.cos(a)).astype(int), 0, w - 1)
        ys = np.clip((cy - steps * math.sin(a)).astype(int), 0, h - 1)
        hit = np.flatnonzero(region[ys, xs])
        starts.append(steps[hit[0]] if hit.size else 0.0)
    inner = float(np.median(starts))
    return inner if inner > 0.15 * radius else 0.0


def _sectors(
    labels: np.ndarray,
    fills: Sequence[int],
    cx: float,
    cy: float,
    inner: float,
    radius: float,
    colors: np.ndarray,
    background: int,
) -> list[tuple[int, float, float]]:
    """(colour, start angle, sweep) of each sector, clockwise from the top as sampled, angles in degrees
    counter-clockwise from three o'clock; the separators between sectors are split between them."""
    step = 0.25
    angles = np.arange(0.0, 360.0, step)
    fractions = np.linspace(0.2, 0.95, 9)
    radii = inner + fractions * (radius - inner)
    h, w = labels.shape
    xs = np.clip(np.floor(cx + np.outer(np.cos(np.radians(angles)), radii)).astype(int), 0, w - 1)
    ys = np.clip(np.floor(cy - np.outer(np.sin(np.radians(angles)), radii)).astype(int), 0, h - 1)
    samples = labels[ys, xs]
    fill_set = np.array(list(fills))
    per_angle = np.full(len(angles), -1)
    for j in range(len(angles)):
        row = samples[j][np.isin(samples[j], fill_set)]
        if row.size >= 3:
            values, counts = np.unique(row, return_counts=True)
            per_angle[j] = int(values[np.argmax(counts)])
    known = np.flatnonzero(per_angle >= 0)
    if known.size == 0:
        return []
    # Each unknown angle (a separator, a label) goes to its nearer known neighbour round the circle.
    filled = per_angle.copy()
    for j in np.flatnonzero(per_angle < 0):
        d = (known - j) % len(angles)
        forward = known[np.argmin(d)]
        backward = known[np.argmin((j - known) % len(angles))]
        filled[j] = (
            per_angle[forward] if (forward - j) % len(angles) <= (j - backward) % len(angles) else per_angle[backward]
        )
    # Runs of one colour; a run too short to be a sector (a blend at an edge) joins its neighbour.
    change = np.flatnonzero(filled != np.roll(filled, 1))
    if change.size == 0:
        return []
    runs = []
    for a, b in zip(change, np.roll(change, -1), strict=True):
        length = (b - a) % len(angles) or len(angles)
        runs.append((int(filled[a]), float(angles[a]), length * step))
    runs = _absorb_blends(runs, colors, background)
    merged: list[tuple[int, float, float]] = []
    for run in runs:
        if merged and merged[-1][0] == run[0]:
            merged[-1] = (run[0], merged[-1][1], merged[-1][2] + run[2])
        else:
            merged.append(run)
    if len(merged) > 1 and merged[0][0] == merged[-1][0]:
        last = merged.pop()
        merged[0] = (last[0], last[1], last[2] + merged[0][2])
    total = sum(r[2] for r in merged)
    return [(k, start, sweep * 360.0 / total) for k, start, sweep in merged]
