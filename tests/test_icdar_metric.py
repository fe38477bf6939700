"""The ICDAR 2013 structure metric (benchmarks/icdar_metric.py) on hand-made tables, and the benchmark
harness's handling of soetl's result document and of tools that fail. Every expected figure below is
counted by hand in the comments; nothing here reads ../shared."""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from benchmarks import icdar2013
from benchmarks.icdar_metric import (
    Cell,
    Region,
    Table,
    grid_cells,
    load_truth,
    match_tables,
    normalise,
    overlap,
    parse_structure,
    relations,
    score_alternatives,
    score_document,
    summarise,
)

FIXTURES = Path(__file__).parent / "fixtures" / "icdar"

# The 3 x 3 ground truth used throughout: 6 horizontal + 6 vertical relations = 12.
GRID = [["A", "B", "C"], ["1", "2", "3"], ["4", "5", "6"]]
BOX = (100.0, 100.0, 300.0, 160.0)
ELSEWHERE = (100.0, 500.0, 300.0, 560.0)


def table(rows: list[list[object]], box=BOX, page: int = 1, id: str = "") -> Table:
    return Table(grid_cells(rows), [Region(page, box)], id)


def approx(value: Fraction | float) -> object:
    return pytest.approx(float(value), abs=1e-12)


def test_relations_of_a_plain_grid() -> None:
    assert relations(grid_cells(GRID)) == Counter(
        {
            ("A", "B", "h"): 1, ("B", "C", "h"): 1, ("1", "2", "h"): 1, ("2", "3", "h"): 1,
            ("4", "5", "h"): 1, ("5", "6", "h"): 1,
            ("A", "1", "v"): 1, ("1", "4", "v"): 1, ("B", "2", "v"): 1, ("2", "5", "v"): 1,
            ("C", "3", "v"): 1, ("3", "6", "v"): 1,
        }
    )  # fmt: skip


def test_blank_cells_are_looked_through_and_relate_to_nothing() -> None:
    # A _ C / _ _ _ / 4 5 _ : A-C (h), 4-5 (h), A-4 (v); C has nothing below, 5 nothing above.
    got = relations(grid_cells([["A", None, "C"], ["", " ", "\n"], ["4", "5", ""]]))
    assert got == Counter({("A", "C", "h"): 1, ("4", "5", "h"): 1, ("A", "4", "v"): 1})


def test_a_spanning_cell_relates_to_every_neighbour_along_its_edges() -> None:
    # "T" spans rows 0-1 at column 0; "a" (row 0) and "b" (row 1) are on its right, "c" below it.
    # h: T-a, T-b; v: a-b, T-c; b has nothing below it (row 2 has only c). Each pair once.
    cells = [Cell(0, 0, "T", row_span=2), Cell(0, 1, "a"), Cell(1, 1, "b"), Cell(2, 0, "c")]
    assert relations(cells) == Counter({("T", "a", "h"): 1, ("T", "b", "h"): 1, ("a", "b", "v"): 1, ("T", "c", "v"): 1})
    # A cell spanning two columns over one neighbour relates to it once, not once per column.
    assert relations([Cell(0, 0, "H", col_span=2), Cell(1, 0, "x", col_span=2)]) == Counter({("H", "x", "v"): 1})


def test_text_is_compared_without_whitespace_and_after_nfkc() -> None:
    assert normalise(" to air\nkg/year ") == "toairkg/year"
    assert normalise("e\ufb03cient\u00a0use") == "efficientuse"  # ligature and no-break space
    assert normalise("soft\u00adhyphen") == "softhyphen"  # invisible format characters dropped
    assert normalise(None) == ""
    assert normalise("Total") != normalise("total")  # no case folding


def test_a_perfect_result_scores_one() -> None:
    doc = score_document([table(GRID, id="1")], [table(GRID)])
    assert (doc.correct, doc.truth, doc.result) == (12, 12, 12)
    assert (doc.precision, doc.recall, doc.f1) == (1.0, 1.0, 1.0)
    # A line break inside a cell and an extra empty column change nothing: blanks make no relations.
    truth = [["Name", "Value"], ["long name", "7"]]
    wrapped = [["Name", "Value", ""], ["long\nname", "7", None]]
    assert score_document([table(truth)], [table(wrapped)]).f1 == 1.0


def test_a_merged_column_lowers_precision_and_recall() -> None:
    # B and C read as one column: A|BC, 1|23, 4|56. Result relations: 3 h + 4 v = 7; of them only
    # A-1 and 1-4 (column 0, unchanged) are in the truth. P = 2/7, R = 2/12, F1 = 4/19.
    merged = [["A", "B C"], ["1", "2 3"], ["4", "5 6"]]
    doc = score_document([table(GRID)], [table(merged)])
    assert (doc.correct, doc.truth, doc.result) == (2, 12, 7)
    assert doc.precision == approx(Fraction(2, 7))
    assert doc.recall == approx(Fraction(1, 6))
    assert doc.f1 == approx(Fraction(4, 19))


def test_a_split_row_lowers_precision_and_recall() -> None:
    # Truth: Name|Value, long name|7, other|8: 3 h + 4 v = 7 relations.
    # The tool splits "long name" over two rows: Name|Value, long|7, name|_, other|8.
    # Result: h Name-Value, long-7, other-8; v Name-long, long-name, name-other, Value-7, 7-8 = 8.
    # Correct: Name-Value, other-8, Value-7, 7-8 = 4. P = 4/8, R = 4/7, F1 = 8/15.
    truth = [["Name", "Value"], ["long name", "7"], ["other", "8"]]
    split = [["Name", "Value"], ["long", "7"], ["name", None], ["other", "8"]]
    doc = score_document([table(truth)], [table(split)])
    assert (doc.correct, doc.truth, doc.result) == (4, 7, 8)
    assert doc.f1 == approx(Fraction(8, 15))


def test_a_missing_table_lowers_recall_only() -> None:
    # Two truth tables (12 + 7 relations); the result has the first one only, perfect.
    # P = 12/12, R = 12/19, F1 = 24/31.
    second = [["Name", "Value"], ["long name", "7"], ["other", "8"]]
    doc = score_document([table(GRID, id="1"), table(second, ELSEWHERE, id="2")], [table(GRID)])
    assert (doc.correct, doc.truth, doc.result) == (12, 19, 12)
    assert [t.result_index for t in doc.tables] == [0, None]
    assert doc.f1 == approx(Fraction(24, 31))


def test_an_extra_table_lowers_precision_only() -> None:
    # A 2 x 2 non-table found elsewhere: 4 relations, all false. P = 12/16, R = 1, F1 = 6/7.
    doc = score_document([table(GRID)], [table([["p", "q"], ["r", "s"]], ELSEWHERE), table(GRID)])
    assert (doc.correct, doc.truth, doc.result) == (12, 12, 16)
    assert doc.false_positives == [(0, 4)]
    assert doc.f1 == approx(Fraction(6, 7))


def test_a_spanning_cell_read_as_one_slot_loses_one_relation() -> None:
    # Truth: blank | H spanning columns 1-2 / X a b / Y c d.
    # h: X-a, a-b, Y-c, c-d; v: X-Y, H-a, H-b, a-c, b-d: 9 relations.
    # A tool without spans puts "H" in column 1 and leaves column 2 blank: H-b is lost, nothing wrong
    # is added. P = 8/8, R = 8/9, F1 = 16/17. Reading the span right scores 1.
    truth = Table([Cell(0, 1, "H", col_span=2), *grid_cells([[], ["X", "a", "b"], ["Y", "c", "d"]])], [Region(1, BOX)])
    flat = [["", "H", ""], ["X", "a", "b"], ["Y", "c", "d"]]
    doc = score_document([truth], [table(flat)])
    assert (doc.correct, doc.truth, doc.result) == (8, 9, 8)
    assert doc.f1 == approx(Fraction(16, 17))
    spanned = Table([Cell(0, 1, "H", 1, 2), *grid_cells([[], ["X", "a", "b"], ["Y", "c", "d"]])], [Region(1, BOX)])
    assert score_document([truth], [spanned]).f1 == 1.0


def test_identical_texts_count_as_a_multiset() -> None:
    # "-" above "-" twice in the truth; a result having that relation once scores it once.
    truth = [["x", "y"], ["-", "-"], ["-", "-"]]  # v: x-(-), y-(-), (-)-(-) twice; h: x-y, (-)-(-) twice
    assert relations(grid_cells(truth))[("-", "-", "v")] == 2
    assert relations(grid_cells(truth))[("-", "-", "h")] == 2
    result = [["x", "y"], ["-", "-"], ["", ""]]
    doc = score_document([table(truth)], [table(result)])
    assert (doc.correct, doc.truth, doc.result) == (4, 7, 4)


def test_tables_are_matched_by_region_one_to_one() -> None:
    truth = [table(GRID, BOX, id="1"), table(GRID, ELSEWHERE, id="2")]
    # Result 0 lies on truth 2, result 1 on truth 1 (order does not matter), result 2 on another page.
    results = [table(GRID, ELSEWHERE), table(GRID, (110.0, 105.0, 290.0, 150.0)), table(GRID, BOX, page=2)]
    assert [(t, r) for t, r, _ in match_tables(truth, results)] == [(0, 1), (1, 0)]
    doc = score_document(truth, results)
    assert (doc.correct, doc.truth, doc.result) == (24, 24, 36)
    assert doc.false_positives == [(2, 12)]


def test_one_result_covering_two_truth_tables_matches_the_one_it_overlaps_most() -> None:
    # Truth tables side by side; the result box covers all of the first and a sliver of the second.
    left, right = (0.0, 0.0, 100.0, 100.0), (110.0, 0.0, 210.0, 100.0)
    truth = [table(GRID, left, id="L"), table(GRID, right, id="R")]
    both = table(GRID, (0.0, 0.0, 120.0, 100.0))
    assert [(t, r) for t, r, _ in match_tables(truth, [both])] == [(0, 0)]
    doc = score_document(truth, [both])
    assert (doc.correct, doc.truth, doc.result) == (12, 24, 12)


def test_overlap_counts_the_characters_inside_the_regions() -> None:
    # Characters decide, not areas: a generous box around the same characters overlaps fully.
    chars = {1: [(110.0, 110.0, 115.0, 118.0), (200.0, 110.0, 205.0, 118.0), (120.0, 600.0, 125.0, 608.0)]}
    truth = table(GRID, BOX)
    wide = table(GRID, (50.0, 50.0, 400.0, 300.0))
    assert overlap(truth, wide, chars) == 1.0
    assert overlap(truth, wide) == pytest.approx((200 * 60) / (350 * 250))  # area Jaccard without chars
    half = table(GRID, (100.0, 100.0, 150.0, 160.0))  # holds 1 of the truth's 2 characters
    assert overlap(truth, half, chars) == 0.5
    assert overlap(truth, table(GRID, ELSEWHERE), chars) == 0.0


def test_documents_are_averaged_and_f1_is_taken_from_the_averages() -> None:
    second = [["Name", "Value"], ["long name", "7"], ["other", "8"]]
    missing = score_document([table(GRID), table(second, ELSEWHERE)], [table(GRID)])  # P 1, R 12/19
    merged = score_document([table(GRID)], [table([["A", "B C"], ["1", "2 3"], ["4", "5 6"]])])  # 2/7, 1/6
    s = summarise([missing, merged])
    p, r = (1 + Fraction(2, 7)) / 2, (Fraction(12, 19) + Fraction(1, 6)) / 2
    assert (s.precision, s.recall) == (approx(p), approx(r))
    assert s.f1 == approx(2 * p * r / (p + r))  # about 0.495
    assert s.mean_f1 == approx((Fraction(24, 31) + Fraction(4, 19)) / 2)  # about 0.492
    # Pooled: 14 correct of 12 + 7 result and of 19 + 12 truth relations: F1 = 2 * 14 / (19 + 31).
    assert s.micro_f1 == approx(Fraction(28, 50))
    assert (s.truth_tables, s.matched_tables, s.result_tables) == (3, 2, 2)


def test_a_document_with_no_result_scores_zero_and_the_better_alternative_truth_is_kept() -> None:
    empty = score_document([table(GRID)], [])
    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)
    other = [["A", "B"], ["1", "2"]]  # an alternative reading of the same table
    best = score_alternatives([[table(GRID)], [table(other)]], [table(other)])
    assert (best.variant, best.f1) == (1, 1.0)


def test_the_competition_xml_is_read_with_spans_increments_and_top_left_regions() -> None:
    structure = (FIXTURES / "tiny-str.xml").read_text(encoding="utf-8")
    regions = (FIXTURES / "tiny-reg.xml").read_text(encoding="utf-8")
    parsed = parse_structure(structure)
    assert [(t, len(cells), pages) for t, cells, pages in parsed] == [("1", 7, [1]), ("2", 3, [2])]
    header = parsed[0][1][0]
    assert (header.row, header.col, header.row_span, header.col_span) == (0, 1, 1, 2)  # row-increment -1
    assert [(c.col, c.text) for c in parsed[1][1]] == [(0, "a"), (1, "b"), (2, "c")]  # col-increment 2
    truth = load_truth(structure, regions, {1: 800.0, 2: 800.0})
    assert truth[0].regions == [Region(1, (100.0, 90.0, 250.0, 130.0))]
    # Table 1: h X-1, 1-2, Y-4 (the blank is looked through); v X-Y, H-1, H-2, 2-4 = 7. Table 2: a-b, b-c.
    assert [sum(relations(t.cells).values()) for t in truth] == [7, 2]
    assert relations(truth[0].cells)[("Releasestoair", "2", "v")] == 1


# --- the harness (benchmarks/icdar2013.py) -----------------------------------------------------------


def test_soetl_result_document_is_read_with_spans_and_pieces() -> None:
    # A document shaped as extractors.document.result_document promises (issue 10).
    document = {
        "source": "x.pdf", "sha256": "0" * 64, "kind": "generic", "pages": 2, "problems": [],
        "tables": [
            {"id": "t1", "caption": None, "page": 1, "bbox": list(BOX), "header_rows": 1,
             "cells": [{"row": 0, "col": 1, "row_span": 1, "col_span": 2, "text": "H"},
                       {"row": 1, "col": 0, "row_span": 1, "col_span": 1, "text": "X"},
                       {"row": 1, "col": 1, "row_span": 1, "col_span": 1, "text": "a"},
                       {"row": 1, "col": 2, "row_span": 1, "col_span": 1, "text": "b"}]},
            {"id": "t2", "caption": "Table 2", "page": 1, "bbox": [0, 700, 100, 800], "header_rows": 0,
             "cells": [{"row": 0, "col": 0, "row_span": 1, "col_span": 1, "text": "p"}],
             "pieces": [{"page": 1, "bbox": [0, 700, 100, 800]}, {"page": 2, "bbox": [0, 50, 100, 90]}]},
        ],
    }  # fmt: skip
    tables = icdar2013.tables_from_document(document)
    assert [t.id for t in tables] == ["t1", "t2"]
    assert tables[0].regions == [Region(1, BOX)]
    assert tables[0].cells[0] == Cell(0, 1, "H", 1, 2)
    assert tables[1].regions == [Region(1, (0.0, 700.0, 100.0, 800.0)), Region(2, (0.0, 50.0, 100.0, 90.0))]
    truth = Table([Cell(0, 1, "H", 1, 2), *grid_cells([[], ["X", "a", "b"]])], [Region(1, BOX)])
    doc = score_document([truth], tables)
    assert (doc.correct, doc.truth, doc.result) == (4, 4, 4)  # t2 has one cell: no relations


def _doc(name: str, half: str = "EU") -> icdar2013.Document:
    return icdar2013.Document(
        name, half, Path(f"/nowhere/{name}.pdf"), 2, [[table(GRID, id="1")]], {}, {1: (600.0, 800.0), 2: (600.0, 800.0)}
    )


def test_a_tool_failing_on_one_document_is_counted_and_the_run_goes_on(monkeypatch) -> None:
    def fake(tool: str, doc: icdar2013.Document, regions) -> list[Table]:
        if tool == "pdfplumber" and doc.name == "eu-002":
            raise RuntimeError("broken xref")
        if tool == "soetl":
            raise icdar2013.Unavailable("extract_pdf has no regions= parameter")
        return [table(GRID)] if regions is None else [table(GRID, regions[0].bbox)]

    monkeypatch.setattr(icdar2013, "run_tool", fake)
    docs = [_doc("eu-001"), _doc("eu-002"), _doc("us-001", "US")]
    runs = icdar2013.evaluate(docs, ["soetl", "pdfplumber"], ["detect", "regions"], pad=5.0)
    run = runs["detect"]["pdfplumber"]
    assert run.failures == ["eu-002: RuntimeError: broken xref"]
    assert [run.scores[d].f1 for d in ("eu-001", "eu-002", "us-001")] == [1.0, 0.0, 1.0]
    assert runs["regions"]["soetl"].unavailable == "extract_pdf has no regions= parameter"
    text = icdar2013.report(runs, docs)
    assert re.search(r"^soetl +not available \(extract_pdf has no regions= parameter\)$", text, re.M)
    assert "detect pdfplumber failed on eu-002: RuntimeError: broken xref" in text
    eu_rows = [line for line in text.splitlines() if line.startswith("pdfplumber")]
    # EU: (1 + 0) / 2 for P and R; US: 1; all: 2/3. One failure in EU, none in US.
    assert [line.split()[1:4] + [line.split()[-2]] for line in eu_rows[:3]] == [
        ["0.500", "0.500", "0.500", "1"], ["1.000", "1.000", "1.000", "0"], ["0.667", "0.667", "0.667", "1"]
    ]  # fmt: skip


def test_a_tool_raising_the_same_error_everywhere_is_reported_as_not_available(monkeypatch) -> None:
    def fake(tool, doc, regions):
        raise ValueError("kind 'generic' is not known")

    monkeypatch.setattr(icdar2013, "run_tool", fake)
    runs = icdar2013.evaluate([_doc("eu-001"), _doc("eu-002")], ["soetl"], ["detect"], pad=5.0)
    assert runs["detect"]["soetl"].unavailable.startswith("raised ValueError on every document")


def test_regions_are_padded_and_kept_on_the_page() -> None:
    assert icdar2013.padded(Region(3, (2.0, 10.0, 590.0, 795.0)), 5.0, 600.0, 800.0) == Region(
        3, (0.0, 5.0, 595.0, 800.0)
    )
