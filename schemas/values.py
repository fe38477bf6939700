"""Printed values with their provenance: what every check reads and every failure points at.

A check never works on bare floats. It works on ``Term``s: the value, the precision it was printed
with (from the cell's text, so ``5.00`` is two decimals even though the float is 5.0) and a ``CellRef``
that says where it was printed (dataset row/column, table, page, box). A value a curated dataset holds
is addressed by its dataset row and column; a table cell no dataset column holds (the 平均值 rows, the
scores repeated in the regional tables) by its row in the generic ``tables`` dataset.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from extractors.datasets import Curated
from extractors.model import ExtractedTable

BBox = tuple[float, float, float, float]
_NUMBER = re.compile(r"\d+(?:\.(\d+))?")


@dataclass(frozen=True)
class CellRef:
    source_id: str
    dataset: str  # the published dataset holding the value; "stated" for a figure in running text
    row: int
    column: str
    table_id: str | None = None
    page: int | None = None
    bbox: BBox | None = None
    text: str | None = None
    label: str = ""  # what a reader calls it: "表8-1 东部地区 · execution_usd_100m"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "dataset": self.dataset,
            "row": self.row,
            "column": self.column,
            "table_id": self.table_id,
            "page": self.page,
            "bbox": list(self.bbox) if self.bbox else None,
            "text": self.text,
            "label": self.label,
        }

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.source_id, self.dataset, self.row, self.column)


@dataclass(frozen=True)
class Term:
    ref: CellRef
    value: float
    decimals: int

    @property
    def half_unit(self) -> float:
        """Half a unit of the last printed digit: how far the true value can be from the printed one."""
        return 0.5 * 10.0**-self.decimals


def printed_decimals(text: str | None, value: float) -> int:
    """Decimals of the number as printed; without a text (chart points), the shortest float repr's.

    The fallback can only understate a printed precision of 0 decimals as 1 (``842`` → ``842.0``), which
    makes a tolerance tighter, never looser.
    """
    if text:
        found = _NUMBER.findall(unicodedata.normalize("NFKC", text).replace(",", ""))
        if found:
            return len(found[-1])
    shown = repr(float(value))
    return len(shown.split(".", 1)[1]) if "." in shown and "e" not in shown else 0


def _box(bbox: Any) -> BBox | None:
    if bbox is None or (isinstance(bbox, float) and math.isnan(bbox)):
        return None
    x0, top, x1, bottom = (float(v) for v in bbox)
    return (x0, top, x1, bottom)


def _box_key(table_id: str, page: int, bbox: Any) -> tuple[str, int, float, float, float, float]:
    x0, top, x1, bottom = bbox
    return (
        table_id,
        int(page),
        round(float(x0), 2),
        round(float(top), 2),
        round(float(x1), 2),
        round(float(bottom), 2),
    )


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class SourceValues:
    """One source's curated frames, addressable as Terms."""

    def __init__(self, source_id: str, curated: Curated) -> None:
        self.source_id = source_id
        self.curated = curated
        self.frames = curated.frames
        self.tables: dict[str, ExtractedTable] = curated.tables
        self._cells: dict[tuple[str, int, str], dict[str, Any]] = {}
        self._owner: dict[tuple[str, int, float, float, float, float], tuple[str, int, str]] = {}
        cells = curated.cells
        # facts' own provenance columns say where each of its rows was printed: its cells entries are redundant.
        cells = cells[(cells["dataset"] != "facts").to_numpy(dtype=bool)] if len(cells) else cells
        names = [str(c) for c in cells.columns]
        for values in zip(*(cells[c].tolist() for c in cells.columns), strict=True):
            rec = dict(zip(names, values, strict=True))
            address = (rec["dataset"], int(rec["row"]), rec["column"])
            self._cells[address] = rec
            if rec["dataset"] != "tables":
                self._owner[_box_key(rec["table_id"], rec["page"], rec["bbox"])] = address
        self._columns: dict[str, tuple[dict[Any, int], dict[str, list[Any]]]] = {}
        self._table_terms: dict[tuple[str, int, int], Term | None] = {}
        self._row_names: dict[tuple[str, int], str] = {}  # (table id | dataset, row) → its name
        self._summary: dict[tuple[str, int], bool] = {}
        generic = self.frames.get("tables")
        self._generic: dict[tuple[str, int, int], int] = {}
        if generic is not None and len(generic):
            for idx, (tid, r, c) in enumerate(
                zip(generic["table_id"], generic["row_index"], generic["col_index"], strict=True)
            ):
                self._generic[(tid, int(r), int(c))] = idx

    def sha256(self) -> str | None:
        for frame in self.frames.values():
            if "source_sha256" in frame and len(frame):
                return str(frame["source_sha256"].iloc[0])
        return None

    def _table(self, dataset: str) -> tuple[dict[Any, int], dict[str, list[Any]]]:
        if dataset not in self._columns:
            frame = self.frames[dataset]
            positions = {label: i for i, label in enumerate(frame.index)}
            self._columns[dataset] = (positions, {str(c): frame[c].tolist() for c in frame.columns})
        return self._columns[dataset]

    def get(self, dataset: str, row: int, column: str) -> Any:
        """One dataset value (frame.at is too slow for the thousands of lookups a run makes)."""
        positions, columns = self._table(dataset)
        return columns[column][positions[row]]

    def has(self, dataset: str, column: str) -> bool:
        return dataset in self.frames and column in self._table(dataset)[1]

    def ref(self, dataset: str, row: int, column: str, label: str = "") -> CellRef:
        rec = self._cells.get((dataset, row, column))
        if rec is None and dataset in ("facts", "tables") and row is not None and row >= 0:
            # These two carry their own provenance columns instead of entries in ``cells``.
            text = self.get(dataset, row, "value_text" if dataset == "facts" else "text")
            return CellRef(
                self.source_id,
                dataset,
                row,
                column,
                self.get(dataset, row, "table_id"),
                int(self.get(dataset, row, "page")),
                _box(self.get(dataset, row, "bbox")),
                None if is_missing(text) else str(text),
                label,
            )
        if rec is None:
            return CellRef(self.source_id, dataset, row, column, label=label)
        return CellRef(
            self.source_id,
            dataset,
            row,
            column,
            rec["table_id"],
            int(rec["page"]),
            _box(rec["bbox"]),
            rec["text"],
            label,
        )

    def term(self, dataset: str, row: int, column: str, label: str = "") -> Term | None:
        """The dataset value at (row, column) with where it was printed; None when it is empty."""
        value = self.get(dataset, row, column)
        if is_missing(value):
            return None
        ref = self.ref(dataset, row, column, label or self.row_label(dataset, row, column))
        return Term(ref, float(value), printed_decimals(ref.text, float(value)))

    def row_label(self, dataset: str, row: int, column: str) -> str:
        key = (dataset, row)
        if key not in self._row_names:
            names = [
                str(self.get(dataset, row, c))
                for c in ("year", "city_type", "region", "province", "city", "figure_id", "series", "category")
                if self.has(dataset, c) and not is_missing(self.get(dataset, row, c))
            ]
            self._row_names[key] = " ".join(names)
        rec = self._cells.get((dataset, row, column))
        prefix = f"{rec['table_id']} " if rec is not None else ""
        return f"{prefix}{self._row_names[key]} · {column}"

    def table_term(self, table: ExtractedTable, r: int, c: int) -> Term | None:
        """A table cell, addressed by the dataset value it became or else by its row in ``tables``."""
        key = (table.table_id, r, c)
        if key not in self._table_terms:
            self._table_terms[key] = self._table_term(table, r, c)
        return self._table_terms[key]

    def _table_term(self, table: ExtractedTable, r: int, c: int) -> Term | None:
        cell = table.rows[r][c]
        value = cell.value
        if value is None:
            return None
        name = table.canonical[c] if c < len(table.canonical) and table.canonical[c] else table.columns[c]
        owner = self._owner.get(_box_key(table.table_id, cell.page, cell.bbox))
        if owner is not None:
            dataset, row, column = owner
        else:
            dataset, row, column = "tables", self._generic.get((table.table_id, r, c), -1), "text"
        label = f"{table.table_id} {self.row_name(table, r)} · {name}"
        ref = CellRef(
            self.source_id, dataset, row, column, table.table_id, cell.page, _box(cell.bbox), cell.text, label
        )
        return Term(ref, float(value), printed_decimals(cell.text, float(value)))

    def is_summary(self, table: ExtractedTable, r: int) -> bool:
        """A 平均值-like row (the spec's ``summary_rows`` pattern matches one of its cells)."""
        key = (table.table_id, r)
        if key not in self._summary:
            pattern = table.attributes.get("summary_rows")
            self._summary[key] = bool(pattern) and any(re.search(pattern, c.text) for c in table.rows[r] if c.text)
        return self._summary[key]

    def row_name(self, table: ExtractedTable, r: int) -> str:
        """The row's first text cell (its city, region …), as curate names facts rows."""
        key = (table.table_id, r)
        if key not in self._row_names:
            row = table.rows[r]
            self._row_names[key] = next((c.text for c in row if c.text and c.value is None), row[0].text if row else "")
        return self._row_names[key]
