"""Vintages: which edition printed each value, and the views that give one value per key.

Each edition restates earlier years (表3-1 gives 2016–2021; next year's gives 2017–2022), sometimes
revised. Nothing is overwritten: every edition's rows stay in their datasets (each row says its
``source_id`` and ``edition_year``), and ``vintages`` holds every year-keyed value with its printed text
and cell, so a revision can be judged by printed precision and shown with both cells
(schemas/vintages.py). ``curated/views.sql`` defines ``<dataset>_latest`` DuckDB views: per key, the
row of the newest edition (the current value).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from extractors.datasets import Curated
from schemas.dictionary import Dataset, datasets

TOTAL_LABEL = "总计"  # a total row's key whatever an edition prints (合计, 全国 …): the same quantity


def vintage_datasets() -> dict[str, Dataset]:
    """The datasets whose rows are keyed by a data year: what editions restate."""
    return {n: d for n, d in datasets().items() if "year" in d.key and n != "vintages"}


def row_key(dataset: Dataset, row: dict[str, Any]) -> str:
    """The row's key within its year: ``column=value`` pairs, a total row's label as TOTAL_LABEL."""
    parts = []
    for name in dataset.key:
        if name == "year":
            continue
        value = row.get(name)
        if row.get("is_total") is True and isinstance(value, str):
            value = TOTAL_LABEL
        parts.append(f"{name}={value}")
    return "|".join(parts)


VINTAGE_COLUMNS = ["dataset", "key", "year", "column", "value", "value_text", "table_id", "page", "bbox"]


def vintage_frame(item: Curated) -> pd.DataFrame:
    """Every printed value of the source's year-keyed datasets, one row each, with its cell."""
    rows: list[dict[str, Any]] = []
    cells = item.cells
    by_dataset = {name: group for name, group in cells.groupby("dataset", sort=False)} if len(cells) else {}
    for name, dataset in vintage_datasets().items():
        frame = item.frames.get(name)
        group = by_dataset.get(name)
        if frame is None or not len(frame) or group is None:
            continue
        records = frame.to_dict("records")
        for r, column, table_id, page, bbox, text in zip(
            group["row"], group["column"], group["table_id"], group["page"], group["bbox"], group["text"], strict=True
        ):
            record = records[int(r)]
            value = record.get(column)
            rows.append(
                {
                    "dataset": name,
                    "key": row_key(dataset, record),
                    "year": record.get("year"),
                    "column": column,
                    "value": None if value is None or pd.isna(value) else float(value),
                    "value_text": text,
                    "table_id": table_id,
                    "page": None if page is None or pd.isna(page) else int(page),
                    "bbox": None if bbox is None else [float(v) for v in bbox],
                }
            )
    out = pd.DataFrame(rows, columns=VINTAGE_COLUMNS)
    # A key printed twice by one source (a table and its continuation) is one value; the first print stands.
    out = out.drop_duplicates(["dataset", "key", "year", "column"]).reset_index(drop=True)
    if len(out):
        out = out[out["year"].notna()].reset_index(drop=True)
    out["year"] = out["year"].astype("Int64")
    out["page"] = out["page"].astype("Int64")
    for column in ("source_id", "source_sha256", "edition_year"):
        sample = next((f[column] for f in item.frames.values() if column in f and len(f)), None)
        out[column] = sample.iloc[0] if sample is not None else None
    out["edition_year"] = out["edition_year"].astype("Int64")
    return out


def add_vintages(item: Curated) -> Curated:
    """``item`` with its ``vintages`` frame (and the cells behind each of its values)."""
    frame = vintage_frame(item)
    item.frames["vintages"] = frame
    return item


def _partition_expr(dataset: Dataset) -> list[str]:
    names = {c.name for c in dataset.columns}
    out = []
    for name in dataset.key:
        if "is_total" in names and name != "year" and dataset.column(name).dtype == "string":
            out.append(f"CASE WHEN is_total THEN '{TOTAL_LABEL}' ELSE \"{name}\" END")
        else:
            out.append(f'"{name}"')
    return out


def views_sql(present: set[str] | None = None) -> str:
    """DuckDB views over curated/ (run from inside it): every dataset, and ``<dataset>_latest`` for the year-keyed
    ones, one row per key from the newest edition (ties between copies of one edition: the first source id)."""
    lines = [
        "-- soetl curated views for DuckDB. From inside curated/:",
        "--   duckdb -c \".read views.sql\" -c \"FROM ito_by_region_latest\"",
        "-- or in Python: duckdb.connect().execute(open('views.sql').read()) after os.chdir('curated').",
        "-- <dataset>: every edition's rows (source_id, edition_year say which); <dataset>_latest: the current value",
        "-- of each key, from the newest edition that prints it.",
    ]
    keyed = vintage_datasets() | {"vintages": datasets()["vintages"]}
    for name, dataset in datasets().items():
        if present is not None and name not in present:
            continue  # DuckDB binds a view when it is created: a dataset with no files would fail the script
        files = f"read_parquet('{name}/*/*.parquet', hive_partitioning = true, union_by_name = true)"
        lines.append(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {files};")
        if name not in keyed:
            continue
        key = [k for k in dataset.key if k != "source_id"]
        # Quoted: vintages has columns named key and column, which are SQL keywords.
        partition = ", ".join(_partition_expr(datasets()[name]) if name != "vintages" else [f'"{k}"' for k in key])
        lines.append(
            f"CREATE OR REPLACE VIEW {name}_latest AS SELECT * FROM {name} QUALIFY row_number() OVER "
            f"(PARTITION BY {partition} ORDER BY edition_year DESC NULLS LAST, source_id) = 1;"
        )
    return "\n".join(lines) + "\n"
