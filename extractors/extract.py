"""Extract one PDF: detect its kind, read every table and figure, and say where each value came from."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import playa.exceptions
from pdfminer.pdfexceptions import PDFException
from pdfplumber.utils.exceptions import PdfminerException

from extractors.errors import ExtractionError, NoTablesFound, NoTextLayer, TruncatedPDF
from extractors.layout import TextLine, page_lines
from extractors.model import ExtractionResult, PageProblem
from extractors.pdfsource import describe, open_pdf, unwrap
from extractors.raster_chart import raster_version
from extractors.spec import ReportSpec, detect_kind, load_specs
from extractors.tables import extract_tables

log = logging.getLogger(__name__)

# Bump when a change alters what extraction yields: cached extractions are keyed on it (and so on
# the raster chart reader's version, OCR package and runtime included).
EXTRACTOR_VERSION = f"0.2.0+{raster_version()}"


class UnknownReportKind(ExtractionError):
    hint = "name the kind in the catalog (kind = ...) or add a spec in extractors/specs/"


def extract_pdf(
    path: Path | str,
    *,
    kind: str | None = None,
    specs: dict[str, ReportSpec] | None = None,
    image_dir: Path | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> ExtractionResult:
    """Extract every table (and, with ``image_dir``, every figure) of one PDF.

    Raises NotAPDF / TruncatedPDF / EncryptedPDF for a file that cannot be read at all, and
    UnknownReportKind when no spec recognises it. A page without a text layer is reported in
    ``result.problems``, not raised: the other pages are still read; so is a table the spec expects
    but the PDF does not yield (damage, or a changed layout). ``on_page(done, total)`` reports progress.
    """
    path = Path(path)
    specs = specs if specs is not None else load_specs()
    source, pdf = open_pdf(path)
    try:
        lines_by_page: dict[int, list[TextLine]] = {}
        problems: list[PageProblem] = []
        for page in pdf.pages:
            try:
                lines_by_page[page.page_number] = page_lines(page)
                scanned = not lines_by_page[page.page_number] and bool(page.images)
            except PdfminerException as exc:  # pdfminer parses each page lazily: damage shows up here
                raise TruncatedPDF(
                    path, f"page cannot be parsed ({describe(unwrap(exc))})", page=page.page_number
                ) from None
            if on_page:
                on_page(page.page_number, len(pdf.pages))
            if scanned:
                err = NoTextLayer(path, "no text layer, only an image", page=page.page_number)
                problems.append(PageProblem(page.page_number, str(err)))
                log.warning("%s", err)
        if pdf.pages and len(problems) == len(pdf.pages):
            raise NoTextLayer(path, f"none of its {len(pdf.pages)} pages has a text layer, only images")
        spec, year = _choose_spec(path, pdf, lines_by_page, specs, kind)
        result = ExtractionResult(
            source_path=str(path),
            source_sha256=source.sha256,
            pages=source.pages,
            kind=spec.kind,
            year=year,
            problems=problems,
            extractor_version=EXTRACTOR_VERSION,
        )
        try:
            result.tables = extract_tables(path, pdf, lines_by_page, spec, source.sha256)
        except (PdfminerException, PDFException, playa.exceptions.PDFException) as exc:
            raise TruncatedPDF(path, f"damaged content ({describe(unwrap(exc))})") from None
        result.problems.extend(_missing_tables(path, spec, result))
        if image_dir is not None and spec.figure_caption is not None:
            from extractors.figures import extract_figures

            result.figures = extract_figures(pdf, lines_by_page, image_dir, spec.figure_caption)
        return result
    finally:
        pdf.close()


def _missing_tables(path: Path, spec: ReportSpec, result: ExtractionResult) -> list[PageProblem]:
    """Spec entries no extracted table matched: silent damage or a changed report, worth a look."""
    found = {t.caption for t in result.tables if t.dataset}
    problems = []
    for table_spec in spec.tables:
        if not any(table_spec.title.search(caption) for caption in found):
            wanted = f"{table_spec.dataset} title /{table_spec.title.pattern}/"
            err = NoTablesFound(path, f"no table matches the spec's {wanted}")
            problems.append(PageProblem(None, str(err)))
            log.warning("%s", err)
    return problems


def _choose_spec(path, pdf, lines_by_page, specs, kind):  # type: ignore[no-untyped-def]
    head = " ".join(ln.text for p in sorted(lines_by_page)[:3] for ln in lines_by_page[p])
    head = (pdf.metadata.get("Title") or "") + " " + head
    found = detect_kind(head, specs)
    if kind is not None:
        if kind not in specs:
            raise UnknownReportKind(path, f"no spec for kind {kind!r}; known: {', '.join(sorted(specs))}")
        spec = specs[kind]
        year = found[1] if found and found[0].kind == kind else None
        return spec, year
    if found is None:
        problem = "the first pages match no known report title"
        scanned = [p for p in sorted(lines_by_page)[:3] if not lines_by_page[p] and pdf.pages[p - 1].images]
        if scanned:
            problem += f"; page {', '.join(map(str, scanned))} has no text layer (a scan), which may hide the title"
        elif not any(lines_by_page.values()):
            problem += "; no page has any text"
        raise UnknownReportKind(path, problem)
    return found
