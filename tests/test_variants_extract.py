"""Every table of every layout variant (samples/variants) comes out as typeset: the same tables, header
labels, canonical columns and body cells as the variant's truth, which is written from the data it was
typeset from, never read back from the PDF.

Header labels are compared as normalised keys (a publisher's full-width brackets or ideographic spaces
are the same label); body cells as printed, whitespace aside. A cell printed as a figure must also read as
one (``Cell.value``): a figure with a footnote mark (1847.3*) that read as text came out empty in curated/.
"""

from __future__ import annotations

import copy
import functools
import re
import tomllib
from pathlib import Path

import pytest

from extractors.extract import extract_pdf
from extractors.normalize import label_key
from samples.variants import matrix

_TEXT_COLUMNS = {"city", "province", "region"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _wrong(result, truth: dict) -> list[str]:
    got = {t.table_id: t for t in result.tables if t.dataset}
    wrong = []
    if list(got) != [t["id"] for t in truth["tables"]]:
        wrong.append(f"tables {list(got)} != {[t['id'] for t in truth['tables']]}")
    for expected in truth["tables"]:
        table = got.get(expected["id"])
        if table is None:
            continue
        labels = [label_key(c) for c in table.columns]
        if labels != [label_key(c) for c in expected["columns"]]:
            wrong.append(f"{expected['id']} header {table.columns} != {expected['columns']}")
        if list(table.canonical) != list(expected["canonical"]):
            wrong.append(f"{expected['id']} canonical {table.canonical} != {expected['canonical']}")
        rows = [[_squash(c) for c in row] for row in table.texts()]
        want = [[_squash(c) for c in row] for row in expected["rows"]]
        if rows != want:
            pairs = enumerate(zip(rows, want, strict=False))
            bad = next((k for k, (a, b) in pairs if a != b), min(len(rows), len(want)))
            wrong.append(f"{expected['id']} body differs from row {bad} ({len(rows)} rows, want {len(want)})")
        unread = [cell.text for row in table.rows for cell, name in zip(row, table.canonical, strict=False)
                  if name not in _TEXT_COLUMNS and re.search(r"\d", cell.text) and cell.value is None]  # fmt: skip
        if unread:
            wrong.append(f"{expected['id']} figures that do not read as numbers: {unread[:4]}")
    return wrong


# Each variant is read once for every test of this module (the results are only read).
_extracted = functools.cache(extract_pdf)


@pytest.mark.parametrize("name", [v.name for v in matrix()])
def test_every_cell_of_the_variant_is_read(variants_built, name):
    pdf, truth = variants_built[name]
    result = _extracted(pdf)
    assert result.kind == {"annual": "annual_report", "notice": "city_evaluation"}[truth["variant"]["kind"]]
    wrong = _wrong(result, truth)
    assert not wrong, wrong[:6]


def test_an_unknown_extra_column_is_reported_and_every_known_one_mapped(variants_built):
    pdf, truth = variants_built["a10-serif-grid-extra-column"]
    extra = {t["id"]: t for t in truth["tables"] if None in t["canonical"]}
    assert extra, "the variant prints an extra column"
    tables = {t.table_id: t for t in extract_pdf(pdf).tables}
    for table_id, expected in extra.items():
        table = tables[table_id]
        assert table.attributes["mapped"] is True
        assert list(table.canonical) == list(expected["canonical"])
        unknown = [expected["columns"][k] for k, c in enumerate(expected["canonical"]) if c is None]
        for label in unknown:
            assert any(label_key(label) in label_key(p) for p in table.attributes["problems"]), table.attributes


@pytest.fixture(scope="module")
def unmapped_notice(tmp_path_factory):
    """The evaluation notice with every score-table header replaced by labels of other tables."""
    from samples.variants.build import build
    from samples.variants.content import TEXT, TITLES, build_document, source_truth

    variant = next(v for v in matrix() if v.name == "n01-serif-grid")
    source = copy.deepcopy(source_truth("notice"))
    foreign = ["区域", "全部执行金额", "同比增长", "占全国比重", "离岸执行金额", "执行金额", "集聚度"]
    for table in source["tables"]:
        n = len(table["columns"])
        labels = [foreign[k % len(foreign)] + ("" if k < len(foreign) else str(k)) for k in range(n)]
        table["columns"] = labels
        table["header_rows"] = [labels]
        table["canonical"] = [None] * n
    body = TEXT["body"]["notice"]
    source["title"] = TITLES["notice"]
    source["title_lines"] = list(build_document(variant).title_lines)
    source["blocks"] = [
        ("paragraph", body[0]), ("appendix", "1"), ("table", "附1-1"), ("table", "附1-2"), ("table", "附1-3"),
        ("appendix", "2"), ("table", "附2-1"), ("table", "附2-2"), ("table", "附2-3"),
    ]  # fmt: skip
    doc = build_document(variant, source)
    pdf, _ = build(variant, tmp_path_factory.mktemp("unmapped"), document=doc)
    return pdf


def test_a_table_whose_header_maps_to_nothing_fails_its_dataset_but_is_kept_whole(unmapped_notice):
    from extractors.datasets import curate

    result = extract_pdf(unmapped_notice)
    scores = [t for t in result.tables if t.dataset == "city_scores"]
    assert len(scores) == 6 and all(t.attributes["mapped"] is False for t in scores)
    curated = curate(result, "broken")
    assert curated.frames["city_scores"].empty
    assert {p.table_id for p in curated.problems} == {t.table_id for t in scores}
    problem = curated.problems[0]
    assert problem.header_seen == scores[0].columns and "rank" in problem.expected
    assert "区域" in problem.message and "rank" in problem.message and "page" in problem.message
    # Kept whole: every cell of every table is in `tables`.
    assert len(curated.frames["tables"]) == sum(len(t.rows) * len(t.columns) for t in result.tables)


_BODY = tomllib.loads((Path(__file__).resolve().parents[1] / "samples/variants/text.toml").read_text("utf-8"))["body"]


@pytest.mark.parametrize("name", [v.name for v in matrix()])
def test_the_variants_prose_reads_as_its_plain_text_does(variants_built, name):
    """The figures of the body paragraphs come out of every typesetting as they do from the paragraphs as plain
    text: fonts, sizes, orientation, producers, table notes and captions in body size change nothing (a notice
    whose table notes outweighed its prose once read its paragraphs as headings, and its tables as prose)."""
    from tests.test_statements import _parse

    pdf, truth = variants_built[name]
    result = _extracted(pdf)
    got = [(s.value_text, s.subject_key, s.measure, s.period, s.relation) for s in result.statements]
    want = [
        (r["value_text"], r["subject_key"], r["measure"], r["period"], r["relation"])
        for paragraph in _BODY[truth["variant"]["kind"]]
        for r in _parse(paragraph, 2021)
    ]
    assert got == want
