"""The replica PDFs in samples/ and their ground truth, checked against the seed texts.

The seed parsing here is deliberately separate from samples/builder: it reads the seed the simplest
way that works, so a builder bug cannot hide behind a shared parser.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import NOTICE_SEED, REPORT_SEED

CAPTION_RE = re.compile(r"^\s*([图表])\s*(\d+-\d+)\s*(\S.*)$")
REPORT_ROW_RE = re.compile(r"^(\S+)((?: -?\d+(?:\.\d+)?)+)$")
NOTICE_CAPTION_RE = re.compile(r"^\s*2021\s*年度.*综合评价得分情况\s*$")


def nospace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def seed_report_captions() -> list[str]:
    out = []
    for line in REPORT_SEED.read_text(encoding="utf-8").splitlines():
        m = CAPTION_RE.match(line)
        if m:
            out.append(nospace(m.group(1) + m.group(2) + m.group(3)))
    return out


def seed_report_tables() -> dict[str, list[list[str]]]:
    tables: dict[str, list[list[str]]] = {}
    current = None
    for line in REPORT_SEED.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        m = CAPTION_RE.match(line)
        if m and m.group(1) == "表":
            current = "表" + m.group(2)
            tables[current] = []
        elif current and line.startswith("数据来源"):
            current = None
        elif current and (row := REPORT_ROW_RE.match(line)):
            tables[current].append([row.group(1), *row.group(2).split()])
    return tables


def seed_notice_tables() -> list[tuple[str, list[str], list[list[str]]]]:
    """(caption, header text, rows) for each table of 附1 and 附2, split on the seed's tabs."""
    out: list[tuple[str, list[str], list[list[str]]]] = []
    for line in NOTICE_SEED.read_text(encoding="utf-8").splitlines():
        if NOTICE_CAPTION_RE.match(line):
            out.append((nospace(line), [], []))
        elif out and "\t" in line and not line.startswith("注"):
            cells = line.split("\t")
            if re.fullmatch(r"\d+", cells[0]) or "平均值" in cells[:2]:
                out[-1][2].append(cells)
            elif not out[-1][2]:
                out[-1][1].append(line)
    return out


def page_texts(pdf) -> list[str]:
    return [nospace(page.extract_text() or "") for page in pdf.pages]


# --- both PDFs ---------------------------------------------------------------------------------


def test_both_pdfs_open_with_expected_page_counts(report_pdf, notice_pdf):
    assert 80 <= len(report_pdf.pages) <= 100
    assert 6 <= len(notice_pdf.pages) <= 16
    assert all(page_texts(notice_pdf)), "every notice page has a text layer"


def test_two_producers_and_subset_embedded_fonts(report_pdf, notice_pdf):
    producers = {report_pdf.metadata.get("Producer"), notice_pdf.metadata.get("Producer")}
    assert len(producers) == 2, producers
    for pdf in (report_pdf, notice_pdf):
        fonts = {c["fontname"] for page in pdf.pages[:12] for c in page.chars}
        assert fonts
        # ABCDEF+Name is how PDF marks an embedded subset.
        assert all(re.match(r"^[A-Z]{6}\+", f) for f in fonts), fonts


# --- annual report -----------------------------------------------------------------------------


def test_every_caption_of_the_seed_is_in_the_report_in_reading_order(report_pdf):
    captions = seed_report_captions()
    assert len([c for c in captions if c.startswith("表")]) == 7
    assert len([c for c in captions if c.startswith("图")]) >= 50
    text = "".join(page_texts(report_pdf))
    pos = 0
    for caption in captions:
        found = text.find(caption, pos)
        assert found >= 0, f"{caption} missing or out of order"
        pos = found + len(caption)


def test_report_truth_tables_equal_the_seed_cell_for_cell(report_truth):
    seed = seed_report_tables()
    truth = {t["id"]: t for t in report_truth["tables"]}
    assert list(truth) == list(seed)
    for table_id, rows in seed.items():
        assert truth[table_id]["rows"] == rows, table_id
        assert all(len(r) == len(truth[table_id]["columns"]) for r in rows), table_id
        assert truth[table_id]["unit"] == "亿美元"
        assert truth[table_id]["source_note"].startswith("数据来源")
    assert sum(len(seed[t]) for t in ("表8-1", "表8-2", "表8-3", "表8-4", "表8-5")) == 27
    styles = [t["style"] for t in report_truth["tables"]]
    assert sum(s in ("three_line", "unruled") for s in styles) >= 2


def test_report_table_cells_are_in_the_text_layer(report_pdf, report_truth):
    text = "".join(page_texts(report_pdf))
    for table in report_truth["tables"]:
        for row in table["rows"]:
            assert nospace("".join(row)) in text, (table["id"], row)


def test_truth_has_a_figure_for_every_caption_with_flagged_origins(report_truth):
    seed_figs = [c for c in seed_report_captions() if c.startswith("图")]
    figs = report_truth["figures"]
    assert [nospace(f["id"] + f["title"]) for f in figs] == seed_figs
    for fig in figs:
        assert fig["series"], fig["id"]
        for series in fig["series"]:
            for point in series["points"]:
                assert point["origin"] in ("stated", "reconstructed", "illustrative")
                if point["origin"] != "illustrative":
                    assert point["basis"], (fig["id"], series["name"], point)
    stated = [p for f in figs for s in f["series"] for p in s["points"] if p["origin"] == "stated"]
    assert stated, "the text states values; some points must use them"


def _figure_region(pdf, fig) -> tuple[object, tuple[float, float]] | None:
    """The page and the band between a figure's caption and its 数据来源 line."""
    for page in pdf.pages:
        words = page.extract_words()
        for k, word in enumerate(words[:-1]):
            if word["text"] == "图" and words[k + 1]["text"] == fig["id"][1:]:
                top = words[k + 1]["bottom"]
                below = [w["top"] for w in words if w["top"] > top and w["text"].startswith("数据来源")]
                assert below, f"{fig['id']}: no 数据来源 line under the caption on page {page.page_number}"
                return page, (top, min(below))
    return None


def _label(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


@pytest.mark.parametrize("render", ["raster", "vector"])
def test_raster_charts_have_no_text_and_vector_charts_carry_their_labels(report_pdf, report_truth, render):
    figs = [f for f in report_truth["figures"] if f["render"] == render]
    assert len(figs) >= (3 if render == "vector" else 30)
    for fig in figs:
        region = _figure_region(report_pdf, fig)
        assert region, f"{fig['id']} caption not found"
        page, (top, bottom) = region
        band = page.within_bbox((0, top + 0.5, page.width, bottom - 0.5))
        labels = {_label(p["value"], p["decimals"]) for s in fig["series"] for p in s["points"]}
        if render == "raster":
            assert band.images, f"{fig['id']}: no image in the figure band"
            assert not band.chars, f"{fig['id']}: raster chart has text {band.extract_text()!r}"
        else:
            assert not band.images, f"{fig['id']}: vector chart is an image"
            words = {w["text"] for w in band.extract_words()}
            missing = labels - words
            assert not missing, f"{fig['id']}: labels {sorted(missing)} not in the text layer"


# --- evaluation notice -------------------------------------------------------------------------


def test_notice_truth_tables_equal_the_seed_cell_for_cell(notice_truth):
    seed = seed_notice_tables()
    truth = notice_truth["tables"]
    assert [t["id"] for t in truth] == ["附1-1", "附1-2", "附1-3", "附2-1", "附2-2", "附2-3"]
    assert [len(rows) for _, _, rows in seed] == [38, 20, 19, 15, 11, 5]
    for (caption, header, rows), table in zip(seed, truth, strict=True):
        assert nospace(table["caption"]) == caption
        assert table["rows"] == rows, table["id"]
        header_text = nospace("".join(header))
        for label in (label for row in table["header_rows"] for label in row if label):
            assert nospace(label) in header_text, (table["id"], label)


def test_notice_captions_in_order_and_the_big_table_crosses_a_page(notice_pdf, notice_truth):
    pages = page_texts(notice_pdf)
    text = "".join(pages)
    pos = 0
    for table in notice_truth["tables"]:
        found = text.find(nospace(table["caption"]), pos)
        assert found >= 0, table["caption"]
        pos = found
    first, last = notice_truth["tables"][0]["rows"][0], notice_truth["tables"][0]["rows"][36]
    page_of = {
        name: next(i for i, t in enumerate(pages) if nospace("".join(row)) in t)
        for name, row in (("first", first), ("last", last))
    }
    assert page_of["last"] > page_of["first"], "the 37-city table should run across a page break"


def test_notice_cells_are_in_the_text_layer(notice_pdf, notice_truth):
    text = "".join(page_texts(notice_pdf))
    for table in notice_truth["tables"]:
        for row in table["rows"]:
            for cell in row:
                assert cell in text, (table["id"], cell)
