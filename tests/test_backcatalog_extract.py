"""Editions of the generated back catalogue (samples/backcatalog) that are typeset unlike the variants'
data: read cell by cell against their truth, as tests/test_variants_extract.py reads the variants.

- annual_report_2020: 表3-1 unruled with gutters of 0.4 em, narrower than a word gap, so that a row of
  figures reads as one run of text as wide as the table (the shape of prose) and the header's years are
  wrapped over 年;
- annual_report_2021-alt1: 表10-1's group labels over their sub-labels with no rule between them;
- city_evaluation_2019-alt1: 附1-2's last row (平均) alone on the next page, under a repeated header whose
  wrapped two levels read as one row (the header took the row, and it came out as a table of its own);
- city_evaluation_2017-alt1 (unruled): 平均值 centred under 序号 and 城市, in the gutter between them, read
  as a column of its own (附2-1), and, alone on a page with one row above it, under 城市 (附1-1's
  continuation found as many columns as the first page, in other places);
- city_evaluation_2018-alt2 (unruled, narrow gutters): 序 wider than the single digits under it reached over
  the river's middle, so 序号 and 城市 read as one label (附2-2); and 附2-3, four rows and 平均值 under
  a three-level header, lost every column of figures: its rows of figures and its stacked header labels
  segmented like sentences, so they were cut as running text beside the table, and 平均值 hid the rank
  column's gutter, narrower than a short table's rivers must be.
"""

from __future__ import annotations

import json
import os

import pytest

from extractors.extract import extract_pdf
from tests.test_variants_extract import _wrong

SHAPES = (
    "annual_report_2020",
    "annual_report_2021-alt1",
    "city_evaluation_2019-alt1",
    "city_evaluation_2017-alt1",
    "city_evaluation_2018-alt2",
)


def _editions() -> tuple[str, ...]:
    """The editions above; SOETL_BACKCATALOG=all reads every edition of the catalogue (46 PDFs, a minute or two
    on two cores), as tests/test_backcatalog_build.py builds them all."""
    if os.environ.get("SOETL_BACKCATALOG") != "all":
        return SHAPES
    from samples.backcatalog import catalogue

    return tuple(e.id for e in catalogue())


EDITIONS = _editions()


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> dict[str, tuple]:
    from samples.backcatalog import build_all, catalogue

    out = tmp_path_factory.mktemp("backcatalog-extract")
    build_all(out, [e for e in catalogue() if e.id in EDITIONS], jobs=2)
    return {e: (out / f"{e}.pdf", json.loads((out / f"{e}.json").read_text(encoding="utf-8"))) for e in EDITIONS}


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_cell_of_the_edition_is_read(editions, edition):
    pdf, truth = editions[edition]
    result = extract_pdf(pdf)
    wrong = _wrong(result, truth)
    assert not wrong, wrong[:6]
    assert not [p for p in result.problems if p.kind], result.problems
