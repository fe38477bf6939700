"""The nightly flow under prefect_test_harness: retries, fallbacks, caching and the run's outcome."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from prefect import flow
from prefect.testing.utilities import prefect_test_harness

from flows.catalog import SourceEntry
from flows.pipeline import _land
from tests.conftest import NOTICE_PDF
from tests.httpserver import Server


@pytest.fixture(scope="module", autouse=True)
def harness(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    saved = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_SERVER_ANALYTICS_ENABLED", "SOETL_RETRY_DELAY")}
    os.environ.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", SOETL_RETRY_DELAY="0.05")
    with prefect_test_harness(server_startup_timeout=60):
        yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def prefect_log():
    """What the flow and task run loggers said (they do not propagate to the root logger pytest watches)."""
    handler = _Lines()
    logger = logging.getLogger("prefect")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def server():
    with Server(NOTICE_PDF.read_bytes(), flaky_failures=1) as srv:
        yield srv


@flow
def land_flow(source: SourceEntry, raw: Path):
    return _land(source, raw)


def test_a_500_then_200_is_retried_and_lands(server, tmp_path):
    outcome = land_flow(SourceEntry("notice", server.url("flaky.pdf")), tmp_path / "raw")
    assert outcome.fetch_error is None and outcome.landed.status == "downloaded"
    assert server.hits["/flaky.pdf"] == 2


def test_a_source_that_keeps_failing_falls_back_to_its_last_good_copy(server, tmp_path, prefect_log):
    raw = tmp_path / "raw"
    first = land_flow(SourceEntry("notice", server.url("report.pdf")), raw)
    assert first.landed.status == "downloaded"
    outcome = land_flow(SourceEntry("notice", server.url("always-500.pdf")), raw)
    assert server.hits["/always-500.pdf"] == 4, "one try and three retries"
    assert "HTTP 500" in outcome.fetch_error
    assert outcome.used_fallback and outcome.landed.sha256 == first.landed.sha256
    # The log and the error say when the retrying is over, not "will retry" after the last attempt.
    assert "attempt 1 of 4 failed: HTTP 500; will retry" in prefect_log.text
    assert "attempt 4 of 4 failed: HTTP 500; retries exhausted" in prefect_log.text
    assert "gave up after 4 attempts" in outcome.fetch_error and "will retry" not in outcome.fetch_error
    assert outcome.fetch_status == f"failed → last good copy from {first.landed.fetched_at[:10]}"


def test_a_permanent_failure_is_not_retried(server, tmp_path):
    outcome = land_flow(SourceEntry("notice", server.url("error-page.pdf")), tmp_path / "raw")
    assert server.hits["/error-page.pdf"] == 1
    assert "HTML page" in outcome.fetch_error and outcome.landed is None and not outcome.used_fallback
    assert shutil.disk_usage(tmp_path)  # the raw dir holds only the manifest's failure record
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["manifest.jsonl"]


def _catalog(tmp_path: Path, entries: list[tuple[str, str, str | None]]) -> Path:
    lines = []
    for source_id, url, kind in entries:
        lines += ["[[source]]", f'id = "{source_id}"', f'url = "{url}"']
        if kind:
            lines.append(f'kind = "{kind}"')
    path = tmp_path / "catalog.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory):
    """Both samples through the whole flow twice; the second run must re-extract nothing."""
    import time

    import flows.pipeline as pipeline
    from tests.conftest import REPORT_PDF

    data = tmp_path_factory.mktemp("data")
    catalog = _catalog(
        data, [("city_evaluation_2021", str(NOTICE_PDF), None), ("annual_report_2021", str(REPORT_PDF), None)]
    )
    calls: list[str] = []
    real = pipeline.extract_pdf

    def counting(*args, **kwargs):
        calls.append(str(args[0]))
        return real(*args, **kwargs)

    pipeline.extract_pdf = counting
    try:
        started = time.perf_counter()
        first, ok_first = pipeline.run_once(catalog, data)
        first_seconds = time.perf_counter() - started
        extracted_first = list(calls)
        started = time.perf_counter()
        second, ok_second = pipeline.run_once(catalog, data)
        second_seconds = time.perf_counter() - started
    finally:
        pipeline.extract_pdf = real
    print(f"flow on the samples: first run {first_seconds:.1f}s, second run {second_seconds:.1f}s")
    return {"data": data, "first": first, "second": second, "ok": (ok_first, ok_second),
            "extracted_first": extracted_first, "extracted_second": calls[len(extracted_first):]}  # fmt: skip


def test_the_samples_run_end_to_end(samples_run):
    data, first = samples_run["data"], samples_run["first"]
    assert samples_run["ok"] == (True, True), first
    assert [s["status"] for s in first.sources] == ["ok", "ok"]
    report = json.loads((Path(first.report_path).parent / "report.json").read_text(encoding="utf-8"))
    assert report["headline"]["status"] == "passed", "both sources, every check ran and passed: green"
    assert report["counts"]["skipped"] == 0 and report["counts"]["run"] > 200
    assert {s["kind"] for s in first.sources} == {"city_evaluation", "annual_report"}
    assert (data / "curated" / "city_scores").exists() and (data / "curated" / "datapackage.json").exists()
    assert Path(first.report_path).exists() and Path(first.report_path).parent.parent == data / "reports"
    assert {"city_scores", "region_execution", "province_execution", "ito_by_region", "demo_city_clusters"} <= set(
        first.published
    )
    manifest = (data / "raw" / "manifest.jsonl").read_text().splitlines()
    assert len(manifest) == 4  # two sources, two runs


def test_a_second_run_over_unchanged_inputs_re_extracts_nothing(samples_run):
    assert len(samples_run["extracted_first"]) == 2
    assert samples_run["extracted_second"] == []


def test_a_failing_source_fails_the_run_but_not_the_others(samples_run, tmp_path):
    from flows.pipeline import run_once

    data = samples_run["data"]
    catalog = _catalog(
        tmp_path, [("city_evaluation_2021", str(NOTICE_PDF), None), ("gone", str(tmp_path / "missing.pdf"), None)]
    )
    summary, ok = run_once(catalog, data)
    assert not ok and summary.failed_sources == ["gone"]
    gone = next(s for s in summary.sources if s["source"] == "gone")
    assert "no such file" in gone["error"] and gone["fetch"] == "failed → no copy"
    assert "city_scores" in summary.published


def test_the_nightly_deployment_runs_at_two_in_shanghai(tmp_path):
    from flows.pipeline import nightly_deployment

    deployment = nightly_deployment("0 2 * * *", "Asia/Shanghai", tmp_path / "catalog.toml", tmp_path)
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *" and schedule.schedule.timezone == "Asia/Shanghai"
    assert deployment.parameters == {"catalog": str(tmp_path / "catalog.toml"), "data_dir": str(tmp_path)}


@pytest.mark.parametrize(("cron", "zone", "message"), [("61 2 * * *", "Asia/Shanghai", "Invalid cron"),
                                                       ("0 2 * * *", "Mars/Base", "unknown time zone")])  # fmt: skip
def test_a_bad_schedule_is_refused_with_a_reason(tmp_path, cron, zone, message):
    from flows.pipeline import nightly_deployment

    with pytest.raises(ValueError, match=message):
        nightly_deployment(cron, zone, tmp_path / "catalog.toml", tmp_path)


# --- one bad source never sinks the night ---------------------------------------------------------


def _copy(pdf: Path, target: Path, pad: str = "") -> Path:
    # Bytes after %%EOF change the sha256 (so no two sources share a cached extraction), not the PDF.
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pdf.read_bytes() + (f"\n% {pad}\n".encode() if pad else b""))
    return target


def _report(summary) -> dict:  # type: ignore[no-untyped-def]
    return json.loads((Path(summary.report_path).parent / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def isolation_run(tmp_path_factory):
    """One run: a healthy source beside five that each fail at a different stage, in a different way."""
    import flows.pipeline as pipeline
    import flows.stages as stages

    data = tmp_path_factory.mktemp("isolation")
    src = data / "pdfs"
    entries = [("healthy", str(_copy(NOTICE_PDF, src / "healthy.pdf")), "city_evaluation")]
    for n, (sid, kind) in enumerate([("wrongkind", "annual_report"), ("noyear", "city_evaluation"),
                                     ("shapeboom", None), ("extractboom", None)]):  # fmt: skip
        entries.append((sid, str(_copy(NOTICE_PDF, src / f"{sid}.pdf", f"copy {n}")), kind))
    entries.append(("fetchboom", str(NOTICE_PDF), None))
    # A page object deleted from the page tree: the PDF opens, one page is gone (tests/fuzz/mutations.py).
    import random

    from tests.fuzz.mutations import Base, page_deleted

    damaged = page_deleted(Base("notice", NOTICE_PDF.read_bytes()), random.Random(7))
    (src / "damaged.pdf").write_bytes(damaged)
    entries.append(("damaged", str(src / "damaged.pdf"), "city_evaluation"))
    real_extract, real_curate, real_fetch = pipeline.extract_pdf, stages.curate, pipeline.fetch

    def extract(path, **kwargs):  # type: ignore[no-untyped-def]
        if "extractboom" in str(path):
            return 1 / 0  # a library tripping on a damaged PDF
        result = real_extract(path, **kwargs)
        if "noyear" in str(path):
            result.year = None  # a title that names no year
        return result

    def curate(result, source_id, *args):  # type: ignore[no-untyped-def]
        if source_id == "shapeboom":
            raise KeyError("a header the spec does not know")
        return real_curate(result, source_id, *args)

    def fetch(source, raw_dir, **kwargs):  # type: ignore[no-untyped-def]
        if source.id == "fetchboom":
            raise RuntimeError("a redirect loop nobody named")
        return real_fetch(source, raw_dir, **kwargs)

    handler = _Lines()
    logging.getLogger("prefect").addHandler(handler)
    pipeline.extract_pdf, stages.curate, pipeline.fetch = extract, curate, fetch
    try:
        summary, ok = pipeline.run_once(_catalog(data, entries), data)
    finally:
        pipeline.extract_pdf, stages.curate, pipeline.fetch = real_extract, real_curate, real_fetch
        logging.getLogger("prefect").removeHandler(handler)
    return {"data": data, "summary": summary, "ok": ok, "log": handler.text}


def test_every_failing_source_is_named_with_its_stage_and_the_healthy_one_is_published(isolation_run):
    summary, data = isolation_run["summary"], isolation_run["data"]
    assert not isolation_run["ok"]
    assert summary.failed_sources == ["damaged", "extractboom", "fetchboom", "noyear", "shapeboom", "wrongkind"]
    by_source = {e.source_id: e for e in summary.errors}
    assert {s: e.stage for s, e in by_source.items()} == {
        "wrongkind": "extract", "noyear": "extract", "shapeboom": "curate", "extractboom": "extract",
        "fetchboom": "fetch", "damaged": "extract",
    }  # fmt: skip
    # A PDF missing a page is not published as if complete: named, with what to do, no traceback.
    assert "damaged" in by_source["damaged"].message and "sound copy" in by_source["damaged"].hint
    assert by_source["damaged"].traceback is None
    assert "year cannot be known" in by_source["wrongkind"].message
    assert "kind = 'annual_report'" in by_source["wrongkind"].message and "kind =" in by_source["wrongkind"].hint
    assert "year cannot be known" in by_source["noyear"].message and "year =" in by_source["noyear"].hint
    for sid, kind in (("shapeboom", "KeyError"), ("extractboom", "ZeroDivisionError"), ("fetchboom", "RuntimeError")):
        error = by_source[sid]
        assert error.message.startswith(kind) and "bug" in error.hint
        assert error.traceback and f"{kind}:" in error.traceback and "Traceback" in error.traceback
    assert by_source["wrongkind"].traceback is None, "a named problem, not a bug"
    # The others went on: the healthy source is published, nothing of the failed ones is.
    assert "city_scores" in summary.published
    assert (data / "curated" / "city_scores" / "year=2021" / "healthy.parquet").is_file()
    # city_scores, city_indicator_scores, vintages, facts, tables and statements: every file is the healthy source's.
    published = sorted((p.parts[-3], p.stem) for p in (data / "curated").glob("*/year=*/*.parquet"))
    assert published == [(d, "healthy") for d in sorted(
        ["city_scores", "city_indicator_scores", "vintages", "facts", "tables", "statements"])]  # fmt: skip


def test_the_report_and_the_log_name_every_failure_with_its_traceback(isolation_run):
    summary, log = isolation_run["summary"], isolation_run["log"]
    report = _report(summary)
    rows = {s["source_id"]: s for s in report["sources"]}
    assert set(rows) == {"healthy", "wrongkind", "noyear", "shapeboom", "extractboom", "fetchboom", "damaged"}
    assert rows["fetchboom"]["fetch"] == "failed → no copy" and rows["fetchboom"]["sha256"] is None
    assert rows["healthy"]["fetch"] == "copied" and rows["healthy"]["pages"] == 13 and rows["healthy"]["tables"] == 6
    assert rows["healthy"]["url"].endswith("healthy.pdf") and rows["healthy"]["fetched_at"]
    assert [e["stage"] for e in rows["shapeboom"]["errors"]] == ["curate"]
    traced = {e["source_id"] for e in report["errors"] if e["traceback"]}
    assert traced == {"shapeboom", "extractboom", "fetchboom"}
    assert report["headline"]["status"] == "failed" and "6 failure(s)" in report["headline"]["text"]
    page = Path(summary.report_path).read_text(encoding="utf-8")
    assert "data-status='failed'" in page and "ZeroDivisionError" in page and "<summary>traceback</summary>" in page
    for sid in ("shapeboom", "extractboom", "fetchboom"):
        assert f"{sid} [" in log and "Traceback (most recent call last)" in log
    assert "every check passed" not in log, "most checks were skipped on one notice: not 'every check passed'"
    assert "skipped: not every check could run" in log


def test_the_flow_ends_failed_with_the_list(isolation_run):
    from flows.pipeline import final_state

    state = final_state(isolation_run["summary"])
    assert state.is_failed()
    for sid in ("wrongkind (extract)", "shapeboom (curate)", "fetchboom (fetch)"):
        assert sid in state.message


# --- the audit report tells the truth -------------------------------------------------------------


@pytest.fixture(scope="module")
def fallback_runs(tmp_path_factory):
    """A source copied, then gone (served from its last good copy); then a catalog whose only source fails."""
    from flows.pipeline import run_once

    data = tmp_path_factory.mktemp("fallback")
    pdf = _copy(NOTICE_PDF, data / "pdfs" / "notice.pdf")
    catalog = _catalog(data, [("notice", str(pdf), "city_evaluation")])
    first, _ = run_once(catalog, data)
    pdf.unlink()
    second, ok = run_once(catalog, data)
    only = _catalog(data / "pdfs", [("gone", str(data / "pdfs" / "missing.pdf"), None)])
    third, ok_third = run_once(only, data)
    return {"data": data, "runs": (first, second, third), "ok": (ok, ok_third)}


def test_a_run_of_one_notice_is_not_called_green(fallback_runs):
    first = fallback_runs["runs"][0]
    assert first.ok
    report = _report(first)
    assert report["counts"]["skipped"] > 0
    assert report["headline"]["status"] == "incomplete"
    assert "data-status='incomplete'" in Path(first.report_path).read_text(encoding="utf-8")


def test_a_source_served_from_its_last_good_copy_says_so(fallback_runs):
    first, second, _ = fallback_runs["runs"]
    assert not fallback_runs["ok"][0]
    (row,) = _report(second)["sources"]
    assert row["fetch"] == f"failed → last good copy from {first.sources[0]['fetched_at'][:10]}"
    assert row["sha256"] == first.sources[0]["sha256"] and row["fetched_at"] == first.sources[0]["fetched_at"]
    assert "no such file" in row["errors"][0]["message"] and "last good copy" in row["errors"][0]["hint"]
    assert _report(second)["headline"]["status"] == "failed"


def test_a_run_whose_only_source_failed_is_never_green(fallback_runs):
    third = fallback_runs["runs"][2]
    assert not fallback_runs["ok"][1]
    report = _report(third)
    assert report["counts"]["run"] == 0
    assert report["headline"]["status"] == "failed"
    page = Path(third.report_path).read_text(encoding="utf-8")
    assert "Every source was fetched" not in page and "Every dataset passed" not in page
    assert [s["source_id"] for s in report["sources"]] == ["gone"]
    assert report["sources"][0]["fetch"] == "failed → no copy"
    assert "missing.pdf" in page


def test_soetl_report_follows_a_rollback_and_old_reports_go_with_their_versions(fallback_runs):
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.stages import prune_reports

    data = fallback_runs["data"]
    first, second, third = fallback_runs["runs"]
    runner = CliRunner()
    latest = runner.invoke(app, ["report", "--data-dir", str(data)])
    assert latest.exit_code == 0 and latest.stdout.strip() == second.report_path, "the live version's report"
    assert third.report_path in latest.stderr, "a later run's report is pointed out"
    assert runner.invoke(app, ["rollback", "--data-dir", str(data)]).exit_code == 0
    after = runner.invoke(app, ["report", "--data-dir", str(data)])
    assert after.stdout.strip() == first.report_path
    assert runner.invoke(app, ["report", "--latest", "--data-dir", str(data)]).stdout.strip() == third.report_path
    ancient = data / "reports" / "20000101T000000Z-abcdef"
    ancient.mkdir()
    (ancient / "index.html").write_text("old", encoding="utf-8")
    assert prune_reports(data) == ["20000101T000000Z-abcdef"]
    assert all(Path(r.report_path).is_file() for r in (first, second, third))


# --- the cache follows the code and the specs -----------------------------------------------------


def test_the_extractor_fingerprint_follows_its_code_and_specs(tmp_path):
    from extractors.spec import SPEC_DIR
    from flows.pipeline import extraction_fingerprint

    code, specs = tmp_path / "code", tmp_path / "specs"
    shutil.copytree(Path(__file__).resolve().parents[1] / "extractors", code, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copytree(SPEC_DIR, specs)
    before = extraction_fingerprint(specs, code)
    assert extraction_fingerprint(specs, code) == before
    (code / "tables.py").write_text((code / "tables.py").read_text() + "\n# a change\n")
    after_code = extraction_fingerprint(specs, code)
    (specs / "city_evaluation.toml").write_text((specs / "city_evaluation.toml").read_text() + "\n# a change\n")
    assert len({before, after_code, extraction_fingerprint(specs, code)}) == 3


def test_an_edited_spec_is_extracted_anew_and_refresh_ignores_the_cache(tmp_path, monkeypatch):
    import flows.pipeline as pipeline
    from extractors.spec import SPEC_DIR

    specs = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, specs)
    monkeypatch.setenv("SOETL_SPEC_DIR", str(specs))
    data = tmp_path / "data"
    catalog = _catalog(tmp_path, [("notice", str(NOTICE_PDF), "city_evaluation")])
    calls: list[str] = []
    real = pipeline.extract_pdf

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "extract_pdf", counting)
    first, _ = pipeline.run_once(catalog, data)
    spec = specs / "city_evaluation.toml"
    spec.write_text(spec.read_text(encoding="utf-8") + '\n[[table]]\ndataset = "city_scores"\ntitle = "不存在的表"\n'
                    'column_set = "scores"\n', encoding="utf-8")  # fmt: skip
    second, _ = pipeline.run_once(catalog, data)
    third, _ = pipeline.run_once(catalog, data)
    fourth, _ = pipeline.run_once(catalog, data, refresh=True)
    assert len(calls) == 3, "extracted on the first run, after the spec edit, and on --refresh; not on the third"
    assert not any("不存在的表" in p for p in first.sources[0]["problems"])
    assert any("不存在的表" in p for p in second.sources[0]["problems"]), "the edited spec's result, not the cached one"
    assert third.sources[0]["problems"] == second.sources[0]["problems"] == fourth.sources[0]["problems"]


def test_importing_soetl_turns_prefect_analytics_off_by_default():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_SERVER_ANALYTICS_ENABLED"}
    code = "import flows, os; print(os.environ['PREFECT_SERVER_ANALYTICS_ENABLED'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "false"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "true"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "true", "a person can still opt in"


def test_a_generic_source_feeds_tables_and_no_spec_dataset(tmp_path):
    """A PDF no spec knows, named kind = "generic" with its year: its tables publish to `tables`, nothing
    to the spec'd datasets, and the run says so."""
    weasyprint = pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) typesets the fixture")
    import flows.pipeline as pipeline

    font = Path(__file__).resolve().parent / "fixtures" / "fonts" / "NotoSansCJKsc-subset.otf"
    rows = "".join(f"<tr><td>{r}</td><td>{a}</td><td>{b}</td></tr>" for r, a, b in
                   [("North", "120", "31.5"), ("South", "86", "22.6"), ("West", "175", "45.9")])  # fmt: skip
    html = (
        f"<style>@font-face {{font-family: F; src: url({font.as_uri()});}} body {{font-family: F;}}"
        "td, th {padding: 1mm 4mm; border: 0.6pt solid black;} table {border-collapse: collapse;}</style>"
        "<p>Table 1: Firms by region</p><table><tr><th>Region</th><th>Firms</th><th>Share</th></tr>"
        f"{rows}</table><p>Source: a survey.</p>"
    )
    pdf = tmp_path / "survey.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(f'[[source]]\nid = "survey"\nurl = "{pdf}"\nkind = "generic"\nyear = 2020\n', encoding="utf-8")
    summary, ok = pipeline.run_once(catalog, tmp_path / "data")
    assert not summary.errors, [e.line() for e in summary.errors]
    published = sorted(p.parent.parent.name for p in (tmp_path / "data" / "curated").glob("*/year=*/*.parquet"))
    assert "tables" in published and "city_scores" not in published and "region_execution" not in published
    import pandas as pd

    cells = pd.read_parquet(tmp_path / "data" / "curated" / "tables" / "year=2020" / "survey.parquet")
    assert sorted(cells["text"]) == sorted(["North", "120", "31.5", "South", "86", "22.6", "West", "175", "45.9"])
    assert set(cells["column_label"]) == {"Region", "Firms", "Share"}
