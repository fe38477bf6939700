"""Statements: coverage of the seeds' numbers, accuracy on the hand-labelled sample, the parser's relations."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from extractors.statements import Paragraph, _Document, extract_statements, load_rules
from tests.conftest import NOTICE_PDF, REPORT_PDF
from tests.statements_eval import accuracy, coverage

DOCS = {"city_evaluation_2021": NOTICE_PDF, "annual_report_2021": REPORT_PDF}


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict]]:
    out = {}
    for doc, path in DOCS.items():
        with pdfplumber.open(Path(path)) as pdf:
            out[doc] = [s.to_dict() for s in extract_statements(pdf)]
    return out


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_statements_cover_the_numbers_with_units_in_the_seed_body_text(rows: dict, doc: str) -> None:
    found, total, misses = coverage(doc, rows[doc])
    print(f"\n  {doc}: {found}/{total} numbers with a unit covered; not covered: {misses}")
    assert total > 100
    assert found / total >= 0.98, misses


def test_labelled_sample_fields_are_right(rows: dict) -> None:
    right = total = 0
    for doc in DOCS:
        r, t, misses = accuracy(doc, rows[doc])
        print(f"\n  {doc}: {r}/{t} fields right; misses: {misses[:20]}")
        right, total = right + r, total + t
    assert total >= 5 * 200  # at least 200 labelled statements, five fields each
    assert right / total >= 0.95


def _score(rows: dict, sample: str) -> tuple[int, int]:
    from tests.statements_eval import ROOT

    right = total = 0
    for doc in DOCS:
        r, t, _ = accuracy(doc, rows[doc], ROOT / "samples" / "truth" / sample)
        right, total = right + r, total + t
    return right, total


def test_the_blind_holdout_does_not_fall_below_what_it_measured(rows: dict) -> None:
    # samples/truth/statements_holdout3_2021.json: 289 statements of the annual report labelled without sight of the
    # parser (the notice has no unlabelled figure left). Its target is the 95 %; this floor is what it
    # measured blind when it was made (95.3 % on 2026-12-02; 95.8 % after one fix once its misses were listed),
    # so a change that reads prose worse fails here.
    right, total = _score(rows, "statements_holdout3_2021.json")
    print(f"\n  blind holdout: {right}/{total} fields right ({right / total:.1%})")
    assert total >= 5 * 285
    assert right / total >= 0.952


def test_the_second_holdout_does_not_fall_below_what_it_measured(rows: dict) -> None:
    # samples/truth/statements_holdout2_2021.json: 373 statements of both reports, blind until 2026-12-02 (89.1 %
    # when made, 90.9 % at its last blind measure); rules have since been written from its misses.
    right, total = _score(rows, "statements_holdout2_2021.json")
    print(f"\n  second holdout: {right}/{total} fields right ({right / total:.1%})")
    assert total >= 5 * 370
    assert right / total >= 0.92


def _parse(text: str, year: int = 2021, section: str | None = None) -> list[dict]:
    """Statements of one paragraph; ``section``: the entity its section heading names (四、新加坡)."""
    from extractors.statements import State

    doc = _Document(load_rules(), year)
    state = State(entity="中国")
    if section is not None:
        doc.paragraph(Paragraph("", [], False), state, section)  # the section's earlier paragraphs
    doc.paragraph(Paragraph(text, [None] * len(text), False), state, section)
    return [s.to_dict() for s in doc.out]


def _rows(text: str, year: int = 2021, section: str | None = None) -> list[tuple]:
    return [
        (r["value"], r["subject_key"], r["measure"], r["period"], r["relation"]) for r in _parse(text, year, section)
    ]


def test_levels_growth_shares_and_changes_of_a_sentence_not_in_the_reports() -> None:
    got = _rows(
        "2023年，中国企业承接数据服务外包执行额 120.5亿美元，同比下降 3.2%，占全部服务外包执行额的 4.1%，"
        "较上年提高 0.6 个百分点。"
    )
    assert got == [
        (120.5, "数据服务", "执行额", "2023", "level"),
        (-3.2, "数据服务", "执行额", "2023", "yoy_growth"),
        (4.1, "数据服务", "执行额", "2023", "share"),
        (0.6, "数据服务", "执行额", "2023", "share_change"),
    ]


def test_an_enumeration_sharing_one_predicate_gives_one_row_per_item() -> None:
    got = _rows(
        "2023年，湖南省、湖北省和四川省执行额分别为 5.1 亿美元、3.6 亿美元、1.5 亿美元，"
        "同比分别增长 10.0%、-2.0%、3.0%。"
    )
    assert [(v, s) for v, s, *_ in got] == [
        (5.1, "湖南省"),
        (3.6, "湖北省"),
        (1.5, "四川省"),
        (10.0, "湖南省"),
        (-2.0, "湖北省"),
        (3.0, "四川省"),
    ]
    assert {r[4] for r in got[3:]} == {"yoy_growth"}


def test_spans_cagr_from_to_ratio_and_multiples() -> None:
    got = _rows("过去五年，云服务外包执行额从 10.0 亿美元增长至 20.0 亿美元，年均增长 14.9%。", year=2023)
    assert got == [
        (10.0, "云服务", "执行额", "2018", "level"),
        (20.0, "云服务", "执行额", "2023", "level"),
        (14.9, "云服务", "执行额", "2018-2023", "cagr"),
    ]
    ratio = _rows("2023年，ITO、BPO、KPO 结构比例为 40.0：25.0：35.0。")
    assert [(v, s, rel) for v, s, _, _, rel in ratio] == [
        (40.0, "ITO", "ratio"),
        (25.0, "BPO", "ratio"),
        (35.0, "KPO", "ratio"),
    ]
    times = _rows("2023年，人工智能服务外包执行额 8.3 亿美元，同比增长 1.1 倍。")
    assert (
        times[1][4] == "yoy_growth"
        and _parse("2023年，人工智能服务外包执行额 8.3 亿美元，同比增长 1.1 倍。")[1]["unit"] == "倍"
    )


def test_where_and_how_each_figure_is_printed(rows: dict) -> None:
    first = next(r for r in rows["annual_report_2021"] if r["value_text"] == "3224.0")
    assert first["page"] > 0 and first["bbox"] and first["bbox"][2] > first["bbox"][0]
    assert first["unit"] == "亿美元" and first["subject_key"] == "中国" and first["measure"] == "合同额"
    # The footnote call after "新增 6662 家" is not a number of its own.
    assert not [r for r in rows["annual_report_2021"] if r["value_text"] in ("66621", "1") and r["unit"] == "家"]
