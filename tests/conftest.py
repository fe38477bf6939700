from __future__ import annotations

import json
import os
import tempfile

# Before anything imports Prefect: its home (database, results, caches) in a temporary directory, so
# nothing leaks between runs or into ~/.prefect, and no analytics.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="soetl-prefect-home-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# Flows extract in this process unless a test asks for workers: tests that patch the extractor see it
# called (tests/test_night*.py run the process pool and Dask themselves).
os.environ.setdefault("SOETL_WORKERS", "1")
# Raster chart readings (OCR) cached for this session only: every test that extracts the report's
# figures after the first reuses them, and nothing is read from a cache an earlier run left behind
# (SOETL_TEST_CHART_CACHE names a lasting one, for a developer re-running tests while they work).
# Under pytest-xdist (`make test` runs two workers) the workers of one run share it: the OCR runs once a run.
os.environ["SOETL_CHART_CACHE"] = os.environ.get("SOETL_TEST_CHART_CACHE") or (
    os.path.join(tempfile.gettempdir(), f"soetl-chart-cache-{os.environ['PYTEST_XDIST_TESTRUNUID']}")
    if os.environ.get("PYTEST_XDIST_TESTRUNUID")
    else tempfile.mkdtemp(prefix="soetl-chart-cache-")
)
from pathlib import Path

import pdfplumber
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
NOTICE_PDF = SAMPLES / "city_evaluation_2021.pdf"
REPORT_PDF = SAMPLES / "annual_report_2021.pdf"
NOTICE_SEED = SAMPLES / "seeds" / "000_8a58a9cfef228a5a.txt"
REPORT_SEED = SAMPLES / "seeds" / "001_2de11681a97aed46.txt"


@pytest.fixture(scope="session")
def report_pdf():
    with pdfplumber.open(REPORT_PDF) as pdf:
        yield pdf


@pytest.fixture(scope="session")
def notice_pdf():
    with pdfplumber.open(NOTICE_PDF) as pdf:
        yield pdf


@pytest.fixture(scope="session")
def report_truth() -> dict:
    return json.loads((SAMPLES / "truth" / "annual_report_2021.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def notice_truth() -> dict:
    return json.loads((SAMPLES / "truth" / "city_evaluation_2021.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def notice_extraction():
    from extractors.extract import extract_pdf

    return extract_pdf(NOTICE_PDF)


@pytest.fixture(scope="session")
def report_extraction():
    from extractors.extract import extract_pdf

    return extract_pdf(REPORT_PDF)


@pytest.fixture(scope="session")
def variants_built(tmp_path_factory):
    """Every layout variant of samples/variants, typeset once per session: {name: (pdf, truth)}."""
    pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) typesets the variants")
    pytest.importorskip("reportlab", reason="reportlab (test extra) typesets the variants")
    from samples.variants import build, matrix

    out = tmp_path_factory.mktemp("variants")
    return {v.name: build(v, out) for v in matrix()}
