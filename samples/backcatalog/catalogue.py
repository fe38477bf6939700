"""The PDFs of the back catalogue (catalogue.toml): which edition each one is and how it is typeset."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from samples.backcatalog import editions
from samples.backcatalog import scores as sc
from samples.variants import matrix
from samples.variants.matrix import Variant

CATALOGUE = Path(__file__).resolve().parent / "catalogue.toml"
_ID = re.compile(r"^(?P<kind>annual_report|city_evaluation)_(?P<year>\d{4})(?:-(?P<suffix>alt\d+|repub))?$")
VARIANT_KIND = {"annual_report": "annual", "city_evaluation": "notice"}


class CatalogueError(ValueError):
    """catalogue.toml names an id, a variant or a dimension the generator does not know."""


@dataclass(frozen=True)
class Edition:
    """One PDF of the back catalogue: an edition (kind, year) typeset in one style."""

    id: str  # the catalog's source id, and the PDF's file name
    kind: str  # annual_report | city_evaluation
    year: int
    role: str  # base | retypeset | republication
    variant: str  # the samples/variants matrix style it is typeset in
    overrides: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def edition(self) -> str:
        """The edition this PDF publishes (the base PDF's id): every PDF of it prints the same numbers."""
        return f"{self.kind}_{self.year}"

    @property
    def scheme(self) -> str:
        """annual, or the evaluation scheme of the notice's year (2021 | 2016 | 2014)."""
        return "annual" if self.kind == "annual_report" else sc.scheme(self.year)

    @property
    def title(self) -> str:
        return editions.title(self.kind, self.year)


@cache
def _variants() -> dict[str, Variant]:
    return {v.name: v for v in matrix()}


def load(path: Path = CATALOGUE) -> list[Edition]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out: list[Edition] = []
    for n, entry in enumerate(data.get("pdf", []), start=1):
        where = f"{Path(path).name}: pdf #{n}"
        unknown = set(entry) - {"id", "variant", "overrides"}
        if unknown:
            raise CatalogueError(f"{where}: unknown key(s) {sorted(unknown)}")
        m = _ID.match(entry.get("id", ""))
        if not m:
            raise CatalogueError(f"{where}: id {entry.get('id')!r} is not <kind>_<year>[-altN|-repub]")
        kind, year = m["kind"], int(m["year"])
        role = {None: "base", "repub": "republication"}.get(m["suffix"], "retypeset")
        variant = _variants().get(entry.get("variant", ""))
        if variant is None:
            raise CatalogueError(f"{where} ({m[0]}): no variant {entry.get('variant')!r} in samples/variants")
        if variant.kind != VARIANT_KIND[kind]:
            raise CatalogueError(f"{where} ({m[0]}): variant {variant.name} typesets {variant.kind}, not {kind}")
        overrides = dict(entry.get("overrides", {}))
        if bad := set(overrides) - set(variant.dims):
            raise CatalogueError(f"{where} ({m[0]}): unknown dimension(s) {sorted(bad)}")
        editions.document(kind, year)  # raises for an edition the generator cannot make
        out.append(Edition(m[0], kind, year, role, variant.name, overrides))
    ids = [e.id for e in out]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{Path(path).name}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    bases = {e.edition for e in out if e.role == "base"}
    if orphans := sorted({e.edition for e in out} - bases):
        raise CatalogueError(f"{Path(path).name}: no base PDF for {orphans}")
    return out


def variant(edition: Edition, source: dict[str, Any]) -> Variant:
    """The style ``edition`` is typeset in: its matrix variant with the catalogue's overrides, named by the
    edition's id. A forced page break only applies where the edition has that table and row."""
    base = _variants()[edition.variant]
    dims = {**base.dims, **edition.overrides}
    rows = {t["id"]: len(t["rows"]) for t in source["tables"]}
    breaks = []
    for item in dims.get("break_rows", []):
        table, _, row = item.partition(":")
        if table in rows and 0 < int(row) < rows[table]:
            breaks.append(item)
    dims["break_rows"] = breaks
    return Variant(edition.id, base.kind, dims)
