"""The next edition of both reports extracts with no code change.

The test re-typesets the sample tables as a 2022 edition would print them: a new year in every title,
new numbers, a province and a city more, a city fewer, and every table renumbered. It typesets with
WeasyPrint and a small bundled CJK font (tests/fixtures/fonts), so it needs no system fonts.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from extractors.extract import extract_pdf
from tests.conftest import SAMPLES

weasyprint = pytest.importorskip(
    "weasyprint", reason="WeasyPrint (test extra) is needed to typeset the fixture"
)

FONT = Path(__file__).resolve().parent / "fixtures" / "fonts" / "NotoSansCJKsc-subset.otf"
CSS = f"""
@font-face {{ font-family: Fixture; src: url({FONT.as_uri()}); }}
@page {{ size: A4; margin: 22mm 20mm; }}
body {{ font-family: Fixture; font-size: 10.5pt; }}
h1 {{ text-align: center; font-size: 18pt; }}
.caption {{ text-align: center; font-weight: bold; margin: 6mm 0 1mm 0; }}
.unit {{ text-align: right; font-size: 9pt; margin: 0; }}
.source {{ font-size: 9pt; margin: 1mm 0 4mm 0; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
td, th {{ text-align: center; padding: 1.6mm 1mm; font-weight: normal; }}
table.ruled td, table.ruled th {{ border: 0.6pt solid black; }}
table.three_line {{ border-top: 1.2pt solid black; border-bottom: 1.2pt solid black; }}
table.three_line thead tr:last-child th {{ border-bottom: 0.6pt solid black; }}
table.tall td {{ padding: 3.2mm 1mm; }}
"""


def _truth(doc: str) -> dict:
    return json.loads((SAMPLES / "truth" / f"{doc}.json").read_text(encoding="utf-8"))


def _bump(text: str, k: int) -> str:
    """A different number printed with the same precision: the next year's figures."""
    if not text or not text.replace(".", "").replace("-", "").isdigit():
        return text
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{float(text) * (1.05 + 0.01 * (k % 7)) + 0.1:.{decimals}f}"


def _bump_rows(rows: list[list[str]], label_cols: int) -> list[list[str]]:
    return [
        row[:label_cols] + [_bump(c, r + k) for k, c in enumerate(row[label_cols:])]
        for r, row in enumerate(rows)
    ]


def _header_html(header: list[list[str]]) -> str:
    """The sample's header rows with their spans (colspan to the right, rowspan down)."""
    out = []
    for r, row in enumerate(header):
        cells = []
        for c, label in enumerate(row):
            if not label:
                continue
            colspan = 1
            while r == 0 and c + colspan < len(row) and row[c + colspan] == "":
                colspan += 1
            rowspan = 1
            while colspan == 1 and r + rowspan < len(header) and header[r + rowspan][c] == "":
                rowspan += 1
            cells.append(f'<th colspan="{colspan}" rowspan="{rowspan}">{html.escape(label)}</th>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out)


def _table(
    caption: str,
    header: list[list[str]],
    rows: list[list[str]],
    style: str,
    unit: str | None,
    source: str | None,
    note: str | None = None,
) -> str:
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<p class="caption">{html.escape(caption)}</p>'
        + (f'<p class="unit">金额单位：{unit}</p>' if unit else "")
        + f'<table class="{style}"><thead>{_header_html(header)}</thead><tbody>{body}</tbody></table>'
        + (f'<p class="source">{html.escape(source)}</p>' if source else "")
        + (f'<p class="source">{html.escape(note)}</p>' if note else "")
    )


def _render(tmp: Path, name: str, body: str) -> Path:
    # A character the subset lacks is not drawn, and where no system font has it either, WeasyPrint drops
    # the text around it (a caption's 表 took the title and captions with it): fail here, naming it.
    from fontTools.ttLib import TTFont

    covered = TTFont(str(FONT)).getBestCmap()
    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in covered})
    assert not missing, f"add {''.join(missing)} to tests/fixtures/make_font_subset.py's EXTRA and run it"
    path = tmp / name
    head = f'<meta charset="utf-8"><style>{CSS}</style>'
    doc = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    weasyprint.HTML(string=doc).write_pdf(path)
    return path


@pytest.fixture(scope="module")
def report_2022(tmp_path_factory) -> tuple[Path, dict[str, tuple[str, list[list[str]], list[str]]]]:
    truth = {t["id"]: t for t in _truth("annual_report_2021")["tables"]}
    ito = truth["表3-1"]
    ito_header = [["区域", *[f"{y}年" for y in range(2017, 2023)]]]
    regions = truth["表8-1"]
    east = truth["表8-2"]
    east_rows = [*east["rows"], ["海南省", "9.8", "12.5", "0.4", "2.1", "-3.6", "0.2"]]
    clusters = truth["表10-1"]
    # new id -> (caption, expected rows, expected columns); the spec must find each by its words.
    expected = {
        "表2-1": (
            "2017－2022年中国分区域信息技术外包执行额",
            _bump_rows(ito["rows"], 1),
            [h for h in ito_header[0]],
        ),
        "表5-1": ("2022年中国各区域服务外包数据统计", _bump_rows(regions["rows"], 1), regions["columns"]),
        "表5-2": ("2022年东部地区部分省市服务外包数据统计", _bump_rows(east_rows, 1), east["columns"]),
        "表6-1": (
            "2022年服务外包示范城市带动城市发展情况",
            _bump_rows(clusters["rows"], 1),
            clusters["columns"],
        ),
    }
    layout = {
        "表2-1": (ito_header, "unruled"),
        "表5-1": (regions["header_rows"], "ruled"),
        "表5-2": (east["header_rows"], "three_line"),
        "表6-1": (clusters["header_rows"], "ruled"),
    }
    body = "<h1>中国服务外包发展报告2022</h1>" + "".join(
        _table(
            f"表 {tid[1:]} {caption}",
            layout[tid][0],
            rows,
            layout[tid][1],
            "亿美元",
            "数据来源：中华人民共和国商务部。",
        )
        for tid, (caption, rows, _) in expected.items()
    )
    # Two tables no spec knows: one with a caption, one ruled grid with none. Both must be kept.
    other = [["东部地区", "120", "130"], ["中部地区", "40", "45"]]
    body += _table(
        "表 7-1 2022年其他企业数量统计", [["区域", "2021年", "2022年"]], other, "ruled", None, None
    )
    body += "<p>其他</p>" + _table("", [["区域", "2021年", "2022年"]], other, "ruled", None, None)
    return _render(tmp_path_factory.mktemp("ed2022"), "annual_report_2022.pdf", body), expected


@pytest.fixture(scope="module")
def notice_2022(tmp_path_factory) -> tuple[Path, dict[str, tuple[str, list[list[str]], list[str]]]]:
    truth = {t["id"]: t for t in _truth("city_evaluation_2021")["tables"]}
    demo, applicant = truth["附1-1"], truth["附2-1"]
    # A city more among the demonstration cities, a city fewer among the applicants.
    demo_rows = [
        *demo["rows"][:-1],
        ["38", "绍兴", "20.01", "2.50", "3.01", "0.50", "10.50", "3.50", "14.00", "8.00", "42.01"],
        demo["rows"][-1],
    ]
    applicant_rows = [*applicant["rows"][:12], applicant["rows"][-1]]
    expected = {
        "附1-1": ("2022年度中国服务外包示范城市综合评价得分情况", _bump_rows(demo_rows, 2), demo["columns"]),
        "附2-1": (
            "2022年度服务外包申请城市综合评价得分情况",
            _bump_rows(applicant_rows, 2),
            applicant["columns"],
        ),
    }
    body = (
        "<h1>2022年度中国服务外包示范城市及申请城市综合评价结果</h1><p>附 1</p>"
        + _table(expected["附1-1"][0], demo["header_rows"], expected["附1-1"][1], "ruled tall", None, None)
        + '<p style="break-before: page">附 2</p>'
        + _table(expected["附2-1"][0], applicant["header_rows"], expected["附2-1"][1], "ruled", None, None)
        + "<p>注：依据国家统计局经济区域划分标准。</p>"
    )
    return _render(tmp_path_factory.mktemp("ed2022n"), "city_evaluation_2022.pdf", body), expected


@pytest.mark.parametrize("fixture", ["report_2022", "notice_2022"])
def test_next_edition_extracts_with_no_code_change(request, fixture):
    path, expected = request.getfixturevalue(fixture)
    result = extract_pdf(path)
    assert result.year == 2022
    got = {t.table_id: t for t in result.tables if t.dataset}
    assert sorted(got) == sorted(expected)
    for table_id, (caption, rows, columns) in expected.items():
        table = got[table_id]
        assert table.caption == caption
        assert table.columns == columns, table_id
        assert table.texts() == rows, table_id
        assert table.attributes["problems"] == [], table.attributes["problems"]
        assert 2022 in (table.attributes.get("year"), table.attributes.get("last_year"))


def test_tables_no_spec_knows_are_kept(report_2022):
    path, _ = report_2022
    unknown = [t for t in extract_pdf(path).tables if t.dataset is None]
    assert [t.table_id for t in unknown][0] == "表7-1"
    assert [t.texts() for t in unknown] == [[["东部地区", "120", "130"], ["中部地区", "40", "45"]]] * 2
    assert unknown[1].table_id.startswith("p") and unknown[1].caption == ""


def test_the_long_city_table_crossed_a_page_and_was_stitched(notice_2022):
    path, expected = notice_2022
    table = next(t for t in extract_pdf(path).tables if t.table_id == "附1-1")
    # WeasyPrint repeats the header on every page: the stitching must drop the repeats.
    assert len(table.provenance.pages) >= 2
    assert table.texts() == expected["附1-1"][1] and len(table.rows) == 39
