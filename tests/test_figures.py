"""Figures of the annual-report replica: regions, images, raster/vector, and drawn charts read back
into series that must equal the truth and agree with their own geometry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from extractors.chart_drawing import Drawing, Shape, Word
from extractors.chart_geometry import check_against_geometry
from extractors.chart_legend import find_legend
from extractors.chart_reading import read_cartesian, read_vector_chart
from extractors.figure_regions import caption_sides, document_layout, locate_region, side_vote
from extractors.figures import extract_figures
from extractors.layout import TextLine, page_lines
from extractors.model import FigureRecord

CAPTION_RE = re.compile(r"^图\s*(?P<number>\d+-\d+)\s*(?P<title>.+)$")
DPI = 150


@pytest.fixture(scope="module")
def lines_by_page(report_pdf) -> dict[int, list[TextLine]]:
    return {page.page_number: page_lines(page) for page in report_pdf.pages}


@pytest.fixture(scope="module")
def figures(report_pdf, lines_by_page, tmp_path_factory) -> list[FigureRecord]:
    return extract_figures(report_pdf, lines_by_page, tmp_path_factory.mktemp("figures"), CAPTION_RE, DPI)


@pytest.fixture(scope="module")
def by_id(figures) -> dict[str, FigureRecord]:
    return {f.figure_id: f for f in figures}


def vector_truth(report_truth) -> list[dict]:
    return [f for f in report_truth["figures"] if f["render"] == "vector"]


def test_one_record_per_truth_figure(figures, report_truth):
    assert [f.figure_id for f in figures] == [t["id"] for t in report_truth["figures"]]
    for record, truth in zip(figures, report_truth["figures"], strict=True):
        assert record.title == truth["title"], record.figure_id
        assert record.source_note == truth["source_note"], record.figure_id


def test_every_figure_has_an_image_of_at_least_150_dpi(figures):
    for record in figures:
        assert record.image_path is not None, record.figure_id
        path = Path(record.image_path)
        assert path.exists() and path.suffix == ".png"
        with Image.open(path) as image:
            width, height = image.size
        x0, top, x1, bottom = record.bbox
        assert width >= (x1 - x0) / 72 * DPI - 2, record.figure_id
        assert height >= (bottom - top) / 72 * DPI - 2, record.figure_id
    assert len({f.image_path for f in figures}) == len(figures)


def test_raster_or_vector_as_rendered(figures, report_truth):
    assert [f.kind for f in figures] == [t["render"] for t in report_truth["figures"]]
    assert all(f.has_data and f.crop_sha256 for f in figures if f.kind == "raster")
    assert all(f.reader == "vector" and f.crop_sha256 is None for f in figures if f.kind == "vector")


def test_regions_lie_between_caption_and_source_note(figures, lines_by_page):
    for record in figures:
        lines = lines_by_page[record.page]
        caption = next(ln for ln in lines if ln.text.startswith(record.figure_id))
        note = next(ln for ln in lines if ln.text == record.source_note and ln.top > caption.top)
        assert record.bbox[1] >= caption.bottom - 0.5 and record.bbox[3] <= note.top + 0.5, record.figure_id


def _printed(report_pdf, record: FigureRecord) -> str:
    text = report_pdf.pages[record.page - 1].crop(record.bbox).extract_text()
    return re.sub(r"\s+", "", text)


def test_vector_series_names(by_id, report_truth, report_pdf):
    """Series are named by their legend. A pie's one series has no name printed anywhere in the chart
    (its legend names the slices), so it takes the figure's title instead."""
    for truth in vector_truth(report_truth):
        record = by_id[truth["id"]]
        printed = _printed(report_pdf, record)
        expected = [s["name"] if s["name"] in printed else record.title for s in truth["series"]]
        assert list(dict.fromkeys(p.series for p in record.points)) == expected, truth["id"]


def test_vector_points_equal_truth(by_id, report_truth, report_pdf):
    matched = total = 0
    for truth in vector_truth(report_truth):
        record = by_id[truth["id"]]
        printed = _printed(report_pdf, record)
        found = {(p.series, p.category): p for p in record.points}
        for series in truth["series"]:
            name = series["name"] if series["name"] in printed else record.title
            for t in series["points"]:
                total += 1
                point = found.get((name, t["category"]))
                assert point is not None, (truth["id"], name, t["category"])
                assert point.value_origin == "label" and point.geometry_value is not None
                assert point.value == round(t["value"], t["decimals"]), (truth["id"], name, t["category"])
                matched += 1
        assert len(record.points) == sum(len(s["points"]) for s in truth["series"]), truth["id"]
    assert matched == total == 90


def test_vector_figures_agree_with_their_geometry(by_id, report_truth):
    for truth in vector_truth(report_truth):
        assert by_id[truth["id"]].problems == [], truth["id"]
        assert by_id[truth["id"]].flagged == [], truth["id"]


def test_units_come_from_the_axes(by_id):
    units = {(p.series, p.unit) for p in by_id["图1-5"].points}
    assert units == {("ITO执行额", "亿美元"), ("ITO执行额增速", "%")}
    assert {p.unit for p in by_id["图12-3"].points} == {"%"}


@pytest.mark.parametrize(
    ("figure_id", "series", "category"),
    [
        ("图1-5", "ITO执行额增速", "2019"),
        ("图3-1", "离岸执行额", "2018"),
        ("图14-4", "BPO", "2020"),
        ("图12-3", None, "南亚"),
    ],
)
def test_geometry_check_catches_a_wrong_label(report_pdf, by_id, figure_id, series, category):
    record = by_id[figure_id]
    reading = read_vector_chart(report_pdf.pages[record.page - 1], record.bbox, fallback_name=record.title)
    assert check_against_geometry(reading.points, reading.axes) == []
    series = series or record.title
    point = next(p for p in reading.points if p.series == series and p.category == category)
    point.value += 0.2 * reading.axes[series].span
    problems = check_against_geometry(reading.points, reading.axes)
    assert len(problems) == 1
    assert series in problems[0] and category in problems[0]


def test_caption_without_region_still_yields_a_record(report_pdf, lines_by_page, tmp_path):
    page = report_pdf.pages[0]
    caption = TextLine(1, "图99-1 一个没有图的标题", 200.0, page.height - 30.0, 380.0, page.height - 20.0)
    lines = {1: [*lines_by_page[1], caption]}
    (record,) = extract_figures(report_pdf, lines, tmp_path, CAPTION_RE)
    assert record.figure_id == "图99-1" and record.title == "一个没有图的标题"
    assert record.image_path is None and record.source_note is None
    assert record.problems and "no figure region" in record.problems[0]


def _line(text: str, top: float, x0: float = 70.0, x1: float = 520.0) -> TextLine:
    return TextLine(1, text, x0, top, x1, top + 10.0)


def _spans(region, top: float, image: tuple[float, float, float, float], bottom: float) -> bool:
    """The region covers the image and stays within the text lines around it."""
    assert region.bbox is not None
    return top <= region.bbox[1] <= image[1] and image[3] <= region.bbox[3] <= bottom


def test_caption_under_its_chart_takes_the_region_above():
    body = _line("正文最后一行。", 100.0)
    caption = _line("图2-1 标题", 400.0, 200.0, 380.0)
    note = _line("数据来源：商务部。", 414.0, 70.0, 200.0)
    after = _line("下一段正文。", 440.0)
    image = (90.0, 130.0, 500.0, 390.0)
    region = locate_region(caption, [body, caption, note, after], [caption], [image], 842.0)
    assert _spans(region, body.bottom, image, caption.top)
    assert region.source == note and region.problems == ()


def test_caption_above_its_chart_takes_the_region_below():
    caption = _line("图2-1 标题", 100.0, 200.0, 380.0)
    note = _line("数据来源：商务部。", 400.0, 70.0, 200.0)
    table_rule = (70.0, 80.0, 520.0, 80.5)  # the rule closing a table just above the caption
    image = (90.0, 115.0, 500.0, 390.0)
    body = _line("正文。", 420.0)
    region = locate_region(caption, [caption, note, body], [caption], [table_rule, image], 842.0)
    assert _spans(region, caption.bottom, image, note.top) and region.source == note
    assert region.bbox is not None and (region.bbox[0], region.bbox[2]) == (70.0, 520.0)


def test_chart_note_caption_order_is_learnt_from_the_document():
    """Chart, note, caption twice on a page: from the first caption, the second chart below looks just as
    close as its own above; the last caption, with nothing below, tells the document's order."""
    body = [_line("正文。", 60.0), _line("正文。", 345.0), _line("正文。", 650.0)]
    images = [(90.0, 80.0, 500.0, 300.0), (90.0, 370.0, 500.0, 600.0)]
    notes = [_line("数据来源：甲。", 305.0, 70.0, 200.0), _line("数据来源：乙。", 605.0, 70.0, 200.0)]
    captions = [_line("图1-1 甲", 320.0, 200.0, 380.0), _line("图1-2 乙", 620.0, 200.0, 380.0)]
    lines = sorted([*body, *notes, *captions], key=lambda ln: ln.top)
    votes = [side_vote(*caption_sides(c, lines, captions, images, 842.0)) for c in captions]
    assert votes == [None, "above"] and document_layout(votes) == "above"
    for caption, image, note in zip(captions, images, notes, strict=True):
        region = locate_region(caption, lines, captions, images, 842.0, prefer="above")
        assert _spans(region, image[1] - 25.0, image, note.top) and region.source == note


def _word(text: str, x0: float, top: float, width: float = 16.0, color=(0.15, 0.15, 0.15)) -> Word:
    return Word(text, x0, top, x0 + width, top + 8.0, color, 8.0)


def _rect(x0: float, top: float, x1: float, bottom: float, fill=(0.12, 0.35, 0.65)) -> Shape:
    return Shape((x0, top, x1, bottom), fill, None, ((x0, top), (x1, bottom)), True)


def test_wrapped_category_names_are_rejoined_and_unlabelled_bars_measured():
    """A bar chart drawn from scratch: ticks 0/50/100 on gridlines at y 300/250/200, a category name
    wrapped onto two lines, and one bar without its number."""
    grid = [
        Shape((100.0, y, 400.0, y), None, (0.85, 0.85, 0.85), ((100.0, y), (400.0, y)), False) for y in (200, 250, 300)
    ]
    ticks = [_word(str(v), 84.0, y - 4.0 + 1.8, 12.0) for v, y in ((0, 300), (50, 250), (100, 200))]
    bars = [_rect(140.0, 220.0, 170.0, 300.0), _rect(290.0, 260.0, 320.0, 300.0)]
    words = [
        *ticks,
        _word("80.0", 145.0, 210.0),
        _word("合计", 147.0, 305.0),
        _word("云计算", 293.0, 305.0, 24.0),
        _word("服务", 297.0, 314.0),
        _word("合同额", 222.0, 330.0, 24.0),
    ]
    legend_patch = _rect(205.0, 331.0, 217.0, 337.0)
    drawing = Drawing((60.0, 150.0, 440.0, 345.0), tuple(words), (*grid, *bars, legend_patch))
    reading = read_cartesian(drawing, find_legend(drawing), fallback_name="标题")
    got = [(p.series, p.category, p.value, p.value_origin) for p in reading.points]
    assert got == [("合同额", "合计", 80.0, "label"), ("合同额", "云计算服务", 40.0, "geometry")]
    assert reading.problems == []


def test_pages_pdfium_numbers_differently_give_no_image(tmp_path: Path) -> None:
    """A page listed twice in the page tree: pdfium counts it, pdfminer does not, and page N of one is not
    page N of the other. No figure image may then be rendered or read from pdfium (it would be another
    page's chart, and a cold OCR of it once cost more than a gigabyte); each figure says why."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf (test extra) builds the damaged page tree")
    import pdfplumber
    import pypdfium2

    from tests.conftest import REPORT_PDF

    reader, writer = pypdf.PdfReader(REPORT_PDF), pypdf.PdfWriter()
    for n in (1, 27, 28):  # 图1-1 on page 27 is a raster chart, 图1-2 on page 28 too
        writer.add_page(reader.pages[n - 1])
    sound = tmp_path / "sound.pdf"
    writer.write(sound)
    data = sound.read_bytes()
    # The same page listed twice: /Kids [A B C] becomes [A B B C] with /Count 4.
    pages = writer._root_object["/Pages"]  # noqa: SLF001 - the tree pypdf wrote
    kids = [k.idnum for k in pages["/Kids"]]
    old = f"/Kids [ {kids[0]} 0 R {kids[1]} 0 R {kids[2]} 0 R ]".encode()
    assert old in data, data[:2000]
    new = f"/Kids [ {kids[0]} 0 R {kids[1]} 0 R {kids[1]} 0 R {kids[2]} 0 R ]".encode()
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data.replace(old, new).replace(b"/Count 3", b"/Count 4"))
    with pdfplumber.open(damaged) as pdf:
        seen_by_pdfminer = len(pdf.pages)
        lines = {p.page_number: page_lines(p) for p in pdf.pages}
        assert seen_by_pdfminer != len(pypdfium2.PdfDocument(damaged)), "the damage must split the readers"
        records = extract_figures(pdf, lines, tmp_path / "img", CAPTION_RE, cache_dir=tmp_path / "cache")
    assert records, "the figures are still found from the page tree's text"
    for record in records:
        assert record.image_path is None and not record.points, record
        assert any("image reader sees" in p for p in record.problems), record.problems
    with pdfplumber.open(sound) as pdf:
        lines = {p.page_number: page_lines(p) for p in pdf.pages}
        records = extract_figures(pdf, lines, tmp_path / "img2", CAPTION_RE, cache_dir=tmp_path / "cache2")
    assert records and all(r.image_path for r in records), "sound pages keep their images"
