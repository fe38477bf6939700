"""Extract one PDF: detect its kind, read every table and figure, and say where each value came from."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import playa.exceptions
from pdfminer.pdfexceptions import PDFException
from pdfplumber.utils.exceptions import PdfminerException

from extractors.content import PageContent, page_content
from extractors.errors import ExtractionError, NoTablesFound, NoTextLayer, TruncatedPDF
from extractors.layout import BBox, TextLine, page_lines
from extractors.model import ExtractionResult, PageProblem
from extractors.pdfsource import describe, invisible_text, open_pdf, unmapped_glyphs, unwrap
from extractors.raster_chart import raster_version
from extractors.spec import ReportSpec, detect_kind, load_specs
from extractors.tables import extract_tables, tables_in_regions

log = logging.getLogger(__name__)

# Bump when a change alters what extraction yields: cached extractions are keyed on it (and so on
# the raster chart reader's version, OCR package and runtime included).
# 0.2.0: statements, problem kinds; 0.3.0: the structure layer; 0.4.0: header levels by line step, invisible
# text; 0.4.1: figures set closer than a word gap
EXTRACTOR_VERSION = f"0.4.1+{raster_version()}"


class ContentCache:
    """Each page's words and rules, read once and only for the pages that need them."""

    def __init__(self, pdf: pdfplumber.PDF) -> None:
        self.pdf = pdf
        self.pages: dict[int, PageContent] = {}

    def __call__(self, page: int) -> PageContent:
        if page not in self.pages:
            self.pages[page] = page_content(self.pdf.pages[page - 1])
        return self.pages[page]


GENERIC = "generic"  # the kind of a PDF no spec recognises: tables only, no dataset


class UnknownReportKind(ExtractionError):
    hint = "name the kind in the catalog (kind = ...) or add a spec in extractors/specs/"


def extract_pdf(
    path: Path | str,
    *,
    kind: str | None = None,
    specs: dict[str, ReportSpec] | None = None,
    image_dir: Path | None = None,
    on_page: Callable[[int, int], None] | None = None,
    regions: list[tuple[int, BBox]] | None = None,
) -> ExtractionResult:
    """Extract every table (and, with ``image_dir``, every figure) of one PDF.

    Raises NotAPDF / TruncatedPDF / EncryptedPDF for a file that cannot be read at all. A PDF no spec
    recognises is read as kind ``generic`` (every table, no dataset), and says so in ``result.problems``.
    ``regions`` ((page, bbox) pairs, bbox as pdfplumber's) reads exactly those areas, one table each,
    instead of finding the tables. A page without a text layer is reported in
    ``result.problems``, not raised: the other pages are still read; so is a table the spec expects
    but the PDF does not yield (damage, or a changed layout). ``on_page(done, total)`` reports progress.
    """
    path = Path(path)
    specs = specs if specs is not None else load_specs()
    source, pdf = open_pdf(path)
    try:
        lines_by_page: dict[int, list[TextLine]] = {}
        problems: list[PageProblem] = list(source.problems)  # page tree and content damage (pdfsource)
        for page in pdf.pages:
            try:
                lines_by_page[page.page_number] = page_lines(page)
                problems += unmapped_glyphs(path, page)  # text no font maps to Unicode: lost
                problems += invisible_text(path, page)
                scanned = not lines_by_page[page.page_number] and bool(page.images)
            except PdfminerException as exc:  # pdfminer parses each page lazily: damage shows up here
                raise TruncatedPDF(
                    path, f"page cannot be parsed ({describe(unwrap(exc))})", page=page.page_number
                ) from None
            if on_page:
                on_page(page.page_number, len(pdf.pages))
            if scanned:
                err = NoTextLayer(path, "no text layer, only an image", page=page.page_number)
                problems.append(PageProblem(page.page_number, str(err), kind="no_text_layer"))
                log.warning("%s", err)
        if pdf.pages and sum(p.kind == "no_text_layer" for p in problems) == len(pdf.pages):
            raise NoTextLayer(path, f"none of its {len(pdf.pages)} pages has a text layer, only images")
        spec, year, notice = _choose_spec(path, pdf, lines_by_page, specs, kind)
        if notice:
            problems.append(PageProblem(None, notice))
        result = ExtractionResult(
            source_path=str(path),
            source_sha256=source.sha256,
            pages=source.pages,
            kind=spec.kind,
            year=year,
            problems=problems,
            extractor_version=EXTRACTOR_VERSION,
        )
        contents = ContentCache(pdf)
        try:
            if regions is not None:
                result.tables = tables_in_regions(path, regions, spec, source.sha256, contents)
            else:
                result.tables = extract_tables(path, pdf, lines_by_page, spec, source.sha256, contents)
        except (PdfminerException, PDFException, playa.exceptions.PDFException) as exc:
            raise TruncatedPDF(path, f"damaged content ({describe(unwrap(exc))})") from None
        if regions is None:
            result.problems.extend(_missing_tables(path, spec, result))
            result.statements = _statements(path, pdf, lines_by_page, spec.kind, year, result.problems)
        if image_dir is not None and spec.figure_caption is not None:
            from extractors.figures import extract_figures

            result.figures = extract_figures(pdf, lines_by_page, image_dir, spec.figure_caption)
            result.problems.extend(_numbering_gaps(path, "figure", [f.figure_id for f in result.figures]))
        return result
    finally:
        pdf.close()


def _statements(path, pdf, lines_by_page, kind, year, problems):  # type: ignore[no-untyped-def]
    """Figures the running text states; a failure here is a problem of this PDF, never the end of its tables."""
    from extractors.statements import extract_statements

    try:
        return extract_statements(pdf, lines_by_page, kind=kind, year=year)
    except Exception as exc:  # noqa: BLE001 - the tables and figures must still be published
        problems.append(PageProblem(None, f"{path}: statements could not be read ({exc!r})"))
        log.warning("%s: statements could not be read: %r", path, exc)
        return []


def _missing_tables(path: Path, spec: ReportSpec, result: ExtractionResult) -> list[PageProblem]:
    """Spec entries no table matched or two tables matched alike, and gaps in the tables' numbering.

    Counted per entry, as extraction assigns them (the first entry whose title matches): a missing
    table is noticed even when another table also satisfies its title pattern.
    """
    matched: dict[int, list[tuple[str, tuple]]] = {}
    for table in result.tables:
        if table.dataset and (hit := spec.match_table(table.caption, table.columns)):
            matched.setdefault(id(hit[0]), []).append((table.table_id, tuple(sorted(hit[1].items()))))
    # A notice scored in one scheme is not expected to print another scheme's tables.
    schemes = {t.attributes.get("scheme") for t in result.tables if t.dataset} - {None}
    problems = []
    for table_spec in spec.tables:
        if schemes and table_spec.attributes.get("scheme") not in (None, *schemes):
            continue
        wanted = f"{table_spec.dataset} title /{table_spec.title.pattern}/"
        hits = matched.get(id(table_spec), [])
        if not hits:
            err = NoTablesFound(path, f"no table matches the spec's {wanted}")
            problems.append(PageProblem(None, str(err), kind="missing_table", dataset=table_spec.dataset))
        for groups in {g for _, g in hits}:
            same = [table_id for table_id, g in hits if g == groups]
            if len(same) > 1:
                err = NoTablesFound(
                    path, f"{len(same)} tables ({', '.join(same)}) match the spec's {wanted} alike",
                    hint="a page may be repeated, or the title pattern too loose; the dataset would hold both",
                )  # fmt: skip
                problems.append(PageProblem(None, str(err), kind="duplicate_table", dataset=table_spec.dataset))
    for table in result.tables:  # matched, but what the spec expects of it is not there
        lacking = [p for p in table.attributes.get("problems", []) if p.startswith("no column for")]
        if table.dataset and (lacking or not table.rows):
            err = NoTablesFound(
                path, f"{table.table_id} ({table.dataset}) is incomplete: {'; '.join(lacking) or 'no rows'}",
                page=table.provenance.pages[0] if table.provenance.pages else None,
                hint="its region or header did not read as the spec expects: a damaged page or a changed layout",
            )  # fmt: skip
            problems.append(PageProblem(err.page, str(err), kind="incomplete_table", dataset=table.dataset))
    problems += _numbering_gaps(path, "table", [t.table_id for t in result.tables])
    for problem in problems:
        log.warning("%s", problem.problem)
    return problems


def _numbering_gaps(path: Path, what: str, ids: list[str]) -> list[PageProblem]:
    """Numbers missing from a chapter's run (表8-2, 表8-4: where is 表8-3?): a caption was lost."""
    runs: dict[tuple[str, str], set[int]] = {}
    for item in ids:
        if m := re.fullmatch(r"(\D*)(\d+)-(\d+)", item):
            runs.setdefault((m.group(1), m.group(2)), set()).add(int(m.group(3)))
    problems = []
    for (prefix, chapter), numbers in sorted(runs.items()):
        missing = [f"{prefix}{chapter}-{n}" for n in range(1, max(numbers)) if n not in numbers]
        if missing:
            err = NoTablesFound(
                path, f"no {what} {', '.join(missing)} although {prefix}{chapter}-{max(numbers)} is there",
                hint="its caption was not found: the page may be damaged or missing",
            )  # fmt: skip
            problems.append(PageProblem(None, str(err), kind="missing_table", dataset="tables"))
    return problems


def _choose_spec(path, pdf, lines_by_page, specs, kind):  # type: ignore[no-untyped-def]
    head = " ".join(ln.text for p in sorted(lines_by_page)[:3] for ln in lines_by_page[p])
    title = pdf.metadata.get("Title")  # any PDF object: /Title true and /Title 5 are seen in the wild
    head = (title if isinstance(title, str) else "") + " " + head
    found = detect_kind(head, specs)
    if kind is not None:
        if kind not in specs:
            raise UnknownReportKind(path, f"no spec for kind {kind!r}; known: {', '.join(sorted(specs))}")
        spec = specs[kind]
        year = found[1] if found and found[0].kind == kind else None
        return spec, year, None
    if found is None:
        problem = "the first pages match no known report title"
        scanned = [p for p in sorted(lines_by_page)[:3] if not lines_by_page[p] and pdf.pages[p - 1].images]
        if scanned:
            problem += f"; page {', '.join(map(str, scanned))} has no text layer (a scan), which may hide the title"
        elif not any(lines_by_page.values()):
            problem += "; no page has any text"
        if GENERIC not in specs:
            raise UnknownReportKind(path, problem)
        notice = (
            f"{path}: no dataset spec applied ({problem}): read as kind {GENERIC!r}, every table kept in "
            f"`tables` only ({UnknownReportKind.hint})"
        )
        log.info("%s: %s", path, notice)
        return specs[GENERIC], None, notice
    return found[0], found[1], None
