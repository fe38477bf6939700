"""What each edition prints, before any typesetting: its title, running text and tables, in the shape of
samples/truth (``id``, ``caption``, ``columns``, ``header_rows``, ``rows``, ``unit``, ``source_note``,
``notes``), plus what the truth needs to know about each table (``dataset``, ``attributes``, ``keys``, and
for the notices ``scheme`` and ``scales``). samples/variants typesets the result.

Editions change more than their numbers: the annual report renumbers its tables by era (表6-x / 表7-1 /
表9-1 in 2016–2018, the replica's 表3-1 / 表8-x / 表10-1 in 2019–2021, 表2-1 / 表5-x / 表6-1 from 2022,
as tests/test_next_edition.py's 2022 edition does), words its province captions 主要 / 部分 / 各, lists
海南省 from 2022 on, and puts its ITO table after the regions in the first era. The notices follow their
year's scheme (scores.py).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from samples.backcatalog import scores as sc
from samples.backcatalog import series as se

KINDS = ("annual_report", "city_evaluation")
ANNUAL_YEARS = range(2016, 2024)
NOTICE_YEARS = (2014, *range(2016, 2024))
REPLICA = Path(__file__).resolve().parents[1] / "truth"

SOURCE = "数据来源：中华人民共和国商务部。"
SOURCE_CLUSTERS = "数据来源：中华人民共和国商务部，中国服务外包研究中心。"
UNIT = "亿美元"
EXECUTION_COLUMNS = [
    "全部执行金额", "同比增长（%）", "占全国比重（%）", "离岸执行金额", "同比增长（%）", "占全国比重（%）",
]
CLUSTER_HEADER = [
    ["区域", "示范城市", "", "带动城市", "", "集聚度", ""],
    ["", "执行金额", "离岸执行金额", "执行金额", "离岸执行金额", "执行金额（%）", "离岸执行金额（%）"],
]

# Table numbers by era: (ITO by region, regions, first province table, clusters).
NUMBERING = {
    range(2016, 2019): ("表7-1", "表6-1", 2, "表9-1"),
    range(2019, 2022): ("表3-1", "表8-1", 2, "表10-1"),
    range(2022, 2024): ("表2-1", "表5-1", 2, "表6-1"),
}
HEADINGS = ["一、区域发展情况", "二、示范城市发展情况"]


def title(kind: str, year: int) -> str:
    if kind == "annual_report":
        return f"中国服务外包发展报告{year}"
    return f"{year}年度中国服务外包示范城市及申请城市综合评价结果"


def _numbers(year: int) -> tuple[str, str, int, str]:
    return next(n for years, n in NUMBERING.items() if year in years)


def _growth_phrase(pct: float) -> str:
    text = se.fmt(pct)
    return f"同比下降{text.lstrip('-')}%" if text.startswith("-") else f"同比增长{text}%"


# ------------------------------------------------------------------------------------------ annual


def _table(tid: str, caption: str, header: list[list[str]], rows: list[list[str]], *, dataset: str,
           attributes: dict[str, Any], keys: list[str], unit: str | None = UNIT, source: str | None = SOURCE,
           notes: list[str] | None = None, canonical: list[str | None] | None = None) -> dict[str, Any]:
    columns = []
    for c in range(len(header[0])):
        parts: list[str] = []
        for r, row in enumerate(header):
            label = row[c] or (next((row[k] for k in range(c, -1, -1) if row[k]), "") if r == 0 else "")
            if label and label not in parts:
                parts.append(label)
        columns.append("/".join(parts))
    table = {
        "id": tid, "caption": caption, "columns": columns, "header_rows": header, "rows": rows, "unit": unit,
        "source_note": source, "notes": notes or [], "dataset": dataset, "attributes": attributes, "keys": keys,
    }
    if canonical is not None:
        table["canonical"] = canonical
    return table


def _execution_row(label: str, now: float, before: float, national: float, off_now: float, off_before: float,
                   off_national: float) -> list[str]:
    return [
        label,
        se.fmt(now), se.fmt(se.growth_pct(now, before)), se.fmt(now / national * 100),
        se.fmt(off_now), se.fmt(se.growth_pct(off_now, off_before)), se.fmt(off_now / off_national * 100),
    ]


def annual_tables(year: int) -> dict[str, dict[str, Any]]:
    a = se.amounts()
    ito_id, region_id, first_province, cluster_id = _numbers(year)
    chapter = region_id.split("-")[0]
    nat, nat_off = a.national(year), a.national(year, True)
    nat_before, nat_off_before = a.national(year - 1), a.national(year - 1, True)
    tables: dict[str, dict[str, Any]] = {}

    years = se.ito_years(year)
    ito_rows = [[r, *(se.fmt(se.ito(year, r, y)) for y in years)] for r in se.REGIONS]
    ito_rows.append([se.TOTAL, *(se.fmt(se.ito_total(year, y)) for y in years)])
    tables["ito"] = _table(
        ito_id, f"{years[0]}－{years[-1]}年中国分区域信息技术外包执行额", [["区域", *(f"{y}年" for y in years)]],
        ito_rows, dataset="ito_by_region", attributes={"first_year": years[0], "last_year": years[-1]},
        keys=[*se.REGIONS, se.TOTAL], source=SOURCE.rstrip("。"),
    )

    rows = [
        _execution_row(r, a.region(r, year), a.region(r, year - 1), nat, a.region(r, year, True),
                       a.region(r, year - 1, True), nat_off)
        for r in se.REGIONS
    ]
    total = _execution_row(se.TOTAL, nat, nat_before, nat, nat_off, nat_off_before, nat_off)
    total[3] = total[6] = "100.0"
    tables["regions"] = _table(
        region_id, f"{year}年中国各区域服务外包数据统计", [["区域", *EXECUTION_COLUMNS]], [*rows, total],
        dataset="region_execution", attributes={"year": year}, keys=[*se.REGIONS, se.TOTAL],
    )

    for k, region in enumerate(se.REGIONS):
        provinces = se.listed_provinces(region, year)
        some = "主要" if year < 2019 else "部分"
        scope = "各" if se.complete(region, year) else some
        rows = [
            _execution_row(p, a.execution[p][year], a.execution[p][year - 1], nat, a.offshore[p][year],
                           a.offshore[p][year - 1], nat_off)
            for p in provinces
        ]
        tables[f"provinces-{k}"] = _table(
            f"{chapter}-{first_province + k}", f"{year}年{region}{scope}省市服务外包数据统计",
            [["省市", *EXECUTION_COLUMNS]], rows, dataset="province_execution",
            attributes={"year": year, "region": region, "complete": scope == "各"}, keys=provinces,
        )

    rows, demo_sum, demo_off_sum = [], 0.0, 0.0
    conc = se.concentration()
    for region in se.REGIONS:
        ex, off = a.region(region, year), a.region(region, year, True)
        c, c_off = conc[region, year, False], conc[region, year, True]
        demo_sum += ex * c
        demo_off_sum += off * c_off
        rows.append([se.CLUSTER_LABELS[region], se.fmt(ex * c), se.fmt(off * c_off), se.fmt(ex * (1 - c)),
                     se.fmt(off * (1 - c_off)), se.fmt(c * 100), se.fmt(c_off * 100)])
    rows.append([se.NATIONAL, se.fmt(demo_sum), se.fmt(demo_off_sum), se.fmt(nat - demo_sum),
                 se.fmt(nat_off - demo_off_sum), se.fmt(demo_sum / nat * 100), se.fmt(demo_off_sum / nat_off * 100)])
    tables["clusters"] = _table(
        cluster_id, f"{year}年服务外包示范城市带动城市发展情况", CLUSTER_HEADER, rows,
        dataset="demo_city_clusters", attributes={"year": year},
        keys=[*se.CLUSTER_LABELS.values(), se.NATIONAL], source=SOURCE_CLUSTERS,
    )
    return tables


def _annual_document(year: int) -> dict[str, Any]:
    t = annual_tables(year)
    ito_now, ito_before = se.ito_total(year, year), se.ito_total(year, year - 1)
    ito_growth = _growth_phrase(se.growth_pct(ito_now, ito_before))
    ito_text = f"{year}年，中国企业承接信息技术外包{se.fmt(ito_now)}亿美元，{ito_growth}。"
    northeast = t["provinces-3"]["rows"][0]
    growth = float(northeast[2])
    province_text = f"{year}年，{northeast[0]}承接服务外包执行额{northeast[1]}亿美元，{_growth_phrase(growth)}。"
    national = t["clusters"]["rows"][-1]
    cluster_text = f"{year}年，服务外包示范城市执行额、离岸执行额集聚度分别为{national[5]}%、{national[6]}%。"
    provinces = [("table", t[f"provinces-{k}"]["id"]) for k in range(4)]
    regions = [("heading", HEADINGS[0]), ("paragraph", province_text), ("table", t["regions"]["id"]), *provinces]
    ito = [("paragraph", ito_text), ("table", t["ito"]["id"])]
    clusters = [("heading", HEADINGS[1]), ("paragraph", cluster_text), ("table", t["clusters"]["id"])]
    blocks = [*regions, *ito, *clusters] if year < 2019 else [*ito, *regions, *clusters]
    by_id = {table["id"]: table for table in t.values()}
    return {"title": title("annual_report", year), "title_lines": [title("annual_report", year)],
            "blocks": blocks, "tables": [by_id[text] for kind, text in blocks if kind == "table"]}


# ------------------------------------------------------------------------------------------ notices

HEADER_2021 = ["序号", "城市", "基础评价", "", "", "", "", "", "专家评审", "问卷调查", "综合得分"]
SUB_2021 = ["", "", "基础评价得分", "(一)产业发展情况", "(二)综合创新能力", "(三)公共服务水平", "(四)政策措施保障",
            "加分项", "", "", ""]
ORDER_2021 = ["base_score", "industry_development", "innovation", "public_service", "policy_support", "bonus",
              "expert_review", "survey", "total_score"]
HEADER_2016 = ["序号", "城市", "综合得分", *(label for label, _ in sc.INDICATORS_2016.values())]
ORDER_2016 = ["total_score", *sc.INDICATORS_2016]
MEAN = "平均值"


def _scales(year: int, order: list[str]) -> dict[str, dict[str, Any]]:
    """The scale each score column is on: what a long-form (city, year, indicator, score) row needs."""
    s = sc.scheme(year)
    if s == "2016":
        out = {k: {"kind": "normalised", "mean": w, "note": "the average demonstration city scores the weight"}
               for k, (_, w) in sc.INDICATORS_2016.items()}
        out["total_score"] = {"kind": "normalised", "mean": 100, "note": "sum of the five indicators"}
        return {k: out[k] for k in order}
    if s == "2014":
        return {"total_score": {"kind": "composite", "max": 100, "note": "from 58 indicators, only the composite"}}
    maxima = {"base_score": 70, "expert_review": 20, "survey": 10, "total_score": 100}
    return {k: {"kind": "points", "max": maxima.get(k), "of": "base_score" if k not in maxima else None}
            for k in order}


def _mean_row(year: int, table: str, n_cols: int, means: list[str]) -> list[str]:
    """平均值 under 城市 or under 序号: the replica does both; other editions pick one by year."""
    replica_first = {"附1-2", "附2-1", "附2-2", "附2-3"}
    first = table in replica_first if year == sc.ANCHOR else year % 2 == 1
    label = [MEAN, ""] if first else ["", MEAN]
    assert len(label) + len(means) == n_cols
    return [*label, *means]


def _score_table(year: int, tid: str, caption: str, cities: list[sc.City], order: list[str],
                 header: list[list[str]], attributes: dict[str, Any], notes: list[str],
                 canonical: list[str | None] | None) -> dict[str, Any]:
    rows = [[str(k), c.name, *(f"{c.scores[o]}" for o in order)] for k, c in enumerate(cities, start=1)]
    means = [f"{sc.mean([c.scores[o] for c in cities])}" for o in order]
    rows.append(_mean_row(year, tid, len(order) + 2, means))
    table = _table(tid, caption, header, rows, dataset="city_scores", attributes=attributes,
                   keys=[*(c.name for c in cities), MEAN], unit=None, source=None, notes=notes, canonical=canonical)
    table["scheme"] = sc.scheme(year)
    table["scales"] = _scales(year, order)
    return table


@cache
def _replica_tables() -> dict[str, dict[str, Any]]:
    doc = json.loads((REPLICA / "city_evaluation_2021.json").read_text(encoding="utf-8"))
    return {t["id"]: t for t in doc["tables"]}


def _replica_notes() -> dict[str, list[str]]:
    return {tid: t["notes"] for tid, t in _replica_tables().items()}


def notice_tables(year: int) -> list[dict[str, Any]]:
    s = sc.scheme(year)
    east_note, west_note = _replica_notes()["附1-2"], _replica_notes()["附1-3"]
    demo = sc.cities(year, "demonstration")
    east = [c for c in demo if c.east]
    rest = [c for c in demo if not c.east]
    if s == "2021":
        tables = []
        applicants = sc.cities(year, "applicant")
        for section, city_type, cities in ((1, "demonstration", demo), (2, "applicant", applicants)):
            order = [o for o in ORDER_2021 if city_type == "demonstration" or o != "bonus"]
            keep = [c for c, o in enumerate(["", "", *ORDER_2021]) if o != "bonus" or city_type == "demonstration"]
            header = [[HEADER_2021[c] for c in keep], [SUB_2021[c] for c in keep]]
            word = "示范城市" if city_type == "demonstration" else "申请城市"
            scopes = [
                ("national", None, "中国服务外包" if city_type == "demonstration" else "服务外包", cities, []),
                ("region", "east", "东部地区服务外包", [c for c in cities if c.east], east_note),
            ]
            if city_type == "demonstration":
                scopes.append(("region", "central_west_northeast", "中西部和东北地区服务外包",
                               [c for c in cities if not c.east], west_note))
            else:
                scopes.append(("region", "central_west", "中西部地区服务外包", [c for c in cities if not c.east],
                               west_note))
            for ordinal, (scope, region, words, members, notes) in enumerate(scopes, start=1):
                attributes = {"year": year, "city_type": city_type, "scope": scope}
                if region:
                    attributes["region"] = region
                tables.append(_score_table(
                    year, f"附{section}-{ordinal}", f"{year}年度{words}{word}综合评价得分情况", members, order,
                    header, attributes, notes, None,
                ))
        if year == sc.ANCHOR:
            # The replica's 平均值 rows are means of unrounded scores (a cent off the printed rows' mean
            # here and there): the 2021 notice prints the replica's tables as they are.
            replica = _replica_tables()
            for t in tables:
                rows = replica[t["id"]]["rows"]
                assert [r for r in t["rows"] if r[0].isdigit()] == [r for r in rows if r[0].isdigit()], t["id"]
                t["rows"] = [list(r) for r in rows]
        return tables
    if s == "2016":
        canonical: list[str | None] = ["rank", "city", *ORDER_2016]
        header = [HEADER_2016]
        norm = "注：各项指标得分经标准化处理，示范城市平均得分为100分。"
        specs = [
            ("附1-1", "中国服务外包", demo, {"scope": "national"}, [norm]),
            ("附2-1", "东部地区服务外包", east, {"scope": "region", "region": "east"}, east_note),
            ("附2-2", "中西部和东北地区服务外包", rest,
             {"scope": "region", "region": "central_west_northeast"}, west_note),
        ]
        return [
            _score_table(year, tid, f"{year}年度{words}示范城市综合评价排名", members, ORDER_2016, header,
                         {"year": year, "city_type": "demonstration", **attrs}, notes, canonical)
            for tid, words, members, attrs, notes in specs
        ]
    return [_score_table(
        year, "附1-1", f"{year}年度中国服务外包示范城市综合评价排名", demo, ["total_score"],
        [["序号", "城市", "综合得分"]], {"year": year, "city_type": "demonstration", "scope": "national"},
        ["注：综合得分依据58项指标数据计算。"], ["rank", "city", "total_score"],
    )]


def _above(table: dict[str, Any], column: int) -> int:
    rows = [r for r in table["rows"] if r[0].isdigit()]
    mean = next(r for r in table["rows"] if MEAN in r[:2])[column]
    return sum(Decimal(r[column]) > Decimal(mean) for r in rows)


def _notice_document(year: int) -> dict[str, Any]:
    tables = notice_tables(year)
    by = {t["id"]: t for t in tables}
    s = sc.scheme(year)
    n_demo = len(sc.cities(year, "demonstration"))
    if s == "2021":
        n_appl = len(sc.cities(year, "applicant"))
        demo, appl = by["附1-1"], by["附2-1"]
        base_mean = next(r for r in demo["rows"] if MEAN in r[:2])[2]
        total_mean = next(r for r in appl["rows"] if MEAN in r[:2])[-1]
        above = _above(appl, len(appl["rows"][0]) - 1)
        paragraphs = [
            f"此次对{n_demo}个服务外包示范城市及{n_appl}个服务外包申请城市开展了综合评价。",
            "此次综合评价包括基础评价、专家评审和问卷调查三部分内容。基础评价部分满分70分，在综合评价的权重为70%。"
            f"示范城市平均得分为{base_mean}分，{_above(demo, 2)}个城市得分高于平均值。",
            f"综合评价平均得分为{total_mean}分，{above}个城市得分超过平均值，占比为{round(100 * above / n_appl)}%。",
        ]
        blocks = [
            ("paragraph", paragraphs[0]), ("paragraph", paragraphs[1]), ("appendix", "1"), ("table", "附1-1"),
            ("table", "附1-2"), ("table", "附1-3"), ("appendix", "2"), ("table", "附2-1"),
            ("paragraph", paragraphs[2]), ("table", "附2-2"), ("table", "附2-3"),
        ]
    elif s == "2016":
        indicators = "、".join(label for label, _ in list(sc.INDICATORS_2016.values())[:-1])
        last = list(sc.INDICATORS_2016.values())[-1][0]
        weights = "、".join(f"{w}分" for _, w in list(sc.INDICATORS_2016.values())[:-1])
        paragraphs = [
            f"此次对{n_demo}个服务外包示范城市开展了综合评价，评价内容包括{indicators}和{last}五个方面。",
            f"各项指标得分经标准化处理，示范城市综合得分的平均值为100分，五个方面的平均值分别为{weights}和"
            f"{list(sc.INDICATORS_2016.values())[-1][1]}分。{_above(by['附1-1'], 2)}个城市综合得分高于平均值。",
        ]
        blocks = [
            ("paragraph", paragraphs[0]), ("paragraph", paragraphs[1]), ("appendix", "1"), ("table", "附1-1"),
            ("appendix", "2"), ("table", "附2-1"), ("table", "附2-2"),
        ]
    else:
        paragraphs = [f"此次依据58项指标数据，对{n_demo}个服务外包示范城市开展了综合评价。"]
        blocks = [("paragraph", paragraphs[0]), ("appendix", "1"), ("table", "附1-1")]
    return {
        "title": title("city_evaluation", year),
        "title_lines": [f"{year}年度中国服务外包示范城市及", "申请城市综合评价结果"],
        "blocks": blocks,
        "tables": tables,
    }


@cache
def _document(kind: str, year: int) -> str:
    doc = _annual_document(year) if kind == "annual_report" else _notice_document(year)
    return json.dumps(doc, ensure_ascii=False)


def document(kind: str, year: int) -> dict[str, Any]:
    """The edition's content (a fresh copy): title, title_lines, blocks [(kind, text)] and tables."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {KINDS}")
    years = ANNUAL_YEARS if kind == "annual_report" else NOTICE_YEARS
    if year not in years:
        raise ValueError(f"no {kind} edition for {year}: the back catalogue has {list(years)}")
    return json.loads(_document(kind, year))
