"""The generic kind: tables of a PDF no spec knows, read when the kind is named, never detected.

The test typesets its own English PDF with WeasyPrint and the bundled font (ASCII is in the subset):
a ruled table with no caption (the generic layer's uncaptioned grids), a line of prose that mentions a
table, and an unruled table under a "Table 2:" caption that ends at its "Source:" line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.extract import UnknownReportKind, extract_pdf
from extractors.spec import load_specs

weasyprint = pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) is needed to typeset the fixture")

FONT = Path(__file__).resolve().parent / "fixtures" / "fonts" / "NotoSansCJKsc-subset.otf"
CSS = f"""
@font-face {{ font-family: Fixture; src: url({FONT.as_uri()}); }}
@page {{ size: A4; margin: 22mm 20mm; }}
body {{ font-family: Fixture; font-size: 10.5pt; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; margin: 4mm 0; }}
td, th {{ text-align: center; padding: 1.6mm 1mm; font-weight: normal; }}
table.ruled td, table.ruled th {{ border: 0.6pt solid black; }}
"""

RULED = [["Country", "Exports", "Imports"], ["France", "12.5", "9.1"], ["Chile", "3.4", "4.8"], ["Kenya", "1.2", "2.6"]]
UNRULED = [["Region", "Firms", "Share"], ["North", "120", "31.5"], ["South", "86", "22.6"], ["West", "175", "45.9"]]


def _table(rows: list[list[str]], css_class: str) -> str:
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@pytest.fixture(scope="module")
def english_pdf(tmp_path_factory) -> Path:
    body = (
        "<h1>Trade Review</h1>"
        + _table(RULED, "ruled")
        + "<p>Table 2 shows the firms by region; the west has the most.</p>"
        + "<p>Table 2: Firms by region</p>"
        + _table(UNRULED, "plain")
        + "<p>Source: survey of firms.</p>"
        + "<p>Some closing remarks follow the table here.</p>"
    )
    path = tmp_path_factory.mktemp("generic") / "trade_review.pdf"
    doc = f'<!doctype html><html><head><meta charset="utf-8"><style>{CSS}</style></head><body>{body}</body></html>'
    weasyprint.HTML(string=doc).write_pdf(path)
    return path


def test_generic_reads_a_ruled_grid_and_a_captioned_unruled_table(english_pdf: Path) -> None:
    result = extract_pdf(english_pdf, kind="generic")
    assert result.kind == "generic"
    tables = {t.table_id: t for t in result.tables}
    assert set(tables) == {"T2", "p1-1"}, [(t.table_id, t.caption) for t in result.tables]

    captioned = tables["T2"]
    assert captioned.caption == "Firms by region"
    assert captioned.provenance.parser == "soetl-alignment"
    assert captioned.columns == UNRULED[0]
    assert captioned.texts() == UNRULED[1:]
    assert "Source: survey of firms." in [captioned.source_note, *captioned.notes]  # the end line, not a row
    assert captioned.dataset is None

    ruled = tables["p1-1"]
    assert ruled.provenance.parser == "soetl-lattice"
    assert ruled.columns == RULED[0]
    assert ruled.texts() == RULED[1:]


def test_a_pdf_no_spec_detects_is_read_as_generic(english_pdf: Path) -> None:
    result = extract_pdf(english_pdf)
    assert result.kind == "generic"
    assert {t.table_id for t in result.tables} == {"T2", "p1-1"}
    assert any("no dataset spec applied" in p.problem for p in result.problems)


def test_a_kind_no_spec_defines_is_still_refused(english_pdf: Path) -> None:
    with pytest.raises(UnknownReportKind, match="no spec for kind 'annual'"):
        extract_pdf(english_pdf, kind="annual")


def test_generic_captions_are_table_captions_not_prose() -> None:
    caption = load_specs()["generic"].table_caption
    for line, number, title in [
        ("Table 1: Real GDP growth", "1", "Real GDP growth"),
        ("TABLE A-2. Schools by system", "A-2", "Schools by system"),
        ("表3-1 中国服务外包", "3-1", "中国服务外包"),
        ("Table 7", "7", ""),
    ]:
        m = caption.match(line)
        assert m and (m["number"], m["title"]) == (number, title), line
    for prose in ["Table 12 shows the firms by region.", "table 1), thus requiring", "Tables 3 and 4 list"]:
        assert caption.match(prose) is None, prose
