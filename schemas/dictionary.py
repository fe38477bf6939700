"""The data dictionary (schemas/dictionary.toml) as Python objects."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DICTIONARY = Path(__file__).resolve().parent / "dictionary.toml"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # string | int | float | bool | list_float
    description: str
    unit: str | None = None
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    max: float | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]  # the dataset's own columns, then source_id and source_sha256

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _column(name: str, spec: dict) -> Column:
    return Column(
        name=name,
        dtype=spec["dtype"],
        description=spec["description"],
        unit=spec.get("unit"),
        nullable=bool(spec.get("nullable", False)),
        enum=tuple(spec["enum"]) if "enum" in spec else None,
        max=spec.get("max"),
    )


@cache
def datasets() -> dict[str, Dataset]:
    data = tomllib.loads(DICTIONARY.read_text(encoding="utf-8"))
    common = [_column(n, s) for n, s in data.pop("_common")["columns"].items()]
    return {
        name: Dataset(
            name=name,
            title=entry["title"],
            description=entry["description"],
            key=tuple(entry["key"]),
            columns=(*(_column(n, s) for n, s in entry["columns"].items()), *common),
        )
        for name, entry in data.items()
    }
