"""Pandera DataFrameModels, one per curated dataset, generated from the data dictionary.

Nothing about a column is restated here: dtype, nullability, allowed codes (enum → isin), maxima
(max → le), the key (Config.unique), description and unit (Field metadata) all come from
``schemas/dictionary.toml``. The only dataset-level checks are the ones the dictionary's shape implies
(a dataset with ``is_total`` has one total row per year; a list_float column holds lists of numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.dictionary import Column, Dataset, datasets

# Nullable ints use pandas' nullable Int64: a missing rank must not turn the column into floats.
_DTYPES: dict[tuple[str, bool], Any] = {
    ("string", False): str,
    ("string", True): str,
    ("int", False): "int64",
    ("int", True): "Int64",
    ("float", False): "float64",
    ("float", True): "float64",
    ("bool", False): "bool",
    ("bool", True): "boolean",
    ("list_float", False): object,
    ("list_float", True): object,
}


def _field(column: Column) -> Any:
    return pa.Field(
        nullable=column.nullable,
        isin=list(column.enum) if column.enum else None,
        le=column.max,
        title=column.name,
        description=column.description,
        metadata={"unit": column.unit, "dtype": column.dtype},
    )


def _one_total_per_year(cls: Any, df: pd.DataFrame) -> pd.Series:
    # Sums and shares are taken against the total row: two or none make every one of them meaningless.
    if not len(df):
        return pd.Series([], dtype=bool)
    totals = df["is_total"].fillna(False).astype(bool).groupby(df["year"]).transform("sum")
    return totals == 1


def _numbers_list(column: str) -> Callable[[Any, pd.DataFrame], pd.Series]:
    def check(cls: Any, df: pd.DataFrame) -> pd.Series:
        def ok(value: Any) -> bool:
            if value is None or (isinstance(value, float) and pd.isna(value)):
                return True
            try:
                return len(value) > 0 and all(isinstance(v, int | float) for v in value)
            except TypeError:
                return False

        return df[column].map(ok).astype(bool)

    return check


def _named(name: str, fn: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
    # pandera names a dataframe check after its function: give it the name the results will show.
    fn.__name__ = fn.__qualname__ = name
    return fn


def _dataframe_checks(dataset: Dataset) -> dict[str, Any]:
    names = {c.name for c in dataset.columns}
    checks: dict[str, Any] = {}
    if {"is_total", "year"} <= names:
        checks["one_total_row_per_year"] = pa.dataframe_check(
            _named("one_total_row_per_year", lambda cls, df: _one_total_per_year(cls, df)),
            description="exactly one total row (总计/全国) per year",
        )
    for column in dataset.columns:
        if column.dtype == "list_float":
            name = f"{column.name}_is_list_of_numbers"
            checks[name] = pa.dataframe_check(
                _named(name, _numbers_list(column.name)), description=f"{column.name} holds lists of numbers"
            )
    return checks


def _model(dataset: Dataset) -> type[pa.DataFrameModel]:
    annotations = {c.name: Series[_DTYPES[(c.dtype, c.nullable)]] for c in dataset.columns}  # type: ignore[misc]
    namespace: dict[str, Any] = {"__annotations__": annotations}
    namespace.update({c.name: _field(c) for c in dataset.columns})
    namespace.update(_dataframe_checks(dataset))
    namespace["Config"] = type(
        "Config",
        (),
        {
            "name": dataset.name,
            "title": dataset.title,
            "description": dataset.description,
            "unique": list(dataset.key),
            # The frames of a source that contributes nothing to a dataset are empty and typed object:
            # coercion lets them validate, and reports a value that cannot be cast as a failure case.
            "coerce": True,
            "strict": True,
            "metadata": {"key": list(dataset.key)},
        },
    )
    class_name = "".join(part.capitalize() for part in dataset.name.split("_")) + "Model"
    return type(class_name, (pa.DataFrameModel,), namespace)


@cache
def models() -> dict[str, type[pa.DataFrameModel]]:
    """Dataset name → its DataFrameModel."""
    return {name: _model(dataset) for name, dataset in datasets().items()}


def model(dataset: str) -> type[pa.DataFrameModel]:
    return models()[dataset]
