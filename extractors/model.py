"""What extraction produces: tables with every cell's provenance, and figures with their series."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from extractors.layout import BBox


@dataclass
class Cell:
    text: str  # as printed, CJK spacing removed
    page: int
    bbox: BBox
    row_span: int = 1  # a cell spanning rows or columns; the slots it covers hold empty cells
    col_span: int = 1

    @property
    def value(self) -> float | None:
        from extractors.numbers import parse_number

        try:
            return parse_number(self.text)
        except ValueError:
            return None


@dataclass
class Provenance:
    source_sha256: str
    source_path: str
    pages: list[int]
    bboxes: list[BBox]  # the table's region on each page
    parser: str  # "soetl-lattice" (cells drawn by rules) or "soetl-alignment" (columns from the text)
    settings: dict[str, Any]


@dataclass
class HeaderCell:
    row: int
    col: int
    row_span: int
    col_span: int
    text: str


@dataclass
class ExtractedTable:
    table_id: str  # "表8-1", "附1-1", or "p12-t1" for a table no caption names
    caption: str  # the title as printed, without its number
    columns: list[str]  # flattened header labels, one per column
    rows: list[list[Cell]]  # body rows
    header: list[list[str]]  # header rows as read
    provenance: Provenance
    unit: str | None = None
    source_note: str | None = None
    notes: list[str] = field(default_factory=list)
    dataset: str | None = None  # the curated dataset a spec maps this table to
    canonical: list[str | None] = field(default_factory=list)  # canonical column name per column
    attributes: dict[str, Any] = field(default_factory=dict)  # from the caption and spec: year, region …
    header_rows: int = 0  # header rows as printed (a two-level header has two)
    header_cells: list[HeaderCell] = field(default_factory=list)  # the header with its spans

    def texts(self) -> list[list[str]]:
        return [[c.text for c in row] for row in self.rows]


@dataclass
class ChartPoint:
    series: str
    category: str
    value: float
    unit: str
    value_origin: str  # "label" (read from a data label) or "geometry" (measured from the drawing)
    label_text: str | None = None
    geometry_value: float | None = None  # the value the drawing implies, for the cross-check
    bbox: BBox | None = None  # the label's box (or the mark's, for a geometry value), PDF points
    mark_bbox: BBox | None = None  # the mark the value belongs to (bar, segment, vertex, slice)
    confidence: float | None = None  # the OCR's confidence in the label; None for a text layer's
    precision: float | None = None  # ± of the drawing's value (a traced image's pixels)


@dataclass
class FlaggedPoint:
    """A point the reading could not prove: never published, shown in the audit report."""

    point: ChartPoint
    reasons: list[str]


@dataclass
class FigureRecord:
    figure_id: str  # "图1-1"
    title: str
    page: int
    bbox: BBox
    source_note: str | None
    image_path: str | None  # PNG of the figure region
    kind: str  # "raster" (an image) or "vector" (drawn, labels as text)
    points: list[ChartPoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # label/geometry disagreements and the like
    flagged: list[FlaggedPoint] = field(default_factory=list)  # read but not proved: withheld
    crop_sha256: str | None = None  # of the pixels the points were read from (raster charts)
    reader: str | None = None  # what read the points: "vector" or the OCR's version

    @property
    def has_data(self) -> bool:
        return bool(self.points)


# Problems that mean the result lacks something the PDF holds: its datasets must not publish as complete.
INCOMPLETE = frozenset(
    {"page_tree", "damaged_content", "unreadable_text", "missing_table", "duplicate_table", "incomplete_table"}
)
# Of those, the ones that make the whole PDF suspect; the others leave one dataset incomplete (``dataset``).
DAMAGED = frozenset({"page_tree", "damaged_content", "unreadable_text"})


@dataclass
class PageProblem:
    page: int | None  # None: the whole document (a table the spec expects was not found)
    problem: str  # e.g. NoTextLayer's message
    # no_text_layer | rotated_page | page_tree | page_objects | damaged_content | unreadable_text |
    # missing_table | duplicate_table | incomplete_table | "" (other)
    kind: str = ""
    dataset: str | None = None  # the curated dataset a missing or doubled table leaves incomplete


@dataclass
class ExtractionResult:
    source_path: str
    source_sha256: str
    pages: int
    kind: str | None
    year: int | None
    tables: list[ExtractedTable] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    problems: list[PageProblem] = field(default_factory=list)
    extractor_version: str = ""
    statements: list[Any] = field(default_factory=list)  # extractors.statements.Statement: figures the text states

    @property
    def complete(self) -> bool:
        """False when a problem says something of the PDF is missing from this result (see INCOMPLETE)."""
        return not self.incomplete

    @property
    def incomplete(self) -> list[PageProblem]:
        return [p for p in self.problems if p.kind in INCOMPLETE]
