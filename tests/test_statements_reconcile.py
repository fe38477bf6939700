"""Reconciliation of the figures the text states with the tables, the charts and each other, on the samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from extractors.datasets import Curated, curate
from schemas.checks import CHECKS  # noqa: F401 - schemas.checks registers schemas.reconcile (import it first)
from schemas.reconcile import RECONCILIATION_CHECKS
from schemas.validate import ValidationRun, validate
from tests.conftest import REPORT_PDF
from tests.test_audit_report import _raw, _to_unicode
from tests.test_validation import NOTICE_ID, REPORT_ID, curated_samples, stated_facts

NAMES = {c.name for c in RECONCILIATION_CHECKS}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Curated]:
    return curated_samples(tmp_path_factory)


@pytest.fixture(scope="module")
def run(samples: dict[str, Curated]) -> ValidationRun:
    return validate(samples, stated_facts(), schemas=False)


def _result(run: ValidationRun, name: str) -> Any:
    return next(r for r in run.results if r.name == name)


def _instances(run: ValidationRun, name: str, needle: str) -> list[Any]:
    result = _result(run, name)
    return [i for i in result.failures if needle in i.key] + (
        [result.worst] if result.worst and needle in result.worst.key else []
    )


def test_every_reconciliation_check_runs_on_the_samples(run: ValidationRun) -> None:
    for name in NAMES:
        result = _result(run, name)
        print(f"\n  {name}: {result.status}, {result.checked} relations, {len(result.failures)} disagreements")
        assert result.checked > 0


def test_a_stated_level_agrees_with_its_table_cell_and_a_stated_one_does_not(run: ValidationRun) -> None:
    levels = _result(run, "stated_levels_agree")
    assert levels.checked > 100
    failing = {i.key for i in levels.failures}
    # 表3-1 prints 东部地区 ITO 829.9 and the text says so: agreement.
    assert not [k for k in failing if k.startswith("2021 东部地区·ITO · 执行额 · level")]
    # The text gives 东北地区's ITO growth as 30.1 % in chapter 3 and 34.2 % in chapter 8.
    assert any(k.startswith("2021 东北地区·ITO · 执行额 · yoy_growth") for k in failing)


def test_a_stated_growth_is_checked_against_the_two_levels_it_implies(run: ValidationRun) -> None:
    growth = _result(run, "stated_growth_agrees")
    failing = {i.key for i in growth.failures}
    # 表3-1: 23.4 → 31.4 is +34.2 %, but chapter 3 states 30.1 %: a disagreement present in the replica's seed.
    assert any(k.startswith("2021 东北地区·ITO · 执行额 · yoy_growth") for k in failing)
    # 2016－2021: 121.2 → 243.4 over five years is 15.0 % a year, the text says 12.3 %.
    assert any(k.startswith("2016-2021 中国·一带一路 · 离岸执行额 · cagr") for k in failing)
    assert growth.checked > len(growth.failures)  # most stated growth agrees (ITO 800.6 → 1008.4 is +26.0 %)


def test_a_stated_share_is_checked_against_its_part_and_whole(run: ValidationRun) -> None:
    shares = _result(run, "stated_shares_agree")
    failing = {i.key for i in shares.failures}
    assert not [k for k in failing if k.startswith("2021 ITO · 执行额 · share of 中国|执行额")]  # 1008.4 ÷ 2264.8
    # 港澳台商投资企业: 147.0 亿美元 is stated to be 9.8 % of 2264.8, which is 6.5 %.
    assert any(k.startswith("2021 港澳台商投资企业 · 执行额 · share") for k in failing)
    assert shares.checked > len(shares.failures)


def test_stated_ratios_add_up_and_count_as_shares(run: ValidationRun) -> None:
    ratios = _result(run, "stated_ratios_sum")
    assert ratios.status == "passed" and ratios.checked >= 10
    # 44.5：20.0：35.5 (2021) is also the structure chart 图1-4's 2021 points.
    levels = _result(run, "stated_levels_agree")
    assert not [
        i for i in levels.failures if i.key.startswith("2021 ITO · 执行额 · share of 中国|执行额") and "图1-4" in i.key
    ]


def test_every_disagreement_on_the_samples_is_a_pinned_finding_of_the_publisher(run: ValidationRun) -> None:
    found = {
        r.name: sorted(i.key for i in r.failures)
        for r in run.results
        if r.kind == "reconciliation"
    }
    print("\n  " + "\n  ".join(f"{name}: {len(keys)}" for name, keys in found.items()))
    statuses = {i.status for r in run.results if r.kind == "reconciliation" for i in r.failures}
    assert statuses == {"finding"}  # schemas/findings.toml explains each, against the seed text
    assert {name: len(keys) for name, keys in found.items()} == {
        "stated_levels_agree": 10,
        "stated_growth_agrees": 5,
        # 13th: 英国 金融服务 2.6 亿美元 is not its 24.4 %; 14th: the top ten's onshore 564.6 is not 59.0 %
        # (findings.toml)
        "stated_shares_agree": 14,
        "stated_group_shares_sum": 0,
        "stated_ratios_sum": 0,
    }


def test_a_stated_share_of_a_group_is_the_sum_of_its_members_shares(samples: dict[str, Curated]) -> None:
    import copy

    from schemas.checks import Context
    from schemas.values import SourceValues

    check = next(c for c in RECONCILIATION_CHECKS if c.name == "stated_group_shares_sum")

    def instances(curated: dict[str, Curated]) -> list[Any]:
        ctx = Context({sid: SourceValues(sid, c) for sid, c in curated.items()}, stated_facts())
        return list(check.instances(ctx))

    # "四者合计占比达 86.6%" (29.4 + 24.4 + 21.0 + 11.8) and "三者合计占比 64.3%" (44.7 + 14.0 + 5.6): both agree.
    clean = instances(samples)
    got = sorted((i.observed, round(i.expected, 1), i.passed) for i in clean)
    assert got == [(64.3, 64.3, True), (86.6, 86.6, True)]
    # The group's share printed otherwise: exactly that instance fails, with the group's and the members' cells.
    report = copy.copy(samples[REPORT_ID])
    report.frames = dict(report.frames)
    statements = report.frames["statements"].copy()
    row = statements.index[(statements["value_text"] == "86.6") & statements["subject_key"].str.contains("、")][0]
    statements.loc[row, "value"] = 88.6
    report.frames["statements"] = statements
    changed = instances({**samples, REPORT_ID: report})
    failing = [i for i in changed if not i.passed]
    assert len(failing) == 1 and failing[0].observed == 88.6 and len(failing[0].cells) == 5


def test_pies_and_bar_charts_of_fields_reconcile_with_the_text(samples: dict[str, Curated]) -> None:
    from schemas.checks import Context
    from schemas.values import SourceValues

    ctx = Context({sid: SourceValues(sid, c) for sid, c in samples.items()}, stated_facts())
    levels = next(c for c in RECONCILIATION_CHECKS if c.name == "stated_levels_agree")
    by_chart: dict[str, list[Any]] = {}
    for inst in levels.instances(ctx):
        for cell in inst.cells:
            if cell.dataset == "chart_series":
                by_chart.setdefault(cell.table_id or "", []).append(inst)
    # 图12-3, a pie of 一带一路's regions: 东南亚 55.2 %, 西亚北非 17.5 %, 南亚 12.7 %, 中东欧 3.4 % as the text says.
    pie = {i.key.split(" · ")[0] for i in by_chart["图12-3"]}
    assert pie == {"2021 中国·东南亚", "2021 中国·西亚北非", "2021 中国·南亚", "2021 中国·中东欧"}
    # 图13-5, bars of fields: 合计 842 and the fields' levels and growth (IaaS is the text's 基础设施即服务（IaaS）).
    bars = {i.key.split(" · text")[0] for i in by_chart["图13-5"]}
    assert "2021 全球·大额服务 · 合同额 · level" in bars and "2021 全球·基础设施即服务 · 合同额 · yoy_growth" in bars
    assert len(bars) == 12
    # All agree but 图4-1's totals against p.15's sentence, whose figures are the offshore ones: a wording slip
    # of the publisher, pinned in schemas/findings.toml.
    disagree = {i.key for group in by_chart.values() for i in group if not i.passed}
    assert disagree == {
        "2016 制造业服务 · 执行额 · level · text p.15 vs 图4-1 p.23",
        "2021 制造业服务 · 执行额 · level · text p.15 vs 图4-1 p.23",
    }


def _corrupt_text(src: Path, dest: Path, page_no: int, printed: str, replacement: str) -> None:
    """Permute the glyphs of one number printed inside a line of running text (one TJ holds the line)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ByteStringObject, ContentStream, NameObject

    writer = PdfWriter(clone_from=PdfReader(src))
    page = writer.pages[page_no - 1]
    fonts = {name: _to_unicode(f.get_object()) for name, f in page["/Resources"]["/Font"].items()}
    content = ContentStream(page.get_contents(), writer)
    font, done = None, False
    for operands, op in content.operations:
        if op == b"Tf":
            font = operands[0]
        if op != b"TJ" or done:
            continue
        glyphs = [
            (i, j)
            for i, item in enumerate(operands[0])
            if isinstance(item, bytes | str)
            for j in range(0, len(_raw(item)), 2)
        ]
        text = "".join(fonts[font].get(int.from_bytes(_raw(operands[0][i])[j : j + 2], "big"), "?") for i, j in glyphs)
        at = text.find(printed)
        if at < 0:
            continue
        span = glyphs[at : at + len(printed)]
        by_char = {ch: _raw(operands[0][i])[j : j + 2] for (i, j), ch in zip(span, printed, strict=True)}
        items = [bytearray(_raw(item)) if isinstance(item, bytes | str) else item for item in operands[0]]
        for (i, j), ch in zip(span, replacement, strict=True):
            items[i][j : j + 2] = by_char[ch]
        operands[0][:] = [ByteStringObject(bytes(x)) if isinstance(x, bytearray) else x for x in items]
        done = True
    assert done, f"{printed!r} not found on page {page_no}"
    page[NameObject("/Contents")] = writer._add_object(content)
    with open(dest, "wb") as fh:
        writer.write(fh)


def test_changing_one_stated_number_in_the_pdf_fails_exactly_its_reconciliation(
    samples: dict[str, Curated], run: ValidationRun, tmp_path: Path
) -> None:
    from extractors.extract import extract_pdf

    # Chapter 1 states ITO's 执行额 as 1008.4 亿美元 on page 5; 表3-1 and 图1-5 print the same.
    pdf = tmp_path / "annual_report_2021_text_corrupted.pdf"
    _corrupt_text(Path(REPORT_PDF), pdf, 5, "1008.4", "1080.4")
    result = extract_pdf(pdf)
    assert any(s.value_text == "1080.4" for s in result.statements)
    curated = {NOTICE_ID: samples[NOTICE_ID], REPORT_ID: curate(result, REPORT_ID)}
    after = validate(curated, stated_facts(), schemas=False)
    # Every failing reconciliation that involves the changed number: exactly one, its level against 表3-1.
    new = {
        (r.name, i.key)
        for r in after.results
        if r.kind == "reconciliation"
        for i in r.failures
        if any(c.text == "1080.4" and c.page == 5 for c in i.cells)
    }
    print(f"\n  disagreements involving the changed number: {sorted(new)}")
    assert len(new) == 1
    ((name, key),) = new
    assert name == "stated_levels_agree" and key.startswith("2021 ITO · 执行额 · level · text p.5")
    failed = next(i for r in after.results if r.name == name for i in r.failures if i.key == key)
    assert failed.cells[0].text == "1080.4" and failed.cells[0].page == 5 and failed.cells[0].bbox
    # It is no known finding: the run withholds the statements, and only them (表3-1, which the sentence
    # was compared with, adds up and is published).
    assert after.why_not_published() == {"statements": ["stated_levels_agree"]}
    assert run.why_not_published() == {}  # the clean samples: every disagreement is a pinned finding

    from flows.publish import publish
    from tests.test_publish import run_info, source_infos

    data = tmp_path / "data"
    published = publish(curated, source_infos(curated), data, run_info("corrupt-1"), exclude=after.failed_datasets())
    assert "statements" not in published.published and published.kept_previous == {"statements": None}
    assert {"ito_by_region", "region_execution", "facts"} <= set(published.published)
    assert not (data / "curated" / "statements").exists()


def test_the_audit_report_shows_each_disagreement_beside_its_cell_or_chart(
    samples: dict[str, Curated], run: ValidationRun, tmp_path: Path
) -> None:
    import json
    import re

    from schemas.report import write_report
    from tests.test_validation import PDFS

    page = write_report(run, samples, PDFS, tmp_path, "side-by-side")
    content = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    items = content["side_by_side"]
    disagreements = [(r.name, i.key) for r in run.results if r.kind == "reconciliation" for i in r.failures]
    assert [(i["check"], i["instance"]) for i in items] == disagreements and len(items) >= 20
    html = page.read_text(encoding="utf-8")
    for item in items:
        stated = item["stated"]
        assert stated["kind"] == "text" and stated["sentence"] and (page.parent / stated["image"]).is_file()
        elsewhere = item["printed_elsewhere"]
        assert elsewhere and all((page.parent / r["image"]).is_file() for r in elsewhere)
    kinds = {r["kind"] for i in items for r in i["printed_elsewhere"]}
    assert {"table", "chart", "text"} <= kinds  # 表3-1 / 表8-1 cells, 图3-1's point, the other chapter's sentence
    # The stated number is marked in its sentence: 东北地区's 30.1 % in chapter 3, beside 表3-1's 23.4 and 31.4.
    section = html[html.index("<h2 id='side-by-side'>") :]
    block = section[section.index("2021 东北地区·ITO · 执行额 · yoy_growth · text p.19 from 表3-1") :]
    block = block[: block.index("<div class='sbs ", 10)]
    assert re.search(r"同比增长<mark class='finding'>30\.1</mark>%", block)
    assert "表3-1, p.19 — “23.4”、“31.4”" in block  # both levels outlined on one crop of the table
