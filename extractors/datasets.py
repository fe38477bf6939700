"""Shape extracted tables into the curated datasets' contract (one DataFrame per dataset).

Values stay as published (no rescaling); units are in the column names. Every frame carries
source_id and source_sha256. Beside the frames, ``cells`` maps each (dataset, row, column) value back
to the table, page and box it was read from, which is what validation evidence and auditors need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from extractors.model import Cell, ExtractedTable, ExtractionResult, FigureRecord
from extractors.statements import STATEMENT_COLUMNS

EXECUTION_COLUMNS = [
    "execution_usd_100m",
    "execution_yoy_pct",
    "execution_share_pct",
    "offshore_usd_100m",
    "offshore_yoy_pct",
    "offshore_share_pct",
]
SCORE_COLUMNS = [
    "base_score",
    "industry_development",
    "innovation",
    "public_service",
    "policy_support",
    "bonus",
    "expert_review",
    "survey",
    "total_score",
]
CLUSTER_COLUMNS = [
    "demo_execution_usd_100m",
    "demo_offshore_usd_100m",
    "driven_execution_usd_100m",
    "driven_offshore_usd_100m",
    "concentration_execution_pct",
    "concentration_offshore_pct",
]

DATASET_COLUMNS: dict[str, list[str]] = {
    "city_scores": [
        "year",
        "city",
        "city_type",
        "region",
        "rank_national",
        "rank_region",
        *SCORE_COLUMNS,
    ],
    "region_execution": ["year", "region", *EXECUTION_COLUMNS, "is_total"],
    "province_execution": ["year", "region", "province", *EXECUTION_COLUMNS],
    "ito_by_region": ["year", "region", "ito_execution_usd_100m", "is_total"],
    "demo_city_clusters": ["year", "region", *CLUSTER_COLUMNS, "is_total"],
    "figures": ["figure_id", "title", "page", "kind", "bbox", "source_note", "image_path", "has_data"],
    "chart_series": ["figure_id", "series", "category", "value", "unit", "value_origin", "page", "bbox", "crop_sha256"],
    "facts": ["table_id", "row_label", "column_label", "value", "value_text", "unit", "page", "bbox"],
    "statements": ["statement_id", *STATEMENT_COLUMNS],
    "city_indicator_scores": [
        "year", "city", "city_type", "region", "rank_national", "rank_region", "scheme", "indicator",
        "indicator_label", "score", "scale", "scale_reference",
    ],
    "tables": [
        "table_id",
        "caption",
        "dataset",
        "parser",
        "row_index",
        "col_index",
        "column_label",
        "text",
        "page",
        "bbox",
    ],
}
SOURCE_COLUMNS = ["source_id", "source_sha256", "edition_year"]
PROVENANCE_COLUMNS = ["dataset", "row", "column", "table_id", "page", "bbox", "text"]


@dataclass
class ShapingProblem:
    """A table a spec claims for a dataset but whose header does not give the columns the dataset needs."""

    dataset: str
    table_id: str
    caption: str
    page: int
    bbox: tuple[float, float, float, float]
    header_seen: list[str]
    expected: list[str]
    problems: list[str]
    note: str = ""  # what is wrong, when it is not the header (a table missing, or printed twice)

    @property
    def message(self) -> str:
        if self.note:
            return self.note
        missing = [p for p in self.problems if p.startswith("no column")]
        return (
            f"{self.table_id} ({self.caption}, page {self.page}): its header {self.header_seen} gives "
            f"{'; '.join(missing) or 'no mapping'}; the spec expects {self.expected}. The table is kept whole "
            "in `tables`; add the printed label to the spec's labels if it is a new wording"
        )


@dataclass
class Curated:
    frames: dict[str, pd.DataFrame]
    cells: pd.DataFrame  # PROVENANCE_COLUMNS: where each dataset value was printed
    tables: dict[str, ExtractedTable] = field(default_factory=dict)
    problems: list[ShapingProblem] = field(default_factory=list)  # tables that could not feed their dataset
    figures: list[FigureRecord] = field(default_factory=list)  # with the chart points withheld (flagged)


class _Builder:
    """Collects rows of one dataset together with where each value came from."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[dict[str, Any]] = []
        self.cells: list[dict[str, Any]] = []

    def add(self, values: dict[str, Any], sources: dict[str, tuple[str, Cell]]) -> int:
        self.rows.append(values)
        index = len(self.rows) - 1
        for column, (table_id, cell) in sources.items():
            self.cells.append(
                {
                    "dataset": self.name,
                    "row": index,
                    "column": column,
                    "table_id": table_id,
                    "page": cell.page,
                    "bbox": list(cell.bbox),
                    "text": cell.text,
                }
            )
        return index

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=DATASET_COLUMNS[self.name])


def _by_name(table: ExtractedTable, row: list[Cell]) -> dict[str, Cell]:
    return {name: cell for name, cell in zip(table.canonical, row, strict=True) if name}


def _is_total(table: ExtractedTable, label: str) -> bool:
    pattern = table.attributes.get("total_rows")
    return bool(pattern and re.search(pattern, label))


def _execution(tables: list[ExtractedTable], dataset: str, label_column: str) -> _Builder:
    out = _Builder(dataset)
    for table in tables:
        for row in table.rows:
            cells = _by_name(table, row)
            label = cells[label_column].text
            values: dict[str, Any] = {"year": table.attributes.get("year"), label_column: label}
            if dataset == "province_execution":
                values["region"] = table.attributes.get("region")
            else:
                values["is_total"] = _is_total(table, label)
            sources = {}
            for column in EXECUTION_COLUMNS if dataset != "demo_city_clusters" else CLUSTER_COLUMNS:
                values[column] = cells[column].value if column in cells else None
                if column in cells:
                    sources[column] = (table.table_id, cells[column])
            out.add(values, sources)
    return out


def _ito_long(tables: list[ExtractedTable]) -> _Builder:
    out = _Builder("ito_by_region")
    for table in tables:
        year_columns = [(n, n.split("@")[1]) for n in table.canonical if n and "@" in n]
        for row in table.rows:
            cells = _by_name(table, row)
            region = cells["region"].text
            for name, year in year_columns:
                values = {
                    "year": int(year),
                    "region": region,
                    "ito_execution_usd_100m": cells[name].value,
                    "is_total": _is_total(table, region),
                }
                out.add(values, {"ito_execution_usd_100m": (table.table_id, cells[name])})
    return out


def _regional_ranks(tables: list[ExtractedTable]) -> dict[tuple[str, str], tuple[str, Cell, str]]:
    """(city type, city) -> (table id, rank cell, region) from the regional tables."""
    regional: dict[tuple[str, str], tuple[str, Cell, str]] = {}
    for table in tables:
        if table.attributes.get("scope") != "region":
            continue
        for row in table.rows:
            cells = _by_name(table, row)
            if _is_summary(table, cells):
                continue
            key = (table.attributes["city_type"], cells["city"].text)
            regional[key] = (table.table_id, cells["rank"], table.attributes["region"])
    return regional


def _wide(table: ExtractedTable) -> bool:
    # A scheme other than the one the wide columns describe (2016's five normalised indicators …) is long form only.
    return bool(table.attributes.get("wide", True))


def _city_scores(tables: list[ExtractedTable]) -> _Builder:
    """National tables give the scores and national ranks; regional tables the region and its rank."""
    out = _Builder("city_scores")
    tables = [t for t in tables if _wide(t)]
    regional = _regional_ranks(tables)
    for table in tables:
        if table.attributes.get("scope") != "national":
            continue
        for row in table.rows:
            cells = _by_name(table, row)
            if _is_summary(table, cells):
                continue
            city_type = table.attributes["city_type"]
            region_info = regional.get((city_type, cells["city"].text))
            values: dict[str, Any] = {
                "year": table.attributes.get("year"),
                "city": cells["city"].text,
                "city_type": city_type,
                "region": region_info[2] if region_info else None,
                "rank_national": _int(cells["rank"]),
                "rank_region": _int(region_info[1]) if region_info else None,
            }
            sources = {"rank_national": (table.table_id, cells["rank"])}
            if region_info:
                sources["rank_region"] = (region_info[0], region_info[1])
            for column in SCORE_COLUMNS:
                values[column] = cells[column].value if column in cells else None
                if column in cells:
                    sources[column] = (table.table_id, cells[column])
            out.add(values, sources)
    return out


def _indicator_scores(tables: list[ExtractedTable]) -> _Builder:
    """Every score of every national score table in long form, whatever its scheme: one row per city and
    indicator, with the scale the spec says it is on (points out of a maximum, normalised to an average …)."""
    out = _Builder("city_indicator_scores")
    regional = _regional_ranks(tables)
    for table in tables:
        if table.attributes.get("scope") != "national":
            continue
        scales = table.attributes.get("scales", {})
        labels = dict(zip(table.canonical, table.columns, strict=True))
        for row in table.rows:
            cells = _by_name(table, row)
            if _is_summary(table, cells):
                continue
            city_type = table.attributes["city_type"]
            region_info = regional.get((city_type, cells["city"].text))
            for name, cell in cells.items():
                if name in ("rank", "city"):
                    continue
                scale = scales.get(name, {})
                values = {
                    "year": table.attributes.get("year"),
                    "city": cells["city"].text,
                    "city_type": city_type,
                    "region": region_info[2] if region_info else None,
                    "rank_national": _int(cells["rank"]),
                    "rank_region": _int(region_info[1]) if region_info else None,
                    "scheme": table.attributes.get("scheme"),
                    "indicator": name,
                    "indicator_label": labels.get(name),
                    "score": cell.value,
                    "scale": scale.get("kind"),
                    "scale_reference": scale.get("reference"),
                }
                out.add(values, {"score": (table.table_id, cell)})
    return out


def _is_summary(table: ExtractedTable, cells: dict[str, Cell]) -> bool:
    pattern = table.attributes.get("summary_rows")
    return bool(pattern) and any(re.search(pattern, cells[n].text) for n in ("rank", "city") if n in cells)


def _int(cell: Cell) -> int | None:
    value = cell.value
    return int(value) if value is not None else None


def qualified_labels(columns: list[str]) -> list[str]:
    """Column labels made unique the way a reader reads a flat header.

    表8-1 prints 同比增长（%） twice: once after 全部执行金额, once after 离岸执行金额. A repeated label
    is qualified by the nearest label to its left that is not repeated, its implicit group.
    """
    repeated = {c for c in columns if columns.count(c) > 1}
    out, group = [], ""
    for label in columns:
        if label in repeated:
            out.append(f"{group}/{label}" if group else label)
        else:
            group = label
            out.append(label)
    return out


def _facts_and_tables(tables: Iterable[ExtractedTable]) -> tuple[_Builder, _Builder]:
    facts, generic = _Builder("facts"), _Builder("tables")
    for table in tables:
        labels = qualified_labels(table.columns)
        for r, row in enumerate(table.rows):
            row_label = next((c.text for c in row if c.text and c.value is None), "") or (row[0].text if row else "")
            for c, cell in enumerate(row):
                base = {"table_id": table.table_id, "page": cell.page, "bbox": list(cell.bbox)}
                generic.add(
                    {
                        **base,
                        "caption": table.caption,
                        "dataset": table.dataset,
                        "parser": table.provenance.parser,
                        "row_index": r,
                        "col_index": c,
                        "column_label": table.columns[c],
                        "text": cell.text,
                    },
                    {},
                )
                if cell.value is not None:
                    facts.add(
                        {
                            **base,
                            "row_label": row_label,
                            "column_label": labels[c],
                            "value": cell.value,
                            "value_text": cell.text,
                            "unit": _unit(table.unit, table.columns[c]),
                        },
                        {"value": (table.table_id, cell)},
                    )
    return facts, generic


def _unit(table_unit: str | None, column: str) -> str | None:
    # Percentage columns say so in their header; amounts take the table's 金额单位.
    if "%" in column or "％" in column:
        return "%"
    return table_unit


def _statements(result: ExtractionResult) -> _Builder:
    """One row per figure the text states; its value's provenance is the printed number's box."""
    out = _Builder("statements")
    for n, st in enumerate(getattr(result, "statements", []) or []):
        row = st.to_dict()
        row["statement_id"] = n
        cell = Cell(st.value_text, st.page, st.bbox) if st.bbox else None
        out.add({c: row.get(c) for c in DATASET_COLUMNS["statements"]}, {"value": (None, cell)} if cell else {})
    return out


def curate(result: ExtractionResult, source_id: str, edition_year: int | None = None) -> Curated:
    """All curated datasets one extraction contributes to (empty frames for the others).

    ``edition_year`` is the year the source was published (its catalog year, else the one its title
    gives): every row says which edition it comes from."""
    by_dataset: dict[str, list[ExtractedTable]] = {}
    problems = []
    for table in result.tables:
        if not table.dataset:
            continue
        if table.attributes.get("mapped", True):
            by_dataset.setdefault(table.dataset, []).append(table)
            continue
        # Shaping such a table would guess; it stays whole in `tables`, and its dataset fails, saying why.
        problems.append(
            ShapingProblem(
                dataset=table.dataset,
                table_id=table.table_id,
                caption=table.caption,
                page=table.provenance.pages[0],
                bbox=table.provenance.bboxes[0],
                header_seen=list(table.columns),
                expected=list(table.attributes.get("expected_columns", [])),
                problems=list(table.attributes.get("problems", [])),
            )
        )
    for problem in result.problems:
        # A table the spec expects but the PDF does not yield, or yields twice: its dataset is incomplete.
        if problem.kind in ("missing_table", "duplicate_table") and problem.dataset:
            problems.append(
                ShapingProblem(problem.dataset, "", "", problem.page or 0, (0.0, 0.0, 0.0, 0.0), [], [],
                               [problem.problem], note=problem.problem)  # fmt: skip
            )
    builders = [
        _city_scores(by_dataset.get("city_scores", [])),
        _indicator_scores(by_dataset.get("city_scores", [])),
        _execution(by_dataset.get("region_execution", []), "region_execution", "region"),
        _execution(by_dataset.get("province_execution", []), "province_execution", "province"),
        _ito_long(by_dataset.get("ito_by_region", [])),
        _execution(by_dataset.get("demo_city_clusters", []), "demo_city_clusters", "region"),
        *_facts_and_tables(result.tables),
    ]
    figures, series = _Builder("figures"), _Builder("chart_series")
    for fig in result.figures:
        figures.add(
            {
                "figure_id": fig.figure_id,
                "title": fig.title,
                "page": fig.page,
                "kind": fig.kind,
                "bbox": [float(v) for v in fig.bbox],
                "source_note": fig.source_note,
                "image_path": fig.image_path,
                "has_data": fig.has_data,
            },
            {},
        )
        for point in fig.points:
            label = Cell(point.label_text or "", fig.page, point.bbox) if point.bbox else None
            series.add(
                {
                    "figure_id": fig.figure_id,
                    "series": point.series,
                    "category": point.category,
                    "value": point.value,
                    "unit": point.unit,
                    "value_origin": point.value_origin,
                    "page": fig.page,
                    "bbox": list(point.bbox) if point.bbox else None,
                    "crop_sha256": fig.crop_sha256,
                },
                {"value": (fig.figure_id, label)} if label else {},
            )
    builders += [figures, series, _statements(result)]
    frames = {}
    for builder in builders:
        frame = builder.frame()
        frame.insert(len(frame.columns), "source_id", source_id)
        frame.insert(len(frame.columns), "source_sha256", result.source_sha256)
        year = edition_year if edition_year is not None else result.year
        frame.insert(len(frame.columns), "edition_year", pd.array([year] * len(frame), dtype="Int64"))
        frames[builder.name] = frame
    cells = pd.DataFrame([c for b in builders for c in b.cells], columns=PROVENANCE_COLUMNS)
    return Curated(frames, cells, {t.table_id: t for t in result.tables}, problems, list(result.figures))
