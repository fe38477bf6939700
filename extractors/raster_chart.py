"""Reading a raster chart: its pixels traced into words and shapes, then the one chart reader.

The vector path reads a drawing's objects (chart_drawing.read_drawing); this path makes the same
Drawing from an image (raster_drawing) with OCR'd text (ocr). From there both are one: legend,
axis calibration, marks, labels, pies (chart_reading, chart_pie), and the proofs (chart_proof).
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2
from pdfplumber.page import Page

from extractors.chart_geometry import ChartReading
from extractors.chart_reading import read_chart
from extractors.layout import BBox
from extractors.ocr import chart_ocr, reader_version
from extractors.raster_drawing import raster_drawing, trace
from extractors.raster_image import RegionImage, region_image

# Bump when tracing or reading changes what a raster chart yields: cached readings are keyed on it.
RASTER_READER_VERSION = "3"


@dataclass
class RasterReading:
    reading: ChartReading
    crop_sha256: str
    image: RegionImage


def raster_version() -> str:
    return f"raster-{RASTER_READER_VERSION}+{reader_version()}"


def read_raster_chart(
    page: Page, bbox: BBox, fallback_name: str = "", document: pypdfium2.PdfDocument | None = None
) -> RasterReading:
    """Series, categories and values of the raster chart in ``bbox``, every value proved or flagged."""
    image = region_image(page, bbox, document)
    return read_raster_image(image, fallback_name)


def read_raster_image(image: RegionImage, fallback_name: str = "") -> RasterReading:
    traced = trace(image)
    texts = chart_ocr().read(traced.for_ocr(), 1.0 / image.pixel)
    drawing = raster_drawing(traced, texts)
    return RasterReading(read_chart(drawing, fallback_name), image.sha256, image)
