"""Fetching against a real HTTP server on 127.0.0.1 (no mocked client)."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from flows.catalog import CatalogError, SourceEntry, load_catalog
from flows.fetch import (
    FetchError,
    TransientFetchError,
    append_manifest,
    fetch,
    latest_good,
    manifest_path,
    newest_records,
    read_manifest,
    record,
    unchanged,
)
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


def test_unchanged_asks_the_server_and_reads_no_body(tmp_path):
    # A night with nothing new is told by conditional requests alone (flows/unchanged.py).
    with Server(NOTICE_PDF.read_bytes()) as srv:
        source = SourceEntry(id="notice", url=srv.url("versioned.pdf"))
        assert not unchanged(source, None), "no earlier copy: only a download can tell"
        previous = record(fetch(source, tmp_path / "raw", timeout=FAST))
        assert unchanged(source, previous, timeout=FAST) and srv.conditional["/versioned.pdf"] == 1
        assert not unchanged(SourceEntry(id="notice", url=srv.url("report.pdf")), previous, timeout=FAST), "another URL"
        assert not unchanged(SourceEntry(id="notice", url=srv.url("versioned.pdf"), sha256="0" * 64), previous), "pin"
        srv.pdf = NOTICE_PDF.read_bytes() + b"\n% a new release\n"
        hits = srv.hits["/versioned.pdf"]
        assert not unchanged(source, previous, timeout=FAST), "the server has new bytes (200)"
        assert srv.hits["/versioned.pdf"] == hits + 1
        assert not unchanged(source, {**previous, "etag": None, "last_modified": None}), "no validator to ask with"
    assert not unchanged(source, previous, timeout=FAST), "the server is gone: the flow's fetch will say why"


def test_unchanged_stats_a_local_file_and_reads_it_only_when_its_stat_moved(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(NOTICE_PDF.read_bytes())
    source = SourceEntry(id="local", url=str(pdf))
    previous = record(fetch(source, tmp_path / "raw"))
    assert previous["source_size"] == pdf.stat().st_size and previous["source_mtime_ns"] == pdf.stat().st_mtime_ns
    assert unchanged(source, previous)
    os.utime(pdf, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert unchanged(source, previous), "touched, same bytes: the sha256 decides"
    stat = pdf.stat()
    with pdf.open("r+b") as fh:  # same size, same mtime, different bytes: only the ctime and the bytes tell
        fh.seek(stat.st_size - 2)
        fh.write(b"\n\n")
    os.utime(pdf, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not unchanged(source, previous)
    pdf.unlink()
    assert not unchanged(source, previous), "gone: the flow's fetch names it"


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


# --- issue 12: deadlines, encodings, redirects, partial files, local caps ------------------------------


def test_a_server_dripping_bytes_is_cut_off_at_the_deadline_and_not_retried(server, tmp_path):
    # Each byte arrives well inside the read timeout; only an overall deadline ends this.
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"not complete within the 1 s deadline after \d+ bytes") as err:
        fetch(_source(server, "drip.pdf"), tmp_path / "raw", timeout=FAST, deadline=1.0)
    assert time.monotonic() - started < 3
    assert not isinstance(err.value, TransientFetchError)
    assert "SOETL_FETCH_DEADLINE" in str(err.value)
    assert not list((tmp_path / "raw").glob(".download-*"))


def test_the_deadline_covers_a_server_dripping_its_headers(server, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        fetch(_source(server, "drip-headers.pdf"), tmp_path / "raw", timeout=FAST, deadline=1.0)
    assert time.monotonic() - started < 3


def test_the_deadline_comes_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("SOETL_FETCH_DEADLINE", "0.8")
    with pytest.raises(FetchError, match="0.8 s deadline"):
        fetch(_source(server, "drip.pdf"), tmp_path / "raw", timeout=FAST)
    monkeypatch.setenv("SOETL_FETCH_DEADLINE", "soon")
    with pytest.raises(FetchError, match="SOETL_FETCH_DEADLINE='soon' is not a number") as err:
        fetch(_source(server, "report.pdf"), tmp_path / "raw", timeout=FAST)
    assert not isinstance(err.value, TransientFetchError)


def test_a_gzip_encoded_pdf_is_fetched_whole(server, tmp_path):
    # Content-Length counts the compressed bytes; the file on disk is the decoded PDF.
    landed = fetch(_source(server, "gzip.pdf"), tmp_path / "raw", timeout=FAST)
    assert (tmp_path / landed.path).read_bytes() == NOTICE_PDF.read_bytes()
    assert landed.bytes == NOTICE_PDF.stat().st_size


def test_identity_is_asked_for(server, tmp_path):
    seen = {}
    original = server.route_report_pdf

    def spy(h):  # type: ignore[no-untyped-def]
        seen["accept-encoding"] = h.headers.get("Accept-Encoding")
        original(h)

    server.route_report_pdf = spy
    try:
        fetch(_source(server, "report.pdf"), tmp_path / "raw", timeout=FAST)
    finally:
        server.route_report_pdf = original
    assert seen["accept-encoding"] == "identity"


def test_the_cap_counts_decoded_bytes(server, tmp_path):
    with pytest.raises(FetchError, match="more than the 1048576-byte cap") as err:
        fetch(_source(server, "gzip-bomb.pdf"), tmp_path / "raw", timeout=FAST, max_bytes=1 << 20)
    assert not isinstance(err.value, TransientFetchError)


def test_a_body_that_is_not_what_its_encoding_says_is_a_named_error(server, tmp_path):
    with pytest.raises(FetchError, match="cannot be decoded") as err:
        fetch(_source(server, "not-gzip.pdf"), tmp_path / "raw", timeout=FAST)
    assert not isinstance(err.value, TransientFetchError)


def test_redirects_are_followed_within_the_limit(server, tmp_path):
    landed = fetch(_source(server, "moved.pdf"), tmp_path / "raw", timeout=FAST)
    assert (tmp_path / landed.path).read_bytes() == NOTICE_PDF.read_bytes()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("loop-a.pdf", "more than 5 redirects (a redirect loop?)"),
        ("to-data.pdf", "redirected to a data: URL"),
        ("to-file.pdf", "redirected to a file: URL"),
        ("to-ftp.pdf", "redirected to a ftp: URL"),
        ("to-bad-url.pdf", "redirected to an invalid URL"),
    ],
)
def test_bad_redirects_are_named_and_not_retryable(server, tmp_path, path, message):
    with pytest.raises(FetchError) as err:
        fetch(_source(server, path), tmp_path / "raw", timeout=FAST)
    assert message in str(err.value) and "notice" in str(err.value)
    assert not isinstance(err.value, TransientFetchError)
    assert "\n" not in str(err.value)


def test_not_a_pdf_says_what_it_is(server, tmp_path):
    with pytest.raises(FetchError) as err:
        fetch(_source(server, "zip.pdf"), tmp_path / "raw", timeout=FAST)
    message = str(err.value)
    assert "the server sent a file starting b'PK\\x03\\x04" in message and "not a PDF, not a PDF" not in message


def test_partial_files_of_a_killed_run_are_swept(tmp_path):
    import subprocess
    import sys

    raw = tmp_path / "raw"
    raw.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    orphan = raw / f".download-{dead_pid}-abc.part"
    legacy = raw / ".download-k3j4.part"  # the name an older soetl gave; only its age can tell
    live = raw / f".download-{os.getpid()}-xyz.part"
    for part in (orphan, legacy, live):
        part.write_bytes(b"%PDF-1.7 half")
    os.utime(legacy, (time.time() - 7200, time.time() - 7200))
    fetch(SourceEntry(id="local", url=str(NOTICE_PDF)), raw)
    assert not orphan.exists() and not legacy.exists()
    assert live.exists(), "a download still being written by a live process is left alone"


def test_local_files_have_the_same_cap(tmp_path):
    with pytest.raises(FetchError, match=r"\d+ bytes is over the 1000-byte cap"):
        fetch(SourceEntry(id="local", url=str(NOTICE_PDF)), tmp_path / "raw", max_bytes=1000)
    with pytest.raises(FetchError, match="not a regular file"):
        fetch(SourceEntry(id="local", url=str(tmp_path)), tmp_path / "raw")
    text = tmp_path / "notes.pdf"
    text.write_text("just text")
    with pytest.raises(FetchError, match="the file is a file starting b'just text'"):
        fetch(SourceEntry(id="local", url=str(text)), tmp_path / "raw")


def test_non_retryable_failures_are_tried_once_by_the_flow(server, tmp_path, monkeypatch):
    """Through the flow's own fetch task and retry policy: only transient failures are retried."""
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import DEFAULT_RETRIES, _land

    monkeypatch.setenv("SOETL_RETRY_DELAY", "0")
    monkeypatch.setenv("SOETL_FETCH_DEADLINE", "1")
    once = ["to-file.pdf", "to-ftp.pdf", "to-data.pdf", "loop-a.pdf", "zip.pdf", "nowhere.pdf", "drip.pdf"]

    @flow
    def land_all() -> list:
        return [_land(SourceEntry(id=f"s{i}", url=server.url(p)), tmp_path / "raw") for i, p in enumerate(once)]

    with prefect_test_harness():
        before = dict(server.hits)
        outcomes = land_all()
        flaky = server.hits["/always-500.pdf"]
        _land_flow_500 = flow(lambda: _land(SourceEntry(id="five", url=server.url("always-500.pdf")), tmp_path / "raw"))
        _land_flow_500()
    assert all(o.fetch_error for o in outcomes)
    expected = {**dict.fromkeys(once, 1), "loop-a.pdf": 3}  # one attempt: a b a b a b, then the limit
    assert {p: server.hits[f"/{p}"] - before.get(f"/{p}", 0) for p in once} == expected
    assert server.hits["/always-500.pdf"] - flaky == DEFAULT_RETRIES + 1, "a 5xx is retried"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[source]]\nid = "annual\\n"\nurl = "x.pdf"\n', "id must be 1 to 64 lower-case letters"),  # "$" let it by
        ('[[source]]\nid = "' + "a" * 250 + '"\nurl = "x.pdf"\n', "id must be 1 to 64"),  # File name too long
        ("source = [1, 2]\n", "source #1 is 1, not a table"),
        ('[[source]]\nid = "a"\nurl = "http://[::1/x.pdf"\n', "cannot be parsed (Invalid IPv6 URL)"),
        ('[[source]]\nid = "a"\nurl = "http://example.org:99999/x.pdf"\n', "cannot be parsed (Port out of range"),
        ('[[source]]\nid = "a"\nurl = "http://exa mple.org/x.pdf"\n', "has an invalid host"),
        ('[[source]]\nid = "a"\nurl = 5\n', "url is missing or not a string"),
        ('[[source]]\nid = "a"\nurl = " x.pdf"\n', "spaces at its ends or control characters"),
        ('[[source]]\nid = "a"\nurl = "data:application/pdf,x"\n', "scheme 'data' is not supported"),
        ('[[source]]\nid = "a"\nurl = "x.pdf"\nyear = true\n', "year must be a four-digit year"),
        ('[[source]]\nid = "a"\nurl = "x.pdf"\nkind = ["annual_report"]\n', "kind ['annual_report'] is unknown"),
        ('[source]\nid = "a"\nurl = "x.pdf"\n', "[source] is a single table; write each source as [[source]]"),
        ('[[source]]\nid = "a"\nurl = "x.pdf"\n"a\\nb" = 1\n', "unknown key(s) 'a\\nb'"),
    ],
    ids=["id-newline", "id-250", "not-a-table", "bad-ipv6", "bad-port", "bad-host", "url-int", "url-space",
         "data-url", "year-bool", "kind-list", "single-table", "key-newline"],  # fmt: skip
)
def test_structural_catalog_errors_are_one_line_naming_the_entry(tmp_path, text, message):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    said = str(err.value)
    assert message in said and str(path) in said and "\n" not in said, said
    assert "source #1" in said or "[source]" in said


def test_a_catalog_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_bytes('[[source]]\nid = "a"\nurl = "年.pdf"\n'.encode("gbk"))
    with pytest.raises(CatalogError, match="not UTF-8 text"):
        load_catalog(path)


def test_the_manifest_is_read_from_its_end_and_agrees_with_a_full_parse(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "old.pdf").write_bytes(b"%PDF-1.4 old")
    (raw / "new.pdf").write_bytes(b"%PDF-1.4 new")
    append_manifest(raw, {"source_id": "oldest", "status": "copied", "path": str(raw / "old.pdf"), "note": "東部"})
    with manifest_path(raw).open("a", encoding="utf-8") as fh:
        for night in range(3000):  # years of nights for ten sources (written at once: append_manifest fsyncs)
            for k in range(10):
                status = "not_modified" if night % 7 else "copied"
                rec = {"source_id": f"s{k}", "status": status, "path": str(raw / "new.pdf"), "n": night}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.write('{"source_id": "s1", "status": "cop')  # the last line, cut by a crash mid-append
    lines = manifest_path(raw).read_text(encoding="utf-8").splitlines()
    full = [json.loads(line) for line in reversed(lines[:-1])]  # every whole line, newest first
    for block in (7, 100, 1 << 16):  # blocks that split lines and multi-byte characters anywhere
        assert list(newest_records(raw, block)) == full
    assert read_manifest(raw) == full[::-1]
    newest = latest_good(raw, {"s1", "s9"})
    assert {k: v["n"] for k, v in newest.items()} == {"s1": 2999, "s9": 2999}
    assert latest_good(raw, {"oldest"})["oldest"]["note"] == "東部"  # the first line, reached only by reading it all
    assert list(newest_records(tmp_path / "none")) == []
