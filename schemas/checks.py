"""The arithmetic the reports imply, as data: every check is one entry of ``CHECKS``.

Each entry is an instance of a small engine (a column sum, a row sum, a ratio, …) configured with the
dataset, rows and columns it applies to. Engines yield ``Instance``s, one per relation they test (one
year's 表3-1 column, one city's row, one share), each with observed, expected, tolerance and the cells
involved, so a failure points at printed cells.

Tolerance rule (printed precision): a printed number stands for any value within half a unit of its
last printed digit. A relation holds if it can hold for some values the printed numbers stand for:
for a sum that is the sum of the terms' half-units (terms × half a unit when all share a precision);
for a ratio, mean or growth rate, the largest change the terms' half-units can make to the computed
value, plus the printed result's own half-unit. Nothing is ever loosened beyond that.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from extractors.model import ExtractedTable
from schemas.stated import StatedFact
from schemas.values import CellRef, SourceValues, Term, is_missing

# Which provinces make each region (short names: a printed label matches by its start).
REGION_MEMBERS: dict[str, list[str]] = tomllib.loads(
    (Path(__file__).with_name("regions.toml")).read_text(encoding="utf-8")
)["regions"]


class Skip(Exception):
    """A check that cannot run on this input (nothing to check, or an input it needs is missing)."""


@dataclass
class Instance:
    key: str  # stable within its check: "2021 东部地区 · execution_usd_100m"
    observed: Any
    expected: Any
    tolerance: float | None
    cells: list[CellRef]
    passed: bool
    note: str = ""
    status: str = ""  # passed | failed | finding (a known inconsistency of the published data)
    relation: str = "eq"  # eq: observed ≈ expected; le: observed ≤ expected; order: ranks, lists, counts
    # ∂(observed − expected)/∂cell for each cell key: how a change of one printed value moves the gap
    # (what a cell would have to be for the relation to hold; how far a corruption must go to be seen).
    sensitivity: dict[tuple[str, str, int, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.status:
            self.status = "passed" if self.passed else "failed"

    @property
    def excess(self) -> float:
        """How far past its tolerance the deviation is, relative to it (>1 fails); for ranking."""
        if isinstance(self.observed, int | float) and isinstance(self.expected, int | float):
            gap = abs(float(self.observed) - float(self.expected))
            return gap / self.tolerance if self.tolerance else (0.0 if gap == 0 else float("inf"))
        return 0.0 if self.passed else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "observed": _plain(self.observed),
            "expected": _plain(self.expected),
            "tolerance": _plain(self.tolerance),
            "deviation": _plain(
                float(self.observed) - float(self.expected)
                if isinstance(self.observed, int | float) and isinstance(self.expected, int | float)
                else None
            ),
            "note": self.note,
            "cells": [c.to_dict() for c in self.cells],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    return value


@dataclass
class Context:
    sources: dict[str, SourceValues]
    stated: list[StatedFact] | None = None
    # What several checks derive from the same sources once per run (the reconciliation's observations).
    derived: dict[str, Any] = field(default_factory=dict)

    def frames(self, dataset: str) -> Iterator[tuple[SourceValues, pd.DataFrame]]:
        for values in self.sources.values():
            frame = values.frames.get(dataset)
            if frame is not None and len(frame):
                yield values, frame


@dataclass(frozen=True)
class Rows:
    """Rows of a dataset: those whose columns equal ``where``'s values."""

    dataset: str
    where: dict[str, Any] = field(default_factory=dict)

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.where:
            return frame
        mask = pd.Series(True, index=frame.index)
        for column, value in self.where.items():
            mask &= (frame[column] == value).fillna(False).astype(bool)
        return frame[mask]


def _group_key(values: SourceValues, dataset: str, row: int, by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(_normal(values.get(dataset, row, c)) for c in by)


def _normal(value: Any) -> Any:
    # Frames of different sources may hold numpy or Python scalars for the same year.
    return value.item() if hasattr(value, "item") else value


def _fmt_key(key: tuple[Any, ...]) -> str:
    return " ".join(str(k) for k in key)


def gradient(terms: Sequence[Term], f: Callable[[Sequence[float]], float]) -> list[float]:
    """∂f/∂term at the printed values (central differences; f is smooth where it is evaluated)."""
    base = [t.value for t in terms]
    out = []
    for i, t in enumerate(terms):
        step = max(abs(t.value), 1.0) * 1e-6
        hi, lo = list(base), list(base)
        hi[i] += step
        lo[i] -= step
        out.append((f(hi) - f(lo)) / (2 * step))
    return out


def _sum_sensitivity(parts: Iterable[Term], total: Term) -> dict[tuple[str, str, int, str], float]:
    out = {t.ref.key: 1.0 for t in parts}
    out[total.ref.key] = out.get(total.ref.key, 0.0) - 1.0
    return out


def interval_spread(terms: Sequence[Term], f: Callable[[Sequence[float]], float]) -> tuple[float, float]:
    """f at the printed values, and the largest change of f over every corner of the terms' half-units.

    The functions used here (sums, a/b, a/(a+b), b/a − 1) are monotone in each term, so their extremes
    over the box of possible true values lie at its corners.
    """
    nominal = f([t.value for t in terms])
    spread = 0.0
    for signs in itertools.product((-1.0, 1.0), repeat=len(terms)):
        try:
            spread = max(
                spread, abs(f([t.value + s * t.half_unit for t, s in zip(terms, signs, strict=True)]) - nominal)
            )
        except ZeroDivisionError:
            return nominal, float("inf")
    return nominal, spread


@dataclass(frozen=True)
class Check:
    name: str
    dataset: str  # the dataset the check is about (results are grouped by it)
    kind: str  # sum | share | consistency | chart | cross-document
    description: str

    def instances(self, ctx: Context) -> Iterable[Instance]:
        raise NotImplementedError


# ---------------------------------------------------------------- sums


@dataclass(frozen=True)
class ColumnSum(Check):
    """Component rows add up to a total row, per group (year, region …) and column."""

    components: Rows = Rows("")
    total: Rows = Rows("")
    columns: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ("year",)
    # Components that are members of the group (provinces of a region, ``members``: the component column
    # naming each): their sum equals the total only where every member of the group is listed
    # (schemas/regions.toml), and is at most the total where some are. Captions word this differently
    # (部分省市, 主要省市, 各省市) or not at all; the list itself says it.
    members: str | None = None
    # Within one table every total row must have components; across tables a total may have none listed.
    totals_need_components: bool = True

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values in ctx.sources.values():
            comp_frame = values.frames.get(self.components.dataset)
            total_frame = values.frames.get(self.total.dataset)
            if comp_frame is None or total_frame is None or not len(comp_frame) or not len(total_frame):
                continue
            comps = self.components.select(comp_frame)
            totals = self.total.select(total_frame)
            groups: dict[tuple[Any, ...], list[int]] = {}
            for row in comps.index:
                groups.setdefault(_group_key(values, self.components.dataset, int(row), self.group_by), []).append(
                    int(row)
                )
            total_rows: dict[tuple[Any, ...], list[int]] = {}
            for row in totals.index:
                total_rows.setdefault(_group_key(values, self.total.dataset, int(row), self.group_by), []).append(
                    int(row)
                )
            for key in sorted(set(groups) | set(total_rows), key=str):
                yield from self._group(values, key, groups.get(key, []), total_rows.get(key, []))

    def _group(
        self, values: SourceValues, key: tuple[Any, ...], comps: list[int], totals: list[int]
    ) -> Iterator[Instance]:
        label = _fmt_key(key)
        if not comps and not self.totals_need_components:
            return
        if len(totals) != 1:
            cells = [values.ref(self.components.dataset, r, self.columns[0]) for r in comps]
            cells += [values.ref(self.total.dataset, r, self.columns[0]) for r in totals]
            yield Instance(label, len(totals), 1, 0, cells, False, f"{len(totals)} total rows for {label}")
            return
        partial = self._partial(values, key, comps)
        for column in self.columns:
            terms = [t for r in comps if (t := values.term(self.components.dataset, r, column))]
            total = values.term(self.total.dataset, totals[0], column)
            if total is None or not terms:
                continue
            observed = sum(t.value for t in terms)
            tolerance = sum(t.half_unit for t in terms) + total.half_unit
            if partial:
                passed = observed <= total.value + tolerance
                note = "only some members are listed: their sum must not exceed the total"
            else:
                passed = abs(observed - total.value) <= tolerance
                note = ""
            yield Instance(
                f"{label} · {column}",
                observed,
                total.value,
                tolerance,
                [*(t.ref for t in terms), total.ref],
                passed,
                note,
                relation="le" if partial else "eq",
                sensitivity=_sum_sensitivity(terms, total),
            )

    def _partial(self, values: SourceValues, key: tuple[Any, ...], rows: list[int]) -> bool:
        if self.members is None:
            return False
        # The group's last key names the whole (group_by ends with the region).
        whole = REGION_MEMBERS.get(str(key[-1]).removesuffix("地区"))
        if whole is None:
            # A group the division does not know: complete only where every caption says so (各省市, 全部).
            tables = {values.ref(self.components.dataset, r, self.columns[0]).table_id for r in rows}
            captions = [getattr(values.tables.get(t or ""), "caption", "") for t in tables]
            return not all(re.search(r"各|全部|所有", c) for c in captions)
        listed = [str(values.get(self.components.dataset, r, self.members) or "") for r in rows]
        return not all(any(label.startswith(m) for label in listed) for m in whole)


@dataclass(frozen=True)
class JoinedSum(Check):
    """Within a row, some columns add up to a column of the matching row of another dataset.

    Rows match on ``join`` after ``rename`` maps this dataset's labels to the other's (东部 → 东部地区).
    """

    other: str = ""
    join: tuple[str, ...] = ("year", "region")
    rename: dict[str, str] = field(default_factory=dict)
    sums: tuple[tuple[tuple[str, ...], str], ...] = ()  # ((components here), column there)

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values in ctx.sources.values():
            here, there = values.frames.get(self.dataset), values.frames.get(self.other)
            if here is None or there is None or not len(here) or not len(there):
                continue
            index = {
                self._key(values, self.other, int(r), _group_key(values, self.other, int(r), self.join)): int(r)
                for r in there.index
            }
            for row in here.index:
                raw = _group_key(values, self.dataset, int(row), self.join)
                key = self._key(values, self.dataset, int(row), raw)
                match = index.get(key)
                for parts, target in self.sums:
                    terms = [t for c in parts if (t := values.term(self.dataset, int(row), c))]
                    if match is None:
                        yield Instance(
                            f"{_fmt_key(raw)} · {target}",
                            None,
                            f"a {self.other} row {_fmt_key(key)}",
                            None,
                            [t.ref for t in terms],
                            False,
                            f"no {self.other} row {_fmt_key(key)}",
                        )
                        continue
                    total = values.term(self.other, match, target)
                    if total is None or len(terms) != len(parts):
                        continue
                    yield _sum_instance(f"{_fmt_key(raw)} · {'+'.join(parts)} = {self.other}.{target}", terms, total)

    def _key(self, values: SourceValues, dataset: str, row: int, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        """The row's join key (``raw``: its labels as printed), renamed; a total row's labels are one word
        whichever it prints (总计, 合计, 全国): tables of one report may word their totals differently."""
        total = "is_total" in values.frames[dataset] and bool(values.get(dataset, row, "is_total"))
        return tuple(
            ("总计" if total else self.rename.get(v, v)) if isinstance(v, str) else v for v in raw
        )


def _sum_instance(label: str, terms: list[Term], total: Term) -> Instance:
    """Parts against their printed total, within the parts' and the total's half-units."""
    observed = sum(t.value for t in terms)
    tolerance = sum(t.half_unit for t in terms) + total.half_unit
    return Instance(
        label,
        observed,
        total.value,
        tolerance,
        [*(t.ref for t in terms), total.ref],
        abs(observed - total.value) <= tolerance,
        sensitivity=_sum_sensitivity(terms, total),
    )


def _table_rows(values: SourceValues, dataset: str) -> Iterator[tuple[ExtractedTable, int, dict[str, Term]]]:
    """Every body row of every table a spec maps to ``dataset``, as canonical column → Term."""
    for table in values.tables.values():
        if table.dataset != dataset:
            continue
        for r in range(len(table.rows)):
            row: dict[str, Term] = {}
            for c, name in enumerate(table.canonical):
                if name and (term := values.table_term(table, r, c)) is not None:
                    row[name] = term
            yield table, r, row


@dataclass(frozen=True)
class RowSum(Check):
    """In every row of the dataset's tables (city rows, regional repeats, 平均值), parts add up to a total.

    Empty parts are not terms: applicants have no 加分项 column.
    """

    total: str = ""
    parts: tuple[str, ...] = ()

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values in ctx.sources.values():
            for table, r, row in _table_rows(values, self.dataset):
                if self.total not in row:
                    continue
                terms = [row[p] for p in self.parts if p in row]
                if not terms:
                    continue
                label = f"{table.table_id} {values.row_name(table, r)} · {self.total}"
                yield _sum_instance(label, terms, row[self.total])


# ---------------------------------------------------------------- shares


@dataclass(frozen=True)
class Ratio:
    """result ≈ Σnumerator ÷ Σdenominator × scale; denominator columns of ``denominator_rows`` if given."""

    result: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    denominator_rows: Rows | None = None  # the national total row, joined on ``join``
    join: tuple[str, ...] = ("year",)
    scale: float = 100.0


@dataclass(frozen=True)
class Share(Check):
    rows: Rows = Rows("")
    ratios: tuple[Ratio, ...] = ()

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values in ctx.sources.values():
            frame = values.frames.get(self.rows.dataset)
            if frame is None or not len(frame):
                continue
            for ratio in self.ratios:
                lookup = self._denominator_rows(values, ratio)
                for row in self.rows.select(frame).index:
                    yield from self._one(values, frame, int(row), ratio, lookup)

    def _denominator_rows(self, values: SourceValues, ratio: Ratio) -> dict[tuple[Any, ...], list[int]] | None:
        if ratio.denominator_rows is None:
            return None
        other = values.frames.get(ratio.denominator_rows.dataset)
        if other is None:
            return {}
        found: dict[tuple[Any, ...], list[int]] = {}
        for r in ratio.denominator_rows.select(other).index:
            found.setdefault(_group_key(values, ratio.denominator_rows.dataset, int(r), ratio.join), []).append(int(r))
        return found

    def _one(
        self,
        values: SourceValues,
        frame: pd.DataFrame,
        row: int,
        ratio: Ratio,
        lookup: dict[tuple[Any, ...], list[int]] | None,
    ) -> Iterator[Instance]:
        label = f"{values.row_label(self.rows.dataset, row, ratio.result)}"
        result = values.term(self.rows.dataset, row, ratio.result)
        if result is None:
            return
        numerator = [values.term(self.rows.dataset, row, c) for c in ratio.numerator]
        if lookup is None:
            denominator = [values.term(self.rows.dataset, row, c) for c in ratio.denominator]
        else:
            assert ratio.denominator_rows is not None
            matches = lookup.get(_group_key(values, self.rows.dataset, row, ratio.join), [])
            if len(matches) != 1:
                yield Instance(
                    label,
                    None,
                    "one total row",
                    None,
                    [result.ref],
                    False,
                    f"{len(matches)} denominator rows in {ratio.denominator_rows.dataset}",
                )
                return
            denominator = [values.term(ratio.denominator_rows.dataset, matches[0], c) for c in ratio.denominator]
        if any(t is None for t in (*numerator, *denominator)):
            return
        # The same printed cell may sit in numerator and denominator (示范 ÷ (示范 + 带动)): one term, once.
        terms: list[Term] = []
        for t in (*numerator, *denominator):
            assert t is not None
            if all(t.ref != u.ref for u in terms):
                terms.append(t)
        num_idx = [next(i for i, u in enumerate(terms) if u.ref == t.ref) for t in numerator if t]
        den_idx = [next(i for i, u in enumerate(terms) if u.ref == t.ref) for t in denominator if t]

        def f(x: Sequence[float]) -> float:
            return sum(x[i] for i in num_idx) / sum(x[i] for i in den_idx) * ratio.scale

        try:
            expected, spread = interval_spread(terms, f)
        except ZeroDivisionError:
            yield Instance(
                label, result.value, None, None, [result.ref, *(t.ref for t in terms)], False, "zero denominator"
            )
            return
        tolerance = spread + result.half_unit
        sensitivity = {t.ref.key: -d for t, d in zip(terms, gradient(terms, f), strict=True)}
        sensitivity[result.ref.key] = 1.0
        yield Instance(
            label,
            result.value,
            expected,
            tolerance,
            [result.ref, *(t.ref for t in terms)],
            abs(result.value - expected) <= tolerance,
            sensitivity=sensitivity,
        )


# ---------------------------------------------------------------- consistency


@dataclass(frozen=True)
class RanksFollowScores(Check):
    """A rank is 1 + the number of strictly higher scores, up to the number of equal ones (ties)."""

    rank: str = ""
    score: str = ""
    group_by: tuple[str, ...] = ()

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values, frame in ctx.frames(self.dataset):
            for _, group in frame.groupby(list(self.group_by), sort=True):
                scores = [(int(r), values.term(self.dataset, int(r), self.score)) for r in group.index]
                for row, score in scores:
                    rank = values.term(self.dataset, row, self.rank)
                    if score is None or rank is None:
                        continue
                    higher = sum(1 for _, s in scores if s is not None and s.value > score.value)
                    equal = sum(1 for _, s in scores if s is not None and s.value == score.value)
                    low, high = higher + 1, higher + equal
                    expected = str(low) if low == high else f"{low}–{high} (tie)"
                    yield Instance(
                        values.row_label(self.dataset, row, self.rank),
                        int(rank.value),
                        expected,
                        0,
                        [rank.ref, score.ref],
                        low <= rank.value <= high,
                        f"{self.score} {score.ref.text}",
                        relation="order",
                    )


@dataclass(frozen=True)
class RegionalMatchesNational(Check):
    """Each regional table is the national table restricted to its cities: same rows, same values, and
    ranks 1…n in national order; every national city is in exactly one regional table."""

    key_column: str = "city"
    rank_column: str = "rank"
    group_attribute: str = "city_type"

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values in ctx.sources.values():
            tables = [t for t in values.tables.values() if t.dataset == self.dataset]
            for group in sorted({t.attributes.get(self.group_attribute) for t in tables}, key=str):
                national = [
                    t
                    for t in tables
                    if t.attributes.get(self.group_attribute) == group and t.attributes.get("scope") == "national"
                ]
                regional = [
                    t
                    for t in tables
                    if t.attributes.get(self.group_attribute) == group and t.attributes.get("scope") == "region"
                ]
                if len(national) != 1 or not regional:
                    continue
                yield from self._compare(values, national[0], regional)

    def _rows(self, values: SourceValues, table: ExtractedTable) -> dict[str, tuple[int, dict[str, Term], str]]:
        out = {}
        col = {name: c for c, name in enumerate(table.canonical) if name}
        for r, row in enumerate(table.rows):
            if values.is_summary(table, r) or self.key_column not in col:
                continue
            city = row[col[self.key_column]].text
            terms = {n: t for n, c in col.items() if (t := values.table_term(table, r, c)) is not None}
            out[city] = (r, terms, city)
        return out

    def _compare(
        self, values: SourceValues, national: ExtractedTable, regional: list[ExtractedTable]
    ) -> Iterator[Instance]:
        nat = self._rows(values, national)
        seen: dict[str, list[str]] = {}
        for table in regional:
            reg = self._rows(values, table)
            listed = [c for c in reg if c in nat]
            in_order = sorted(
                listed, key=lambda c: nat[c][1][self.rank_column].value if self.rank_column in nat[c][1] else 0
            )
            for city, (_, terms, _) in reg.items():
                seen.setdefault(city, []).append(table.table_id)
                first = next(iter(terms.values())).ref if terms else None
                if city not in nat:
                    yield Instance(
                        f"{table.table_id} {city}",
                        city,
                        f"a city of {national.table_id}",
                        None,
                        [first] if first else [],
                        False,
                        f"{city} is not in {national.table_id}",
                        relation="order",
                    )
                    continue
                nat_terms = nat[city][1]
                rank = terms.get(self.rank_column)
                if rank is not None:
                    expected = in_order.index(city) + 1
                    yield Instance(
                        f"{table.table_id} {city} · rank",
                        int(rank.value),
                        expected,
                        0,
                        [rank.ref, nat_terms[self.rank_column].ref] if self.rank_column in nat_terms else [rank.ref],
                        rank.value == expected,
                        f"position among {table.table_id}'s cities in {national.table_id} order",
                        relation="order",
                    )
                for name, term in terms.items():
                    if name == self.rank_column or name not in nat_terms:
                        continue
                    other = nat_terms[name]
                    # Same printed precision: the same number must be printed; otherwise within both halves.
                    tolerance = 0.0 if other.decimals == term.decimals else term.half_unit + other.half_unit
                    yield Instance(
                        f"{table.table_id} {city} · {name}",
                        term.value,
                        other.value,
                        tolerance,
                        [term.ref, other.ref],
                        abs(term.value - other.value) <= tolerance + 1e-9,
                        f"as printed in {national.table_id}",
                        sensitivity={term.ref.key: 1.0, other.ref.key: -1.0},
                    )
        for city, (_, terms, _) in nat.items():
            where = seen.get(city, [])
            if len(where) != 1:
                first = terms.get(self.rank_column) or next(iter(terms.values()), None)
                yield Instance(
                    f"{national.table_id} {city} · regional tables",
                    len(where),
                    1,
                    0,
                    [first.ref] if first else [],
                    False,
                    f"listed in {', '.join(where) or 'no regional table'}",
                    relation="order",
                )


@dataclass(frozen=True)
class SummaryRowMeans(Check):
    """A table's 平均值 row equals the mean of its rows, column by column."""

    skip_columns: tuple[str, ...] = ("rank",)

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values in ctx.sources.values():
            rows_by_table: dict[str, list[tuple[ExtractedTable, int, dict[str, Term]]]] = {}
            for table, r, row in _table_rows(values, self.dataset):
                rows_by_table.setdefault(table.table_id, []).append((table, r, row))
            for rows in rows_by_table.values():
                table = rows[0][0]
                summaries = [row for t, r, row in rows if values.is_summary(t, r)]
                body = [row for t, r, row in rows if not values.is_summary(t, r)]
                for summary in summaries:
                    for name, printed in summary.items():
                        if name in self.skip_columns:
                            continue
                        terms = [row[name] for row in body if name in row]
                        if not terms:
                            continue
                        n = len(terms)
                        mean = sum(t.value for t in terms) / n
                        tolerance = sum(t.half_unit for t in terms) / n + printed.half_unit
                        yield Instance(
                            f"{table.table_id} 平均值 · {name}",
                            printed.value,
                            mean,
                            tolerance,
                            [printed.ref, *(t.ref for t in terms)],
                            abs(printed.value - mean) <= tolerance,
                            f"mean of {n} rows",
                            sensitivity={printed.ref.key: 1.0, **{t.ref.key: -1.0 / n for t in terms}},
                        )


# ---------------------------------------------------------------- charts


_GROWTH = re.compile(r"(增速|增长率|同比增长|增长)$")
_YEAR = re.compile(r"^(\d{4})")
_PARTS_TITLE = re.compile(r"结构|占比|构成|比重|分布")


def _series(values: SourceValues, frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, tuple[int, Term]]]:
    """(figure, series) → category → (row, term), with the figure's page on every point."""
    pages: dict[str, int] = {}
    figures = values.frames.get("figures")
    if figures is not None and len(figures):
        pages = {
            str(f): int(p) for f, p in zip(figures["figure_id"], figures["page"], strict=True) if not is_missing(p)
        }
    out: dict[tuple[str, str], dict[str, tuple[int, Term]]] = {}
    for row in frame.index:
        term = values.term("chart_series", int(row), "value")
        if term is None:
            continue
        fig, series, category = (
            str(values.get("chart_series", int(row), c)) for c in ("figure_id", "series", "category")
        )
        ref = CellRef(
            values.source_id,
            "chart_series",
            int(row),
            "value",
            fig,
            pages.get(fig),
            None,
            None,
            f"{fig} {series} {category}",
        )
        out.setdefault((fig, series), {})[category] = (int(row), Term(ref, term.value, term.decimals))
    return out


def _unit(values: SourceValues, row: int) -> str:
    unit = values.get("chart_series", row, "unit")
    return "" if is_missing(unit) else str(unit)


@dataclass(frozen=True)
class ChartGrowth(Check):
    """A growth series (…增速) equals the year-on-year change of its amount series, year by year."""

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values, frame in ctx.frames(self.dataset):
            series = _series(values, frame)
            for (fig, name), points in series.items():
                match = _GROWTH.search(name)
                if not match:
                    continue
                amount = series.get((fig, name[: match.start()]))
                if amount is None:
                    continue
                years = sorted((int(m.group(1)), c) for c in points if (m := _YEAR.match(c)))
                for year, category in years:
                    prev = next((c for c in amount if (m := _YEAR.match(c)) and int(m.group(1)) == year - 1), None)
                    if prev is None or category not in amount:
                        continue
                    growth = points[category][1]
                    terms = [amount[category][1], amount[prev][1]]
                    try:
                        expected, spread = interval_spread(terms, lambda x: (x[0] / x[1] - 1) * 100)
                    except ZeroDivisionError:
                        continue
                    tolerance = spread + growth.half_unit
                    grad = gradient(terms, lambda x: (x[0] / x[1] - 1) * 100)
                    yield Instance(
                        f"{fig} {name} {category}",
                        growth.value,
                        expected,
                        tolerance,
                        [growth.ref, *(t.ref for t in terms)],
                        abs(growth.value - expected) <= tolerance,
                        "chart labels carry no printed text in chart_series: precision from the value",
                        sensitivity={growth.ref.key: 1.0, terms[0].ref.key: -grad[0], terms[1].ref.key: -grad[1]},
                    )


@dataclass(frozen=True)
class ChartPartsSum(Check):
    """A structure chart's shares sum to 100: across its % series per category (stacked), or across
    the categories of its one % series when those are not years (a pie)."""

    def instances(self, ctx: Context) -> Iterable[Instance]:
        for values, frame in ctx.frames(self.dataset):
            titles = {}
            figures = values.frames.get("figures")
            if figures is not None and len(figures):
                titles = dict(zip(figures["figure_id"].astype(str), figures["title"].astype(str), strict=True))
            series = _series(values, frame)
            by_figure: dict[str, list[str]] = {}
            for (fig, name), points in series.items():
                rows = [row for row, _ in points.values()]
                if _GROWTH.search(name) or not all(_unit(values, r) in ("%", "％") for r in rows):
                    continue
                by_figure.setdefault(fig, []).append(name)
            for fig, names in by_figure.items():
                if not _PARTS_TITLE.search(titles.get(fig, "")):
                    continue
                if len(names) >= 2:
                    categories = sorted(set.intersection(*(set(series[(fig, n)]) for n in names)))
                    groups = [(f"{fig} {c}", [series[(fig, n)][c][1] for n in names]) for c in categories]
                else:
                    points = series[(fig, names[0])]
                    if any(_YEAR.match(c) for c in points):
                        continue  # one share per year (离岸占比): not parts of a whole
                    groups = [(f"{fig} {names[0]}", [t for _, t in points.values()])]
                for key, terms in groups:
                    observed = sum(t.value for t in terms)
                    tolerance = sum(t.half_unit for t in terms)
                    yield Instance(
                        key,
                        observed,
                        100.0,
                        tolerance,
                        [t.ref for t in terms],
                        abs(observed - 100.0) <= tolerance,
                        sensitivity={t.ref.key: 1.0 for t in terms},
                    )


# ---------------------------------------------------------------- stated figures


@dataclass(frozen=True)
class Target:
    """Where a stated figure should appear in the data.

    ``count``: the number of rows of ``rows``; ``value``: ``column`` of the one row of ``rows``;
    ``summary``: ``column`` of the 平均值 row of the table (of ``rows.dataset``) whose attributes match.
    """

    how: str
    rows: Rows
    column: str = ""
    table_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatedFigures(Check):
    """Figures stated in running text agree with the tables, within both printed precisions."""

    targets: tuple[tuple[str, Target], ...] = ()

    def instances(self, ctx: Context) -> Iterable[Instance]:
        if ctx.stated is None:
            raise Skip("no stated figures were given (validate(..., stated_facts=read_stated_facts(pdf_paths)))")
        facts = {f.name: (i, f) for i, f in enumerate(ctx.stated)}
        ran = False
        for name, target in self.targets:
            if name not in facts:
                continue
            row, fact = facts[name]
            stated = fact.term(row)
            for values in ctx.sources.values():
                found = self._target(values, target)
                if found is None:
                    continue
                ran = True
                observed, cells, decimals_term = found
                if observed is None:
                    yield Instance(
                        name,
                        None,
                        fact.value,
                        None,
                        [stated.ref, *cells],
                        False,
                        "not found in the data",
                        relation="order",
                    )
                    continue
                half = decimals_term.half_unit if decimals_term is not None else 0.0
                tolerance = stated.half_unit + half if decimals_term is not None else 0.0
                yield Instance(
                    f"{name}",
                    observed,
                    fact.value,
                    tolerance,
                    [stated.ref, *cells],
                    abs(observed - fact.value) <= tolerance + 1e-9,
                    f"stated: “…{fact.quote}…” ({fact.description})",
                    relation="eq" if decimals_term is not None else "order",
                    sensitivity={stated.ref.key: -1.0, **({decimals_term.ref.key: 1.0} if decimals_term else {})},
                )
        if not ran:
            raise Skip("none of the stated figures or the tables they concern is in this run")

    def _target(self, values: SourceValues, target: Target) -> tuple[float | None, list[CellRef], Term | None] | None:
        frame = values.frames.get(target.rows.dataset)
        if frame is None or not len(frame):
            return None
        if target.how == "count":
            rows = target.rows.select(frame)
            if not len(rows):
                return None
            ranks = [t for r in rows.index if (t := values.term(target.rows.dataset, int(r), target.column))]
            last = max(ranks, key=lambda t: t.value, default=None)
            return float(len(rows)), [last.ref] if last else [], None
        if target.how == "value":
            rows = target.rows.select(frame)
            if len(rows) != 1:
                return (None, [], None) if len(rows) else None
            term = values.term(target.rows.dataset, int(rows.index[0]), target.column)
            return (term.value, [term.ref], term) if term else (None, [], None)
        if target.how == "summary":
            for table in values.tables.values():
                attrs = table.attributes
                if table.dataset != target.rows.dataset or any(
                    attrs.get(k) != v for k, v in target.table_attributes.items()
                ):
                    continue
                for r in range(len(table.rows)):
                    if not values.is_summary(table, r):
                        continue
                    for c, name in enumerate(table.canonical):
                        if name == target.column and (term := values.table_term(table, r, c)) is not None:
                            return term.value, [term.ref], term
                return None, [], None
            return None
        raise ValueError(f"unknown target kind {target.how!r}")


# ---------------------------------------------------------------- the checks

_SCORES = dict(dataset="city_scores")
_TOTAL = {"is_total": True}
_PART = {"is_total": False}
_NATIONAL_DEMO = {"city_type": "demonstration", "scope": "national"}
_NATIONAL_APPL = {"city_type": "applicant", "scope": "national"}


def _of_national(share: str, amount: str) -> Ratio:
    """share ≈ amount ÷ the same column of the national (表8-1 总计) row × 100, in the same year."""
    return Ratio(share, (amount,), (amount,), Rows("region_execution", _TOTAL))


def _mean(name: str, city_type: dict[str, Any], column: str) -> tuple[str, Target]:
    return name, Target("summary", Rows("city_scores"), column, city_type)


CHECKS: tuple[Check, ...] = (
    ColumnSum(
        "ito_regions_sum_to_total",
        "ito_by_region",
        "sum",
        "表3-1: the four regions' ITO execution add up to the 总计 row, every year.",
        components=Rows("ito_by_region", _PART),
        total=Rows("ito_by_region", _TOTAL),
        columns=("ito_execution_usd_100m",),
    ),
    ColumnSum(
        "regions_sum_to_total",
        "region_execution",
        "sum",
        "表8-1: the regions add up to the 总计 row — both amounts, and both share columns (to 100).",
        components=Rows("region_execution", _PART),
        total=Rows("region_execution", _TOTAL),
        columns=("execution_usd_100m", "offshore_usd_100m", "execution_share_pct", "offshore_share_pct"),
    ),
    ColumnSum(
        "cluster_regions_sum_to_national",
        "demo_city_clusters",
        "sum",
        "表10-1: the regions' 示范城市 and 带动城市 amounts add up to the 全国 row.",
        components=Rows("demo_city_clusters", _PART),
        total=Rows("demo_city_clusters", _TOTAL),
        columns=(
            "demo_execution_usd_100m",
            "demo_offshore_usd_100m",
            "driven_execution_usd_100m",
            "driven_offshore_usd_100m",
        ),
    ),
    ColumnSum(
        "provinces_within_region",
        "province_execution",
        "sum",
        "表8-2…8-5: a region's provinces add up to its 表8-1 row where the table lists all of them "
        "(表8-5's 东北), and to at most that row where it lists only some (表8-2's 东部 without 海南); amounts "
        "and shares.",
        components=Rows("province_execution"),
        total=Rows("region_execution", _PART),
        columns=("execution_usd_100m", "offshore_usd_100m", "execution_share_pct", "offshore_share_pct"),
        group_by=("year", "region"),
        members="province",
        totals_need_components=False,
    ),
    JoinedSum(
        "clusters_match_regions",
        "demo_city_clusters",
        "sum",
        "表10-1 against 表8-1: a region's 示范城市 + 带动城市 amounts equal its 表8-1 amount (全国 = 总计).",
        other="region_execution",
        rename={"东部": "东部地区", "中部": "中部地区", "西部": "西部地区", "东北": "东北地区"},
        sums=(
            (("demo_execution_usd_100m", "driven_execution_usd_100m"), "execution_usd_100m"),
            (("demo_offshore_usd_100m", "driven_offshore_usd_100m"), "offshore_usd_100m"),
        ),
    ),
    RowSum(
        "base_score_is_sum_of_parts",
        **_SCORES,
        kind="sum",
        description="基础评价得分 = (一)…(四) sub-scores + 加分项 (applicants have no 加分项), in every row of every "
        "score table, 平均值 rows included.",
        total="base_score",
        parts=("industry_development", "innovation", "public_service", "policy_support", "bonus"),
    ),
    RowSum(
        "total_score_is_sum_of_parts",
        **_SCORES,
        kind="sum",
        description="综合得分 = 基础评价得分 + 专家评审 + 问卷调查, in every row of every score table.",
        total="total_score",
        parts=("base_score", "expert_review", "survey"),
    ),
    Share(
        "region_shares",
        "region_execution",
        "share",
        "表8-1: each region's 占全国比重 = its amount ÷ the 总计 amount × 100.",
        rows=Rows("region_execution"),
        ratios=(
            _of_national("execution_share_pct", "execution_usd_100m"),
            _of_national("offshore_share_pct", "offshore_usd_100m"),
        ),
    ),
    Share(
        "province_shares",
        "province_execution",
        "share",
        "表8-2…8-5: each province's 占全国比重 = its amount ÷ the national (表8-1 总计) amount × 100.",
        rows=Rows("province_execution"),
        ratios=(
            _of_national("execution_share_pct", "execution_usd_100m"),
            _of_national("offshore_share_pct", "offshore_usd_100m"),
        ),
    ),
    Share(
        "cluster_concentration",
        "demo_city_clusters",
        "share",
        "表10-1: 集聚度 = 示范城市 ÷ (示范城市 + 带动城市) × 100, for both amounts.",
        rows=Rows("demo_city_clusters"),
        ratios=(
            Ratio(
                "concentration_execution_pct",
                ("demo_execution_usd_100m",),
                ("demo_execution_usd_100m", "driven_execution_usd_100m"),
            ),
            Ratio(
                "concentration_offshore_pct",
                ("demo_offshore_usd_100m",),
                ("demo_offshore_usd_100m", "driven_offshore_usd_100m"),
            ),
        ),
    ),
    RanksFollowScores(
        "ranks_follow_scores",
        **_SCORES,
        kind="consistency",
        description="序号 follows 综合得分: a city's rank is 1 + the number of cities of its type scoring higher "
        "(ties may take any of the tied ranks).",
        rank="rank_national",
        score="total_score",
        group_by=("year", "city_type"),
    ),
    RegionalMatchesNational(
        "regional_tables_match_national",
        **_SCORES,
        kind="consistency",
        description="Each regional table (附1-2, 附1-3, 附2-2, 附2-3) is the national table restricted to its "
        "cities: the same values, ranks 1…n in national order; every city is in exactly one regional table.",
    ),
    SummaryRowMeans(
        "average_rows_are_means",
        **_SCORES,
        kind="consistency",
        description="Every score table's 平均值 row equals the mean of its cities' rows, column by column.",
    ),
    StatedFigures(
        "city_counts",
        **_SCORES,
        kind="consistency",
        description="The score tables list as many cities as the notice's text says it evaluated "
        "(37 demonstration, 14 applicant).",
        targets=(
            (
                "demonstration_city_count",
                Target("count", Rows("city_scores", {"city_type": "demonstration"}), "rank_national"),
            ),
            ("applicant_city_count", Target("count", Rows("city_scores", {"city_type": "applicant"}), "rank_national")),
        ),
    ),
    StatedFigures(
        "stated_averages",
        **_SCORES,
        kind="consistency",
        description="The averages the notice's text states equal the 平均值 rows of 附1-1 and 附2-1.",
        targets=(
            _mean("demonstration_mean_total", _NATIONAL_DEMO, "total_score"),
            _mean("demonstration_mean_base", _NATIONAL_DEMO, "base_score"),
            _mean("demonstration_mean_expert", _NATIONAL_DEMO, "expert_review"),
            _mean("demonstration_mean_survey", _NATIONAL_DEMO, "survey"),
            _mean("applicant_mean_total", _NATIONAL_APPL, "total_score"),
            _mean("applicant_mean_base", _NATIONAL_APPL, "base_score"),
            _mean("applicant_mean_expert", _NATIONAL_APPL, "expert_review"),
            _mean("applicant_mean_survey", _NATIONAL_APPL, "survey"),
        ),
    ),
    ChartGrowth(
        "chart_growth_matches_amounts",
        "chart_series",
        "chart",
        "A chart's growth series (…增速) equals the year-on-year change of its amount series.",
    ),
    ChartPartsSum(
        "chart_structure_sums_to_100",
        "chart_series",
        "chart",
        "A structure chart's shares (结构/占比) sum to 100.",
    ),
    StatedFigures(
        "notice_agrees_with_report",
        "demo_city_clusters",
        "cross-document",
        "The evaluation notice's figures for the demonstration cities agree with the annual report's 表10-1 "
        "全国 row, within half a unit of each one's last printed digit (1109.23 against 1109.2: ±0.055).",
        targets=(
            (
                "demonstration_offshore_usd_100m",
                Target("value", Rows("demo_city_clusters", _TOTAL), "demo_offshore_usd_100m"),
            ),
            (
                "demonstration_offshore_share_pct",
                Target("value", Rows("demo_city_clusters", _TOTAL), "concentration_offshore_pct"),
            ),
        ),
    ),
)

# The text's own figures against the tables and charts (schemas/reconcile.py builds on the engines above).
from schemas.reconcile import RECONCILIATION_CHECKS  # noqa: E402

CHECKS = (*CHECKS, *RECONCILIATION_CHECKS)
