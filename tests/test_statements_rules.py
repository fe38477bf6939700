"""The parser's rules for Chinese statistical prose, one test each, on sentences written for the test (none is
in the reports). Each rule was found by a reconciliation disagreement on the samples that turned out to be a
misreading, not the publisher's: the sentence here shows the rule in general, away from that sentence."""

from __future__ import annotations

from tests.test_statements import _parse as _parse_in
from tests.test_statements import _rows as _rows_in


def _parse(text: str, section: str | None = None) -> list[dict]:
    return _parse_in(text, 2022, section)


def _rows(text: str, section: str | None = None) -> list[tuple]:
    return _rows_in(text, 2022, section)


def test_a_place_nobody_listed_is_known_by_its_suffix_and_keeps_its_figures() -> None:
    got = _rows(
        "2022年，中南美洲地区大额服务外包合同额为58亿美元，同比增长12.0%。其中，ITO合同额20亿美元，同比增长8.0%。"
        "苏州市软件服务外包执行额15.2亿美元。"
    )
    assert got == [
        (58.0, "中南美洲地区·大额服务", "合同额", "2022", "level"),
        (12.0, "中南美洲地区·大额服务", "合同额", "2022", "yoy_growth"),
        (20.0, "中南美洲地区·ITO", "合同额", "2022", "level"),
        (8.0, "中南美洲地区·ITO", "合同额", "2022", "yoy_growth"),
        (15.2, "苏州市·软件服务", "执行额", "2022", "level"),
    ]


def test_in_a_section_about_a_market_a_sentence_naming_no_one_stays_with_that_market() -> None:
    got = _rows(
        "2022年，中国承接英国服务外包执行额40.1亿美元，同比增长6.0%。2022年，承接ITO执行额18.0亿美元，同比增长9.5%。",
        section="英国",
    )
    # the nation's business from 英国: offshore by definition, and not 英国's own (that would be "英国")
    assert [r[1:3] for r in got] == [("中国·英国", "离岸执行额")] * 2 + [("中国·英国·ITO", "离岸执行额")] * 2
    # Outside such a section the same sentence is the nation's ITO.
    assert _rows("2022年，承接ITO执行额18.0亿美元。")[0][1] == "ITO"


def test_a_clause_naming_a_business_without_a_number_is_the_subject_of_the_next_numbers() -> None:
    got = _rows(
        "2022年，承接的BPO业务中，供应链管理服务执行额为3.4亿美元；数据标注服务增速较快，同比增长85.0%；"
        "合肥市服务外包发展迅速，执行额同比增长40.0%。"
    )
    assert got == [
        (3.4, "供应链管理服务", "执行额", "2022", "level"),
        (85.0, "数据标注服务", "执行额", "2022", "yoy_growth"),
        (40.0, "合肥市", "执行额", "2022", "yoy_growth"),
    ]


def test_the_parts_a_qizhong_names_are_parts_of_the_qualified_whole_before_it() -> None:
    got = _rows(
        "2022年，物流业信息技术外包执行额40.0亿美元，同比增长9.0%。"
        "其中，软件研发服务外包执行额12.0亿美元，同比增长5.0%；物流业测试服务外包执行额3.0亿美元。"
    )
    assert [r[1] for r in got] == [
        "物流业·ITO",
        "物流业·ITO",
        "物流业·软件研发服务",
        "物流业·软件研发服务",
        "物流业·测试服务",
    ]
    # A plain whole has plain parts (the labelled convention: 其中，承接信息技术研发服务… is 信息技术研发服务).
    plain = _rows("2022年，承接ITO执行额900.0亿美元。其中，承接软件研发服务外包执行额500.0亿美元。")
    assert [r[1] for r in plain] == ["ITO", "软件研发服务"]


def test_a_qizhong_without_a_period_of_its_own_speaks_of_its_parents_span() -> None:
    got = _rows(
        "IDC预测，2022－2027年亚太地区IT服务支出年均增长6.0%。"
        "其中，项目服务支出年均增长7.0%，管理服务支出年均增长5.2%。"
    )
    assert [(r[0], r[3], r[4]) for r in got] == [
        (6.0, "2022-2027", "cagr"),
        (7.0, "2022-2027", "cagr"),
        (5.2, "2022-2027", "cagr"),
    ]
    # With a year of its own it keeps that year.
    own = _rows("过去五年，ITO执行额年均增长12.0%。其中，2022年ITO执行额同比增长9.0%。")
    assert own[1][3:] == ("2022", "yoy_growth")


def test_a_ranked_subset_is_a_subject_of_its_own_and_qi_refers_to_it() -> None:
    got = _rows(
        "2022年，离岸执行额排名前五的省份分别为：江苏省、浙江省、广东省、山东省、上海市，"
        "其离岸执行额合计800.0亿美元，占全国的60.0%。"
    )
    assert got == [
        (800.0, "前五省份", "离岸执行额", "2022", "level"),
        (60.0, "前五省份", "离岸执行额", "2022", "share"),
    ]
    assert _parse("2022年，前十大服务外包伙伴执行额达900.0亿美元。")[0]["subject_key"] != "中国"


def test_a_figure_in_brackets_after_a_name_is_that_names() -> None:
    got = _rows(
        "2022年，示范城市离岸执行额1000.0亿美元。其中，离岸执行额超过200亿美元的城市有1个，为杭州市（260.5亿美元）。"
    )
    assert (260.5, "杭州市", "离岸执行额", "2022", "level") in got


def test_a_list_after_the_number_is_what_a_later_list_of_values_distributes_over() -> None:
    got = _rows(
        "2022年，示范城市执行额1000.0亿美元。"
        "其中，执行额超过50亿美元的城市有3个，分别为成都市、武汉市、西安市，规模分别为61.0亿美元、55.5亿美元、52.1亿美元。"
    )
    sized = [r for r in got if r[0] in (61.0, 55.5, 52.1)]
    # 规模 alone stands for the measure already in view, not a measure of its own.
    assert sized == [
        (61.0, "成都市", "执行额", "2022", "level"),
        (55.5, "武汉市", "执行额", "2022", "level"),
        (52.1, "西安市", "执行额", "2022", "level"),
    ]


def _wholes(text: str, section: str | None = None) -> list[tuple[float, str, str | None]]:
    return [(r["value"], r["subject_key"], r["whole_key"]) for r in _parse(text, section) if r["relation"] == "share"]


def test_a_share_naming_no_whole_is_of_the_whole_last_named() -> None:
    # ... in the same sentence,
    same = _wholes(
        "2022年，企业承接数据服务外包执行额50.0亿美元，占全国服务外包执行额的2.0%；云服务外包执行额30.0亿美元，占比1.2%。"
    )
    assert same == [(2.0, "数据服务", "中国|执行额"), (1.2, "云服务", "中国|执行额")]
    # ... in a sentence before, in the paragraph,
    para = _wholes(
        "2022年，广东省承接物流服务外包执行额10.0亿美元，占全国物流服务外包的40.0%。浙江省物流服务外包执行额5.0亿美元，占比20.0%。"
    )
    assert para[1] == (20.0, "浙江省·物流服务", "物流服务|执行额")
    # ... or, in a 其中, the parent's total; "占比" is never a whole called 比.
    parent = _wholes(
        "2022年，波兰服务外包企业承接离岸服务外包执行额20.0亿美元，同比增长5.0%。其中，ITO执行额12.0亿美元，占比60.0%。"
    )
    assert parent == [(60.0, "波兰·ITO", "波兰|离岸执行额")]
    # A count's share does not inherit a sum of money named before.
    count = _wholes(
        "2022年，示范城市执行额占全国的80.0%。示范城市平均得分为60.0分，15个城市得分超过平均值，占比为40.5%。"
    )
    assert count[-1] == (40.5, "城市", "示范城市|数量")  # of the 示范城市, not of 全国's 执行额


def test_the_whole_of_a_share_can_precede_its_zhanbi_and_a_total_noun_is_the_same_things_total() -> None:
    national = _wholes(
        "2022年，承接服务外包执行额、离岸执行额分别为100.0亿美元、40.0亿美元；全国占比分别为4.0%、3.0%。",
        section="中部地区",
    )
    assert national == [(4.0, "中部地区", "中国|执行额"), (3.0, "中部地区", "中国|离岸执行额")]
    total = _wholes("2022年，示范城市BPO执行额400.0亿美元，占全国总额的88.0%。")
    assert total == [(88.0, "示范城市·BPO", "BPO|执行额")]


def test_an_enumeration_of_years_distributes_values_like_any_list() -> None:
    got = _rows(
        "2019年、2020年，中国企业承接数据服务外包执行额分别增长12.0%、15.0%，2021年和2022年分别增长9.0%和7.5%。"
    )
    assert [(r[0], r[3]) for r in got] == [(12.0, "2019"), (15.0, "2020"), (9.0, "2021"), (7.5, "2022")]


def test_names_that_are_aliases_as_printed_and_adverbs_that_end_a_subject() -> None:
    assert _rows("2022年，中国服务外包离岸发包执行额800.0亿美元，同比增长10.0%。")[0][1] == "中国"
    got = _rows("东盟和中东欧也是重要市场。2022年承接东盟和中东欧服务外包执行额分别为30.0亿美元、8.0亿美元。")
    assert [r[1] for r in got] == ["中国·东盟", "中国·中东欧"]


# ---------------------------------------------------------------- chart points (from chart_series rows alone)


def test_a_pie_of_regions_gives_each_region_its_share_of_the_titles_whole() -> None:
    import schemas.checks  # noqa: F401 - registers schemas.reconcile (import it first)
    from schemas.reconcile import _chart_point

    title = "2022年承接东盟服务外包执行额分国别占比"
    point = _chart_point(title, title, "越南", "%", {})
    assert point == (("中国·越南", "离岸执行额", "share of 中国·东盟|离岸执行额", "2022"), "%")
    # "其他" is a part of the whole (the rest of 东盟), not a country of its own.
    assert _chart_point(title, title, "其他", "%", {})[0][0] == "中国·东盟·其他"
    # The whole's own share of itself says nothing.
    assert _chart_point(title, title, "合计", "%", {}) is None


def test_a_bar_chart_of_fields_gives_levels_and_growth_of_each_field_and_its_total() -> None:
    import schemas.checks  # noqa: F401 - registers schemas.reconcile (import it first)
    from schemas.reconcile import _chart_point

    title = "2022年亚太地区大额服务外包发包合同额"
    # The growth series names no measure: it is the growth of the chart's one measured series (合同额).
    sibling = (None, "合同额")
    assert _chart_point(title, "合同额", "合计", "亿美元", {}, sibling) == (
        ("亚太地区·大额服务", "合同额", "level", "2022"),
        "亿美元",
    )
    assert _chart_point(title, "同比增长", "ITO", "%", {}, sibling) == (
        ("亚太地区·ITO", "合同额", "yoy_growth", "2022"),
        "%",
    )
    # A label the text defines as an abbreviation ("平台即服务（PaaS）") is that field.
    assert _chart_point(title, "合同额", "PaaS", "亿美元", {"PaaS": "平台即服务"}, sibling) == (
        ("亚太地区·平台即服务", "合同额", "level", "2022"),
        "亿美元",
    )


def test_a_time_series_chart_still_reads_its_categories_as_years() -> None:
    import schemas.checks  # noqa: F401 - registers schemas.reconcile (import it first)
    from schemas.reconcile import _chart_point

    assert _chart_point("2017－2022年KPO执行额及增速", "KPO执行额增速", "2022", "%", {}) == (
        ("KPO", "执行额", "yoy_growth", "2022"),
        "%",
    )
    # Categories that are not years on a chart of several years: no reading.
    assert _chart_point("2017－2022年KPO执行额及增速", "KPO执行额", "东部", "亿美元", {}) is None


def test_a_ratio_takes_the_items_named_right_before_it_and_a_perspective_sets_the_mode() -> None:
    got = _rows("2022年，28个示范城市ITO、BPO、KPO结构由2021年的45.0：20.0：35.0调整为2022年44.0：21.0：35.0。")
    ratios = [(r[0], r[1], r[3]) for r in got if r[4] == "ratio"]
    assert ratios == [
        (45.0, "示范城市·ITO", "2021"),
        (20.0, "示范城市·BPO", "2021"),
        (35.0, "示范城市·KPO", "2021"),
        (44.0, "示范城市·ITO", "2022"),
        (21.0, "示范城市·BPO", "2022"),
        (35.0, "示范城市·KPO", "2022"),
    ]
    offshore = _rows("从离岸业务看，2022年ITO、BPO、KPO业务结构比例为50.0：10.0：40.0。")
    assert [(r[1], r[2]) for r in offshore] == [("ITO", "离岸执行额"), ("BPO", "离岸执行额"), ("KPO", "离岸执行额")]


def test_the_size_of_a_topic_is_one_measure_and_a_business_line_stays_the_subject() -> None:
    got = _parse(
        "2022年，全球量子计算市场规模达到120亿美元，同比增长18.0%。"
        "2022年，西部地区数据标注服务外包执行额9.5亿美元；江苏省智能制造产业规模3.2万亿元。"
    )
    rows = [(r["value"], r["subject"], r["subject_key"], r["measure"]) for r in got]
    assert rows == [
        (120.0, "全球", "全球", "量子计算市场规模"),
        (18.0, "全球", "全球", "量子计算市场规模"),
        # a business line: the subject (its region in the key), the measure the usual one
        (9.5, "数据标注服务外包", "西部地区·数据标注服务", "执行额"),
        (3.2, "江苏省", "江苏省", "智能制造产业规模"),
    ]


def test_the_printed_subject_is_what_the_figure_is_about_without_measure_verbs_or_predicate() -> None:
    got = _parse(
        "2022年，华南地区ITO执行额30.0亿美元。港资企业承接服务外包执行额12.0亿美元。"
        "全球储能电池出货规模将超过600亿美元。"
    )
    assert [(r["subject"], r["subject_key"]) for r in got] == [
        ("ITO", "华南地区·ITO"),  # the item; the region that scopes it is in the key
        ("港资企业", "港资企业"),  # who, when what it takes on is outsourcing as a whole
        ("全球", "全球"),
    ]


def test_a_mode_printed_with_an_inner_measure_qualifies_that_one_not_the_figure() -> None:
    got = _parse("2022年，离岸执行额100强企业入围门槛为2.5亿美元。")
    assert [(r["measure"], r["subject"], r["subject_key"]) for r in got] == [
        ("入围门槛", "离岸执行额100强企业", "离岸执行额100强企业")
    ]


def test_an_average_growth_rate_is_over_the_span_it_implies() -> None:
    got = _rows(
        "2019年，全国数据中心机架数达到300万架，预计2024年将超过800万架，年均增长约21.7%。"
        "2022年，规模以上软件企业收入同比增长11.2%，三年平均增长9.0%。"
    )
    assert [(r[3], r[4]) for r in got if r[4] == "cagr"] == [("2019-2024", "cagr"), ("2019-2022", "cagr")]


def test_a_run_of_years_a_span_printed_alone_and_a_fiscal_year() -> None:
    got = _parse(
        "2022年，新加坡离岸服务外包执行额120.0亿美元，连续五年增速超过10%。"
        "2020－2022 年上半年，数字内容产业披露融资项目 215 起。"
        "据统计，2023 财年该国软件出口额为 2100亿美元，同比增长 9.0%。软件服务出口额1500亿美元。"
        "2023 年该国数字经济规模1.2万亿美元。"
    )
    periods = [(r["value_text"], r["period"], r["period_kind"]) for r in got]
    assert ("10", "2018-2022", "span") in periods
    assert ("215", "2020-2022H1", "span") in periods  # through the first half of 2022, not all of it
    assert ("2100", "FY2023", "fiscal_year") in periods and ("9.0", "FY2023", "fiscal_year") in periods
    assert ("1500", "FY2023", "fiscal_year") in periods  # the fiscal year in view carries to the next sentence
    assert ("1.2", "2023", "year") in periods  # … unless a sentence prints the calendar year


def test_a_year_like_number_in_a_list_of_values_is_a_value() -> None:
    got = _rows("2020—2022 年全球服务机器人出货量分别为 1890、2035、2260 万台。")
    assert [(r[0], r[3]) for r in got] == [(1890.0, "2020"), (2035.0, "2021"), (2260.0, "2022")]


def test_one_number_stated_of_a_list_of_measures_is_a_row_for_each() -> None:
    got = _rows("2022年，珠三角地区承接服务外包执行额、离岸执行额、在岸执行额占全国的比重均为 21.4%。")
    assert [(r[0], r[1], r[2], r[4]) for r in got] == [
        (21.4, "珠三角地区", "执行额", "share"),
        (21.4, "珠三角地区", "离岸执行额", "share"),
        (21.4, "珠三角地区", "在岸执行额", "share"),
    ]


def test_names_and_adverbs_around_a_subject_are_told_apart() -> None:
    got = _parse(
        "2022年全球服务出口同比增长8.0%，其中发达经济体同比增长6.0%。"  # 发达: a name, not 达 (reaches)
        "2022年，数据标注服务快速增长，同比增长30.0%。"  # 快速: how it grew, not part of the name
        "爱尔兰离岸服务外包连续五年增速超12%。"
        "2020年江苏省服务外包执行额500亿美元，到2025年预计将占全国的15%。"
    )
    assert [(r["value"], r["subject"], r["subject_key"]) for r in got] == [
        (8.0, "全球", "全球"),
        (6.0, "发达经济体", "全球·发达经济体"),
        (30.0, "数据标注服务", "全球·数据标注服务"),  # the paragraph is still about 全球
        (12.0, "爱尔兰", "爱尔兰"),
        (500.0, "江苏省", "江苏省"),
        (15.0, "江苏省", "江苏省"),
    ]


def test_a_predicate_word_inside_a_measure_word_does_not_end_the_subject() -> None:
    # 约 (approx.) is a predicate, but inside 签约额 it is part of the measure; the subject carries over.
    got = _rows("2022年，中国承接医疗器械服务外包执行额 80.0 亿美元。其中，离岸合同签约额 51.9 亿美元，同比增长8.1%。")
    assert got[1:] == [
        (51.9, "医疗器械服务", "离岸合同额", "2022", "level"),
        (8.1, "医疗器械服务", "离岸合同额", "2022", "yoy_growth"),
    ]


def test_a_growth_cue_after_the_number_and_the_words_that_only_lead_to_it() -> None:
    got = _rows(
        "过去五年，数据标注服务外包执行额年均增长 30.5%，预计未来三年仍将保持 20%以上的增速。"
        "2022年，中国数字内容产业收入 3.1 万亿元，预计2024年将实现 15%左右的增长。"
    )
    assert got[1] == (20.0, "数据标注服务", "执行额", "2022-2025", "cagr")  # over the span its clause names
    assert got[3] == (15.0, "中国", "数字内容产业收入", "2024", "yoy_growth")


def test_part_of_a_year_is_named_in_the_period_and_never_passes_for_the_year() -> None:
    got = _parse(
        "2022年上半年，中国承接服务外包执行额 900.5 亿美元，同比增长 12.1%。"
        "2022年前三季度，离岸执行额 600.2 亿美元。2022年第四季度，在岸执行额 300.0 亿美元。"
        "2022年1－9月，承接数字服务外包执行额 88.8 亿美元。"
        "2019 年 4 月至 2022 年 3 月期间，该国信息技术部门累计吸引外国直接投资 855.1 亿美元。"
        "2022 年 9 月，该国政府投入 5.0 亿美元。"
    )
    periods = [(r["value_text"], r["period"], r["period_kind"]) for r in got]
    assert periods == [
        ("900.5", "2022H1", "part_year"),
        ("12.1", "2022H1", "part_year"),
        ("600.2", "2022Q1-Q3", "part_year"),
        ("300.0", "2022Q4", "part_year"),
        ("88.8", "2022M01-M09", "part_year"),
        ("855.1", "2019M04-2022M03", "cumulative"),
        ("5.0", "2022", "year"),  # one month alone dates an event: the figure is of its year
    ]


def test_a_half_years_growth_is_checked_against_the_same_half_a_year_before() -> None:
    from schemas.reconcile import Observation, Observations, _growth_levels
    from schemas.values import CellRef, Term

    obs = Observations()
    ref = CellRef("src", "statements", 0, "value")
    for period, value in (("2021H1", 800.0), ("2022H1", 900.5), ("2021", 1700.0)):
        obs.add(("中国", "执行额", "level", period), Observation(Term(ref, value, 1), "text", "亿美元", 1.0))
    start, end, years = _growth_levels(obs, "中国", "执行额", "2022H1", ("亿美元",))
    assert (start.value, end.value, years) == (800.0, 900.5, 1)
    assert _growth_levels(obs, "中国", "执行额", "2019M04-2022M03", ("亿美元",)) is None  # no two levels


def test_a_percentage_of_things_counted_after_it_is_a_share_of_them_saying_what_it_says() -> None:
    got = _parse(
        "2022年，此次调查共收到 2310 家企业的反馈，12 个申请城市平均得分为 7.95 分，较上年提高 0.40 分。"
        "在人才方面，80.15%的企业认为所在城市人才供给充足，66.20%的企业表示参加过招聘会。",
        section="申请城市",
    )
    rows = [(r["value_text"], r["subject_key"], r["measure"], r["relation"], r["whole_key"]) for r in got]
    assert rows == [
        ("2310", "企业", "数量", "level", None),  # 收到 is a verb: no one called 收到 is the subject after it
        ("12", "申请城市", "数量", "level", None),
        ("7.95", "申请城市", "得分", "mean", None),
        ("0.40", "申请城市", "得分", "change", None),
        ("80.15", "申请城市·企业", "认为所在城市人才供给充足", "share", "申请城市·企业|数量"),
        ("66.20", "申请城市·企业", "表示参加过招聘会", "share", "申请城市·企业|数量"),
    ]


def test_a_range_is_one_figure_with_two_ends_never_a_negative_number() -> None:
    got = _parse(
        "预计2023年，全球服务外包市场增长 8.0%－9.0%，利润下降 3%－5%，"
        "其中数据服务占比 12－15%，该国员工占比 2%—4%。2022年，执行额增长 3.5%。"
    )
    rows = [(r["value_text"], r["value"], r["value_low"], r["value_high"], r["qualifier"], r["relation"]) for r in got]
    assert rows == [
        ("8.0%－9.0%", None, 8.0, 9.0, "range", "yoy_growth"),
        ("3%－5%", None, -5.0, -3.0, "range", "yoy_growth"),
        ("12－15%", None, 12.0, 15.0, "range", "share"),
        ("2%—4%", None, 2.0, 4.0, "range", "share"),
        ("3.5", 3.5, None, None, "exact", "yoy_growth"),
    ]
    # Spans of years and changes from one figure to another are not ranges.
    spans = _parse("2016－2021 年，执行额从 12.3 亿美元增长至 31.9 亿美元，比重由 75%提高到 100%。")
    assert [(r["value_text"], r["qualifier"]) for r in spans] == [
        ("12.3", "exact"),
        ("31.9", "exact"),
        ("75", "exact"),
        ("100", "exact"),
    ]


def test_a_source_and_a_verb_are_not_who_a_figure_is_about() -> None:
    got = _rows(
        "越南信息通信部（MIC）数据显示，2022年越南软件行业新增 12 万名员工，员工总数达 53 万。"
        "2015年1月至2022年6月期间，越南软件和硬件部门累计吸引了 45.2 亿美元的投资。"
        "截至2022年底，累计建成开通数据中心达到 8.1 万个。"
    )
    assert got[0][1:3] == ("员工", "数量")  # the count's noun, as for any count
    assert got[1][1:3] == ("越南", "从业人员")  # 新增 is a verb: the entity before it stays
    assert got[2][1] == "越南·软件和硬件部门" and got[2][3] == "2015M01-2022M06"
    assert got[3][1] == "越南·数据中心"  # 建成开通 is a verb too; the paragraph is still about 越南


def test_a_rate_after_a_list_of_measures_is_each_ones_and_from_to_lists_pair_up() -> None:
    got = _parse(
        "2022年，示范城市合同额、离岸合同额集聚度分别为80.5%、75.1%。"
        "华南地区合同额、离岸合同额集聚度由2021年的90.5%、90.2%增至2022年的91.6%、91.3%；"
        "华北地区合同额、离岸合同额集聚度由87.8%、89.3%降至86.7%、88.7%。"
    )
    rows = [(r["value_text"], r["subject"], r["subject_key"], r["measure"], r["period"]) for r in got]
    assert rows[:2] == [
        ("80.5", "示范城市", "示范城市", "集聚度", "2022"),
        ("75.1", "示范城市", "示范城市", "离岸集聚度", "2022"),
    ]
    assert [(r[2], r[3], r[4]) for r in rows[2:6]] == [
        ("华南地区", "集聚度", "2021"),
        ("华南地区", "离岸集聚度", "2021"),
        ("华南地区", "集聚度", "2022"),
        ("华南地区", "离岸集聚度", "2022"),
    ]
    # no years in its own clause: from and to the years the sentence compares
    assert [(r[2], r[3], r[4]) for r in rows[6:]] == [
        ("华北地区", "集聚度", "2021"),
        ("华北地区", "离岸集聚度", "2021"),
        ("华北地区", "集聚度", "2022"),
        ("华北地区", "离岸集聚度", "2022"),
    ]


def test_the_n_of_them_are_the_last_n_the_paragraph_gave_figures_of_or_the_list_of_n() -> None:
    got = _parse(
        "2022年，中国企业承接德国医药服务外包执行额 4.5亿美元，占离岸医药服务外包执行额的 20.4%；承接法国和瑞士执行额"
        "分别为 3.6亿美元和 2.4亿美元，占比分别为 16.2%和 10.8%。三者合计占比达 47.4%。"
        "中国承接中东欧服务外包业务主要集中在波兰、捷克和匈牙利，三者总计占比超过 60%。"
    )
    together = [(r["value_text"], r["subject"], r["subject_key"], r["measure"]) for r in got if "者" in r["subject"]]
    assert together == [
        ("47.4", "三者合计", "中国·德国·医药服务、中国·法国·医药服务、中国·瑞士·医药服务", "离岸执行额"),
        ("60", "三者总计", "中国·波兰、中国·捷克、中国·匈牙利", None),
    ]


def test_a_markets_growth_is_of_its_size_and_a_bare_size_word_later_is_that_size() -> None:
    got = _rows("预计2022—2026年全球数据标注市场年均增速为12.5%，2026年规模将达到3.2万亿美元。")
    assert got == [
        (12.5, "全球", "数据标注市场规模", "2022-2026", "cagr"),
        (3.2, "全球", "数据标注市场规模", "2026", "level"),
    ]


def test_a_rate_before_any_measure_of_its_subject_takes_the_one_the_paragraph_then_gives_it() -> None:
    got = _rows(
        "华南和华北地区咨询服务外包增速超过25%。2022年，华南地区承接咨询服务外包执行额 30.1 亿美元，同比增长 26.4%；"
        "华北地区咨询服务外包执行额 20.5 亿美元，同比增长 25.8%。亚太地区游戏服务增速超过50%。"
    )
    assert got[0] == (25.0, "华南地区、华北地区·咨询服务", "执行额", "2022", "yoy_growth")
    assert got[-1][2] is None  # nothing later says which measure: none is guessed


def test_a_measure_carried_with_its_mode_under_a_perspective_keeps_one_mode() -> None:
    got = _rows(
        "从离岸业务看，华南地区服务外包业务主要集中在软件研发服务、测试服务等领域，分别占华南地区离岸执行额的30.1%、20.5%；"
        "云计算服务、数据标注服务、法律流程服务增速较快，同比分别增长120.5%、88.1%、60.2%。"
    )
    assert [r[2] for r in got] == ["离岸执行额"] * 5  # not 离岸离岸执行额, 离岸离岸离岸执行额 …


def test_an_indicators_mean_has_the_indicator_as_its_measure_and_the_entity_in_view_as_its_subject() -> None:
    got = _parse(
        "2022年，示范城市每千人拥有数字技术专利量平均为12.30件。高校毕业生占从业人员比重的平均值为33.5%，"
        "高于全国28.1%的平均水平。服务外包企业中外资企业占比平均达60.5%，较上年提升1.5个百分点。"
    )
    assert [(r["value"], r["subject"], r["subject_key"], r["measure"], r["relation"], r["qualifier"]) for r in got] == [
        (12.3, "示范城市", "示范城市", "每千人拥有数字技术专利量", "mean", "exact"),
        (33.5, "示范城市", "示范城市", "高校毕业生占从业人员比重", "mean", "exact"),
        # what the cities' mean is compared with is the nation's own figure of the same indicator
        (28.1, "全国", "中国", "高校毕业生占从业人员比重", "level", "exact"),
        # "服务外包企业" is the population in view, not the nation; a percentage's change in points is a share's
        (60.5, "示范城市", "示范城市", "服务外包企业中外资企业占比", "mean", "exact"),
        (1.5, "示范城市", "示范城市", "服务外包企业中外资企业占比", "share_change", "exact"),
    ]
    assert all(r["whole_key"] is None for r in got)  # a mean of shares is not a share of some whole
    # A level's mean keeps the usual reading: the measure word is the measure, the subject the one printed.
    assert _rows("2022年，申请城市承接国际服务外包执行额平均为12.0亿美元。") == [
        (12.0, "申请城市", "离岸执行额", "2022", "mean")
    ]
    # A growth rate's mean is not an indicator either.
    assert _rows("2022年，示范城市离岸执行额增速平均为8.0%。")[0][2] == "离岸执行额"


def test_a_count_names_what_it_counts_however_the_noun_is_printed() -> None:
    got = _parse(
        "2022年，商务部等12部门联合印发通知。共建成42个国家级和省级数字贸易园区，平均每个城市3个。"
        "共有320家从事数据标注业务的中小企业和科研机构。18个示范城市在岸服务外包执行额保持正增长。"
        "共拥有80所高等院校，15个城市2022年发布3期及以上工作月报。"
    )
    assert [(r["value"], r["subject"], r["subject_key"], r["measure"], r["relation"], r["qualifier"]) for r in got] == [
        (12.0, "部门", "部门", "数量", "level", "exact"),  # the unit is the noun
        (42.0, "国家级和省级数字贸易园区", "国家级和省级数字贸易园区", "数量", "level", "exact"),  # 和 inside one noun
        (3.0, "国家级和省级数字贸易园区", "国家级和省级数字贸易园区", "数量", "mean", "exact"),  # per city, of them
        (320.0, "中小企业和科研机构", "中小企业和科研机构", "数量", "level", "exact"),  # after a verb phrase and 的
        (18.0, "示范城市", "示范城市", "数量", "level", "exact"),  # the cities, not what they did
        (80.0, "高等院校", "高等院校", "数量", "level", "exact"),  # 高等 is not "etc."
        (15.0, "城市", "城市", "数量", "level", "exact"),  # a year after the noun ends it
        (3.0, "工作月报", "工作月报", "数量", "level", "more_than"),  # "及以上" qualifies, the reports are counted
    ]
    # A noun after the count wins over a list of as many items in view (the sentence before lists two).
    listed = _rows(
        "评价包括基础评价、专家评审和问卷调查三部分。其中，指标体系包括规模、创新等3个一级指标和12个二级指标。"
    )
    assert [(r[0], r[1], r[2]) for r in listed][-2:] == [(3.0, "一级指标", "数量"), (12.0, "二级指标", "数量")]
    # 和 before the next figure still ends the noun: two counts, two nouns.
    pair = _rows("2022年，对20个示范城市和9个申请城市开展评价。")
    assert [(r[0], r[1]) for r in pair] == [(20.0, "示范城市"), (9.0, "申请城市")]


def test_what_a_figure_is_compared_with_does_not_lend_it_a_measure() -> None:
    got = _rows("2023年，离岸服务外包执行额占服务出口的30.0%，离岸服务外包对服务出口增长的贡献率为20.5%。")
    # the contribution is the offshore execution's, to the export's growth: 出口 names the reference, not the measure
    assert [(r[0], r[2], r[4]) for r in got] == [(30.0, "离岸执行额", "share"), (20.5, "离岸执行额", "contribution")]


def test_a_size_word_with_a_total_word_stands_for_the_measure_in_view() -> None:
    got = _rows(
        "2023年，在岸执行额排名前五的示范城市分别为：甲市、乙市、丙市、丁市、戊市，规模合计300.5亿美元，占全国的40.0%。"
        "甲市、乙市在岸服务外包发展迅速，同比分别增长50.0%、40.0%。"
    )
    assert {r[2] for r in got} == {"在岸执行额"}  # not 在岸规模: 规模合计 is the ranking's measure, summed


def test_a_basin_or_city_cluster_named_before_a_segment_is_its_entity() -> None:
    got = _rows("从离岸业务看，2023年，珠江流域离岸ITO、BPO、KPO执行额分别为10.4亿美元、5.0亿美元、4.5亿美元。")
    assert [r[1] for r in got] == ["珠江流域·ITO", "珠江流域·BPO", "珠江流域·KPO"]  # once, not 珠江流域·珠江流域·ITO


def test_a_business_line_printed_with_a_size_word_stays_the_subject() -> None:
    # "外包规模" is one printed size word, but the business line is 数据外包: 数据 · 规模 (a topic's size would merge)
    assert _rows("2026年全球数据外包规模将达300亿美元。")[0][1:3] == ("全球·数据", "规模")
    assert _rows("2026年全球数据外包市场规模将达300亿美元。")[0][1:3] == ("全球·数据", "规模")
    assert _rows("2026年全球数据市场规模将达300亿美元。")[0][1:3] == ("全球", "数据市场规模")


def test_a_points_change_of_a_percentage_is_a_share_change_over_the_years_since_its_base() -> None:
    got = _rows("预计到2026年，示范城市数字化渗透率将达到40.1%，比2022年提高6.3个百分点，较上年提高1.0个百分点。")
    assert [(r[0], r[3], r[4]) for r in got] == [
        (40.1, "2026", "level"),
        (6.3, "2022-2026", "share_change"),  # a change over four years is a span
        (1.0, "2026", "share_change"),  # over one year it is that year's
    ]
    # A growth rate's change in points stays a growth change.
    assert _rows("2022年，离岸执行额同比增长5.0%，增速较上年提高2.0个百分点。")[1][4] == "growth_change"


def test_a_weight_and_a_full_score_are_measures_of_the_component_in_view() -> None:
    got = _rows(
        "问卷调查满分10分，在综合评价的权重为10%。2022年，共收到800家企业的反馈结果，20个示范城市平均得分为7.50分。"
    )
    assert [(r[0], r[1], r[2], r[4]) for r in got] == [
        (10.0, "问卷调查", "满分", "level"),
        (10.0, "问卷调查", "权重", "level"),  # "在综合评价的" says where the weight counts, not whose it is
        (800.0, "企业", "数量", "level"),
        (20.0, "示范城市", "数量", "level"),
        (7.5, "示范城市·问卷调查", "得分", "mean"),  # the cities' score in that component, not a segment "权重"
    ]


def test_a_place_before_de_owns_the_business_after_it() -> None:
    assert _rows("2022年，江苏省的信息技术服务外包执行额为50.0亿美元。")[0][1] == "江苏省·ITO"
    assert _rows("2022年，江苏省承接的信息技术服务外包执行额为50.0亿美元。")[0][1] == "江苏省·ITO"


def test_a_clause_qualifying_a_measure_lends_it_no_mode_and_no_segment() -> None:
    got = _rows(
        "2022年，示范城市实际使用专项资金支持承接离岸服务外包项目和建设人才基地资金的进度为75.0%，12个城市进度为100%。"
    )
    # the 离岸 business is what the funds support; the figure is the cities' own progress in spending them
    assert [(r[0], r[1], r[2]) for r in got] == [
        (75.0, "示范城市", "进度"),
        (12.0, "城市", "数量"),
        (100.0, "城市", "进度"),
    ]
