"""The fast fuzz subset: seeded mutants of the samples, each run in its own interpreter, none may end in
a traceback, a hang, a memory blow-up or a silent loss. benchmarks/fuzz.py is the long sweep.

Bases: the notice (13 pages, tables) and five pages of the annual report (title pages and three
figures), so figures and pdfium rendering are exercised too. About a minute on two cores.
"""

from __future__ import annotations

import io
import sys

import pytest

from tests.conftest import NOTICE_PDF, REPORT_PDF
from tests.fuzz.harness import FAILING, Job, compare, judge, run_child, sweep
from tests.fuzz.mutations import MUTATIONS, Base, mutate

# (mutation, seed): every family once or twice, and every case the issue names.
SUBSET = [
    ("kids_point_back_at_pages", 1), ("kids_nested_loop", 1), ("kids_duplicate_page", 1), ("page_deleted", 1),
    ("page_type_damaged", 1), ("count_huge", 1), ("catalog_pages_broken", 2), ("object_self_reference", 1),
    ("objects_reference_each_other", 1), ("info_bad_type", 3), ("title_bad_type", 1), ("title_markup", 1),
    ("content_stream_flip", 1), ("content_decoded_flip", 1), ("content_unbalanced", 1), ("content_bad_operands", 1),
    ("tounicode_broken", 1), ("font_program_broken", 1), ("font_dict_bad", 1), ("resources_loop", 1),
    ("xref_flip", 1), ("xref_missing", 1), ("original_xref_flip", 1), ("truncated_eof_kept", 1),
    ("random_bytes_50", 1), ("stream_length_wrong", 1), ("page_boxes_bad", 1), ("image_broken", 1),
    ("startxref_wrong", 1), ("pages_type_damaged", 1),
]  # fmt: skip
ON_ORIGINAL = {"truncated", "truncated_eof_kept", "random_bytes_50", "random_bytes_block", "original_xref_flip"}


def _report_pages() -> bytes:
    import pypdf

    reader, writer = pypdf.PdfReader(REPORT_PDF), pypdf.PdfWriter()
    for n in (1, 2, 3, 27, 28):
        writer.add_page(reader.pages[n - 1])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> list[Job]:  # type: ignore[no-untyped-def]
    pytest.importorskip("pypdf", reason="pypdf (test extra) normalizes the bases")
    work = tmp_path_factory.mktemp("fuzz")
    bases = [Base("city_evaluation_2021", NOTICE_PDF.read_bytes()), Base("annual_report_pages", _report_pages())]
    out = []
    for k, base in enumerate(bases):
        baselines = {}
        for original in (True, False):
            path = work / f"{base.name}.{'original' if original else 'normalized'}.pdf"
            path.write_bytes(base.original if original else base.normalized)
            status, detail, _, _, summary = run_child(path)
            assert status == "ok" and summary and summary["outcome"] == "result", (path, detail, summary)
            baselines[original] = summary
        subset = SUBSET if k == 0 else SUBSET[k::3]  # the report pages: a third of the mutations, for time
        for name, seed in subset:
            path = work / f"{base.name}.{name}.{seed}.pdf"
            path.write_bytes(mutate(base, name, seed))
            out.append(Job(f"{base.name} {name} #{seed}", path, baselines[name in ON_ORIGINAL]))
    return out


def test_no_mutant_sinks_extraction(jobs):
    result = sweep(jobs, workers=2, timeout=180)
    table = result.table(f"fast fuzz subset ({len(jobs)} mutants)")
    print("\n" + table, file=sys.stderr)
    failures = "\n".join(f"{r.outcome}: {r.label}: {r.detail}" for r in result.failures)
    assert not result.failures, f"{table}\n{failures}"
    counts = result.counts()
    # The subset is not all clean results: named errors and reported losses show its teeth.
    assert counts["named error"] >= 3 and counts["reported loss"] >= 5, table


def test_the_subset_covers_every_mutation_family():
    families = {name.split("_")[0] for name in MUTATIONS}
    assert families <= {name.split("_")[0] for name, _ in SUBSET}, families


# --- the harness itself can fail ---------------------------------------------------------------------


def _summary(**changes: object) -> dict:
    base = {
        "outcome": "result", "pages": 13, "problems": [], "complete": True,
        "tables": [{"id": "附1-1", "dataset": "city_scores", "caption": "c", "pages": [9, 10], "rows": 38, "cols": 11,
                    "filled": 417, "digest": "a"}],
        "figures": [{"id": "图1-1", "page": 2, "kind": "raster", "points": 0, "image": True, "problems": []}],
    }  # fmt: skip
    return {**base, **changes}


def test_compare_finds_losses_and_alterations():
    baseline = _summary()
    lost_page = _summary(pages=12, tables=[{**baseline["tables"][0], "pages": [8, 9]}])
    assert compare(baseline, lost_page)[0] == ["pages 13 -> 12", "table 附1-1 pages [9, 10] -> [8, 9]"]
    assert compare(baseline, _summary(figures=[]))[0] == ["figure 图1-1 missing"]
    assert compare(baseline, _summary(tables=[{**baseline["tables"][0], "digest": "b"}])) == (
        [], ["table 附1-1 cells differ"]
    )
    assert compare(baseline, baseline) == ([], [])


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("import time; time.sleep(30)", "hang"),
        ("raise KeyError('boom')", "traceback"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "traceback"),
        ("b = bytearray(400 << 20); import time; time.sleep(10)", "memory"),
    ],
    ids=["hang", "exception", "signal", "memory"],
)
def test_the_harness_classifies_what_goes_wrong(tmp_path, code, outcome):
    status, detail, seconds, peak, _ = run_child(
        tmp_path / "x.pdf", timeout=2, memory_limit=200 << 20, command=[sys.executable, "-c", code]
    )
    assert status == outcome, detail
    assert seconds < 10


def test_a_loss_is_silent_unless_a_problem_says_so():
    baseline = _summary()
    lost = _summary(pages=12)
    assert judge("x", baseline, "ok", "", 1.0, 100.0, lost).outcome == "silent loss"
    said = _summary(pages=12, complete=False, problems=[{"page": None, "kind": "page_tree", "problem": "p"}])
    assert judge("x", baseline, "ok", "", 1.0, 100.0, said).outcome == "reported loss"
    assert "silent loss" in FAILING and "reported loss" not in FAILING
