"""Tables: found by their captions, read by camelot, cleaned into one labelled grid with provenance.

A caption's region runs from under its caption (and 金额单位 line) to the first end line (数据来源, 注)
or the next caption; a region that reaches the page's foot continues at the top of the next page.
Regions with drawn column rules are read with camelot lattice (vector engine, combined as fallback);
the others (three-line and unruled tables) with camelot stream (network as fallback).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import camelot
import pdfplumber
import playa.exceptions

from extractors.errors import UnreadablePage
from extractors.layout import BBox, TextLine, clean_text
from extractors.model import Cell, ExtractedTable, Provenance
from extractors.numbers import parse_number
from extractors.pdfsource import describe
from extractors.spec import ReportSpec, TableSpec

log = logging.getLogger(__name__)

LATTICE = {"flavor": "lattice", "engine": "vector", "split_text": True}
LATTICE_FALLBACK = {"flavor": "lattice", "engine": "combined", "split_text": True}
STREAM = {"flavor": "stream", "split_text": True}
STREAM_FALLBACK = {"flavor": "network", "split_text": True}
# A region with at least this many distinct column rules inside is a ruled grid.
MIN_VERTICAL_RULES = 3


@dataclass
class Caption:
    table_id: str
    title: str
    line: TextLine


@dataclass
class Piece:
    page: int
    bbox: BBox


@dataclass
class Region:
    caption: Caption | None
    pieces: list[Piece]
    unit: str | None = None
    source_note: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Grid:
    """What camelot read for one piece: cleaned cell texts and their boxes, top-left origin."""

    texts: list[list[str]]
    boxes: list[list[BBox]]
    left_open: list[list[bool]]  # the cell has no rule on its left: a horizontal span continues into it
    page: int
    parser: str
    settings: dict[str, Any]


def find_captions(lines_by_page: dict[int, list[TextLine]], spec: ReportSpec) -> list[Caption]:
    captions = []
    section, ordinal = "", 0
    for page in sorted(lines_by_page):
        for line in lines_by_page[page]:
            if spec.section and (m := spec.section.match(line.text)):
                section, ordinal = m.group("number"), 0
                continue
            m = spec.table_caption.match(line.text)
            if not m:
                continue
            ordinal += 1
            groups = m.groupdict()
            table_id = spec.table_id.format(
                number=groups.get("number") or "", section=section, ordinal=ordinal, page=page
            )
            captions.append(Caption(table_id, clean_text(groups["title"]), line))
    return captions


def _is_caption(text: str, spec: ReportSpec) -> bool:
    return bool(
        spec.table_caption.match(text)
        or (spec.figure_caption and spec.figure_caption.match(text))
        or (spec.section and spec.section.match(text))
    )


MARGIN_BAND = 0.09  # running headers and page numbers live in this share of the page at top and bottom


def _body_top(lines: list[TextLine], page_height: float) -> float:
    """Where a continued table can start: under the running header, if the page has one."""
    header = [ln for ln in lines if ln.bottom < page_height * MARGIN_BAND]
    return max(ln.bottom for ln in header) + 1 if header else page_height * 0.04


def _body_bottom(lines: list[TextLine], page_height: float) -> float:
    """Where a table running to the page's foot must end: above the page number, if any."""
    footer = [ln for ln in lines if ln.top > page_height * (1 - MARGIN_BAND) and len(ln.text) <= 12]
    return min(ln.top for ln in footer) - 1 if footer else page_height * 0.98


def find_regions(
    captions: list[Caption], lines_by_page: dict[int, list[TextLine]], pdf: pdfplumber.PDF, spec: ReportSpec
) -> list[Region]:
    regions = []
    for caption in captions:
        page_no = caption.line.page
        page = pdf.pages[page_no - 1]
        region = Region(caption, [])
        top = caption.line.bottom
        lines = [ln for ln in lines_by_page[page_no] if ln.top >= caption.line.bottom - 0.5]
        lines = [ln for ln in lines if ln is not caption.line]
        if spec.unit and lines and (m := spec.unit.match(lines[0].text)):
            region.unit = m.group("unit")
            top = lines[0].bottom
        while True:
            bottom, ended = _scan_region(lines, top, region, spec)
            if bottom is None:
                bottom = _body_bottom(lines_by_page[page_no], float(page.height))
                # No end line on this page: a ruled grid that stops before the text below it ends here.
                grid_end = _grid_end(page, lines_by_page[page_no], top, bottom)
                if grid_end is not None:
                    bottom, ended = grid_end, True
            # Full width: a table may be wider than the text around it, and camelot finds it inside.
            region.pieces.append(Piece(page_no, (0.0, top, float(page.width), bottom)))
            if ended or page_no >= len(pdf.pages):
                break
            # Reached the foot of the page: the table continues at the top of the next one.
            page_no += 1
            page = pdf.pages[page_no - 1]
            lines = lines_by_page.get(page_no, [])
            top = _body_top(lines, page.height)
            lines = [ln for ln in lines if ln.top >= top]
        regions.append(region)
    return regions


def _scan_region(
    lines: list[TextLine], top: float, region: Region, spec: ReportSpec
) -> tuple[float | None, bool]:
    """Walk the lines under ``top``: pick up the unit line, stop at an end line or the next caption."""
    for k, line in enumerate(lines):
        if line.top < top - 0.5:
            continue
        if spec.is_end(line.text):
            if line.text.startswith("数据来源"):
                region.source_note = line.text
            else:
                region.notes.append(_paragraph(lines, k, spec))
            return line.top - 1, True
        if _is_caption(line.text, spec):
            return line.top - 1, True
    return None, False


def _paragraph(lines: list[TextLine], k: int, spec: ReportSpec) -> str:
    """A note that wraps: the line and those following it closely."""
    text, last = lines[k].text, lines[k]
    for line in lines[k + 1 :]:
        if line.top - last.bottom > (last.bottom - last.top) * 0.9 or spec.is_end(line.text):
            break
        text, last = text + line.text, line
    return text


def _grid_end(page: pdfplumber.page.Page, lines: list[TextLine], top: float, bottom: float) -> float | None:
    """The foot of the first ruled grid under ``top``, if text follows it before ``bottom``."""
    crop = page.crop((0, top, float(page.width), bottom), strict=False)
    grids = crop.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"})
    if not grids:
        return None
    grid_bottom = min(grids, key=lambda t: t.bbox[1]).bbox[3]
    after = [ln for ln in lines if grid_bottom + 1 < ln.top < bottom]
    return grid_bottom + 1 if after else None


def _column_rules(edges: list[dict[str, Any]]) -> int:
    """How many distinct column rules: a frame's two sides (a box round a header) are not a grid."""
    return len({round(e["x0"]) for e in edges if e["orientation"] == "v" and e["height"] > 6})


def _ruled(page: pdfplumber.page.Page, bbox: BBox) -> bool:
    return _column_rules(page.crop(bbox, strict=False).edges) >= MIN_VERTICAL_RULES


def _camelot(path: Path, page: int, bbox: BBox, height: float, settings: dict[str, Any]) -> list[Any]:
    x0, top, x1, bottom = bbox
    # camelot's areas are "x1,y1,x2,y2" from the top-left corner in PDF space (origin bottom-left).
    area = f"{x0:.1f},{height - top:.1f},{x1:.1f},{height - bottom:.1f}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # camelot warns on every empty area; we report what matters
        try:
            tables = camelot.read_pdf(str(path), pages=str(page), table_areas=[area], **settings)
        except (TypeError, ValueError, IndexError) as exc:
            # camelot 2.0 fails inside stream/network on an area with no text lines.
            log.debug("%s page %d: camelot %s found nothing in %s: %s", path, page, settings, area, exc)
            return []
        except (playa.exceptions.PDFException, ArithmeticError) as exc:
            # camelot reads the page again with playa, which fails where pdfminer did not (a font
            # size or Tz of 0 divides by zero in its miner): the table cannot be read; say where.
            raise UnreadablePage(path, f"camelot (playa) cannot read the page: {describe(exc)}", page=page) from None
    return list(tables)


def read_grid(path: Path, pdf: pdfplumber.PDF, piece: Piece) -> Grid | None:
    page = pdf.pages[piece.page - 1]
    plans = [LATTICE, LATTICE_FALLBACK] if _ruled(page, piece.bbox) else [STREAM, STREAM_FALLBACK]
    for settings in plans:
        tables = _camelot(path, piece.page, piece.bbox, float(page.height), settings)
        tables = [t for t in tables if t.shape[0] >= 1 and t.shape[1] >= 2]
        if tables:
            return _to_grid(
                max(tables, key=lambda t: t.shape[0] * t.shape[1]), piece.page, float(page.height), settings
            )
    return None


def _to_grid(table: Any, page: int, height: float, settings: dict[str, Any]) -> Grid:
    texts = [[clean_text(cell.text) for cell in row] for row in table.cells]
    boxes = [[(c.x1, height - c.y2, c.x2, height - c.y1) for c in row] for row in table.cells]
    lattice = settings["flavor"] == "lattice"
    left_open = [[lattice and not c.left and k > 0 for k, c in enumerate(row)] for row in table.cells]
    grid = Grid(texts, boxes, left_open, page, f"camelot-{settings['flavor']}", dict(settings))
    _drop_empty(grid)
    return grid


def _drop_empty(grid: Grid) -> None:
    keep_rows = [r for r, row in enumerate(grid.texts) if any(row)]
    keep_cols = [
        c for c in range(len(grid.texts[0]) if grid.texts else 0) if any(row[c] for row in grid.texts)
    ]
    for name in ("texts", "boxes", "left_open"):
        rows = getattr(grid, name)
        setattr(grid, name, [[rows[r][c] for c in keep_cols] for r in keep_rows])


def _is_number(text: str) -> bool:
    try:
        return parse_number(text) is not None
    except ValueError:
        return False


def _body_start(texts: list[list[str]]) -> int:
    """The first row that reads as data: most of its filled cells are numbers."""
    for r, row in enumerate(texts):
        filled = [t for t in row if t]
        if filled and sum(_is_number(t) for t in filled) * 2 >= len(filled):
            return r
    return len(texts)


def flatten_header(grid: Grid, rows: int) -> list[str]:
    """One label per column.

    In a ruled grid each header row is a level (基础评价 over 基础评价得分), joined with '/'; a label
    spanning columns is carried into the cells its span covers. In an unruled grid the header rows
    are one label wrapped over lines (全部执行金 / 额), joined without a separator.
    """
    n = len(grid.texts[0]) if grid.texts else 0
    levels: list[list[str]] = []
    for r in range(rows):
        row = list(grid.texts[r])
        for c in range(1, n):
            if not row[c] and grid.left_open[r][c]:
                row[c] = row[c - 1]
        levels.append(row)
    lattice = grid.parser == "camelot-lattice"
    columns = []
    for c in range(n):
        parts: list[str] = []
        for row in levels:
            if row[c] and (not parts or parts[-1] != row[c]):
                parts.append(row[c])
        columns.append("/".join(parts) if lattice else "".join(parts))
    return columns


def map_columns(columns: list[str], spec: TableSpec) -> tuple[list[str | None], list[str]]:
    """Canonical name per column, matching spec patterns in order; returns (names, problems)."""
    used: set[int] = set()
    names: list[str | None] = []
    for label in columns:
        name = None
        for k, (pattern, canonical) in enumerate(spec.columns):
            repeatable = "{" in canonical
            if k in used and not repeatable:
                continue
            m = pattern.search(label)
            if m:
                name = canonical.format(**m.groupdict())
                used.add(k)
                break
        names.append(name)
    problems = [
        f"column {label!r} matches nothing in the spec"
        for label, n in zip(columns, names, strict=True)
        if n is None
    ]
    for k, (_, canonical) in enumerate(spec.columns):
        if k not in used and canonical not in spec.optional:
            problems.append(f"no column for {canonical!r}")
    return names, problems


def _cells(grid: Grid, start: int) -> list[list[Cell]]:
    return [
        [Cell(text, grid.page, box) for text, box in zip(row, boxes, strict=True)]
        for row, boxes in zip(grid.texts[start:], grid.boxes[start:], strict=True)
    ]


def build_table(
    region: Region, grids: list[Grid], spec: ReportSpec, source_sha: str, path: Path
) -> ExtractedTable:
    first = grids[0]
    start = _body_start(first.texts)
    columns = flatten_header(first, start)
    header = [list(r) for r in first.texts[:start]]
    rows = _cells(first, start)
    for grid in grids[1:]:
        if len(grid.texts[0]) != len(columns):
            log.warning(
                "%s: piece on page %d has %d columns, expected %d",
                path,
                grid.page,
                len(grid.texts[0]),
                len(columns),
            )
        # A continuation may repeat the header; its body starts at its first data row.
        rows.extend(_cells(grid, _body_start(grid.texts)))
    caption = region.caption
    table = ExtractedTable(
        table_id=caption.table_id if caption else f"p{first.page}",
        caption=caption.title if caption else "",
        columns=columns,
        rows=rows,
        header=header,
        provenance=Provenance(
            source_sha256=source_sha,
            source_path=str(path),
            pages=[g.page for g in grids],
            bboxes=[p.bbox for p in region.pieces[: len(grids)]],
            parser=first.parser,
            settings=first.settings,
        ),
        unit=region.unit,
        source_note=region.source_note,
        notes=region.notes,
    )
    matched = spec.match_table(table.caption) if caption else None
    if matched:
        table_spec, groups = matched
        table.dataset = table_spec.dataset
        table.canonical, problems = map_columns(columns, table_spec)
        table.attributes = {**table_spec.attributes, **{k: _int_or_str(v) for k, v in groups.items()}}
        for name in ("total_rows", "summary_rows"):
            pattern = getattr(table_spec, name)
            if pattern is not None:
                table.attributes[name] = pattern.pattern
        for problem in problems:
            log.warning("%s %s (page %d): %s", path.name, table.table_id, first.page, problem)
        table.attributes["problems"] = problems
    return table


def _int_or_str(value: str) -> int | str:
    return int(value) if re.fullmatch(r"\d+", value) else value


def extract_tables(
    path: Path,
    pdf: pdfplumber.PDF,
    lines_by_page: dict[int, list[TextLine]],
    spec: ReportSpec,
    source_sha: str,
) -> list[ExtractedTable]:
    tables = []
    for region in find_regions(find_captions(lines_by_page, spec), lines_by_page, pdf, spec):
        grids = []
        for k, piece in enumerate(region.pieces):
            grid = read_grid(path, pdf, piece)
            if grid is None:
                break
            if k > 0 and (
                len(grid.texts[0]) != len(grids[0].texts[0]) or _body_start(grid.texts) == len(grid.texts)
            ):
                break  # what follows on the next page is not this table
            grids.append(grid)
        if not grids:
            log.warning(
                "%s: no table under caption %r on page %d",
                path,
                region.caption and region.caption.title,
                region.pieces[0].page,
            )
            continue
        tables.append(build_table(region, grids, spec, source_sha, path))
    tables.extend(uncaptioned_tables(path, pdf, tables, spec, source_sha, _figure_bands(lines_by_page, spec)))
    return tables


def _figure_bands(lines_by_page: dict[int, list[TextLine]], spec: ReportSpec) -> list[tuple[int, BBox]]:
    """Where each figure sits (caption to its end line): a drawn chart's bars can look like a grid."""
    bands: list[tuple[int, BBox]] = []
    if spec.figure_caption is None:
        return bands
    for page, lines in lines_by_page.items():
        for k, line in enumerate(lines):
            if spec.figure_caption.match(line.text):
                end = next((ln.top for ln in lines[k + 1 :] if spec.is_end(ln.text)), None)
                top, bottom = (line.bottom, end) if end is not None else (0.0, line.top)
                bands.append((page, (0.0, top, 10_000.0, bottom)))
    return bands


def _looks_like_table(grid: Grid) -> bool:
    """Chart bars and frames make grids too; a table has two rows and columns, text in most cells."""
    rows, cols = len(grid.texts), len(grid.texts[0]) if grid.texts else 0
    filled = sum(bool(t) for row in grid.texts for t in row)
    return rows >= 2 and cols >= 2 and filled * 2 >= rows * cols


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def uncaptioned_tables(
    path: Path,
    pdf: pdfplumber.PDF,
    found: list[ExtractedTable],
    spec: ReportSpec,
    source_sha: str,
    figure_bands: list[tuple[int, BBox]],
) -> list[ExtractedTable]:
    """Ruled grids on any page that no caption claimed: kept, so nothing in a new report goes unseen.

    Unruled tables without a caption are not detected: telling them from ordinary text needs a caption.
    """
    claimed = {(p, b) for t in found for p, b in zip(t.provenance.pages, t.provenance.bboxes, strict=True)}
    claimed |= set(figure_bands)
    extra = []
    for page in pdf.pages:
        taken = [b for p, b in claimed if p == page.page_number]
        free = [
            e
            for e in page.edges
            if not any(_overlaps((e["x0"] - 1, e["top"], e["x1"] + 1, e["bottom"]), t) for t in taken)
        ]
        if _column_rules(free) < MIN_VERTICAL_RULES:
            continue
        # pdfplumber finds each ruled grid's box (camelot joins grids that share column rules).
        grids = page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"})
        for k, found_grid in enumerate(sorted(grids, key=lambda t: t.bbox[1])):
            x0, top, x1, bottom = found_grid.bbox
            area = (x0 - 2, top - 2, x1 + 2, bottom + 2)
            if any(_overlaps(area, t) for t in taken):
                continue
            tables_found = _camelot(path, page.page_number, area, float(page.height), LATTICE)
            if not tables_found:
                continue
            grid = _to_grid(tables_found[0], page.page_number, float(page.height), LATTICE)
            if not _looks_like_table(grid):
                continue
            region = Region(None, [Piece(page.page_number, area)])
            table_out = build_table(region, [grid], spec, source_sha, path)
            table_out.table_id = f"p{page.page_number}-{k + 1}"
            extra.append(table_out)
    return extra
