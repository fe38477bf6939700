"""Report specs: the data that says how a kind of report is read (extractors/specs/*.toml).

A spec names the report kind, how to recognise it, how its captions look, and for each table it knows:
the title pattern (matched by words, not by table number), the curated dataset, and an ordered list of
(header pattern, canonical column). A new edition with the same tables needs no code change.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent / "specs"


class SpecError(ValueError):
    """A spec file that cannot be used; names the file and the entry."""


@dataclass(frozen=True)
class TableSpec:
    dataset: str
    title: re.Pattern[str]
    columns: list[tuple[re.Pattern[str], str]]
    optional: frozenset[str] = frozenset()
    attributes: dict[str, Any] = field(default_factory=dict)
    total_rows: re.Pattern[str] | None = None
    summary_rows: re.Pattern[str] | None = None


@dataclass(frozen=True)
class ReportSpec:
    kind: str
    title: str
    detect: re.Pattern[str]
    table_caption: re.Pattern[str]
    figure_caption: re.Pattern[str] | None
    section: re.Pattern[str] | None
    unit: re.Pattern[str] | None
    end: list[re.Pattern[str]]
    table_id: str
    tables: list[TableSpec]
    path: Path

    def match_table(self, title: str) -> tuple[TableSpec, dict[str, str]] | None:
        """The first table spec whose title pattern occurs in ``title``, with the captured groups."""
        for spec in self.tables:
            m = spec.title.search(title)
            if m:
                return spec, {k: v for k, v in m.groupdict().items() if v is not None}
        return None

    def is_end(self, text: str) -> bool:
        return any(p.search(text) for p in self.end)


def _compile(path: Path, where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SpecError(f"{path}: {where}: bad pattern {pattern!r}: {exc}") from None


def load_spec(path: Path) -> ReportSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec: {exc}") from None
    try:
        caps = data["captions"]
        column_sets = data.get("column_sets", {})
        tables = []
        for k, entry in enumerate(data.get("table", [])):
            where = f"table[{k}] ({entry.get('dataset')})"
            source = column_sets[entry["column_set"]] if "column_set" in entry else entry
            columns = [(_compile(path, where, pat), name) for pat, name in source["columns"]]
            tables.append(
                TableSpec(
                    dataset=entry["dataset"],
                    title=_compile(path, where, entry["title"]),
                    columns=columns,
                    optional=frozenset(source.get("optional", [])),
                    attributes=dict(entry.get("attributes", {})),
                    total_rows=_compile(path, where, entry["total_rows"]) if "total_rows" in entry else None,
                    summary_rows=(
                        _compile(path, where, entry["summary_rows"]) if "summary_rows" in entry else None
                    ),
                )
            )
        return ReportSpec(
            kind=data["kind"],
            title=data["title"],
            detect=_compile(path, "detect", data["detect"]),
            table_caption=_compile(path, "captions.table", caps["table"]),
            figure_caption=_compile(path, "captions.figure", caps["figure"]) if "figure" in caps else None,
            section=_compile(path, "captions.section", caps["section"]) if "section" in caps else None,
            unit=_compile(path, "captions.unit", caps["unit"]) if "unit" in caps else None,
            end=[_compile(path, "captions.end", p) for p in caps.get("end", [])],
            table_id=caps["table_id"],
            tables=tables,
            path=path,
        )
    except KeyError as exc:
        raise SpecError(f"{path}: missing key {exc}") from None


def load_specs(directory: Path = SPEC_DIR) -> dict[str, ReportSpec]:
    specs = {}
    for path in sorted(directory.glob("*.toml")):
        spec = load_spec(path)
        specs[spec.kind] = spec
    return specs


def detect_kind(text: str, specs: dict[str, ReportSpec]) -> tuple[ReportSpec, int | None] | None:
    """Which spec's title pattern the text (the first pages, spaces removed) shows, and the year in it."""
    squeezed = re.sub(r"\s+", "", text)
    for spec in specs.values():
        m = spec.detect.search(squeezed)
        if m:
            year = m.groupdict().get("year")
            return spec, int(year) if year else None
    return None
