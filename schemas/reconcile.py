"""Reconciliation of the figures the text states (imported through ``schemas.checks``, which registers it):
 against the tables, the charts and each other.

Every printed figure becomes an *observation* keyed by (subject_key, measure, relation, period): the
``statements`` rows as they are, table cells through ``TABLE_OBSERVATIONS`` (which dataset column is which
measure and relation; data, not code), and chart points through their figure's title and series name, read
with the statements parser itself. Five kinds of check then compare what should be equal:

- ``stated_levels_agree``: the same key printed twice (text and table, text and chart, text and text,
  one report and the other) within both printed precisions; a ratio's parts count as shares;
- ``stated_growth_agrees``: a stated growth (同比, 倍, 年均) against the two levels it implies;
- ``stated_shares_agree``: a stated share against its part and its whole;
- ``stated_group_shares_sum``: a stated share of a group ("四者合计") against its members' shares;
- ``stated_ratios_sum``: a ratio's parts (ITO：BPO：KPO) add up to 100.

Tolerances follow the project's rule: a printed number stands for anything within half a unit of its last
digit; a derived value may move by the most those half-units can move it, plus its own half-unit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from extractors.statements import State, _Parser, full_measure, load_rules
from schemas.checks import Check, Context, Instance, Skip, interval_spread
from schemas.values import SourceValues, Term, is_missing

Key = tuple[str, str, str, str]  # subject_key, measure, relation, period


@dataclass(frozen=True)
class Observation:
    term: Term
    origin: str  # text | table | chart
    unit: str  # canonical unit after scaling
    factor: float  # printed unit → canonical unit
    sentence: str = ""

    @property
    def value(self) -> float:
        return self.term.value * self.factor

    @property
    def half(self) -> float:
        return self.term.half_unit * self.factor


# Which column of a curated table is which (measure, relation); the row's subject comes from ``subject``
# (a total row is the national subject). ``suffix`` qualifies the subject (表3-1 is ITO by region).
TABLE_OBSERVATIONS: dict[str, dict[str, Any]] = {
    "region_execution": {
        "subject": "region",
        "columns": {
            "execution_usd_100m": ("执行额", "level", "亿美元"),
            "execution_yoy_pct": ("执行额", "yoy_growth", "%"),
            "execution_share_pct": ("执行额", "share", "%"),
            "offshore_usd_100m": ("离岸执行额", "level", "亿美元"),
            "offshore_yoy_pct": ("离岸执行额", "yoy_growth", "%"),
            "offshore_share_pct": ("离岸执行额", "share", "%"),
        },
    },
    "province_execution": {"subject": "province", "columns": "region_execution"},
    "ito_by_region": {
        "subject": "region",
        "suffix": "ITO",
        "columns": {"ito_execution_usd_100m": ("执行额", "level", "亿美元")},
    },
    "demo_city_clusters": {
        "subject": "region",
        "only_total": True,
        "total_subject": "示范城市",
        "columns": {
            "demo_execution_usd_100m": ("执行额", "level", "亿美元"),
            "demo_offshore_usd_100m": ("离岸执行额", "level", "亿美元"),
            "concentration_execution_pct": ("执行额", "share", "%"),
            "concentration_offshore_pct": ("离岸执行额", "share", "%"),
        },
    },
}
_GROWTH_SERIES = re.compile(r"增速|增长|增幅")
_SHARE_SERIES = re.compile(r"占比|比重|份额")
_YEAR = re.compile(r"^((?:19|20)\d{2})(?:年)?$")
_SAME_AS_TITLE = re.compile(r"(?:19|20)\d{2}\s*年")  # a series named after the chart's own title
_TOTAL_CATEGORY = re.compile(r"合计|总计|总额|全部|总体|总量")
_ABBREVIATION = re.compile(r"([\u4e00-\u9fff]{2,12})[（(]\s*([A-Za-z][A-Za-z0-9\-]{1,9})\s*[)）]")
_FAMILIES = ("ITO", "BPO", "KPO")
_COMPARABLE = ("亿美元", "亿元", "%")
_RATES = ("yoy_growth", "cagr")
_USD = "亿美元"
_IN = " in "  # "yoy_growth in 亿元": a rate of an amount in another currency than the tables'
_LEVEL_UNITS = ("亿美元", "亿元", "家", "人", "个")


@dataclass
class Observations:
    by_key: dict[Key, list[Observation]] = field(default_factory=dict)
    ratios: list[list[tuple[Observation, Key]]] = field(default_factory=list)

    def add(self, key: Key, obs: Observation) -> None:
        self.by_key.setdefault(key, []).append(obs)

    def level(self, subject: str, measure: str, period: str, unit: str) -> Observation | None:
        """The best-sourced level of a key: a table cell, then a chart point, then the text."""
        found = [o for o in self.by_key.get((subject, measure, "level", period), []) if o.unit == unit]
        order = {"table": 0, "chart": 1, "text": 2}
        best = sorted(found, key=lambda o: order[o.origin])
        if not best:
            return None
        if best[0].origin == "text" and any(abs(o.value - best[0].value) > o.half + best[0].half for o in best):
            return None  # the text states two different levels: which one is meant is not for a check to guess
        return best[0]


@cache
def _parser() -> _Parser:
    return _Parser(load_rules(), 0)


def _unit(values: SourceValues, row: int) -> tuple[str, float]:
    rules = load_rules()
    unit = values.get("statements", row, "unit") or ""
    kind, canonical, factor = rules.units.get(unit, ("", unit, 1.0))
    return canonical, factor


def collect(ctx: Context) -> Observations:
    """Every printed figure of the run as observations (computed once per run, shared by the four checks)."""
    if "reconcile" not in ctx.derived:
        ctx.derived["reconcile"] = _collect(ctx)
    return ctx.derived["reconcile"]


def _collect(ctx: Context) -> Observations:
    out = Observations()
    for values in ctx.sources.values():
        _text(values, out)
        _tables(values, out)
        _charts(values, out)
    return out


def _text(values: SourceValues, out: Observations) -> None:
    frame = values.frames.get("statements")
    if frame is None or not len(frame):
        return
    # A ratio's parts are consecutive rows of one sentence, period and measure ("44.5：20.0：35.5").
    groups: list[tuple[tuple[str, str, str], list[tuple[Observation, Key]]]] = []
    currency: dict[tuple[str, str, str], str] = {}  # (sentence, subject, measure) → unit of its level
    for row in frame.index:
        r = int(row)
        if values.get("statements", r, "qualifier") != "exact" or is_missing(values.get("statements", r, "measure")):
            continue
        relation = values.get("statements", r, "relation")
        subject = values.get("statements", r, "subject_key")
        measure = values.get("statements", r, "measure")
        sentence = values.get("statements", r, "sentence")
        period = values.get("statements", r, "period")
        term = values.term(
            "statements",
            r,
            "value",
            f"text p.{values.get('statements', r, 'page')} {subject} · {measure} · {relation} · {period}",
        )
        if term is None:
            continue
        unit, factor = _unit(values, r)
        if relation == "level":
            currency[(sentence, subject, measure)] = unit
        elif relation in _RATES and currency.get((sentence, subject, measure), _USD) != _USD:
            # The growth of an amount in 亿元 is not the growth of the same amount in 亿美元 (the rate moves).
            relation = f"{relation}{_IN}{currency[(sentence, subject, measure)]}"
        if relation == "share":
            relation = f"share of {values.get('statements', r, 'whole_key')}"
        key = (subject, measure, relation, period)
        obs = Observation(term, "text", unit if relation != "ratio" else "%", factor, sentence)
        if relation == "ratio":
            group = (sentence, period, measure)
            if not groups or groups[-1][0] != group or any(k[0] == subject for _, k in groups[-1][1]):
                groups.append((group, []))
            groups[-1][1].append((obs, key))
            continue
        out.add(key, obs)
    for _, parts in groups:
        out.ratios.append(parts)
        # A ratio whose parts are percentages states each part's share.
        if abs(sum(o.value for o, _ in parts) - 100.0) <= sum(o.half for o, _ in parts) + 1e-9:
            for obs, (s, m, _, p) in parts:
                out.add((s, m, f"share of {_own_total(s)}|{m}", p), obs)


def _tables(values: SourceValues, out: Observations) -> None:
    default = load_rules().default_subject
    for dataset, spec in TABLE_OBSERVATIONS.items():
        frame = values.frames.get(dataset)
        if frame is None or not len(frame):
            continue
        columns = spec["columns"]
        if isinstance(columns, str):
            columns = TABLE_OBSERVATIONS[columns]["columns"]
        parser = _parser()
        for row in frame.index:
            r = int(row)
            total = bool(values.get(dataset, r, "is_total")) if values.has(dataset, "is_total") else False
            if spec.get("only_total") and not total:
                continue
            name = str(values.get(dataset, r, spec["subject"]))
            if total:
                subject = spec.get("total_subject") or spec.get("suffix") or default
            else:
                entity = parser.entity_name(name) or name
                subject = f"{entity}·{spec['suffix']}" if spec.get("suffix") else entity
            year = values.get(dataset, r, "year")
            if is_missing(year):
                continue
            for column, (measure, relation, unit) in columns.items():
                if not values.has(dataset, column):
                    continue
                term = values.term(dataset, r, column)
                if term is not None:
                    rel = f"share of {default}|{measure}" if relation == "share" else relation  # 占全国比重
                    out.add((subject, measure, rel, str(int(year))), Observation(term, "table", unit, 1.0))


def _charts(values: SourceValues, out: Observations) -> None:
    """Chart points as observations, read from ``chart_series`` alone (vector or raster alike).

    The title names the subject and measure ("2016－2021年ITO执行额及增速"), the series the relation (增速 →
    growth, ITO/BPO/KPO → parts of a structure), the category the year — or, on a chart of one year, the part:
    a region of a pie ("东南亚" of "2021年承接“一带一路”…分区域占比"), a field of a bar chart ("IaaS" of "全球
    大额服务外包发包合同额"), the total ("合计").
    """
    series = values.frames.get("chart_series")
    figures = values.frames.get("figures")
    if series is None or not len(series) or figures is None:
        return
    titles = dict(zip(figures["figure_id"].astype(str), figures["title"].astype(str), strict=True))
    abbreviations = _abbreviations(values)
    named = _series_measures(series)
    for row in series.index:
        r = int(row)
        term = values.term("chart_series", r, "value")
        if term is None:
            continue
        figure = str(values.get("chart_series", r, "figure_id"))
        read = _chart_point(
            titles.get(figure, ""),
            str(values.get("chart_series", r, "series")),
            str(values.get("chart_series", r, "category")),
            values.get("chart_series", r, "unit"),
            abbreviations,
            named.get(figure),
        )
        if read is not None:
            key, unit = read
            out.add(key, Observation(term, "chart", unit, 1.0))


def _series_measures(series: Any) -> dict[str, tuple[str | None, str]]:
    """Figure → the one (mode, measure) its series names, if exactly one: "同比增长" beside "合同额" is its growth."""
    parser = _parser()
    found: dict[str, set[tuple[str | None, str]]] = {}
    for figure, name in set(zip(series["figure_id"].astype(str), series["series"].astype(str), strict=True)):
        own = parser.phrase(parser.subject_part(name))
        if own.measure:
            found.setdefault(figure, set()).add((own.mode, own.measure))
    return {f: next(iter(m)) for f, m in found.items() if len(m) == 1}


def _chart_point(
    title: str,
    name: str,
    category: str,
    unit: Any,
    abbreviations: dict[str, str],
    sibling: tuple[str | None, str] | None = None,
) -> tuple[Key, str] | None:
    """(key, unit) of one chart point, or None when its chart does not say what it is."""
    rules = load_rules()
    parser = _parser()
    year = _YEAR.match(category)
    if year:
        period = year.group(1)
        part = None
    else:
        single = re.findall(r"((?:19|20)\d{2})\s*年(?!\s*[－—–\-~至])", title)
        spans = re.search(r"(?:19|20)\d{2}\s*[－—–\-~至]\s*(?:19|20)\d{2}", title)
        if len(single) != 1 or spans:
            return None  # categories that are not years on a chart of several years: no reading
        period, part = single[0], category.strip()
    main = re.split(r"及|和|与", parser.clean(title))[0]
    main = re.sub(rules.raw["chart_title_tail"], "", main)
    phrase = parser.phrase(parser.subject_part(main))
    state = State(entity=rules.default_subject)
    _apply(state, phrase)
    measure = phrase.measure or rules.raw["default_money_measure"]
    mode = phrase.mode
    whole = state.key(rules.default_subject)
    relation = "level"
    if name in _FAMILIES:
        state.segment, relation = name, "share"
    elif part is None or not _SAME_AS_TITLE.search(name):
        own = parser.phrase(parser.subject_part(name))
        if own.segment and own.segment in _FAMILIES:
            state.segment = own.segment
        if own.measure:
            measure, mode = own.measure, own.mode or mode
        elif sibling is not None:
            mode, measure = sibling[0] or mode, sibling[1]
        relation = "yoy_growth" if _GROWTH_SERIES.search(name) else "share" if _SHARE_SERIES.search(name) else "level"
    if part is not None:
        if _SHARE_SERIES.search(title) and relation == "level":
            relation = "share"  # "…分区域占比": a pie of parts of the title's whole
        if not _TOTAL_CATEGORY.fullmatch(part):
            if not _part_of(state, parser.phrase(abbreviations.get(part, part)), parser):
                return None
        elif relation == "share":
            return None  # the whole's share of itself says nothing
    unit = unit if isinstance(unit, str) and unit else ("%" if relation != "level" else "亿美元")
    unit = "%" if unit in ("%", "％") else unit
    if unit == "%" and relation == "level":
        return None  # a percentage no series name explains
    full = full_measure(rules, mode, measure, state.market) or measure
    subject = state.key(rules.default_subject)
    if relation == "share":
        # A structure chart's parts are of the subject's own total; a pie's, of the title's whole.
        owner = whole if part is not None else _own_total(subject)
        relation = f"share of {owner}|{full}"
    return (subject, full, relation, period), unit


def _part_of(state: State, phrase: Any, parser: _Parser) -> bool:
    """Narrow the title's subject to a chart category: a region or market replaces the title's place, a field
    its business. False when the category names neither."""
    if phrase.entity is not None and phrase.entity != load_rules().default_subject:
        if state.market is not None:
            state.market = phrase.entity  # 一带一路 → 东南亚: the category is a market inside the title's
        else:
            state.entity = phrase.entity
        return True
    if phrase.market is not None:
        state.market = phrase.market
        return True
    if phrase.segment:
        state.segment = phrase.segment
        return True
    return False


def _abbreviations(values: SourceValues) -> dict[str, str]:
    """Abbreviations the text defines ("基础设施即服务（IaaS）"): a chart labelled IaaS means that field."""
    frame = values.frames.get("statements")
    out: dict[str, str] = {}
    if frame is None or not len(frame):
        return out
    for sentence in set(frame["sentence"].dropna().astype(str)):
        for m in _ABBREVIATION.finditer(sentence):
            out.setdefault(m.group(2), m.group(1))
    return out


def _own_total(subject: str) -> str:
    """The whole a part of a structure belongs to: 东部地区·ITO → 东部地区, ITO → the national total."""
    return subject.rsplit("·", 1)[0] if "·" in subject else load_rules().default_subject


def _apply(state: State, phrase: Any) -> None:
    for attr in ("entity", "market", "segment"):
        value = getattr(phrase, attr)
        if value:
            setattr(state, attr, value)


def _label(key: Key) -> str:
    subject, measure, relation, period = key
    return f"{period} {subject} · {measure} · {relation}"


def _where(obs: Observation) -> str:
    ref = obs.term.ref
    if obs.origin == "text":
        return f"text p.{ref.page}"
    return f"{ref.table_id or obs.origin} p.{ref.page}"


# ---------------------------------------------------------------- the checks


@dataclass(frozen=True)
class StatedLevels(Check):
    """The same figure printed twice — text, table, chart, either report — agrees within both precisions."""

    def instances(self, ctx: Context) -> Iterable[Instance]:
        obs = collect(ctx)
        if not any(o.origin == "text" for group in obs.by_key.values() for o in group):
            raise Skip("no statements in this run")
        for key, group in sorted(obs.by_key.items(), key=lambda kv: str(kv[0])):
            rate = key[2].split(_IN)[0]
            if not (rate in ("level", *_RATES) or key[2].startswith("share of")) or len(group) < 2:
                continue
            order = {"table": 0, "chart": 1, "text": 2}
            ranked = sorted(group, key=lambda o: order[o.origin])
            reference = ranked[0]
            seen: set[tuple[str, int, str]] = {(reference.term.ref.source_id, reference.term.ref.row, reference.origin)}
            for other in ranked[1:]:
                ident = (other.term.ref.source_id, other.term.ref.row, other.origin)
                if ident in seen or other.unit != reference.unit or other.origin != "text":
                    continue
                if other.unit not in _COMPARABLE or (other.sentence and other.sentence == reference.sentence):
                    continue  # the same key twice in one sentence is a reading ambiguity, not a restatement
                seen.add(ident)
                tolerance = reference.half + other.half
                yield Instance(
                    f"{_label(key)} · {_where(other)} vs {_where(reference)}",
                    other.value,
                    reference.value,
                    tolerance,
                    [other.term.ref, reference.term.ref],
                    abs(other.value - reference.value) <= tolerance + 1e-9,
                    f"stated: “{other.sentence[:120]}”",
                    sensitivity={other.term.ref.key: other.factor, reference.term.ref.key: -reference.factor},
                )


@dataclass(frozen=True)
class StatedGrowth(Check):
    """A stated growth equals the change between the two levels it implies (any source for each)."""

    def instances(self, ctx: Context) -> Iterable[Instance]:
        obs = collect(ctx)
        ran = False
        for key, group in sorted(obs.by_key.items(), key=lambda kv: str(kv[0])):
            subject, measure, relation, period = key
            relation, _, unit = relation.partition(_IN)
            if relation not in _RATES:
                continue
            for stated in group:
                if stated.origin != "text":
                    continue
                found = _growth_levels(obs, subject, measure, period, (unit,) if unit else _LEVEL_UNITS)
                if found is None:
                    continue
                start, end, years = found
                scale = 1.0 if _is_times(stated) else 100.0  # 增长 2.9 倍: the growth as a multiple

                def f(v: list[float], years: int = years, scale: float = scale) -> float:
                    return ((v[1] / v[0]) ** (1.0 / years) - 1.0) * scale

                terms = [_scaled(start), _scaled(end)]
                implied, spread = interval_spread(terms, f)
                tolerance = spread + stated.half
                ran = True
                yield Instance(
                    f"{_label(key)} · {_where(stated)} from {_where(start)}, {_where(end)}",
                    stated.value,
                    implied,
                    tolerance,
                    [stated.term.ref, start.term.ref, end.term.ref],
                    abs(stated.value - implied) <= tolerance + 1e-9,
                    f"{'yearly average over ' + str(years) + ' years' if years > 1 else 'year on year'}: "
                    f"{start.term.ref.text} → {end.term.ref.text}; stated: “{stated.sentence[:100]}”",
                    sensitivity={stated.term.ref.key: 1.0},
                )
        if not ran:
            raise Skip("no stated growth has both of its levels printed anywhere in this run")


def _is_times(obs: Observation) -> bool:
    return obs.term.ref.dataset == "statements" and obs.unit == "倍"


def _scaled(obs: Observation) -> Term:
    if obs.factor == 1.0:
        return obs.term
    return Term(obs.term.ref, obs.term.value * obs.factor, obs.term.decimals - _digits(obs.factor))


def _digits(factor: float) -> int:
    return round(math.log10(factor)) if factor > 0 else 0


def _growth_levels(
    obs: Observations, subject: str, measure: str, period: str, units: tuple[str, ...]
) -> tuple[Observation, Observation, int] | None:
    # A fiscal year's growth is on the fiscal year before, a half year's on the same half a year before
    # (2021H1 on 2020H1); a span's average growth runs from its first year's level to its last's.
    single = re.fullmatch(r"(FY)?(\d{4})([HQM][\dQM-]*)?", period)
    span = re.fullmatch(r"(\d{4})-(\d{4})", period)
    if single:
        prefix, b, suffix = single.group(1) or "", int(single.group(2)), single.group(3) or ""
        a = b - 1
    elif span:
        prefix, suffix = "", ""
        a, b = int(span.group(1)), int(span.group(2))
    else:
        return None  # a span of parts of years (2000M04-2022M03): no two levels to compare
    for unit in units:
        start = obs.level(subject, measure, f"{prefix}{a}{suffix}", unit)
        end = obs.level(subject, measure, f"{prefix}{b}{suffix}", unit)
        if start is not None and end is not None and start.value > 0:
            return start, end, b - a
    return None


@dataclass(frozen=True)
class StatedShares(Check):
    """A stated share equals its part ÷ its whole × 100, both printed somewhere in the run."""

    def instances(self, ctx: Context) -> Iterable[Instance]:
        obs = collect(ctx)
        wholes = _wholes(ctx)
        ran = False
        for key, group in sorted(obs.by_key.items(), key=lambda kv: str(kv[0])):
            subject, measure, relation, period = key
            if not relation.startswith("share of"):
                continue
            for stated in group:
                if stated.origin != "text":
                    continue
                whole_key = wholes.get((stated.term.ref.source_id, stated.term.ref.row))
                if not whole_key or "|" not in whole_key:
                    continue
                whole_subject, whole_measure = whole_key.split("|", 1)
                if (whole_subject, whole_measure) == (subject, measure):
                    continue
                for unit in _LEVEL_UNITS:
                    part = obs.level(subject, measure, period, unit)
                    whole = obs.level(whole_subject, whole_measure, period, unit)
                    if part is not None and whole is not None and whole.value > 0:
                        break
                else:
                    continue
                implied, spread = interval_spread([_scaled(part), _scaled(whole)], lambda v: v[0] / v[1] * 100.0)
                tolerance = spread + stated.half
                ran = True
                yield Instance(
                    f"{_label(key)} of {whole_key} · {_where(stated)}",
                    stated.value,
                    implied,
                    tolerance,
                    [stated.term.ref, part.term.ref, whole.term.ref],
                    abs(stated.value - implied) <= tolerance + 1e-9,
                    f"{part.term.ref.text} ÷ {whole.term.ref.text} × 100; stated: “{stated.sentence[:100]}”",
                    sensitivity={stated.term.ref.key: 1.0},
                )
        if not ran:
            raise Skip("no stated share has both its part and its whole printed in this run")


def _wholes(ctx: Context) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for values in ctx.sources.values():
        frame = values.frames.get("statements")
        if frame is None or not len(frame):
            continue
        for row, whole in zip(frame.index, frame["whole_key"].tolist(), strict=True):
            if isinstance(whole, str):
                out[(values.source_id, int(row))] = whole
    return out


@dataclass(frozen=True)
class StatedRatios(Check):
    """A structure ratio's parts (ITO：BPO：KPO = 44.5：20.0：35.5) add up to 100."""

    def instances(self, ctx: Context) -> Iterator[Instance]:
        obs = collect(ctx)
        if not obs.ratios:
            raise Skip("no ratio is stated in this run")
        for parts in obs.ratios:
            if len(parts) < 2:
                continue
            terms = [o.term for o, _ in parts]
            total = sum(t.value for t in terms)
            if total < 50 or total > 150:
                continue  # not a percentage structure (a ratio of counts)
            tolerance = sum(t.half_unit for t in terms)
            subjects = "：".join(k[0] for _, k in parts)
            key = parts[0][1]
            yield Instance(
                f"{key[3]} {subjects} · {key[1]} · p.{terms[0].ref.page}",
                total,
                100.0,
                tolerance,
                [t.ref for t in terms],
                abs(total - 100.0) <= tolerance + 1e-9,
                f"stated: “{parts[0][0].sentence[:100]}”",
                sensitivity={t.ref.key: 1.0 for t in terms},
            )


@dataclass(frozen=True)
class StatedGroupShares(Check):
    """The share of a group the text names ("四者合计占比达 86.6%") is the sum of its members' stated shares of the
    same whole."""

    def instances(self, ctx: Context) -> Iterator[Instance]:
        obs = collect(ctx)
        ran = False
        for key, group in sorted(obs.by_key.items(), key=lambda kv: str(kv[0])):
            subject, measure, relation, period = key
            if "、" not in subject or not relation.startswith("share of"):
                continue
            members = [_text_only(obs.by_key.get((m, measure, relation, period), [])) for m in subject.split("、")]
            if not all(members):
                continue
            parts = [m[0] for m in members]
            total = sum(p.value for p in parts)
            for stated in _text_only(group):
                ran = True
                tolerance = sum(p.half for p in parts) + stated.half
                yield Instance(
                    f"{_label(key)} · {_where(stated)}",
                    stated.value,
                    total,
                    tolerance,
                    [stated.term.ref, *(p.term.ref for p in parts)],
                    abs(stated.value - total) <= tolerance + 1e-9,
                    " + ".join(p.term.ref.text for p in parts) + f"; stated: “{stated.sentence[:100]}”",
                    sensitivity={stated.term.ref.key: 1.0},
                )
        if not ran:
            raise Skip("no share of a named group of things with figures of their own is stated in this run")


def _text_only(found: list[Observation]) -> list[Observation]:
    return [o for o in found if o.origin == "text"]


RECONCILIATION_CHECKS: tuple[Check, ...] = (
    StatedLevels(
        "stated_levels_agree",
        "statements",
        "reconciliation",
        "A figure the text states equals the same subject, measure and year wherever else it is printed: a table "
        "cell, a chart point, another sentence, the other report; within both printed precisions. A ratio's "
        "parts count as shares.",
    ),
    StatedGrowth(
        "stated_growth_agrees",
        "statements",
        "reconciliation",
        "A stated growth (同比增长 %, 增长 … 倍, 年均增长 %) equals the change between the two levels it implies, "
        "taken from a table, a chart or the text.",
    ),
    StatedShares(
        "stated_shares_agree",
        "statements",
        "reconciliation",
        "A stated share (占…的 %) equals its part ÷ its whole × 100, each level taken from a table, a chart or the "
        "text.",
    ),
    StatedGroupShares(
        "stated_group_shares_sum",
        "statements",
        "reconciliation",
        "A stated share of a group (三者合计占比 64.3%) equals the sum of its members' stated shares of the same "
        "whole.",
    ),
    StatedRatios(
        "stated_ratios_sum",
        "statements",
        "reconciliation",
        "The parts of a stated structure ratio (ITO：BPO：KPO) add up to 100.",
    ),
)
