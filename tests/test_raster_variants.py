"""Raster charts drawn other ways than the replica's (samples/chart_variants): a representative few
are built here, with the bundled fonts, and read by the same extraction; the full set is in
benchmarks/charts.py. None may be published wrong."""

from __future__ import annotations

import re

import pdfplumber
import pytest

from benchmarks.chart_score import Score, score_figure
from extractors.figures import extract_figures
from extractors.layout import page_lines

CAPTION_RE = re.compile(r"^图\s*(?P<number>\d+-\d+)\s*(?P<title>.+)$")
# Another palette at 150 dpi, labels inside the bars, slanted category names, a stacked chart with a
# line in another palette and a serif font.
SUBSET = ("bar-line tab10 150dpi", "bar-line labels inside", "bar slanted 45", "stacked-line tab10 serif")


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    pytest.importorskip("matplotlib")
    from samples.chart_variants.build import VARIANTS, build

    chosen = [v for v in VARIANTS if v.name in SUBSET]
    assert len(chosen) == len(SUBSET)
    folder = tmp_path_factory.mktemp("variants")
    pdf_path, truth = build(folder, chosen)
    with pdfplumber.open(pdf_path) as pdf:
        lines = {p.page_number: page_lines(p) for p in pdf.pages}
        records = extract_figures(pdf, lines, folder / "images", CAPTION_RE, cache_dir=folder / "cache")
    return records, truth


def test_the_variants_are_raster_charts_with_their_captions(variants):
    records, truth = variants
    assert [r.figure_id for r in records] == [t["id"] for t in truth["figures"]]
    assert all(r.kind == "raster" for r in records)


def test_no_variant_point_is_published_wrong_or_lost(variants):
    records, truth = variants
    total = Score()
    for record, t in zip(records, truth["figures"], strict=True):
        score = score_figure(record, t)
        assert score.wrong == 0 and score.missed == 0, (t["variant"]["name"], score.wrong_points)
        total.add(score)
    assert total.right == total.total, (total.right, total.flagged)
