"""The nightly flow under prefect_test_harness: retries, fallbacks, caching and the run's outcome."""

from __future__ import annotations

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


def test_a_source_that_keeps_failing_falls_back_to_its_last_good_copy(server, tmp_path):
    raw = tmp_path / "raw"
    first = land_flow(SourceEntry("notice", server.url("report.pdf")), raw)
    assert first.landed.status == "downloaded"
    outcome = land_flow(SourceEntry("notice", server.url("always-500.pdf")), raw)
    assert server.hits["/always-500.pdf"] == 4, "one try and three retries"
    assert "HTTP 500" in outcome.fetch_error
    assert outcome.used_fallback and outcome.landed.sha256 == first.landed.sha256


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
    assert "no such file" in gone["error"] and gone["status"] == "fetch failed, no copy"
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
