"""Report specs: the data that says how a kind of report is read (extractors/specs/*.toml).

A spec names the report kind, how to recognise it, how its captions look, and for each table it knows:
the title pattern (matched by words, not by table number), the curated dataset, and the columns: each
a canonical name with the labels publishers print for it (synonyms) or a pattern. Patterns and labels
are matched against normalised text (``extractors.normalize``): write them with ASCII brackets, colons
and digits. A new edition, or another publisher's typesetting of the same tables, needs no code change.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from extractors.normalize import label_key, normalize

SPEC_DIR = Path(__file__).resolve().parent / "specs"


def spec_dir_default() -> Path:
    """SOETL_SPEC_DIR (to try an edited copy of the specs), or the specs shipped in extractors/specs/."""
    env = os.environ.get("SOETL_SPEC_DIR")
    return Path(env) if env else SPEC_DIR
FUZZY_THRESHOLD = 0.8  # a header matching no label exactly is mapped by similarity only above this


class SpecError(ValueError):
    """A spec file that cannot be used; names the file and the entry."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # canonical column; may hold {group} fields a pattern captures (ito_execution_usd_100m@{year})
    labels: tuple[str, ...] = ()  # label keys (normalised, no spaces); a flattened label or its last level
    pattern: re.Pattern[str] | None = None
    optional: bool = False

    @property
    def repeatable(self) -> bool:
        return "{" in self.name


@dataclass(frozen=True)
class TableSpec:
    dataset: str
    title: re.Pattern[str]
    columns: list[ColumnSpec]
    attributes: dict[str, Any] = field(default_factory=dict)
    total_rows: re.Pattern[str] | None = None
    summary_rows: re.Pattern[str] | None = None
    fuzzy_threshold: float = FUZZY_THRESHOLD

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if not c.optional]


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
    auto_detect: bool = True  # False: used only when named (kind=...), never detected from the text
    continued: re.Pattern[str] | None = None  # 续表: a table continued on this page

    def match_table(self, title: str, columns: list[str] | None = None) -> tuple[TableSpec, dict[str, str]] | None:
        """The first table spec whose title pattern occurs in ``title`` (normalised), with its groups.

        Given the table's ``columns``, of the specs whose title matches, the first whose columns the
        header gives in full and with the fewest labels left over (a scheme is told by what it prints).
        """
        key = normalize(title)
        hits = []
        for spec in self.tables:
            m = spec.title.search(key)
            if m:
                hits.append((spec, {k: v for k, v in m.groupdict().items() if v is not None}))
        if columns is None or len(hits) < 2:
            return hits[0] if hits else None
        from extractors.mapping import map_columns

        def fit(hit: tuple[TableSpec, dict[str, str]]) -> tuple[bool, int]:
            mapping = map_columns(columns, hit[0])
            return (not mapping.complete, len(mapping.unknown))

        return min(hits, key=fit)  # min keeps the first of equals

    def is_end(self, text: str) -> bool:
        key = normalize(text)
        return any(p.search(key) for p in self.end)


def _compile(path: Path, where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SpecError(f"{path}: {where}: bad pattern {pattern!r}: {exc}") from None


def _column(path: Path, where: str, entry: Any) -> ColumnSpec:
    if isinstance(entry, list):  # [pattern, name]: the short form
        pattern, name = entry
        return ColumnSpec(name=name, pattern=_compile(path, where, pattern))
    if not isinstance(entry, dict) or "name" not in entry:
        raise SpecError(f"{path}: {where}: a column is [pattern, name] or {{ name = ..., labels = [...] }}")
    labels = tuple(label_key(x) for x in entry.get("labels", []))
    pattern = _compile(path, where, entry["pattern"]) if "pattern" in entry else None
    if not labels and pattern is None:
        raise SpecError(f"{path}: {where}: column {entry['name']!r} needs labels or a pattern")
    return ColumnSpec(entry["name"], labels, pattern, bool(entry.get("optional", False)))


def _expand(path: Path, where: str, columns: list[Any], sets: dict[str, Any]) -> list[Any]:
    """Columns with ``{ include = "set" }`` entries replaced by that column set's columns."""
    out = []
    for c in columns:
        if isinstance(c, dict) and "include" in c:
            if c["include"] not in sets:
                raise SpecError(f"{path}: {where}: no column set {c['include']!r}")
            out += _expand(path, where, sets[c["include"]]["columns"], sets)
        else:
            out.append(c)
    return out


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
            optional = set(source.get("optional", []))
            columns = []
            for c in _expand(path, where, source["columns"], column_sets):
                col = _column(path, where, c)
                if col.name in optional:
                    col = ColumnSpec(col.name, col.labels, col.pattern, True)
                columns.append(col)
            tables.append(
                TableSpec(
                    dataset=entry["dataset"],
                    title=_compile(path, where, entry["title"]),
                    columns=columns,
                    # A column set's attributes (its scheme, scales) go with every table of it.
                    attributes={**source.get("attributes", {}), **entry.get("attributes", {})},
                    total_rows=_compile(path, where, entry["total_rows"]) if "total_rows" in entry else None,
                    summary_rows=(
                        _compile(path, where, entry["summary_rows"]) if "summary_rows" in entry else None
                    ),
                    fuzzy_threshold=float(entry.get("fuzzy_threshold", FUZZY_THRESHOLD)),
                )
            )
        auto_detect = bool(data.get("auto_detect", True))
        return ReportSpec(
            kind=data["kind"],
            title=data["title"],
            # A spec never detected needs no detect pattern; one that never matches stands in.
            detect=_compile(path, "detect", data["detect"] if auto_detect else data.get("detect", r"(?!)")),
            table_caption=_compile(path, "captions.table", caps["table"]),
            figure_caption=_compile(path, "captions.figure", caps["figure"]) if "figure" in caps else None,
            section=_compile(path, "captions.section", caps["section"]) if "section" in caps else None,
            unit=_compile(path, "captions.unit", caps["unit"]) if "unit" in caps else None,
            end=[_compile(path, "captions.end", p) for p in caps.get("end", [])],
            table_id=caps["table_id"],
            tables=tables,
            path=path,
            auto_detect=auto_detect,
            continued=_compile(path, "captions.continued", caps["continued"]) if "continued" in caps else None,
        )
    except KeyError as exc:
        raise SpecError(f"{path}: missing key {exc}") from None


def load_specs(directory: Path = SPEC_DIR) -> dict[str, ReportSpec]:
    """Every spec in ``directory`` by kind. Read again only when a file there changes: a night or a
    benchmark extracts many PDFs, and compiling the patterns each time cost more than opening a PDF."""
    stats = [(p.name, p.stat()) for p in sorted(directory.glob("*.toml"))]
    stamp = tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats)
    return dict(_read_specs(directory, stamp))  # specs are frozen; the dict is the caller's own


@lru_cache(maxsize=16)
def _read_specs(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, ReportSpec]:
    specs = {}
    for name, _, _ in stamp:
        spec = load_spec(directory / name)
        specs[spec.kind] = spec
    return specs


def detect_kind(text: str, specs: dict[str, ReportSpec]) -> tuple[ReportSpec, int | None] | None:
    """Which spec's title pattern the text (the first pages, normalised, spaces removed) shows, and its year."""
    squeezed = re.sub(r"\s+", "", normalize(text))
    for spec in specs.values():
        if not spec.auto_detect:
            continue
        m = spec.detect.search(squeezed)
        if m:
            year = m.groupdict().get("year")
            return spec, int(year) if year else None
    return None
