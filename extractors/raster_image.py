"""The pixels of a raster figure: the embedded image itself at its own resolution, not a re-render.

A re-rendered page resamples the picture and blurs every edge a second time; the image's own pixels
are what the publisher drew. Where the image cannot be had on its own (several images tiled, a clip or
a rotation in its placement) the region is rendered at the image's resolution instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pypdfium2
from pdfplumber.page import Page

from extractors.chart_drawing import area, obj_box, overlap_area
from extractors.layout import BBox

# Never read a chart coarser than this, nor render one finer (pixels per PDF point).
MIN_SCALE = 96 / 72
MAX_SCALE = 400 / 72
DEFAULT_SCALE = 200 / 72


@dataclass(frozen=True)
class RegionImage:
    """Pixels (H×W×3 RGB) covering ``bbox`` (PDF points, top-left origin) edge to edge."""

    pixels: np.ndarray
    bbox: BBox
    source: str  # "embedded" or "rendered"

    @property
    def scale_x(self) -> float:
        return self.pixels.shape[1] / (self.bbox[2] - self.bbox[0])

    @property
    def scale_y(self) -> float:
        return self.pixels.shape[0] / (self.bbox[3] - self.bbox[1])

    @property
    def pixel(self) -> float:
        """The size of one pixel in PDF points."""
        return 2.0 / (self.scale_x + self.scale_y)

    @property
    def sha256(self) -> str:
        h = hashlib.sha256()
        h.update(f"{self.pixels.shape}".encode())
        h.update(np.ascontiguousarray(self.pixels).tobytes())
        return h.hexdigest()

    def to_pt(self, box: tuple[float, float, float, float]) -> BBox:
        """A box in pixel coordinates (edges, not centres) as PDF points."""
        x0, y0, x1, y1 = (float(v) for v in box)
        return (
            self.bbox[0] + x0 / self.scale_x,
            self.bbox[1] + y0 / self.scale_y,
            self.bbox[0] + x1 / self.scale_x,
            self.bbox[1] + y1 / self.scale_y,
        )

    def point_to_pt(self, x: float, y: float) -> tuple[float, float]:
        """A pixel position (x, y of its centre at +0.5) as PDF points."""
        return (self.bbox[0] + float(x) / self.scale_x, self.bbox[1] + float(y) / self.scale_y)


def region_image(page: Page, bbox: BBox, document: pypdfium2.PdfDocument | None = None) -> RegionImage:
    """The chart image in ``bbox``: the largest embedded image there at its own pixels, or the region
    rendered at that image's resolution."""
    images = [im for im in page.images if overlap_area(obj_box(im), bbox) > 0.5 * area(obj_box(im))]
    own = _document(page) if document is None else document
    try:
        pdf_page = own[page.page_number - 1]
        if len(images) == 1:
            embedded = _embedded(pdf_page, obj_box(images[0]), float(page.height))
            if embedded is not None:
                return embedded
        scale = DEFAULT_SCALE
        if images:
            im = max(images, key=lambda i: area(obj_box(i)))
            width, _ = im.get("srcsize") or (0, 0)
            if width:
                scale = min(max(float(width) / (float(im["x1"]) - float(im["x0"])), MIN_SCALE), MAX_SCALE)
        return _rendered(pdf_page, bbox, scale, float(page.width), float(page.height))
    finally:
        if document is None:
            own.close()


def open_document(page: Page) -> pypdfium2.PdfDocument:
    return _document(page)


def _document(page: Page) -> pypdfium2.PdfDocument:
    pdf = page.pdf
    if getattr(pdf, "path", None):
        return pypdfium2.PdfDocument(pdf.path)
    pdf.stream.seek(0)
    return pypdfium2.PdfDocument(pdf.stream.read())


def _embedded(pdf_page: pypdfium2.PdfPage, box: BBox, page_height: float) -> RegionImage | None:
    for obj in pdf_page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        found = (float(left), page_height - float(top), float(right), page_height - float(bottom))
        if max(abs(a - b) for a, b in zip(found, box, strict=True)) > 1.0:
            continue
        matrix = obj.get_matrix()
        if abs(matrix.b) > 1e-6 or abs(matrix.c) > 1e-6 or matrix.a <= 0 or matrix.d <= 0:
            return None  # rotated, skewed or flipped: render it instead
        try:
            bitmap = obj.get_bitmap(render=True, scale_to_original=True)
        except pypdfium2.PdfiumError:
            return None
        pixels = _rgb_on_white(np.asarray(bitmap.to_pil()))
        if pixels.shape[0] < 8 or pixels.shape[1] < 8:
            return None
        return RegionImage(pixels, found, "embedded")
    return None


def _rendered(pdf_page: pypdfium2.PdfPage, bbox: BBox, scale: float, width: float, height: float) -> RegionImage:
    x0, top, x1, bottom = max(bbox[0], 0.0), max(bbox[1], 0.0), min(bbox[2], width), min(bbox[3], height)
    bitmap = pdf_page.render(scale=scale, crop=(x0, height - bottom, width - x1, top), may_draw_forms=True)
    return RegionImage(_rgb_on_white(np.asarray(bitmap.to_pil())), (x0, top, x1, bottom), "rendered")


def _rgb_on_white(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2).astype(np.uint8)
    if array.shape[2] == 4:
        alpha = array[:, :, 3:4].astype(np.float32) / 255.0
        rgb = array[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array[:, :, :3]).astype(np.uint8)
