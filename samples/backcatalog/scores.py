"""The evaluation notices' scores, year by year, in the scheme each year used.

- ``2021`` scheme (the 2018–2023 notices): 基础评价 (out of 70: four indicators and, for demonstration
  cities, a 加分项) + 专家评审 (20) + 问卷调查 (10) = 综合得分 (100). The 2021 notice is the replica's
  (samples/truth/city_evaluation_2021.json); other years perturb each city's replica row (seeded), so a
  city's standing carries over from year to year.
- ``2016`` scheme (the 2016 and 2017 notices): 31 demonstration cities on five indicators — 产业发展情况,
  基础设施状况, 人才培养培训与就业, 要素成本, 政策措施 — each normalised so that the average city scores
  its weight (40/15/20/10/15), and the composite (综合得分, their sum) averages 100.
- ``2014`` scheme (the 2014 notice): the 21 demonstration cities of the time ranked on one composite
  score built from 58 indicators (only the composite is published).

Scores are published to two decimals; a sum is computed from the printed parts (the ministry's tables
add up exactly) except where a scheme normalises, whose composite is rounded from unrounded indicators.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

TRUTH = Path(__file__).resolve().parents[1] / "truth" / "city_evaluation_2021.json"
CENT = Decimal("0.01")
ANCHOR = 2021

# The 21 demonstration cities of 2014; ten more from 2016; six more from 2020; 绍兴 from 2022.
DEMO_2014 = ["北京", "天津", "上海", "重庆", "大连", "深圳", "广州", "武汉", "哈尔滨", "成都", "南京", "西安",
             "济南", "杭州", "合肥", "南昌", "长沙", "大庆", "苏州", "无锡", "厦门"]
DEMO_2016 = DEMO_2014 + ["沈阳", "长春", "南通", "镇江", "宁波", "福州", "青岛", "郑州", "南宁", "乌鲁木齐"]
DEMO_2020 = DEMO_2016 + ["徐州", "烟台", "佛山", "贵阳", "宜昌", "洛阳"]
DEMO_2022 = DEMO_2020 + ["绍兴"]
APPLICANTS = {
    2018: ["珠海", "东莞", "湖州", "常州", "徐州", "烟台", "佛山", "贵阳", "宜昌", "洛阳", "潍坊", "昆明"],
    2019: ["珠海", "东莞", "湖州", "常州", "徐州", "烟台", "佛山", "贵阳", "宜昌", "洛阳", "潍坊", "昆明",
           "嘉兴", "赣州"],
    2020: ["珠海", "东莞", "湖州", "潍坊", "常州", "石家庄", "嘉兴", "昆明", "赣州", "金华", "泰州", "秦皇岛",
           "太原"],
    2022: ["珠海", "东莞", "湖州", "潍坊", "常州", "石家庄", "嘉兴", "昆明", "赣州", "金华", "泰州", "秦皇岛",
           "太原"],
    2023: ["珠海", "东莞", "湖州", "潍坊", "常州", "石家庄", "嘉兴", "昆明", "赣州", "金华", "泰州", "秦皇岛",
           "太原", "温州", "泉州", "芜湖"],
}
# 东部地区 as the notices' regional tables split the cities (依据国家统计局经济区域划分标准).
EAST = {"北京", "天津", "上海", "深圳", "广州", "南京", "济南", "杭州", "苏州", "无锡", "厦门", "南通", "镇江",
        "宁波", "福州", "青岛", "徐州", "烟台", "佛山", "绍兴", "珠海", "东莞", "湖州", "常州", "潍坊", "石家庄",
        "嘉兴", "金华", "泰州", "秦皇岛", "温州", "泉州"}
# Cities with no replica row: the row they are perturbed from (绍兴's is tests/test_next_edition.py's).
TEMPLATES = {
    "绍兴": ["20.01", "2.50", "3.01", "0.50", "10.50", "3.50", "14.00", "8.00"],
    "温州": "金华",
    "泉州": "泰州",
    "芜湖": "赣州",
}

SCHEMES = {2014: "2014", 2016: "2016", 2017: "2016"}  # every other year: "2021"

# 2021 scheme: column -> (canonical, upper bound of a perturbed score)
PARTS_2021 = {
    "industry_development": 25, "innovation": 16, "public_service": 8, "policy_support": 14, "bonus": 7,
}
REVIEWS_2021 = {"expert_review": (10, 20), "survey": (6, 10)}
# 2016 scheme: indicator -> the average city's score (the weights; they add up to 100).
INDICATORS_2016 = {
    "industry_development": ("产业发展情况", 40), "infrastructure": ("基础设施状况", 15),
    "talent_training_employment": ("人才培养培训与就业", 20), "factor_cost": ("要素成本", 10),
    "policy_measures": ("政策措施", 15),
}


def scheme(year: int) -> str:
    return SCHEMES.get(year, "2021")


def q(value: Decimal | float) -> Decimal:
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class City:
    name: str
    scores: dict[str, Decimal]  # canonical column -> printed score
    rank: int = 0
    east: bool = field(init=False)

    def __post_init__(self) -> None:
        self.east = self.name in EAST


def _rng(*key: object) -> random.Random:
    return random.Random(":".join(str(k) for k in ("backcatalog-scores", *key)))


@cache
def _replica() -> dict[str, dict]:
    return {t["id"]: t for t in json.loads(TRUTH.read_text(encoding="utf-8"))["tables"]}


def _replica_rows(city_type: str) -> dict[str, list[str]]:
    """City -> its replica row's scores (base, four parts, [bonus], expert, survey, total)."""
    table = _replica()["附1-1" if city_type == "demonstration" else "附2-1"]
    return {row[1]: row[2:] for row in table["rows"] if row[0].isdigit()}


def _template(city: str) -> dict[str, Decimal]:
    """A city's 2021 scores (demonstration row if any, else applicant row), canonical -> value."""
    demo, appl = _replica_rows("demonstration"), _replica_rows("applicant")
    t = TEMPLATES.get(city)
    if isinstance(t, str):
        return _template(t)
    if city in demo or t is not None:
        row = demo.get(city) or t
        assert row is not None
        names = ["base_score", *PARTS_2021, "expert_review", "survey", "total_score"]
        return {n: Decimal(v) for n, v in zip(names, row if len(row) == 9 else [*row, "0"], strict=True)}
    row = appl[city]
    names = ["base_score", "industry_development", "innovation", "public_service", "policy_support",
             "expert_review", "survey", "total_score"]
    return {n: Decimal(v) for n, v in zip(names, row, strict=True)} | {"bonus": Decimal(0)}


def _perturbed(city: str, year: int, city_type: str) -> dict[str, Decimal]:
    base = _template(city)
    rng = _rng(city, year, city_type)
    out: dict[str, Decimal] = {}
    parts = [p for p in PARTS_2021 if city_type == "demonstration" or p != "bonus"]
    for p in parts:
        value = float(base[p]) * (1 + rng.uniform(-0.12, 0.12)) + rng.uniform(-0.3, 0.3)
        if p == "bonus" and base[p] == 0:
            value = rng.uniform(1.5, 4.5)  # an applicant of 2021 that is a demonstration city this year
        out[p] = q(min(PARTS_2021[p], max(0.0, value)))
    for p, (low, high) in REVIEWS_2021.items():
        out[p] = q(min(high, max(low, float(base[p]) + rng.uniform(-1.2, 1.2))))
    return out


def _totals_2021(scores: dict[str, Decimal]) -> dict[str, Decimal]:
    base = sum((v for k, v in scores.items() if k in PARTS_2021), Decimal(0))
    return {"base_score": base, **scores, "total_score": base + scores["expert_review"] + scores["survey"]}


def _ranked(cities: list[City], score: str) -> list[City]:
    ordered = sorted(cities, key=lambda c: (-c.scores[score], c.name))
    for k, c in enumerate(ordered, start=1):
        c.rank = k
    return ordered


def _untie(cities: list[City], nudge: str) -> None:
    """No two cities share a 综合得分 (a tie would make the rank ambiguous): nudge the later one down."""
    while True:
        seen: dict[Decimal, City] = {}
        clash = None
        for c in sorted(cities, key=lambda c: c.name):
            t = c.scores["total_score"]
            if t in seen:
                clash = c
                break
            seen[t] = c
        if clash is None:
            return
        clash.scores[nudge] -= CENT
        if nudge != "total_score":
            clash.scores["total_score"] -= CENT
        if "base_score" in clash.scores and nudge in PARTS_2021:
            clash.scores["base_score"] -= CENT


def _scheme_2021(year: int, city_type: str) -> list[City]:
    if year == ANCHOR:
        names = ["base_score", "industry_development", "innovation", "public_service", "policy_support"]
        names += ["bonus"] if city_type == "demonstration" else []
        names += ["expert_review", "survey", "total_score"]
        table = _replica()["附1-1" if city_type == "demonstration" else "附2-1"]
        cities = [City(row[1], {n: Decimal(v) for n, v in zip(names, row[2:], strict=True)})
                  for row in table["rows"] if row[0].isdigit()]
        ranked = _ranked(cities, "total_score")
        assert [c.name for c in ranked] == [c.name for c in cities], "the replica is ranked by 综合得分"
        return ranked
    if city_type == "demonstration":
        names = DEMO_2016 if year < 2020 else DEMO_2020 if year < 2022 else DEMO_2022
    else:
        names = APPLICANTS[year]
    cities = [City(n, _totals_2021(_perturbed(n, year, city_type))) for n in names]
    _untie(cities, "survey")
    return _ranked(cities, "total_score")


def _scheme_2016(year: int) -> list[City]:
    """Five indicators, each the city's raw index over the average city's times its weight."""
    strength = {row[1]: float(row[-1]) for row in _replica()["附1-1"]["rows"] if row[0].isdigit()}
    raw: dict[str, dict[str, float]] = {}
    for city in DEMO_2016:
        rng = _rng(city, year, "2016")
        s = strength[city] / 60.0
        raw[city] = {k: max(0.05, s ** (1.5 if k == "industry_development" else 0.8) * rng.uniform(0.7, 1.3))
                     for k in INDICATORS_2016}
    means = {k: sum(r[k] for r in raw.values()) / len(raw) for k in INDICATORS_2016}
    cities = []
    for city in DEMO_2016:
        exact = {k: raw[city][k] / means[k] * w for k, (_, w) in INDICATORS_2016.items()}
        scores = {k: q(v) for k, v in exact.items()}
        cities.append(City(city, {"total_score": q(sum(exact.values())), **scores}))
    _untie(cities, "factor_cost")
    return _ranked(cities, "total_score")


def _scheme_2014(year: int) -> list[City]:
    strength = {row[1]: float(row[-1]) for row in _replica()["附1-1"]["rows"] if row[0].isdigit()}
    cities = []
    for city in DEMO_2014:
        rng = _rng(city, year, "2014")
        cities.append(City(city, {"total_score": q(55 + (strength[city] - 40) * 0.9 + rng.uniform(-3, 3))}))
    _untie(cities, "total_score")
    return _ranked(cities, "total_score")


@cache
def cities(year: int, city_type: str = "demonstration") -> list[City]:
    """The cities a notice of ``year`` scores, ranked (empty when the scheme has no such city type)."""
    s = scheme(year)
    if s == "2021":
        return _scheme_2021(year, city_type)
    if city_type != "demonstration":
        return []
    return _scheme_2016(year) if s == "2016" else _scheme_2014(year)


def mean(values: list[Decimal]) -> Decimal:
    return q(sum(values, Decimal(0)) / len(values))
