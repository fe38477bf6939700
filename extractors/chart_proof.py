"""Every chart value proved twice, or withheld.

A printed label is the published value only when what the chart itself implies agrees with it: the
mark's geometry (within what the drawing can tell), the printed precision of its neighbours, the
parts of a structure summing to 100, and a growth series against the amounts it is the growth of. A
point that fails any of these is flagged, with every reason, and never published; the audit report
shows it. Each relation flags all the points it involves: which one is wrong cannot be told from the
relation alone, and none of them may be published wrong.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from extractors.chart_geometry import AxisCalibration, ChartReading, label_tolerance
from extractors.model import ChartPoint, FlaggedPoint
from extractors.numbers import decimals_of

# Below this OCR confidence a label is not trusted, whatever else agrees with it.
MIN_CONFIDENCE = 0.9
# A series of labelled marks in which a mark lacks its label lost it to the reader.
LABELLED_SHARE = 0.5
GROWTH_NAME = re.compile(r"增速|增长|增幅|growth", re.IGNORECASE)
# Shares are printed to at most this many decimals; a sum off by more than its terms' half-units is not 100.
STRUCTURE_TOTAL = 100.0


def prove(reading: ChartReading) -> ChartReading:
    """Move every point that is not proved from ``reading.points`` to ``reading.flagged``."""
    stacked = {name: True for name in reading.stacked}
    reasons: dict[int, list[str]] = defaultdict(list)
    points = reading.points
    structure, held_parts = _structure(points, reading.axes, stacked)
    growth, held_growth = _growth(points, reading.axes)
    # A relation that holds proves its labels a second time, where no axis could.
    proved = held_parts | held_growth
    for i, p in enumerate(points):
        for why in _own_reasons(p, reading.axes.get(p.series), i in proved):
            reasons[i].append(why)
    for i, why in _duplicates(points):
        reasons[i].append(why)
    for i, why in _lost_labels(points):
        reasons[i].append(why)
    for i, why in _odd_precision(points):
        reasons[i].append(why)
    for i, why in structure + growth:
        reasons[i].append(why)
    reading.points = [p for i, p in enumerate(points) if i not in reasons]
    reading.flagged += [FlaggedPoint(points[i], whys) for i, whys in sorted(reasons.items())]
    return reading


def _own_reasons(p: ChartPoint, axis: AxisCalibration | None, related: bool) -> list[str]:
    out = []
    if p.value_origin == "label":
        if p.confidence is not None and p.confidence < MIN_CONFIDENCE:
            out.append(f"the label {p.label_text!r} was read with confidence {p.confidence:.2f}")
        if p.label_text is not None and not re.fullmatch(r"[-−－]?\d[\d,]*(\.\d+)?%?", p.label_text.strip()):
            out.append(f"the label {p.label_text!r} is not a well-formed number")
        if axis is not None and p.geometry_value is not None:
            tolerance = label_tolerance(p.label_text, axis)
            if abs(p.value - p.geometry_value) > tolerance + 1e-9:
                out.append(
                    f"label {p.label_text} but the drawing implies {p.geometry_value:g} (tolerance {tolerance:.3g})"
                )
        elif p.confidence is not None and not related:
            out.append("no axis to check the label against, and no relation that proves it")
    elif p.geometry_value is None:
        out.append("no label and no axis to measure on")
    return out


def _duplicates(points: Sequence[ChartPoint]) -> list[tuple[int, str]]:
    seen = Counter((p.series, p.category) for p in points)
    return [
        (i, f"{seen[(p.series, p.category)]} marks of this series in one category")
        for i, p in enumerate(points)
        if seen[(p.series, p.category)] > 1
    ]


def _lost_labels(points: Sequence[ChartPoint]) -> list[tuple[int, str]]:
    """A mark without its label in a series whose other marks have theirs: its label was not read."""
    out = []
    for series in {p.series for p in points}:
        members = [i for i, p in enumerate(points) if p.series == series]
        labelled = sum(points[i].value_origin == "label" for i in members)
        if labelled and labelled >= LABELLED_SHARE * len(members):
            out += [(i, "its label was not read") for i in members if points[i].value_origin != "label"]
    return out


def _odd_precision(points: Sequence[ChartPoint]) -> list[tuple[int, str]]:
    """A label printed to fewer decimals than the rest of its series lost digits to the reader."""
    out = []
    for series in {p.series for p in points}:
        members = [i for i, p in enumerate(points) if p.series == series and p.label_text]
        if len(members) < 2:
            continue
        usual = statistics.mode(decimals_of(points[i].label_text or "") for i in members)
        for i in members:
            if decimals_of(points[i].label_text or "") < usual:
                out.append((i, f"printed to fewer decimals than the rest of its series ({usual})"))
    return out


def _structure(
    points: Sequence[ChartPoint], axes: Mapping[str, AxisCalibration], stacked: Mapping[str, bool]
) -> tuple[list[tuple[int, str]], set[int]]:
    """The parts of a structure (a pie, or stacked shares) sum to 100 per category, within their
    half-units; a pie's one series, or the stacked series of a percent axis."""
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, p in enumerate(points):
        axis = axes.get(p.series)
        if axis is None or p.value_origin != "label":
            continue
        if axis.side == "pie" and abs(axis.span - STRUCTURE_TOTAL) < 1e-9:
            groups[("pie", p.series)].append(i)
        elif stacked.get(p.series) and ("%" in (p.unit or "") or (not p.unit and abs(axis.span - 100) < 1e-9)):
            groups[("stack", p.category)].append(i)
    out, held = [], set()
    for members in groups.values():
        if len(members) < 2:
            continue
        total = sum(points[i].value for i in members)
        slack = sum(0.5 * 10.0 ** -decimals_of(points[i].label_text or "") for i in members)
        if abs(total - STRUCTURE_TOTAL) > slack + 1e-9:
            out += [(i, f"the parts sum to {total:g}, not 100 (± {slack:g})") for i in members]
        else:
            held |= set(members)
    return out, held


def _growth(
    points: Sequence[ChartPoint], axes: Mapping[str, AxisCalibration]
) -> tuple[list[tuple[int, str]], set[int]]:
    """A growth series (…增速, 同比增长) against the year-on-year change of its amount series: the
    printed growth must lie within what the printed amounts' half-units allow."""
    by_series: dict[str, dict[str, int]] = defaultdict(dict)
    order: dict[str, list[str]] = defaultdict(list)
    for i, p in enumerate(points):
        by_series[p.series][p.category] = i
        if p.category not in order[p.series]:
            order[p.series].append(p.category)
    out: list[tuple[int, str]] = []
    held: set[int] = set()
    for growth in [s for s in by_series if GROWTH_NAME.search(s)]:
        amount = _amount_series(growth, [s for s in by_series if not GROWTH_NAME.search(s)], points, by_series)
        if amount is None:
            continue
        cats = order[amount]
        for prev, cat in zip(cats, cats[1:], strict=False):
            if _year(cat) is None or _year(prev) is None or _year(cat) != _year(prev) + 1:
                continue  # growth is year on year: only consecutive years' amounts give it
            ig, ia, ip = by_series[growth].get(cat), by_series[amount].get(cat), by_series[amount].get(prev)
            if ig is None or ia is None or ip is None:
                continue
            g, a, b = points[ig], points[ia], points[ip]
            if g.value_origin != "label" or a.value_origin != "label" or b.value_origin != "label" or b.value <= 0:
                continue
            low, high = _growth_range(a, b)
            half = 0.5 * 10.0 ** -decimals_of(g.label_text or "")
            if not low - half - 1e-9 <= g.value <= high + half + 1e-9:
                why = (
                    f"growth {g.label_text} but {b.label_text} → {a.label_text} is "
                    f"{100 * (a.value / b.value - 1):.2f}% ({low:.2f}…{high:.2f})"
                )
                out += [(ig, why), (ia, why), (ip, why)]
            else:
                held.add(ig)
    return out, held


def _year(category: str) -> int | None:
    """The year a category names (2016, 2016年, 2016财年), or None for a category that is no period."""
    m = re.fullmatch(r"\s*((?:19|20)\d\d)\s*(?:年|财年|年度|FY)?\s*", category)
    return int(m.group(1)) if m else None


def _amount_series(
    growth: str, candidates: Sequence[str], points: Sequence[ChartPoint], by_series: Mapping[str, Mapping[str, int]]
) -> str | None:
    """The amounts a growth series is the growth of: the one its name begins with (执行额增速 →
    执行额), else the chart's only series not in percent."""
    stem = GROWTH_NAME.split(growth)[0].strip()
    named = [s for s in candidates if stem and s == stem]
    if named:
        return named[0]
    amounts = [s for s in candidates if not any("%" in (points[i].unit or "") for i in by_series[s].values())]
    return amounts[0] if len(amounts) == 1 else None


def _growth_range(a: ChartPoint, b: ChartPoint) -> tuple[float, float]:
    ha = 0.5 * 10.0 ** -decimals_of(a.label_text or "")
    hb = 0.5 * 10.0 ** -decimals_of(b.label_text or "")
    low = 100 * ((a.value - ha) / (b.value + hb) - 1)
    high = 100 * ((a.value + ha) / max(b.value - hb, 1e-12) - 1)
    return low, high
