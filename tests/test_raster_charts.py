"""Raster charts read from their pixels: OCR with the models inside rapidocr's wheel and the network
blocked, every sample point right or withheld (none published wrong), proofs that catch corrupted
labels, provenance in chart_series, the audit report's withheld points, and the cache."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from benchmarks.chart_score import Score, score_all
from extractors import ocr
from extractors.chart_cache import ChartCache
from extractors.chart_reading import read_chart
from extractors.datasets import curate
from extractors.figures import extract_figures
from extractors.layout import page_lines
from extractors.model import ExtractionResult, FigureRecord
from extractors.raster_chart import read_raster_chart, read_raster_image
from extractors.raster_drawing import raster_drawing, trace
from extractors.raster_image import region_image
from schemas.chart_flags import chart_flags, chart_flags_html
from schemas.report import write_report
from schemas.validate import ValidationRun
from tests.conftest import REPORT_PDF

CAPTION_RE = re.compile(r"^图\s*(?P<number>\d+-\d+)\s*(?P<title>.+)$")
RASTER_POINTS = 683
# The replica's charts read 677 of 683 right on this machine (benchmarks/charts.py); a CPU with other
# floating-point rounding may move a borderline OCR confidence, so the test holds 98.5% and no wrong one.
MIN_RIGHT = int(0.985 * RASTER_POINTS)


@pytest.fixture(scope="module")
def records(report_pdf, tmp_path_factory) -> list[FigureRecord]:
    lines = {p.page_number: page_lines(p) for p in report_pdf.pages}
    return extract_figures(report_pdf, lines, tmp_path_factory.mktemp("figures"), CAPTION_RE)


@pytest.fixture(scope="module")
def by_id(records) -> dict[str, FigureRecord]:
    return {r.figure_id: r for r in records}


def raster_truth(report_truth) -> list[dict]:
    return [f for f in report_truth["figures"] if f["render"] == "raster"]


def test_the_ocr_models_are_the_wheels_own():
    """The pinned rapidocr ships its PP-OCR detection and recognition models; we load them by path and
    check them against the package's own model table, so nothing can send it looking for a download."""
    import rapidocr

    package = Path(rapidocr.__file__).resolve().parent
    table = (package / "default_models.yaml").read_text(encoding="utf-8")
    for path in ocr.bundled_models().values():
        assert path.parent == package / "models" and path.stat().st_size > 1_000_000
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"/{path.name}" in table and digest in table


def test_a_chart_is_read_with_the_network_blocked(report_pdf, by_id, report_truth, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    models = ocr.model_dir()
    before = sorted(p.name for p in models.iterdir())
    ocr.chart_ocr.cache_clear()  # a fresh engine, made under the block
    try:
        record = by_id["图1-1"]
        raster = read_raster_chart(report_pdf.pages[record.page - 1], record.bbox, fallback_name=record.title)
    finally:
        ocr.chart_ocr.cache_clear()
    truth = next(t for t in report_truth["figures"] if t["id"] == "图1-1")
    got = {(p.series, p.category): p.value for p in raster.reading.points}
    want = {(s["name"], p["category"]): round(p["value"], p["decimals"]) for s in truth["series"] for p in s["points"]}
    assert got == want
    assert sorted(p.name for p in models.iterdir()) == before  # nothing fetched into the package either


def test_every_raster_point_is_right_or_withheld(records, report_truth):
    total = Score()
    for score in score_all(records, raster_truth(report_truth)).values():
        total.add(score)
    assert total.total == RASTER_POINTS
    assert total.wrong == 0 and total.missed == 0, total.wrong_points
    assert total.right >= MIN_RIGHT, (total.right, total.flagged)


def test_withheld_points_say_why_and_are_not_published(records):
    flagged = [(r, f) for r in records for f in r.flagged]
    assert flagged, "the replica's crossing lines hide some labels; those points must be withheld"
    for record, f in flagged:
        assert f.reasons and all(isinstance(w, str) and w for w in f.reasons)
        assert (f.point.series, f.point.category) not in {(p.series, p.category) for p in record.points}


def test_chart_series_rows_carry_provenance(records):
    result = ExtractionResult("report.pdf", "0" * 64, 91, "annual_report", 2021, figures=records)
    frame = curate(result, "report").frames["chart_series"]
    by_id = {r.figure_id: r for r in records}
    raster = frame[frame["figure_id"].map(lambda f: by_id[f].kind == "raster")]
    assert len(raster) == sum(len(r.points) for r in records if r.kind == "raster")
    for row in raster.itertuples():
        record = by_id[row.figure_id]
        assert row.page == record.page and row.crop_sha256 == record.crop_sha256
        x0, top, x1, bottom = row.bbox
        assert record.bbox[0] - 1 <= x0 < x1 <= record.bbox[2] + 1
        assert record.bbox[1] - 1 <= top < bottom <= record.bbox[3] + 1
        assert row.value_origin == "label"


def _corrupted(report_pdf, record: FigureRecord, changes: dict[str, str]):
    image = region_image(report_pdf.pages[record.page - 1], record.bbox)
    traced = trace(image)
    texts = ocr.chart_ocr().read(traced.for_ocr(), 1.0 / image.pixel)
    assert set(changes) <= {t.text for t in texts}
    texts = [replace(t, text=changes.get(t.text, t.text)) for t in texts]
    return read_chart(raster_drawing(traced, texts), record.title)


@pytest.mark.parametrize(
    ("figure_id", "printed", "misread", "withheld"),
    [
        # A leading digit wrong: the bar's height disagrees.
        ("图1-1", "1430.0", "1930.0", {("执行额", "2018")}),
        # A last digit wrong, too small for the pixels to see: the growth line disagrees with it.
        ("图1-1", "1430.0", "1436.0", {("执行额", "2018")}),
        # Digits lost (a line drawn through the label): fewer decimals than the rest of the series.
        ("图1-1", "13.4", "13", {("执行额增速", "2018")}),
        # One share of a structure misread: the year's shares no longer sum to 100.
        ("图14-1", "29.5", "29.8", {("ITO", "2016"), ("BPO", "2016"), ("KPO", "2016")}),
    ],
)
def test_a_misread_label_is_withheld_not_published(report_pdf, by_id, figure_id, printed, misread, withheld):
    reading = _corrupted(report_pdf, by_id[figure_id], {printed: misread})
    flagged = {(f.point.series, f.point.category) for f in reading.flagged}
    published = {(p.series, p.category): p.value for p in reading.points}
    assert withheld <= flagged
    assert not any(key in published for key in withheld)
    assert float(misread) not in {v for k, v in published.items() if k in withheld}


def test_an_unchanged_pdf_is_not_read_again(report_pdf, records, monkeypatch, tmp_path):
    """The module's records filled the session's cache; a second extraction must not reach the OCR."""

    def no_ocr():
        raise AssertionError("the OCR ran on a cached chart")

    monkeypatch.setattr(ocr, "chart_ocr", no_ocr)
    monkeypatch.setattr("extractors.raster_chart.chart_ocr", no_ocr)
    lines = {p.page_number: page_lines(p) for p in report_pdf.pages}
    again = extract_figures(report_pdf, lines, tmp_path, CAPTION_RE)
    assert [(r.figure_id, repr(r.points), repr(r.flagged)) for r in again] == [
        (r.figure_id, repr(r.points), repr(r.flagged)) for r in records
    ]


def test_a_changed_pdf_whose_charts_did_not_change_is_not_read_again(report_pdf, records, monkeypatch, tmp_path):
    """Other bytes (here a comment after %%EOF, as a re-save or an edit elsewhere leaves), the same pixels:
    the readings come from the pixel store, not the OCR."""

    def no_ocr():
        raise AssertionError("the OCR ran on charts whose pixels were read before")

    changed = tmp_path / "resaved.pdf"
    changed.write_bytes(REPORT_PDF.read_bytes() + b"\n% re-saved\n")
    monkeypatch.setattr(ocr, "chart_ocr", no_ocr)
    monkeypatch.setattr("extractors.raster_chart.chart_ocr", no_ocr)
    with pdfplumber.open(changed) as pdf:
        lines = {p.page_number: page_lines(p) for p in pdf.pages}
        again = extract_figures(pdf, lines, tmp_path / "images", CAPTION_RE)
    assert [(r.figure_id, repr(r.points), repr(r.flagged)) for r in again] == [
        (r.figure_id, repr(r.points), repr(r.flagged)) for r in records
    ]


def test_the_cache_is_keyed_on_the_pdf_and_the_reader(tmp_path):
    cache = ChartCache(tmp_path, "a" * 64, "raster-1+x")
    cache.put("1:0,0,1,1:t", {"points": [], "flagged": [], "problems": [], "crop_sha256": "c"})
    cache.save()
    assert ChartCache(tmp_path, "a" * 64, "raster-1+x").get("1:0,0,1,1:t") is not None
    assert ChartCache(tmp_path, "a" * 64, "raster-2+x").get("1:0,0,1,1:t") is None
    assert ChartCache(tmp_path, "b" * 64, "raster-1+x").get("1:0,0,1,1:t") is None
    (tmp_path / f"{'a' * 64}-raster-1_x.json").write_text("{not json", encoding="utf-8")
    assert ChartCache(tmp_path, "a" * 64, "raster-1+x").get("1:0,0,1,1:t") is None


def test_the_audit_report_shows_withheld_points_outlined(report_pdf, records, tmp_path):
    result = ExtractionResult("report.pdf", "0" * 64, 91, "annual_report", 2021, figures=records)
    curated = {"report": curate(result, "report")}
    entries = chart_flags(curated, lambda _s, n: report_pdf.pages[n - 1], tmp_path)
    assert entries and sum(len(e["points"]) for e in entries) == sum(len(r.flagged) for r in records)
    for entry in entries:
        with Image.open(tmp_path / entry["image"]) as image:
            pixels = np.asarray(image.convert("RGB")).astype(int)
        red = (pixels[:, :, 0] > 180) & (pixels[:, :, 1] < 60) & (pixels[:, :, 2] < 60)
        blue = (pixels[:, :, 2] > 150) & (pixels[:, :, 0] < 60) & (pixels[:, :, 1] < 120)
        assert red.any() and blue.any(), entry["figure_id"]
    html = chart_flags_html(entries)
    assert all(e["figure_id"] in html for e in entries)
    page = write_report(ValidationRun([], {}), curated, {}, tmp_path / "reports", "run-1")
    assert "Chart points withheld" in page.read_text(encoding="utf-8")
    content = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    assert len(content["chart_points_withheld"]) == len(entries)


def test_a_region_rendered_rather_than_embedded_reads_the_same(report_pdf, by_id):
    """Pixels re-rendered from the page (as for a clipped or rotated image) give the same values."""
    from extractors.raster_image import RegionImage, _rendered, open_document

    record = by_id["图4-2"]
    document = open_document(report_pdf.pages[0])
    try:
        page = document[record.page - 1]
        rendered: RegionImage = _rendered(
            page, record.bbox, 200 / 72, float(report_pdf.pages[0].width), float(report_pdf.pages[0].height)
        )
    finally:
        document.close()
    reading = read_raster_image(rendered, record.title).reading
    assert {(p.series, p.category, p.value) for p in reading.points} <= {
        (p.series, p.category, p.value) for p in record.points
    }
    assert len(reading.points) >= len(record.points) - 1
