"""The variant matrix: named layouts, each a set of dimension values, read from matrix.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MATRIX = Path(__file__).resolve().parent / "matrix.toml"
KINDS = ("annual", "notice")


class MatrixError(ValueError):
    """matrix.toml names a dimension or a value the builder does not know."""


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # annual | notice
    dims: dict[str, Any] = field(hash=False)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["dims"][key]
        except KeyError:
            raise AttributeError(key) from None


def dimensions(path: Path = MATRIX) -> dict[str, list[Any]]:
    """Every dimension and the values it can take (the first is the default)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))["dimensions"]


def load(path: Path = MATRIX) -> list[Variant]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    dims: dict[str, list[Any]] = data["dimensions"]
    defaults = {key: values[0] for key, values in dims.items()}
    variants, seen = [], set()
    for entry in data["variant"]:
        entry = dict(entry)
        name, kind = entry.pop("name"), entry.pop("kind")
        if name in seen:
            raise MatrixError(f"{path.name}: variant {name!r} twice")
        seen.add(name)
        if kind not in KINDS:
            raise MatrixError(f"{path.name}: variant {name}: kind {kind!r} not in {KINDS}")
        values = {**defaults, **data.get("defaults", {}).get(kind, {}), **entry}
        for key, value in values.items():
            if key not in dims:
                raise MatrixError(f"{path.name}: variant {name}: unknown dimension {key!r}")
            allowed = dims[key]
            if key == "break_rows":
                continue  # a list of "表8-2:5" strings: checked where the tables are known
            if value not in allowed:
                raise MatrixError(f"{path.name}: variant {name}: {key} = {value!r} not in {allowed}")
        variants.append(Variant(name, kind, values))
    return variants
