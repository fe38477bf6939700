"""Tables: found by their captions (and, without one, by their rules and alignment), read by the
structure layer, cleaned into one labelled grid with provenance, and mapped to a spec where one applies.

A caption's region runs from under its caption (and unit line) to the first end line (数据来源, 注) or
the next caption; a region that reaches the page's foot continues at the top of the next page, under
the running header and any 续表 line. Each piece is read by ``structure.read_table``; a continuation keeps
its first page's columns. Tables no caption names are found by ``detect`` in the rest of each page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import pdfplumber

from extractors.content import PageContent
from extractors.detect import find_tables, table_extent
from extractors.grid import TableGrid
from extractors.layout import BBox, TextLine, clean_text
from extractors.mapping import map_columns
from extractors.model import Cell, ExtractedTable, HeaderCell, Provenance
from extractors.normalize import UNIT_TAIL, label_key, normalize
from extractors.rows import is_data, is_number
from extractors.spec import ReportSpec
from extractors.structure import read_table

log = logging.getLogger(__name__)

Contents = Callable[[int], PageContent]


@dataclass
class Caption:
    table_id: str
    title: str
    line: TextLine
    unit: str | None = None


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


def _caption_unit(title: str) -> tuple[str, str | None]:
    """A caption that carries its unit in brackets: ``…数据统计（单位：亿美元）``."""
    key = normalize(title)
    m = UNIT_TAIL.search(key)
    if m and "单位" in m.group(0):
        unit = re.sub(r"^.*单位\s*[:：]?\s*", "", m.group("unit")) or m.group("unit")
        cut = len(title) - len(key[m.start() :])
        return title[:cut].rstrip() if 0 < cut <= len(title) else title, unit
    return title, None


def page_furniture(lines_by_page: dict[int, list[TextLine]], heights: dict[int, float]) -> set[str]:
    """Running headers and footers: the same text in a page's margin band on several pages, or text
    that differs only by a number running with the page (第 3 页, - 12 -).

    The notice's running header is the report's own title, which reads like a table caption.
    """
    same: dict[str, set[int]] = {}
    numbered: dict[str, set[tuple[int, int]]] = {}
    for page, lines in lines_by_page.items():
        height = heights.get(page, 842.0)
        for line in lines:
            if line.bottom < height * MARGIN_BAND or line.top > height * (1 - MARGIN_BAND):
                key = normalize(line.text)
                same.setdefault(key, set()).add(page)
                digits = re.findall(r"\d+", key)
                if len(digits) == 1:
                    numbered.setdefault(re.sub(r"\d+", "#", key), set()).add((page, int(digits[0]) - page))
    need = max(2, min(3, len(lines_by_page) // 2))
    out = {text for text, pages in same.items() if len(pages) >= need}
    for text, seen in numbered.items():
        offsets = {offset for _, offset in seen}
        if len(seen) >= need and len(offsets) == 1:
            out.add(text)
    return out


def _is_furniture(line: TextLine, furniture: set[str]) -> bool:
    key = normalize(line.text)
    return key in furniture or re.sub(r"\d+", "#", key) in furniture


def find_captions(
    lines_by_page: dict[int, list[TextLine]],
    spec: ReportSpec,
    furniture: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Caption]:
    captions = []
    section, ordinal = "", 0
    for page in sorted(lines_by_page):
        for line in lines_by_page[page]:
            if _is_furniture(line, furniture):
                continue
            key = normalize(line.text)
            if spec.section and (m := spec.section.match(key)):
                section, ordinal = m.group("number"), 0
                continue
            m = spec.table_caption.match(key)
            if not m:
                continue
            ordinal += 1
            groups = m.groupdict()
            table_id = spec.table_id.format(
                number=groups.get("number") or "", section=section, ordinal=ordinal, page=page
            )
            title, unit = _caption_unit(_printed_title(line.text, groups["title"]))
            captions.append(Caption(table_id, title, line, unit))
    return captions


def _printed_title(printed: str, normalised_title: str) -> str:
    """The title as printed: the caption line from where its normalised title starts (spaces aside)."""
    text = clean_text(printed)
    squeeze = re.compile(r"\s+")
    target = squeeze.sub("", normalised_title)
    offset = squeeze.sub("", normalize(text)).rfind(target) if target else -1
    if offset <= 0:
        return text
    seen = 0
    for k, ch in enumerate(text):
        if seen >= offset and not ch.isspace():
            return text[k:]
        if not ch.isspace():
            seen += len(normalize(ch)) or 1
    return text


def _is_caption(text: str, spec: ReportSpec) -> bool:
    key = normalize(text)
    return bool(
        spec.table_caption.match(key)
        or (spec.figure_caption and spec.figure_caption.match(key))
        or (spec.section and spec.section.match(key))
    )


MARGIN_BAND = 0.09  # running headers and page numbers live in this share of the page at top and bottom


PAGE_NUMBER = re.compile(r"^(?:第\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*页)?$|^\d{1,4}\s*/\s*\d{1,4}$")


def _margin_text(line: TextLine, furniture: set[str]) -> bool:
    return _is_furniture(line, furniture) or bool(PAGE_NUMBER.match(normalize(line.text)))


def _body_top(lines: list[TextLine], page_height: float, furniture: set[str]) -> float:
    """Where a continued table can start: under the running header, if the page has one."""
    header = [ln for ln in lines if ln.bottom < page_height * MARGIN_BAND * 1.4 and _margin_text(ln, furniture)]
    return max(ln.bottom for ln in header) + 1 if header else page_height * 0.02


def _body_bottom(lines: list[TextLine], page_height: float, furniture: set[str]) -> float:
    """Where a table running to the page's foot must end: above the page number and footer, if any."""
    footer = [ln for ln in lines if ln.top > page_height * (1 - MARGIN_BAND * 1.4) and _margin_text(ln, furniture)]
    return min(ln.top for ln in footer) - 1 if footer else page_height * 0.99


def find_regions(
    captions: list[Caption],
    lines_by_page: dict[int, list[TextLine]],
    pdf: pdfplumber.PDF,
    spec: ReportSpec,
    furniture: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Region]:
    regions = []
    for caption in captions:
        page_no = caption.line.page
        page = pdf.pages[page_no - 1]
        region = Region(caption, [], unit=caption.unit)
        top = caption.line.bottom
        lines = [ln for ln in lines_by_page[page_no] if ln.top >= caption.line.bottom - 0.5]
        lines = [ln for ln in lines if ln is not caption.line]
        if spec.unit and lines and (m := spec.unit.match(normalize(lines[0].text))):
            region.unit = m.group("unit")
            top = lines[0].bottom
        while True:
            bottom, ended = _scan_region(lines, top, region, spec)
            if bottom is None:
                bottom = _body_bottom(lines_by_page[page_no], float(page.height), furniture)
            region.pieces.append(Piece(page_no, (0.0, top, float(page.width), bottom)))
            if ended or page_no >= len(pdf.pages):
                break
            # Reached the foot of the page: the table continues at the top of the next one.
            page_no += 1
            page = pdf.pages[page_no - 1]
            lines = lines_by_page.get(page_no, [])
            top = _body_top(lines, page.height, furniture)
            lines = [ln for ln in lines if ln.top >= top]
            top = _skip_continuation(lines, top, caption, spec)
            lines = [ln for ln in lines if ln.top >= top]
        regions.append(region)
    return regions


def _skip_continuation(lines: list[TextLine], top: float, caption: Caption, spec: ReportSpec) -> float:
    """Past a 续表 line, a repeated caption and a repeated unit line at the top of a continued piece."""
    title = normalize(caption.title)
    for line in lines[:3]:
        key = normalize(line.text)
        repeated = title and title in key and not spec.table_caption.match(key)
        if (spec.continued and spec.continued.match(key)) or repeated or (spec.unit and spec.unit.match(key)):
            top = line.bottom + 0.5
            continue
        break
    return top


def _scan_region(lines: list[TextLine], top: float, region: Region, spec: ReportSpec) -> tuple[float | None, bool]:
    """Walk the lines under ``top``: stop at an end line or the next caption."""
    for k, line in enumerate(lines):
        if line.top < top - 0.5:
            continue
        if spec.is_end(line.text):
            if re.match(r"^(?:数据来源|资料来源|来源)", normalize(line.text)):
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


def _same_table(first: TableGrid, grid: TableGrid) -> bool:
    """A piece on the next page continues the table when it has data rows and a like number of columns."""
    body = grid.matrix()[grid.header_rows :]
    return bool(body) and any(is_data(row) for row in body) and abs(grid.n_cols - first.n_cols) <= 1


def _read_piece(
    region: Region, k: int, contents: Contents, first: TableGrid | None, *, runs_on: bool
) -> TableGrid | None:
    piece = region.pieces[k]
    content = contents(piece.page)
    # Running text can follow a table before its region's end line: it is cut, except where the piece
    # runs on to the next page (its text reaches the foot of the page by construction).
    bbox = table_extent(content, piece.bbox, ended=runs_on)
    if bbox is None:
        return None
    if first is None:
        return read_table(content, bbox)
    # A continuation read on its own is right when it finds the first page's columns; where it does not
    # (a column empty on this page), it keeps the first page's columns. Where it finds as many but places
    # a word otherwise than they would (a few rows on this page hide a gutter the first page shows:
    # 平均值 under 序号 and 城市 with one row above it), it keeps them too, moved as this page is.
    grid = read_table(content, bbox)
    if grid is None or grid.n_cols != first.n_cols:
        grid = read_table(content, bbox, columns=first.col_edges)
    elif grid.n_rows - grid.header_rows < first.n_rows - first.header_rows and (
        moved := _columns_moved(content.words_in(bbox), grid.col_edges, first.col_edges)
    ):
        grid = read_table(content, bbox, columns=moved)
    if grid is not None and _repeats_header(grid, first):
        # The first page's header printed again: as many header rows as there, unless it reads as fewer
        # (its wrapped lines merged) and a data row follows sooner: that row is the body's.
        head = grid.matrix()[: first.header_rows]
        grid.header_rows = next((r for r, row in enumerate(head) if r and is_data(row)), len(head))
    return grid


def _columns_moved(words: list[Any], own: list[float], first: list[float]) -> list[float] | None:
    """The first page's column edges, moved by as much as this page's own edges are, where under them a row's
    label spans into an empty neighbour that its own edges gave a column of its own (a gutter hidden on this
    page, shown on the first); None where nothing moves so, or a figure or a filled cell would move."""
    shift = median(b - a for a, b in zip(first[1:-1], own[1:-1], strict=True)) if len(own) > 2 else 0.0
    moved = [e + shift for e in first]

    def spanned(word: Any, edges: list[float]) -> set[int]:
        return {k for k in range(len(edges) - 1) if word.x1 > edges[k] + 1 and word.x0 < edges[k + 1] - 1}

    changed = False
    for word in words:
        before, after = spanned(word, own), spanned(word, moved)
        if before == after:
            continue
        neighbours = [w for w in words if w is not word and abs(w.yc - word.yc) < 0.5 * (word.bottom - word.top)]
        if is_number(word.text) or not before <= after or any(spanned(w, moved) & (after - before) for w in neighbours):
            return None
        changed = True
    return moved if changed else None


def read_region(region: Region, contents: Contents) -> list[TableGrid]:
    grids: list[TableGrid] = []
    for k in range(len(region.pieces)):
        grid = _read_piece(region, k, contents, grids[0] if grids else None, runs_on=k + 1 < len(region.pieces))
        usable = grid is not None and grid.n_cols >= 2 and (k == 0 or _same_table(grids[0], grid))
        if not usable:
            if grids:
                # The table did not run on to this page after all: read its last piece as one that ends.
                last = _read_piece(region, k - 1, contents, grids[0] if k > 1 else None, runs_on=False)
                if last is not None:
                    grids[-1] = last
                    region.pieces[k - 1].bbox = last.bbox
            break
        region.pieces[k].bbox = grid.bbox
        grids.append(grid)
    del region.pieces[len(grids) :]
    first = grids[0] if grids else None
    if first is not None and len(grids) > 1 and not any(is_data(row) for row in first.matrix()[first.header_rows :]):
        # The caption and header at a page's foot, the body on the next page: the first piece is all
        # header, read over the columns the body shows.
        header = read_table(contents(first.page), first.bbox, columns=grids[1].col_edges, header_only=True)
        if header is not None and header.n_cols == grids[1].n_cols:
            grids[0] = header
        else:
            first.header_rows = first.n_rows
    return grids


def _repeats_header(grid: TableGrid, first: TableGrid) -> bool:
    head = {label_key(t) for row in first.matrix()[: first.header_rows] for t in row if t}
    top = [label_key(t) for t in grid.matrix()[0] if t] if grid.n_rows else []
    return bool(top) and sum(t in head for t in top) * 2 >= len(top)


def _cells(grid: TableGrid) -> list[list[Cell]]:
    return [[Cell(c.text, grid.page, c.bbox, c.row_span, c.col_span) for c in row] for row in grid.body()]


def build_table(
    region: Region, grids: list[TableGrid], spec: ReportSpec, source_sha: str, path: Path
) -> ExtractedTable:
    first = grids[0]
    columns = first.header_labels()
    header = [list(r) for r in first.matrix()[: first.header_rows]]
    header_cells = [
        HeaderCell(c.row, c.col, c.row_span, c.col_span, c.text) for c in first.cells if c.row < first.header_rows
    ]
    rows = _cells(first)
    for grid in grids[1:]:
        if grid.n_cols != first.n_cols:
            log.warning("%s: piece on page %d has %d columns, expected %d", path, grid.page, grid.n_cols, first.n_cols)
        rows.extend(_cells(grid))
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
            bboxes=[g.bbox for g in grids],
            parser=f"soetl-{first.method}",
            settings={"method": first.method, "col_edges": [round(x, 2) for x in first.col_edges]},
        ),
        unit=region.unit,
        source_note=region.source_note,
        notes=region.notes,
        header_rows=first.header_rows,
        header_cells=header_cells,
    )
    _drop_unit_cells(table)
    matched = spec.match_table(table.caption, table.columns) if caption else None
    if matched:
        apply_spec(table, *matched, path=path)
    return table


def _drop_unit_cells(table: ExtractedTable) -> None:
    """A 单位：亿美元 printed inside the header is the table's unit, not a column label."""
    unit_re = re.compile(r"^(?:金额)?单位\s*:\s*(?P<unit>\S+)$")
    for k, label in enumerate(table.columns):
        parts = label.split("/")
        keep = []
        for part in parts:
            m = unit_re.match(normalize(part))
            if m:
                table.unit = table.unit or m.group("unit")
            else:
                keep.append(part)
        table.columns[k] = "/".join(keep)


def apply_spec(table: ExtractedTable, table_spec, groups: dict[str, str], path: Path) -> None:  # type: ignore[no-untyped-def]
    table.dataset = table_spec.dataset
    mapping = map_columns(table.columns, table_spec)
    table.canonical = mapping.names
    table.attributes = {**table_spec.attributes, **{k: _int_or_str(v) for k, v in groups.items()}}
    for name in ("total_rows", "summary_rows"):
        pattern = getattr(table_spec, name)
        if pattern is not None:
            table.attributes[name] = pattern.pattern
    table.attributes["problems"] = mapping.problems
    table.attributes["mapped"] = mapping.complete
    if mapping.fuzzy:
        table.attributes["fuzzy"] = {table.columns[c]: {"column": n, "score": s} for c, (n, s) in mapping.fuzzy.items()}
    if not mapping.complete:
        table.attributes["expected_columns"] = table_spec.required
    for problem in mapping.problems:
        log.warning("%s %s (page %d): %s", path.name, table.table_id, table.provenance.pages[0], problem)


def _int_or_str(value: str) -> int | str:
    return int(value) if re.fullmatch(r"\d+", value) else value


def extract_tables(
    path: Path,
    pdf: pdfplumber.PDF,
    lines_by_page: dict[int, list[TextLine]],
    spec: ReportSpec,
    source_sha: str,
    contents: Contents,
) -> list[ExtractedTable]:
    tables = []
    claimed: list[tuple[int, BBox]] = []
    furniture = page_furniture(lines_by_page, {p.page_number: float(p.height) for p in pdf.pages})
    for region in find_regions(find_captions(lines_by_page, spec, furniture), lines_by_page, pdf, spec, furniture):
        grids = read_region(region, contents)
        if not grids:
            log.warning(
                "%s: no table under caption %r on page %d",
                path,
                region.caption and region.caption.title,
                region.caption.line.page if region.caption else 0,
            )
            continue
        tables.append(build_table(region, grids, spec, source_sha, path))
        claimed += [(p.page, p.bbox) for p in region.pieces]
    claimed += _figure_bands(lines_by_page, spec)
    for page_no in sorted(lines_by_page):
        taken = [b for p, b in claimed if p == page_no]
        for k, grid in enumerate(find_tables(contents(page_no), taken), start=1):
            region = Region(None, [Piece(page_no, grid.bbox)])
            table = build_table(region, [grid], spec, source_sha, path)
            table.table_id = f"p{page_no}-{k}"
            tables.append(table)
    return tables


def _figure_bands(lines_by_page: dict[int, list[TextLine]], spec: ReportSpec) -> list[tuple[int, BBox]]:
    """Where each figure sits (caption to its end line): a drawn chart's bars can look like a grid."""
    bands: list[tuple[int, BBox]] = []
    if spec.figure_caption is None:
        return bands
    for page, lines in lines_by_page.items():
        for k, line in enumerate(lines):
            if spec.figure_caption.match(normalize(line.text)):
                end = next((ln.top for ln in lines[k + 1 :] if spec.is_end(ln.text)), None)
                top, bottom = (line.bottom, end) if end is not None else (0.0, line.top)
                bands.append((page, (0.0, top, 10_000.0, bottom)))
    return bands


def tables_in_regions(
    path: Path, regions: list[tuple[int, BBox]], spec: ReportSpec, source_sha: str, contents: Contents
) -> list[ExtractedTable]:
    """One table per given (page, bbox): the structure layer on areas a user (or a benchmark) names."""
    tables = []
    for k, (page_no, bbox) in enumerate(regions, start=1):
        grid = read_table(contents(page_no), bbox)
        if grid is None:
            log.warning("%s: no text in the given region %s on page %d", path, bbox, page_no)
            continue
        table = build_table(Region(None, [Piece(page_no, grid.bbox)]), [grid], spec, source_sha, path)
        table.table_id = f"r{k}"
        tables.append(table)
    return tables
