"""Every cell of every table in samples/ against samples/truth/, with provenance and spec mapping."""

from __future__ import annotations

import hashlib

import pytest

from extractors.numbers import parse_number
from tests.conftest import NOTICE_PDF, REPORT_PDF

DOCS = [("notice", NOTICE_PDF), ("report", REPORT_PDF)]


@pytest.fixture(params=DOCS, ids=[d for d, _ in DOCS])
def doc(request, notice_extraction, report_extraction, notice_truth, report_truth):
    name, pdf = request.param
    if name == "notice":
        return notice_extraction, notice_truth, pdf
    return report_extraction, report_truth, pdf


def test_every_cell_equals_the_truth(doc):
    result, truth, _ = doc
    got = {t.table_id: t for t in result.tables if t.dataset}
    assert list(got) == [t["id"] for t in truth["tables"]]
    wrong = []
    total = 0
    for expected in truth["tables"]:
        table = got[expected["id"]]
        assert table.caption == expected["caption"]
        assert table.columns == expected["columns"], expected["id"]
        assert len(table.rows) == len(expected["rows"]), expected["id"]
        for r, (row, want) in enumerate(zip(table.texts(), expected["rows"], strict=True)):
            for c, (cell, cell_want) in enumerate(zip(row, want, strict=True)):
                total += 1
                if cell != cell_want:
                    wrong.append((expected["id"], r, c, cell, cell_want))
    print(f"{truth['id']}: {total - len(wrong)}/{total} cells equal the truth")
    assert not wrong, wrong[:10]


def test_units_notes_and_sources_stay_with_their_tables(doc):
    result, truth, _ = doc
    got = {t.table_id: t for t in result.tables}
    for expected in truth["tables"]:
        table = got[expected["id"]]
        assert table.unit == expected["unit"]
        assert table.source_note == expected["source_note"]
        assert [n[:20] for n in table.notes] == [n[:20] for n in expected["notes"]]


def test_tables_map_to_datasets_with_every_canonical_column(doc):
    result, _, _ = doc
    for table in result.tables:
        assert table.dataset, table.table_id
        assert table.attributes["problems"] == [], (table.table_id, table.attributes["problems"])
        assert None not in table.canonical
        assert table.attributes.get("year") == 2021 or table.attributes.get("last_year") == 2021


def test_every_value_carries_its_provenance(doc):
    result, _, pdf = doc
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert result.source_sha256 == sha
    for table in result.tables:
        prov = table.provenance
        assert prov.source_sha256 == sha and prov.parser in ("soetl-lattice", "soetl-alignment") and prov.settings
        for row in table.rows:
            for cell in row:
                x0, top, x1, bottom = cell.bbox
                assert cell.page in prov.pages
                assert 0 <= x0 < x1 <= 600 and 0 <= top < bottom <= 850, (table.table_id, cell)


def test_the_page_break_is_stitched(notice_extraction):
    table = next(t for t in notice_extraction.tables if t.table_id == "附1-1")
    assert table.provenance.pages == [9, 10]
    assert [r[1].text for r in table.rows[-2:]] == ["乌鲁木齐", "平均值"]
    assert {c.page for c in table.rows[-1]} == {10}


def test_ruled_tables_are_read_as_drawn_cells_and_the_others_by_alignment(report_extraction, report_truth):
    styles = {t["id"]: t["style"] for t in report_truth["tables"]}
    for table in report_extraction.tables:
        expected = "soetl-lattice" if styles[table.table_id] == "ruled" else "soetl-alignment"
        assert table.provenance.parser == expected, table.table_id


def test_cells_parse_as_numbers_where_the_truth_has_numbers(doc):
    result, truth, _ = doc
    got = {t.table_id: t for t in result.tables}
    for expected in truth["tables"]:
        for row, want in zip(got[expected["id"]].rows, expected["rows"], strict=True):
            for cell, text in zip(row, want, strict=True):
                try:
                    number = parse_number(text)
                except ValueError:
                    continue
                assert cell.value == number
