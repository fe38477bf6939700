"""The layout-variant corpus (samples/variants): the matrix, the builder, its truth, and the cell scorer.

Building every variant takes about a minute of CPU (four on a busy machine), so by default the tests
build a subset that covers both producers, both report kinds, every rule style and every way a table
continues on a new page; SOETL_VARIANTS=all builds the whole matrix. The glyph check and the matrix
checks run on every variant either way.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from samples.variants import build, dimensions, matrix, rlab
from samples.variants.build import check_glyphs
from samples.variants.content import build_document
from samples.variants.score import score_tables
from samples.variants.verify import problems

pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) typesets the variants")
pytest.importorskip("reportlab", reason="reportlab (test extra) typesets the variants")

SUBSET = [
    "a01-serif-grid",
    "a02-rl-zenhei-threeline-decimal-xubiao",
    "a07-sans-zebra-bold-spaced",
    "a10-serif-grid-extra-column",
    "a14-zenhei-threeline-one-level",
    "a16-sans-rowrules-break-no-header",
    "a17-serif-grid-break-xubiao-no-header",
    "a19-rl-zenhei-none-left-landscape",
    "a26-rl-microhei-box-break-repeat",
    "n02-rl-ukai-zebra-spacer-xubiao",
    "n03-zenhei-landscape-paiming-fujian",
    "n08-serif-none-one-level-landscape",
    "n14-serif-none-narrow-gutter",
    "n18-rl-ukai-none-xubiao-no-header",
]


@pytest.fixture(scope="session")
def built(variants_built) -> dict[str, tuple[Path, dict]]:
    """The builder's own checks read the subset back cell by cell (all of them with SOETL_VARIANTS=all);
    every variant is built once for the session (tests/conftest.py), for the extraction tests."""
    if os.environ.get("SOETL_VARIANTS") == "all":
        return variants_built
    return {name: built for name, built in variants_built.items() if name in SUBSET}


def test_matrix_covers_every_dimension_value():
    variants = matrix()
    assert len(variants) >= 40
    assert len({v.name for v in variants}) == len(variants)
    assert {v.kind for v in variants} == {"annual", "notice"}
    for key, values in dimensions().items():
        if key == "break_rows":
            assert any(v.break_rows for v in variants)
            continue
        used = {json.dumps(v.dims[key]) for v in variants}
        unused = [value for value in values if json.dumps(value) not in used]
        assert not unused, f"{key}: no variant uses {unused}"
    # Combined, not one dimension per variant: most variants change several.
    defaults = {key: values[0] for key, values in dimensions().items()}
    changed = [sum(v.dims[k] != defaults[k] for k in defaults) for v in variants]
    assert sum(n >= 3 for n in changed) >= len(variants) // 2
    assert set(SUBSET) <= {v.name for v in variants}


def test_every_variant_prints_only_glyphs_its_fonts_have_and_its_producer_can_set():
    for v in matrix():
        doc = build_document(v)
        check_glyphs(doc)  # raises MissingGlyph naming the variant, the text and the characters
        if v.producer == "reportlab":
            assert rlab.supports(v) == [], v.name
        assert len(doc.tables) == (7 if v.kind == "annual" else 6)


def test_subset_spans_producers_kinds_and_continuations():
    chosen = [v for v in matrix() if v.name in SUBSET]
    assert {v.producer for v in chosen} == {"weasyprint", "reportlab"}
    assert {v.kind for v in chosen} == {"annual", "notice"}
    assert {v.continued for v in chosen} == set(dimensions()["continued"])
    assert {v.rules for v in chosen} >= {"grid", "three_line", "none", "zebra", "box"}


def test_truth_matches_the_pdf_cell_by_cell(built):
    for name, (pdf, truth) in built.items():
        assert problems(pdf, truth) == [], name
        assert json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8")) == truth


def test_truth_shape_and_values(built):
    number = re.compile(r"^-?[\d,]+(\.\d+)?\*?$")
    for name, (_, truth) in built.items():
        assert truth["variant"]["name"] == name
        for t in truth["tables"]:
            n = len(t["columns"])
            assert len(t["canonical"]) == n and all(len(r) == n for r in t["rows"]), (name, t["id"])
            assert all(len(r) == n for r in t["values"])
            for row, values in zip(t["rows"], t["values"], strict=True):
                for text, value in zip(row, values, strict=True):
                    if number.match(text):
                        assert value == float(text.replace(",", "").rstrip("*")), (name, t["id"], text)
                    else:
                        assert value is None, (name, t["id"], text)
            pages = [p["page"] for p in t["pieces"]]
            assert pages == sorted(set(pages)) and sorted(r for p in t["pieces"] for r in p["rows"]) == list(
                range(len(t["rows"]))
            ), (name, t["id"])
            for p in t["pieces"]:
                x0, top, x1, bottom = p["bbox"]
                assert 0 <= x0 < x1 and 0 <= top < bottom, (name, t["id"], p)


def test_known_dimensions_show_in_the_truth(built):
    by = {name: {t["id"]: t for t in truth["tables"]} for name, (_, truth) in built.items()}
    extra = by["a10-serif-grid-extra-column"]["表8-1"]
    assert extra["columns"][1] == "企业数量（家）" and extra["canonical"][1] is None
    assert extra["rows"][0][2] == "1,847.3"
    assert by["n03-zenhei-landscape-paiming-fujian"]["附1-1"]["columns"][:2] == ["排名", "城市"]
    assert by["n03-zenhei-landscape-paiming-fujian"]["附1-1"]["columns"][3] == "基础评价/（一）产业发展情况"
    assert by["a07-sans-zebra-bold-spaced"]["表8-1"]["columns"][0] == "区\u3000域"
    assert by["n08-serif-none-one-level-landscape"]["附1-1"]["columns"][2] == "基础评价得分"
    assert by["a14-zenhei-threeline-one-level"]["表10-1"]["columns"][1] == "示范城市执行金额"
    assert by["a14-zenhei-threeline-one-level"]["表10-1"]["canonical"][1] == "demo_execution_usd_100m"
    # Tables that continue on another page, with a 续表 line where the variant says so.
    for name in ("a02-rl-zenhei-threeline-decimal-xubiao", "a17-serif-grid-break-xubiao-no-header",
                 "a26-rl-microhei-box-break-repeat", "n02-rl-ukai-zebra-spacer-xubiao",
                 "n18-rl-ukai-none-xubiao-no-header"):
        assert any(len(t["pieces"]) > 1 for t in by[name].values()), name
    pdf, _ = built["a17-serif-grid-break-xubiao-no-header"]
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert "续表8-2" in text


def test_fonts_are_embedded_and_no_glyph_is_missing(built):
    import pdfplumber
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    from samples.variants import fonts

    bundled = {TTFont(str(fonts.path(key)))["name"].getDebugName(6) for key in fonts.FAMILIES}
    producers = set()
    for name, (pdf, truth) in built.items():
        producers.add(truth["producer"].split()[0])
        reader = PdfReader(pdf)
        for page in reader.pages:
            for ref in (page.get("/Resources") or {}).get("/Font", {}).values():
                font = ref.get_object()
                fonts = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
                for f in fonts:
                    if "/FontDescriptor" not in f:
                        # reportlab lists Helvetica on every page it starts; the text check below
                        # shows no character is set in it.
                        assert f.get("/BaseFont") == "/Helvetica", (name, f.get("/BaseFont"))
                        continue
                    descriptor = f["/FontDescriptor"].get_object()
                    assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (
                        name, f.get("/BaseFont"))
        with pdfplumber.open(pdf) as doc:
            for page in doc.pages:
                text = "".join(ch["text"] for ch in page.chars)
                assert "(cid:" not in text and "\ufffd" not in text, (name, page.page_number)
                names = {ch["fontname"].split("+")[-1] for ch in page.chars}
                # Only the bundled subsets (WeasyPrint names them by their @font-face, reportlab by their
                # PostScript name): no system font filled in for a missing glyph.
                assert all(re.match(r"(VBody|VBold)", n) or n in bundled for n in names), (name, names)
    assert producers == {"WeasyPrint", "ReportLab"}


def test_build_is_deterministic(tmp_path):
    v = next(v for v in matrix() if v.name == "a19-rl-zenhei-none-left-landscape")
    _, first = build(v, tmp_path / "one")
    _, second = build(v, tmp_path / "two")
    assert first == second
    assert (tmp_path / "one" / f"{v.name}.pdf").read_bytes() == (tmp_path / "two" / f"{v.name}.pdf").read_bytes()


# ---------------------------------------------------------------------------------------------- scorer

TRUTH = {
    "tables": [
        {"id": "表1", "columns": ["区域", "金额", "增长"],
         "rows": [["东部", "1,847.3", "29.2"], ["中部", "228.5", "27.3"]]},
        {"id": "表2", "columns": ["省市", "金额"], "rows": [["江苏", "616.4"], ["山东", "309.2"], ["广东", ""]]},
    ]
}


def test_scorer_counts_cells_in_the_right_row_and_column():
    perfect = [{"table_id": t["id"], "columns": t["columns"], "rows": t["rows"]} for t in TRUTH["tables"]]
    got = score_tables(TRUTH, perfect)
    summary = [(r.right, r.cells, r.headers_right, r.headers, r.by) for r in got]
    assert summary == [(6, 6, 3, 3, "id"), (5, 5, 2, 2, "id")]
    # Whitespace does not matter; a header row left in the body, a blank column and an unnamed table
    # (found by content) shift nothing.
    messy = [
        {"columns": ["", "省 市", "", "金额"], "rows": [["", "省市", "", "金额"], ["", "江 苏", "", "616.4"],
                                                   ["", "山东", "", "309.2"]]},
        {"columns": ["区域", "金额", "增长"], "rows": [["东部", "1,847.3 ", "29.2"], ["中部", "228.5", "27.3"]]},
    ]
    got = score_tables(TRUTH, messy)
    assert [(r.right, r.by, r.matched) for r in got] == [(6, "content", "#1"), (4, "content", "#0")]
    # Cells in the wrong column or row do not count; an unformatted number is not the printed one.
    wrong = [
        {"table_id": "表1", "columns": ["区域", "增长", "金额"],
         "rows": [["东部", "29.2", "1847.3"], ["中部", "27.3", "228.5"]]},
        {"table_id": "表2", "columns": ["省市", "金额"], "rows": [["江苏", "309.2"], ["山东", "616.4"]]},
    ]
    got = score_tables(TRUTH, wrong)
    assert got[0].right == 4 and got[0].headers_right == 2  # 东部, 中部 and the 增长 column, not the reordered one
    assert got[1].right == 2  # the labels; the swapped amounts are in the wrong rows
    assert score_tables(TRUTH, [])[0].right == 0


def test_scorer_takes_soetl_like_tables():
    class Cell:
        def __init__(self, text: str) -> None:
            self.text = text

    class Table:
        table_id = "表2"
        columns = ["省市", "金额"]
        rows = [[Cell("江苏"), Cell("616.4")], [Cell("山东"), Cell("309.2")]]

        def texts(self) -> list[list[str]]:
            return [[c.text for c in row] for row in self.rows]

    got = score_tables(TRUTH, [Table()])
    assert (got[1].right, got[1].cells) == (4, 5)  # 广东's row is missing
    counts = defaultdict(int)
    for r in got:
        counts[r.by] += 1
    assert counts == {"id": 1, None: 1}
