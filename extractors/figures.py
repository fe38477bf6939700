"""Figures: find each captioned chart, render it to PNG, and read every chart back into series.

A caption names a figure; the chart sits between the caption and its 数据来源 line (or above a caption
placed under the chart); see figure_regions. Drawn (vector) charts are read from their objects; raster
charts from their pixels, traced into the same words and shapes with OCR'd text (raster_chart). One
reader serves both (chart_reading, chart_pie), and every value is proved against what the chart itself
implies or flagged and withheld (chart_geometry, chart_proof). Raster readings are cached on the PDF's
sha256 and the reader's version (chart_cache): OCR never runs twice on an unchanged PDF.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pdfplumber
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import MalformedPDFException
from pypdfium2 import PdfDocument, PdfiumError

from extractors.chart_cache import ChartCache, default_dir, from_entry, to_entry
from extractors.chart_drawing import area, clamp, contains, fill_color, is_white, obj_box, overlap_area
from extractors.chart_geometry import ChartReading
from extractors.chart_reading import read_vector_chart
from extractors.figure_regions import Region, caption_sides, document_layout, locate_region, page_graphics, side_vote
from extractors.layout import BBox, TextLine
from extractors.model import FigureRecord

MIN_DPI = 150


def extract_figures(
    pdf: pdfplumber.PDF,
    lines_by_page: dict[int, list[TextLine]],
    image_dir: Path,
    caption_re: re.Pattern[str],
    dpi: int = MIN_DPI,
    *,
    read_raster: bool = True,
    cache_dir: Path | None = None,
) -> list[FigureRecord]:
    """One record per caption line matching ``caption_re`` (named groups ``number`` and ``title``).

    Raster charts are read unless ``read_raster`` is false; their readings are cached in ``cache_dir``
    (default: chart_cache.default_dir())."""
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
    document, unmatched = _pdfium_document(pdf) if pages else (None, None)
    rasters = _RasterReader(pdf, cache_dir, document) if read_raster and document is not None else None
    try:
        for page, lines, caps, graphics in pages:
            caption_lines = [line for line, _ in caps]
            for line, match in caps:
                figure_id = f"图{match.group('number')}"
                region = locate_region(line, lines, caption_lines, graphics, float(page.height), prefer=layout)
                path = image_dir / _image_name(figure_id, used_names)
                title = match.group("title").strip()
                records.append(_figure_record(page, line, figure_id, title, region, path, dpi, rasters, unmatched))
    finally:
        if rasters is not None:
            rasters.close()
        if document is not None:
            document.close()
    return records


def _pdfium_document(pdf: pdfplumber.PDF) -> tuple[PdfDocument | None, str | None]:
    """pdfium's copy of the PDF, for the chart images; or None, and why no figure image can be had.

    A damaged page tree (a page listed twice, a lost page) is read differently by pdfium and pdfminer; page
    N of one is then not page N of the other, and a chart's pixels would come from another page."""
    from extractors.raster_image import open_document

    try:
        document = open_document(pdf.pages[0])
    except PdfiumError as exc:
        return None, f"the image reader cannot open the PDF ({exc}): no figure image is rendered or read"
    seen = len(document)
    if seen == len(pdf.pages):
        return document, None
    document.close()
    return None, (
        f"the image reader sees {seen} page{'' if seen == 1 else 's'} where the page tree gives {len(pdf.pages)}: "
        "a page's image cannot be told from another's, so no figure image is rendered or read (the source is "
        "reported damaged)"
    )


class _RasterReader:
    """Reads the raster charts of one PDF through its cache; the pixels are cut from pdfium's copy only on a miss."""

    def __init__(self, pdf: pdfplumber.PDF, cache_dir: Path | None, document: PdfDocument) -> None:
        from extractors.raster_chart import raster_version

        self.pdf = pdf
        self.version = raster_version()
        self.cache = ChartCache(cache_dir or default_dir(), _sha256(pdf), self.version)
        self.document = document  # the caller's: opened once for the page check, closed by the caller

    def read(self, page: Page, bbox: BBox, title: str, record: FigureRecord) -> None:
        key = ChartCache.key(page.page_number, bbox, title)
        entry = self.cache.get(key)
        if entry is None:
            from extractors.raster_chart import read_raster_image
            from extractors.raster_image import region_image

            image = region_image(page, bbox, self.document)
            pixels = image.sha256
            entry = self.cache.get_pixels(pixels, key)
            if entry is None:
                raster = read_raster_image(image, title)
                reading = raster.reading
                entry = to_entry(reading.points, reading.flagged, reading.problems, raster.crop_sha256)
                self.cache.put_pixels(pixels, key, entry)
            self.cache.put(key, entry)
        points, flagged, problems, crop = from_entry(entry)
        record.points, record.flagged, record.crop_sha256 = points, flagged, crop
        record.problems.extend(problems)
        record.reader = self.version

    def close(self) -> None:
        try:
            self.cache.save()
        except OSError:
            pass  # an unwritable cache costs the next run time, never this run its results


def _sha256(pdf: pdfplumber.PDF) -> str:
    h = hashlib.sha256()
    if getattr(pdf, "path", None):
        with open(pdf.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    pdf.stream.seek(0)
    h.update(pdf.stream.read())
    return h.hexdigest()


def _figure_record(
    page: Page,
    caption: TextLine,
    figure_id: str,
    title: str,
    region: Region,
    path: Path,
    dpi: int,
    rasters: _RasterReader | None,
    unmatched: str | None = None,
) -> FigureRecord:
    problems = list(region.problems)
    source = region.source.text if region.source else None
    if region.bbox is None:
        # Without a region the caption is the only place on the page the record can point to.
        return FigureRecord(figure_id, title, page.page_number, caption.bbox, source, None, "unknown", [], problems)
    bbox = region.bbox
    image_path: str | None = None
    if unmatched is not None:
        problems.append(unmatched)
    else:
        try:
            page.crop(clamp(bbox, page)).to_image(resolution=dpi).save(path)
            image_path = str(path)
        # pdfplumber and pdfium render: a damaged page fails to load there, a box of no area divides by zero
        except (OSError, ValueError, ArithmeticError, PdfiumError, MalformedPDFException) as exc:
            problems.append(f"could not render the figure region: {exc}")
    kind = classify_region(page, bbox)
    record = FigureRecord(figure_id, title, page.page_number, bbox, source, image_path, kind, [], problems)
    if kind == "vector":
        reading = _read_guarded(page, bbox, title)
        record.points, record.flagged, record.reader = reading.points, reading.flagged, "vector"
        record.problems.extend(reading.problems)
    elif kind == "raster" and rasters is not None:
        try:
            rasters.read(page, bbox, title, record)
        except Exception as exc:  # one odd image must not cost the report its other figures
            record.problems.append(f"raster chart could not be read: {type(exc).__name__}: {exc}")
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


def classify_region(page: Page, bbox: BBox) -> str:
    """`raster` for an embedded image without text on it, `vector` for a drawing with text labels,
    `unknown` for a region with neither."""
    region = page.crop(clamp(bbox, page))
    images = [obj_box(im) for im in page.images if overlap_area(obj_box(im), bbox) > 0.5 * area(obj_box(im))]
    chars = region.chars
    drawn = [o for o in (*region.rects, *region.curves, *region.lines) if not is_white(fill_color(o))]
    if images:
        on_image = [c for c in chars if any(contains(im, obj_box(c)) for im in images)]
        # Text printed over an image, with strokes beside it, is a drawing that uses the image as a backdrop.
        if not on_image or not drawn:
            return "raster"
    if drawn and chars:
        return "vector"
    return "raster" if images else "unknown"
