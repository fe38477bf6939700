"""Fetching against a real HTTP server on 127.0.0.1 (no mocked client)."""

from __future__ import annotations

import json

import httpx
import pytest

from flows.catalog import CatalogError, SourceEntry, load_catalog
from flows.fetch import FetchError, TransientFetchError, append_manifest, fetch, read_manifest, record
from tests.conftest import NOTICE_PDF
from tests.httpserver import Server

FAST = httpx.Timeout(connect=2.0, read=0.5, write=2.0, pool=2.0)


@pytest.fixture(scope="module")
def server():
    with Server(NOTICE_PDF.read_bytes(), slow_seconds=2.0) as srv:
        yield srv


def _source(server, path, **kw):
    return SourceEntry(id="notice", url=server.url(path), **kw)


def test_a_pdf_lands_content_addressed_then_a_repeat_is_conditional(server, tmp_path):
    raw = tmp_path / "raw"
    landed = fetch(_source(server, "report.pdf"), raw, timeout=FAST)
    assert landed.status == "downloaded"
    assert (tmp_path / landed.path).read_bytes() == NOTICE_PDF.read_bytes()
    assert landed.path == f"raw/notice/{landed.sha256}.pdf"
    assert landed.etag == '"v1"'
    append_manifest(raw, record(landed))
    again = fetch(_source(server, "report.pdf"), raw, timeout=FAST)
    assert again.status == "not_modified" and again.sha256 == landed.sha256
    assert server.conditional["/report.pdf"] == 1
    assert [r["status"] for r in read_manifest(raw)] == ["downloaded"]
    assert json.loads((raw / "manifest.jsonl").read_text().splitlines()[0])["bytes"] == NOTICE_PDF.stat().st_size


def test_an_html_error_page_with_status_200_is_refused(server, tmp_path):
    with pytest.raises(FetchError, match="HTML page, not a PDF") as err:
        fetch(_source(server, "error-page.pdf"), tmp_path / "raw", timeout=FAST)
    assert not isinstance(err.value, TransientFetchError)
    assert not list((tmp_path / "raw").glob("notice/*.pdf"))


def test_404_is_permanent(server, tmp_path):
    with pytest.raises(FetchError, match="HTTP 404") as err:
        fetch(_source(server, "nowhere.pdf"), tmp_path / "raw", timeout=FAST)
    assert not isinstance(err.value, TransientFetchError)


def test_500_is_transient(server, tmp_path):
    with pytest.raises(TransientFetchError, match="HTTP 500"):
        fetch(_source(server, "always-500.pdf"), tmp_path / "raw", timeout=FAST)


def test_a_response_slower_than_the_timeout_is_transient(server, tmp_path):
    with pytest.raises(TransientFetchError, match="timed out"):
        fetch(_source(server, "slow.pdf"), tmp_path / "raw", timeout=FAST)
    assert not list((tmp_path / "raw").rglob("*.pdf")), "no partial file is left behind"


def test_a_truncated_body_is_transient_and_leaves_nothing(server, tmp_path):
    with pytest.raises(TransientFetchError, match="truncated|connection"):
        fetch(_source(server, "truncated.pdf"), tmp_path / "raw", timeout=FAST)
    assert not list((tmp_path / "raw").rglob("*.pdf")) and not list((tmp_path / "raw").glob(".download-*"))


def test_a_sha256_pin_is_enforced(server, tmp_path):
    with pytest.raises(FetchError, match="does not match the catalog's pin"):
        fetch(_source(server, "report.pdf", sha256="0" * 64), tmp_path / "raw", timeout=FAST)


def test_the_size_cap(server, tmp_path):
    with pytest.raises(FetchError, match="cap"):
        fetch(_source(server, "report.pdf"), tmp_path / "raw", timeout=FAST, max_bytes=1000)


def test_a_local_file_is_copied(tmp_path):
    landed = fetch(SourceEntry(id="local", url=str(NOTICE_PDF)), tmp_path / "raw")
    assert landed.status == "copied" and (tmp_path / landed.path).exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[source]]\nid = "a"\nurl = "x.pdf"\nkind = "budget"\n', "kind 'budget' is unknown"),
        ('[[source]]\nid = "a"\nurl = "ftp://example.org/x.pdf"\n', "scheme 'ftp' is not supported"),
        ('[[source]]\nid = "a"\nurl = "https://"\n', "has no host"),
        ('[[source]]\nid = "A B"\nurl = "x.pdf"\n', "id must be"),
        ('[[source]]\nurl = "x.pdf"\n', "id must be"),
        ('[[source]]\nid = "a"\nurl = "x.pdf"\n[[source]]\nid = "a"\nurl = "y.pdf"\n', "duplicate source id"),
        ("title = 'nothing'\n", "no [[source]] entries"),
        ("[[source]\n", "not valid TOML"),
    ],
)
def test_catalog_errors_say_what_to_fix(tmp_path, text, message):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message.replace("[", r"\[").replace("(", r"\(")) as err:
        load_catalog(path)
    assert str(path) in str(err.value)


def test_the_default_catalog_lists_the_bundled_samples():
    from tests.conftest import ROOT

    sources = load_catalog(ROOT / "catalog.toml")
    assert [s.id for s in sources] == ["city_evaluation_2021", "annual_report_2021"]
    assert all(not s.is_remote and (ROOT / "samples").as_posix() in s.url for s in sources)
