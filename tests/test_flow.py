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
