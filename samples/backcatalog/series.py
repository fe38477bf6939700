"""The annual report's numbers behind every edition: one underlying series per quantity, rounded only
when an edition prints it, so every edition that restates a year prints the same figure.

The series are anchored on the replica (samples/truth/annual_report_2021.json): its 2021 amounts and
growth rates, and its 2016–2021 表3-1 figures, are the values of the same quantities here. Other years
grow from them by made-up, seeded rates. Regions are the sums of their provinces (a region's unlisted
provinces together are one more term), the nation the sum of its regions, so every printed total is the
rounded sum of the true parts and every share the rounded ratio of true amounts: the tables are
consistent within their printed precision by construction.

Planted revisions (``REVISIONS``) change one region's ITO figure for one year from a given edition on;
the region's total changes with it, as it would in a real restatement.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

TRUTH = Path(__file__).resolve().parents[1] / "truth" / "annual_report_2021.json"
ANCHOR = 2021
EDITIONS = range(2016, 2024)
YEARS = range(2015, 2024)  # execution; 2015 only for the 2016 edition's growth rates
ITO_YEARS = range(2011, 2024)  # the 2016 edition's 表 restates 2011–2016

REGIONS = ("东部地区", "中部地区", "西部地区", "东北地区")
TOTAL = "总计"
NATIONAL = "全国"  # the clusters table's total row
CLUSTER_LABELS = {"东部地区": "东部", "中部地区": "中部", "西部地区": "西部", "东北地区": "东北"}

# The provinces a region's table may list, in the replica's order, and the region's other provinces
# as one unlisted term. 海南省 is listed from the 2022 edition on (a province more, as next year's
# edition would add one); with it the 东部 table lists every province of the region.
PROVINCES = {
    "东部地区": ["江苏省", "山东省", "广东省", "浙江省", "上海市", "福建省", "北京市", "天津市", "河北省", "海南省"],
    "中部地区": ["湖北省", "江西省", "安徽省", "湖南省", "河南省"],
    "西部地区": ["四川省", "重庆市", "陕西省", "广西壮族自治区", "贵州省"],
    "东北地区": ["黑龙江省", "辽宁省", "吉林省"],
}
REST = {"中部地区": "（山西省）", "西部地区": "（西部其余省区）"}  # never printed
# The replica lists no 海南省: its 2021 amounts are the region's remainder (1847.3 − listed 1846.6).
HAINAN_2021 = (0.7, 0.7)  # execution, offshore
REST_2021 = {"中部地区": (0.1, 0.1), "西部地区": (2.4, 0.5)}
HAINAN_FROM = 2022


@dataclass(frozen=True)
class Revision:
    """From ``edition`` on, the annual report prints ``region``'s ITO figure for ``year`` as ``new``.

    Editions before print ``old``. Where the replica fixes the value as of 2021 (years 2016–2021 and an
    edition up to 2021), the replica's figure is the new one and the old one is ``delta`` less.
    """

    id: str
    edition: int
    region: str
    year: int
    delta: float
    note: str


REVISIONS = (
    Revision("R1", 2017, "东北地区", 2013, 1.8, "the 2017 edition revises 2013 东北地区 upward"),
    Revision("R2", 2019, "中部地区", 2017, 1.5, "the 2019 edition revises 2017 中部地区 upward"),
    Revision("R3", 2022, "东部地区", 2020, 6.6, "the 2022 edition revises 2020 东部地区 upward"),
    Revision("R4", 2023, "西部地区", 2021, -1.9, "the 2023 edition revises 2021 西部地区 downward"),
)


def fmt(value: float, decimals: int = 1) -> str:
    """The printed text: half up at the last printed digit (as the ministry's tables round)."""
    q = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    return "0" + text[2:] if text.startswith("-0") and float(q) == 0 else text


def _rng(*key: object) -> random.Random:
    return random.Random(":".join(str(k) for k in ("backcatalog", *key)))


@cache
def _replica() -> dict[str, dict]:
    return {t["id"]: t for t in json.loads(TRUTH.read_text(encoding="utf-8"))["tables"]}


def _num(text: str) -> float:
    return float(text)


# ------------------------------------------------------------------------------------ execution


@dataclass(frozen=True)
class Amounts:
    execution: dict[str, dict[int, float]]  # province (or rest term) -> year -> 亿美元
    offshore: dict[str, dict[int, float]]

    def region(self, region: str, year: int, offshore: bool = False) -> float:
        table = self.offshore if offshore else self.execution
        return sum(table[p][year] for p in _terms(region))

    def national(self, year: int, offshore: bool = False) -> float:
        return sum(self.region(r, year, offshore) for r in REGIONS)


def _terms(region: str) -> list[str]:
    return PROVINCES[region] + ([REST[region]] if region in REST else [])


@cache
def amounts() -> Amounts:
    replica = {}
    for tid in ("表8-2", "表8-3", "表8-4", "表8-5"):
        for row in _replica()[tid]["rows"]:
            replica[row[0]] = [_num(c) for c in row[1:]]
    execution: dict[str, dict[int, float]] = {}
    offshore: dict[str, dict[int, float]] = {}
    for region in REGIONS:
        for p in _terms(region):
            if p in replica:
                amount, growth, _, off, off_growth, _ = replica[p]
            elif p == "海南省":
                (amount, off), growth, off_growth = HAINAN_2021, None, None
            else:
                (amount, off), growth, off_growth = REST_2021[region], None, None
            ex = {ANCHOR: amount}
            ratio = {ANCHOR: off / amount}
            rng = _rng("execution", p)
            for y in range(ANCHOR, YEARS[0], -1):
                g = growth / 100 if (y == ANCHOR and growth is not None) else rng.uniform(0.03, 0.30)
                ex[y - 1] = ex[y] / (1 + g)
                if y == ANCHOR and off_growth is not None:
                    ratio[y - 1] = min(1.0, off / (1 + off_growth / 100) / ex[y - 1])
                else:
                    ratio[y - 1] = min(1.0, max(0.05, ratio[y] + rng.uniform(-0.03, 0.03)))
            for y in range(ANCHOR + 1, YEARS[-1] + 1):
                ex[y] = ex[y - 1] * (1 + rng.uniform(0.04, 0.26))
                ratio[y] = min(1.0, max(0.05, ratio[y - 1] + rng.uniform(-0.02, 0.02)))
            execution[p] = dict(sorted(ex.items()))
            offshore[p] = {y: ex[y] * ratio[y] for y in sorted(ex)}
    return Amounts(execution, offshore)


def growth_pct(now: float, before: float) -> float:
    return (now / before - 1) * 100


def listed_provinces(region: str, year: int) -> list[str]:
    """The provinces the edition of ``year`` lists for ``region``, largest execution first."""
    names = [p for p in PROVINCES[region] if p != "海南省" or year >= HAINAN_FROM]
    a = amounts()
    return sorted(names, key=lambda p: -a.execution[p][year])


def complete(region: str, year: int) -> bool:
    """Whether the region's table lists all its provinces (各省市) or only some (部分省市)."""
    return region not in REST and len(listed_provinces(region, year)) == len(PROVINCES[region])


# ------------------------------------------------------------------------------------ clusters


@cache
def concentration() -> dict[tuple[str, int, bool], float]:
    """(region, year, offshore) -> the demonstration cities' share of the region's amount (0–1)."""
    replica = {row[0]: [_num(c) for c in row[1:]] for row in _replica()["表10-1"]["rows"]}
    out: dict[tuple[str, int, bool], float] = {}
    for region, short in CLUSTER_LABELS.items():
        demo, demo_off, driven, driven_off, _, _ = replica[short]
        for off, share in ((False, demo / (demo + driven)), (True, demo_off / (demo_off + driven_off))):
            rng = _rng("concentration", region, off)
            out[region, ANCHOR, off] = share
            for y in range(ANCHOR, YEARS[0], -1):
                out[region, y - 1, off] = min(0.995, max(0.6, out[region, y, off] - rng.uniform(0.0, 0.012)))
            for y in range(ANCHOR + 1, YEARS[-1] + 1):
                out[region, y, off] = min(0.998, max(0.6, out[region, y - 1, off] + rng.uniform(-0.004, 0.008)))
    return out


# ------------------------------------------------------------------------------------ ITO (表3-1)


@cache
def ito_base() -> dict[str, dict[int, float]]:
    """Region -> year -> ITO execution as of the replica (2016–2021), grown outwards for other years.

    The replica's figures are rounded: each year's regions are moved by the same amount (well inside
    half a unit) so that their true sum rounds to the replica's printed total too (2018: 695.6 → 695.7).
    """
    table = _replica()["表3-1"]
    years = [int(c[:4]) for c in table["columns"][1:]]
    printed = {row[0]: [_num(c) for c in row[1:]] for row in table["rows"]}
    out: dict[str, dict[int, float]] = {r: {} for r in REGIONS}
    for k, y in enumerate(years):
        parts = sum(printed[r][k] for r in REGIONS)
        shift = (printed[TOTAL][k] - parts) / len(REGIONS)
        assert abs(shift) < 0.05, (y, shift)
        for r in REGIONS:
            out[r][y] = printed[r][k] + shift
            assert fmt(out[r][y]) == fmt(printed[r][k])
        assert fmt(sum(out[r][y] for r in REGIONS)) == fmt(printed[TOTAL][k]), y
    for r in REGIONS:
        rng = _rng("ito", r)
        for y in range(years[0], ITO_YEARS[0], -1):
            out[r][y - 1] = out[r][y] / (1 + rng.uniform(0.08, 0.22))
        for y in range(years[-1] + 1, ITO_YEARS[-1] + 1):
            out[r][y] = out[r][y - 1] * (1 + rng.uniform(0.08, 0.20))
        out[r] = dict(sorted(out[r].items()))
    a = amounts()
    for r in REGIONS:
        for y in YEARS:
            assert out[r][y] < a.region(r, y), (r, y)  # ITO is part of all execution
    return out


def _anchored(rev: Revision) -> bool:
    replica_years = range(2016, ANCHOR + 1)
    return rev.year in replica_years and rev.edition <= ANCHOR


def ito(edition: int, region: str, year: int) -> float:
    """``region``'s ITO execution for ``year`` as the edition of ``edition`` prints it."""
    value = ito_base()[region][year]
    for rev in REVISIONS:
        if rev.region != region or rev.year != year:
            continue
        if _anchored(rev):
            value -= rev.delta if edition < rev.edition else 0.0
        else:
            value += rev.delta if edition >= rev.edition else 0.0
    return value


def ito_total(edition: int, year: int) -> float:
    return sum(ito(edition, r, year) for r in REGIONS)


def ito_years(edition: int) -> list[int]:
    """The six years an edition's 表3-1 restates: the edition's year and the five before."""
    return list(range(edition - 5, edition + 1))


def revision_values(rev: Revision) -> tuple[float, float]:
    """(old, new) of a planted revision, as printed before and from its edition."""
    return ito(rev.edition - 1, rev.region, rev.year), ito(rev.edition, rev.region, rev.year)
