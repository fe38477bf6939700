"""Any PDF, every table: detection and structure with no spec, on a page the test typesets itself.

One page holds what a reader tells apart at a glance and a table finder must too: running text set in
two columns, a partly ruled table (a rule under its header only) with a group label over two columns, a
table of whitespace alone, two small tables side by side, and a chart-like block of bars and labels.
The JSON document of ``soetl extract --json`` is checked against its schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.document import SCHEMA, result_document
from extractors.extract import extract_pdf

weasyprint = pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) is needed to typeset the fixture")
jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (test extra) validates the result document")

FONT = Path(__file__).resolve().parent / "fixtures" / "fonts" / "NotoSansCJKsc-subset.otf"
CSS = f"""
@font-face {{ font-family: Fixture; src: url({FONT.as_uri()}); }}
@page {{ size: A4; margin: 18mm 18mm; }}
body {{ font-family: Fixture; font-size: 10pt; }}
p {{ margin: 2mm 0; text-align: justify; }}
.cols {{ column-count: 2; column-gap: 8mm; }}
table {{ border-collapse: collapse; margin: 5mm 0; }}
td, th {{ padding: 1mm 3mm; font-weight: normal; }}
td.n {{ text-align: right; }}
table.headrule thead tr:last-child th {{ border-bottom: 0.8pt solid black; }}
table.headrule th.group {{ border-bottom: 0.5pt solid black; }}
.pair {{ display: flex; gap: 25mm; }}
.pair table {{ margin: 2mm 0; }}
.bars {{ display: flex; align-items: flex-end; gap: 6mm; height: 30mm; margin: 4mm 0; }}
.bar {{ width: 10mm; background: #557; }}
"""
PROSE = (
    "The survey covers firms of every size in the three regions. Each firm reported its revenue and its "
    "staff at the end of the year, and the office checked the figures against the tax records before "
    "they were published. Where a firm did not answer, the figure of the year before is carried forward."
)
PARTLY = {
    "groups": [("", 1), ("Exports", 2), ("Imports", 2)],
    "labels": ["Country", "2020", "2021", "2020", "2021"],
    "rows": [["France", "12.5", "13.1", "9.1", "9.8"], ["Chile", "3.4", "3.9", "4.8", "5.0"],
             ["Kenya", "1.2", "1.6", "2.6", "2.9"], ["Japan", "20.4", "21.0", "18.3", "19.9"]],
}  # fmt: skip
UNRULED = [["Region", "Firms", "Staff", "Share"], ["North", "120", "2,310", "31.5"], ["South", "86", "1,905", "22.6"],
           ["West", "175", "3,877", "45.9"], ["Total", "381", "8,092", "100.0"]]  # fmt: skip
LEFT = [["Year", "Births"], ["2019", "1,204"], ["2020", "1,188"], ["2021", "1,150"]]
RIGHT = [["Year", "Deaths"], ["2019", "980"], ["2020", "1,032"], ["2021", "1,011"]]


def _rows(rows: list[list[str]]) -> str:
    out = ""
    for row in rows:
        out += "<tr>" + "".join(f"<td class='{'n' if k else ''}'>{c}</td>" for k, c in enumerate(row)) + "</tr>"
    return out


def _plain(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{_rows(rows[1:])}</tbody></table>"


def _partly() -> str:
    groups = "".join(
        f"<th colspan='{n}' class='{'group' if label else ''}'>{label}</th>" for label, n in PARTLY["groups"]
    )
    labels = "".join(f"<th>{c}</th>" for c in PARTLY["labels"])
    return (
        f"<table class='headrule'><thead><tr>{groups}</tr><tr>{labels}</tr></thead>"
        f"<tbody>{_rows(PARTLY['rows'])}</tbody></table>"
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    bars = "".join(f"<div class='bar' style='height:{h}mm'></div>" for h in (8, 14, 22, 17, 27, 12))
    body = (
        f"<div class='cols'><p>{PROSE}</p><p>{PROSE}</p></div>"
        + _partly()
        + f"<p>{PROSE}</p>"
        + _plain(UNRULED)
        + f"<div class='pair'>{_plain(LEFT)}{_plain(RIGHT)}</div>"
        + f"<div class='bars'>{bars}</div><p>2016 2017 2018 2019 2020 2021</p>"
        + f"<p>{PROSE}</p>"
    )
    path = tmp_path_factory.mktemp("generic") / "layouts.pdf"
    doc = f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style></head><body>{body}</body></html>"
    weasyprint.HTML(string=doc).write_pdf(path)
    return path


@pytest.fixture(scope="module")
def document(page: Path) -> dict:
    return result_document(extract_pdf(page))


def _grid(table: dict) -> list[list[str]]:
    rows = max(c["row"] + c["row_span"] for c in table["cells"])
    cols = max(c["col"] + c["col_span"] for c in table["cells"])
    out = [[""] * cols for _ in range(rows)]
    for c in table["cells"]:
        out[c["row"]][c["col"]] = c["text"]
    return out


def _find(document: dict, first_cell: str) -> dict:
    found = [t for t in document["tables"] if any(c["text"] == first_cell for c in t["cells"])]
    assert len(found) == 1, (first_cell, [t["columns"] for t in document["tables"]])
    return found[0]


def test_the_document_validates_against_its_schema(document):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    assert document["kind"] == "generic"
    assert any("no dataset spec applied" in p["problem"] for p in document["problems"])


def test_exactly_the_four_tables_are_found(document):
    """Two-column prose, paragraphs and the bar chart's labels are not tables; the pair stays two."""
    assert sorted(t["columns"][0] for t in document["tables"]) == ["Country", "Region", "Year", "Year"], [
        t["columns"] for t in document["tables"]
    ]


def test_a_partly_ruled_table_keeps_its_group_spans(document):
    table = _find(document, "Exports")
    assert table["header_rows"] == 2
    spans = {c["text"]: (c["row"], c["col"], c["row_span"], c["col_span"]) for c in table["cells"] if c["row"] == 0}
    # The stub label spans both header rows; each group label spans its two columns.
    assert spans == {"Country": (0, 0, 2, 1), "Exports": (0, 1, 1, 2), "Imports": (0, 3, 1, 2)}
    assert table["columns"] == ["Country", "Exports/2020", "Exports/2021", "Imports/2020", "Imports/2021"]
    assert _grid(table)[2:] == PARTLY["rows"]


def test_an_unruled_table_is_found_and_read(document):
    table = _find(document, "North")
    assert _grid(table) == UNRULED
    assert table["header_rows"] == 1


def test_side_by_side_tables_are_kept_apart(document):
    years = [t for t in document["tables"] if t["columns"][:1] == ["Year"]]
    assert len(years) == 2, [t["columns"] for t in document["tables"]]
    left, right = sorted(years, key=lambda t: t["bbox"][0])
    assert left["bbox"][2] < right["bbox"][0], "the two boxes do not overlap"
    assert _grid(left) == LEFT and _grid(right) == RIGHT


def test_soetl_extract_json_goes_to_stdout_and_diagnostics_to_stderr(page):
    from typer.testing import CliRunner

    from flows.cli import app

    run = CliRunner().invoke(app, ["extract", str(page), "--json"])
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert "no dataset spec applied" in run.stderr  # the notice on stderr; stdout holds only the document

