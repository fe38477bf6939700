"""The catalogue-level truth: for every (dataset, key, year, column), which editions print it and what
they print, which edition is the newest ("current") for it, and where editions disagree (the revisions,
each traced to the planted revision that caused it).

Values are read from the editions' content (editions.py), the very rows every PDF of an edition is
typeset from: all PDFs of an edition print the same numbers, only formatted their own way (thousands
separators, a footnote mark), which their per-PDF truth records as ``values``.
"""

from __future__ import annotations

import re
from typing import Any

from samples.backcatalog import editions
from samples.backcatalog import series as se
from samples.backcatalog.catalogue import VARIANT_KIND, Edition
from samples.variants.content import _canonical

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_YEAR_COLUMN = re.compile(r"^(?P<name>.+)@(?P<year>\d{4})$")


def canonical(kind: str, table: dict[str, Any]) -> list[str | None]:
    if table.get("canonical"):
        return list(table["canonical"])
    return _canonical(VARIANT_KIND[kind], table["columns"])


def _key(table: dict[str, Any], label: str) -> dict[str, Any]:
    a = table["attributes"]
    if table["dataset"] == "province_execution":
        return {"region": a["region"], "province": label}
    if table["dataset"] == "city_scores":
        key = {"city": label, "city_type": a["city_type"], "scope": a["scope"]}
        return key | ({"region": a["region"]} if "region" in a else {})
    return {"region": label}


def printed(kind: str, year: int) -> list[dict[str, Any]]:
    """Every number one edition prints: dataset, key, year, column, text, the table's id."""
    out = []
    for table in editions.document(kind, year)["tables"]:
        names = canonical(kind, table)
        for row, label in zip(table["rows"], table["keys"], strict=True):
            for text, name in zip(row, names, strict=True):
                if name is None or not NUMBER.match(text):
                    continue
                column, at = name, table["attributes"].get("year")
                if m := _YEAR_COLUMN.match(name):
                    column, at = m["name"], int(m["year"])
                record = {"dataset": table["dataset"], "key": _key(table, label), "year": at, "column": column,
                          "text": text, "table": table["id"]}
                if "scales" in table:
                    record["scale"] = table["scales"].get(column)
                out.append(record)
    return out


def _planted(rev: se.Revision) -> dict[str, Any]:
    old, new = se.revision_values(rev)
    before = [y for y in editions.ANNUAL_YEARS if y < rev.edition and rev.year in se.ito_years(y)]
    after = [y for y in editions.ANNUAL_YEARS if y >= rev.edition and rev.year in se.ito_years(y)]
    total_old = se.ito_total(rev.edition - 1, rev.year)
    total_new = se.ito_total(rev.edition, rev.year)
    return {
        "id": rev.id,
        "edition": f"annual_report_{rev.edition}",
        "dataset": "ito_by_region",
        "key": {"region": rev.region},
        "year": rev.year,
        "column": "ito_execution_usd_100m",
        "old": se.fmt(old),
        "new": se.fmt(new),
        "delta": round(float(se.fmt(new)) - float(se.fmt(old)), 1),
        "printed_old_by": [f"annual_report_{y}" for y in before],
        "printed_new_by": [f"annual_report_{y}" for y in after],
        "note": rev.note,
        # The region's total is restated with it.
        "also": [{"key": {"region": se.TOTAL}, "old": se.fmt(total_old), "new": se.fmt(total_new)}],
    }


def truth_index(entries: list[Edition], hashes: dict[str, str] | None = None) -> dict[str, Any]:
    hashes = hashes or {}
    eds: dict[str, dict[str, Any]] = {}
    for e in entries:
        ed = eds.setdefault(e.edition, {"kind": e.kind, "year": e.year, "scheme": e.scheme, "title": e.title,
                                        "sources": []})
        ed["sources"].append(e.id)
    sources = {
        e.id: {"edition": e.edition, "kind": e.kind, "year": e.year, "role": e.role, "variant": e.variant,
               "overrides": e.overrides, "pdf": f"{e.id}.pdf", "truth": f"{e.id}.json",
               **({"sha256": hashes[e.id]} if e.id in hashes else {})}
        for e in entries
    }
    cells: dict[tuple, dict[str, Any]] = {}
    for edition in sorted(eds, key=lambda k: (eds[k]["kind"], eds[k]["year"])):
        ed = eds[edition]
        for p in printed(ed["kind"], ed["year"]):
            ident = (p["dataset"], tuple(sorted(p["key"].items())), p["year"], p["column"])
            cell = cells.setdefault(ident, {
                "dataset": p["dataset"], "key": p["key"], "year": p["year"], "column": p["column"],
                **({"scale": p["scale"]} if "scale" in p else {}), "by_edition": {}, "tables": {},
            })
            cell["by_edition"][edition] = p["text"]
            cell["tables"][edition] = p["table"]
    planted = [_planted(rev) for rev in se.REVISIONS]
    values, revisions = [], []
    for cell in cells.values():
        newest = max(cell["by_edition"], key=lambda k: eds[k]["year"])
        cell["current"] = {"edition": newest, "sources": eds[newest]["sources"], "text": cell["by_edition"][newest]}
        texts = set(cell["by_edition"].values())
        cell["revised"] = len(texts) > 1
        values.append(cell)
        if cell["revised"]:
            cause = [
                r["id"] for r in planted
                if r["dataset"] == cell["dataset"] and r["year"] == cell["year"] and r["column"] == cell["column"]
                and cell["key"].get("region") in (r["key"]["region"], se.TOTAL)
            ]
            revisions.append({**{k: cell[k] for k in ("dataset", "key", "year", "column", "by_edition")},
                              "planted": cause[0] if len(cause) == 1 else None})
    return {
        "about": "made-up back catalogue (samples/backcatalog); values as printed, current = newest edition",
        "editions": eds,
        "sources": sources,
        "planted_revisions": planted,
        "revisions": revisions,
        "values": values,
    }
