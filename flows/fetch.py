"""Landing a source in raw/: download (or copy), check it is a PDF, store it content-addressed.

``raw/<source id>/<sha256>.pdf`` holds every version ever landed, unchanged; ``raw/manifest.jsonl``
says where each came from and when. Repeat downloads are conditional (ETag / Last-Modified).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpcore
import httpx

from flows.catalog import SourceEntry

PDF_MAGIC = b"%PDF-"
MAX_BYTES = 200 * 1024 * 1024  # MOFCOM reports are a few MB; anything this big is not one
TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=10.0)
DEADLINE = 900.0  # seconds for one whole download; SOETL_FETCH_DEADLINE overrides
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "soetl/0.1 (+https://github.com/; service-outsourcing statistics pipeline)"

Progress = Callable[[int, int | None], None]  # (bytes so far, total if known)


class FetchError(Exception):
    """A source could not be landed. Says which, from where, and what to do."""

    def __init__(self, source_id: str, url: str, problem: str, hint: str = "") -> None:
        self.source_id, self.url, self.problem = source_id, url, problem
        super().__init__(f"source {source_id} ({url}): {problem}" + (f" — {hint}" if hint else ""))


class TransientFetchError(FetchError):
    """Worth retrying: a timeout, a dropped connection, a 5xx."""


class FetchConfigError(ValueError):
    """A fetch setting (SOETL_FETCH_DEADLINE) that cannot be used."""


@dataclass
class Landed:
    source_id: str
    url: str
    path: str  # raw/<id>/<sha256>.pdf
    sha256: str
    bytes: int
    fetched_at: str
    status: str  # downloaded | not_modified | copied
    etag: str | None = None
    last_modified: str | None = None
    pages: int | None = None
    # A local file's stat when it was copied: the next night tells it unchanged without reading it.
    source_size: int | None = None
    source_mtime_ns: int | None = None
    source_ctime_ns: int | None = None


def manifest_path(raw_dir: Path) -> Path:
    return raw_dir / "manifest.jsonl"


def read_manifest(raw_dir: Path) -> list[dict]:
    """Every manifest record, oldest first (one parser: ``newest_records``)."""
    return list(newest_records(raw_dir))[::-1]


def newest_records(raw_dir: Path, block: int = 1 << 16) -> Iterator[dict]:
    """The manifest's records, newest first, read from the end of the file in blocks: a night needs each
    source's last record, not a year of nights' (a full parse grows with every night appended)."""
    path = manifest_path(raw_dir)
    if not path.exists():
        return
    with path.open("rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - block)
            fh.seek(start)
            lines = (fh.read(end - start) + tail).split(b"\n")
            end = start
            tail = lines.pop(0) if start > 0 else b""  # may begin mid-line: completed by the next block
            for line in reversed(lines):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        continue  # a line cut by a crash mid-append; the others still count


def last_good(raw_dir: Path, source_id: str) -> dict | None:
    """The newest manifest record of a landed copy that is still on disk."""
    return latest_good(raw_dir, {source_id}).get(source_id)


def latest_good(raw_dir: Path, source_ids: set[str] | None = None) -> dict[str, dict]:
    """``last_good`` of every source (or of ``source_ids``), in one pass over the manifest."""
    found: dict[str, dict] = {}
    for record in newest_records(raw_dir):
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            continue  # not a record this code wrote
        source_id = record.get("source_id")
        if source_id in found or (source_ids is not None and source_id not in source_ids):
            continue
        if record.get("status") in ("downloaded", "not_modified", "copied"):
            if (raw_dir.parent / record["path"]).exists() or Path(record["path"]).exists():
                found[source_id] = record
                if source_ids is not None and len(found) == len(source_ids):
                    break
    return found


def append_manifest(raw_dir: Path, record: dict) -> None:
    raw_dir.mkdir(parents=True, exist_ok=True)
    with manifest_path(raw_dir).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _looks_like(head: bytes) -> str:
    lower = head.lower()
    if not head.strip():
        return "an empty body"
    if b"<html" in lower or b"<!doctype" in lower:
        return "an HTML page"
    return f"a file starting {head[:12]!r}"


def _store(tmp: Path, source: SourceEntry, raw_dir: Path) -> tuple[Path, str, int]:
    """Check a downloaded file and move it to its content address."""
    with tmp.open("rb") as fh:
        head = fh.read(1024)
    if not head.lstrip().startswith(PDF_MAGIC):
        who = "the server sent" if source.is_remote else "the file is"
        raise FetchError(
            source.id, source.url, f"{who} {_looks_like(head)}, not a PDF (no %PDF- header)",
            "government sites answer missing files with an HTML page and status 200; check the URL",
        )  # fmt: skip
    digest = hashlib.sha256()
    size = 0
    with tmp.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    sha = digest.hexdigest()
    if source.sha256 and sha != source.sha256:
        raise FetchError(
            source.id, source.url, f"sha256 {sha} does not match the catalog's pin {source.sha256}",
            "the file changed upstream; check it and update the pin",
        )  # fmt: skip
    target = raw_dir / source.id / f"{sha}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        tmp.unlink()
    else:
        os.replace(tmp, target)
    return target, sha, size


def deadline_default() -> float:
    """SOETL_FETCH_DEADLINE (seconds for one whole download), else DEADLINE."""
    value = os.environ.get("SOETL_FETCH_DEADLINE", "")
    try:
        seconds = float(value) if value.strip() else DEADLINE
    except ValueError:
        raise FetchConfigError(f"SOETL_FETCH_DEADLINE={value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise FetchConfigError(f"SOETL_FETCH_DEADLINE={value!r} must be more than 0 seconds")
    return seconds


def sweep_partial(raw_dir: Path, stale_after: float = 2 * DEADLINE) -> list[Path]:
    """Delete the .part files of downloads and copies whose process is gone (a killed run).

    A part file is named for its writer's pid; one whose writer still runs is left alone, unless it
    has not been touched for ``stale_after`` seconds (twice the deadline), which no live download does.
    """
    swept = []
    for part in [*raw_dir.glob(".download-*.part"), *raw_dir.glob(".copy-*.part")]:
        m = re.match(r"\.(?:download|copy)-(\d+)-", part.name)
        try:
            age = time.time() - part.stat().st_mtime
        except FileNotFoundError:
            continue
        if m and _alive(int(m.group(1))) and age < stale_after:
            continue
        part.unlink(missing_ok=True)
        swept.append(part)
    return swept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _part(raw_dir: Path, kind: str) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(prefix=f".{kind}-{os.getpid()}-", suffix=".part", dir=raw_dir)
    return fd, Path(name)


def fetch(
    source: SourceEntry,
    raw_dir: Path,
    *,
    timeout: httpx.Timeout = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> Landed:
    """Land one source. Raises TransientFetchError (retry it) or FetchError (don't).

    ``deadline`` bounds the whole download, headers to last byte (default: deadline_default()); the
    read timeout alone restarts on every byte, so a server dripping a byte a second never trips it.
    """
    try:
        deadline = deadline_default() if deadline is None else deadline
    except FetchConfigError as exc:
        raise FetchError(source.id, source.url, str(exc), "set it to a number of seconds, or unset it") from None
    raw_dir.mkdir(parents=True, exist_ok=True)
    sweep_partial(raw_dir, stale_after=2 * deadline)
    if not source.is_remote:
        return _copy_local(source, raw_dir, max_bytes)
    previous = last_good(raw_dir, source.id)
    headers = _request_headers(source, previous)
    fd, tmp = _part(raw_dir, "download")
    clock = _Deadline(deadline)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            _transport(clock) as transport,
            _follow(transport, source, headers, timeout) as response,
        ):
            status = response.status_code
            if status == 304 and previous:
                return Landed(**{**_landed_fields(previous), "fetched_at": _now(), "status": "not_modified"})
            if status >= 500 or status in (408, 429):
                raise TransientFetchError(source.id, source.url, f"HTTP {status}", "will retry")
            if status >= 300:
                hint = "check the URL in the catalog"
                raise FetchError(source.id, source.url, f"HTTP {status}" + _status_note(status), hint)
            total = _content_length(response)
            if total is not None and total > max_bytes:
                raise FetchError(source.id, source.url, f"{total} bytes is over the {max_bytes}-byte cap")
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)  # decoded bytes: what lands on disk
                if received > max_bytes:
                    raise FetchError(source.id, source.url, f"more than the {max_bytes}-byte cap")
                clock.check(source)
                out.write(chunk)
                if progress:
                    progress(response.num_bytes_downloaded, total)
            # Content-Length counts the bytes sent, before any Content-Encoding is undone.
            sent = response.num_bytes_downloaded
            if total is not None and sent != total:
                raise TransientFetchError(
                    source.id, source.url, f"truncated: got {sent} of {total} bytes", "will retry"
                )
            etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        path, sha, size = _store(tmp, source, raw_dir)
    except httpx.TimeoutException as exc:
        clock.check(source)
        raise TransientFetchError(source.id, source.url, f"timed out ({type(exc).__name__})", "will retry") from None
    except httpx.DecodingError as exc:
        raise FetchError(
            source.id, source.url, f"the body cannot be decoded ({exc})", "the server's compression is broken"
        ) from None
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(source.id, source.url, f"unsupported URL: {exc}", "use an http(s) URL") from None
    except httpx.TransportError as exc:
        raise TransientFetchError(source.id, source.url, f"connection failed: {exc}", "will retry") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Landed(source.id, source.url, _rel(path, raw_dir), sha, size, _now(), "downloaded", etag, modified)


def _request_headers(source: SourceEntry, previous: dict | None) -> dict[str, str]:
    """The GET's headers: conditional on the last good copy's validators when it came from this URL."""
    # identity: Content-Length then counts the bytes we keep, and nothing inflates past the cap.
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if previous and previous.get("url") == source.url:
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = previous["last_modified"]
    return headers


def _status_note(status: int) -> str:
    if status == 304:
        return " (not modified) but no earlier copy is on disk"
    if status < 400:
        return " without a Location to follow"
    return ""


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # h11 refuses most bad lengths itself; an odd one is just not a promise


@contextmanager
def _follow(
    transport: httpx.HTTPTransport, source: SourceEntry, headers: dict[str, str], timeout: httpx.Timeout
) -> Iterator[httpx.Response]:
    """GET the URL, following at most MAX_REDIRECTS redirects and only to http(s) URLs.

    Requests go to the transport, not through httpx.Client: the client parses every Location itself
    and raises its own errors (InvalidURL, UnsupportedProtocol) before we can name them.
    """
    url = httpx.URL(source.url)
    for _ in range(MAX_REDIRECTS + 1):
        request = httpx.Request("GET", url, headers=headers, extensions={"timeout": timeout.as_dict()})
        response = transport.handle_request(request)
        response.request = request
        if not (response.status_code in REDIRECTS and "location" in response.headers):
            try:
                yield response
            finally:
                response.close()
            return
        response.close()
        url = _redirect_target(source, url, response.headers["location"])
    raise FetchError(
        source.id, source.url, f"more than {MAX_REDIRECTS} redirects (a redirect loop?), the last to {url}",
        "open the URL in a browser and put the address it ends at in the catalog",
    )  # fmt: skip


def _redirect_target(source: SourceEntry, current: httpx.URL, location: str) -> httpx.URL:
    shown = location if len(location) <= 80 else location[:79] + "…"
    hint = "only http(s) redirects are followed; put the file's own https:// address in the catalog"
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise FetchError(source.id, source.url, f"redirected to an invalid URL {shown!r} ({exc})", hint) from None
    if target.scheme not in ("http", "https"):
        raise FetchError(source.id, source.url, f"redirected to a {target.scheme}: URL ({shown!r}), refused", hint)
    return target


class _Deadline:
    """The moment a download must be over by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.received = 0  # bytes off the wire, headers included

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, source: SourceEntry) -> None:
        if self.remaining() <= 0:
            got = f" after {self.received} bytes" if self.received else ""
            raise FetchError(
                source.id, source.url, f"not complete within the {self.seconds:g} s deadline{got}",
                "the server is too slow or stalls; try later, or raise SOETL_FETCH_DEADLINE if it is just slow",
            )  # fmt: skip


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the deadline, not just by the read timeout."""

    def __init__(self, inner: httpcore.NetworkStream, clock: _Deadline) -> None:
        self.inner, self.clock = inner, clock

    def _timeout(self, timeout: float | None) -> float:
        remaining = self.clock.remaining()
        if remaining <= 0:
            raise httpcore.ReadTimeout("download deadline reached")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self.inner.read(max_bytes, self._timeout(timeout))
        self.clock.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._timeout(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):  # type: ignore[no-untyped-def]
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, self._timeout(timeout)), self.clock)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, clock: _Deadline) -> None:
        self.inner, self.clock = inner, clock

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        remaining = max(0.001, self.clock.remaining())
        timeout = remaining if timeout is None else min(timeout, remaining)
        return _DeadlineStream(self.inner.connect_tcp(host, port, timeout, local_address, socket_options), self.clock)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def _transport(clock: _Deadline) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()
    # httpx has no public way to give its connection pool a network backend: set httpcore's.
    pool = transport._pool
    pool._network_backend = _DeadlineBackend(pool._network_backend, clock)  # type: ignore[union-attr]
    return transport


def _copy_local(source: SourceEntry, raw_dir: Path, max_bytes: int = MAX_BYTES) -> Landed:
    src = Path(source.url)
    hint = "fix the path in the catalog (relative paths are read from the catalog's folder)"
    try:
        info = src.stat()
    except FileNotFoundError:
        raise FetchError(source.id, source.url, "no such file", hint) from None
    except OSError as exc:
        raise FetchError(source.id, source.url, f"cannot read it: {exc.strerror or exc}", hint) from None
    if not stat.S_ISREG(info.st_mode):
        raise FetchError(source.id, source.url, "not a regular file (a directory, device or pipe)", hint)
    if info.st_size > max_bytes:
        raise FetchError(source.id, source.url, f"{info.st_size} bytes is over the {max_bytes}-byte cap")
    fd, tmp = _part(raw_dir, "copy")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
            copied = 0
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                copied += len(chunk)
                if copied > max_bytes:  # it grew while we copied
                    raise FetchError(source.id, source.url, f"more than the {max_bytes}-byte cap")
                out.write(chunk)
        path, sha, size = _store(tmp, source, raw_dir)
    except PermissionError as exc:
        raise FetchError(source.id, source.url, f"cannot read it: {exc.strerror}", hint) from None
    finally:
        tmp.unlink(missing_ok=True)
    return Landed(source.id, source.url, _rel(path, raw_dir), sha, size, _now(), "copied", source_size=info.st_size,
                  source_mtime_ns=info.st_mtime_ns, source_ctime_ns=info.st_ctime_ns)  # fmt: skip


def unchanged(source: SourceEntry, previous: dict | None, *, timeout: httpx.Timeout = TIMEOUT) -> bool:
    """Whether the source certainly holds the bytes of its last good landing ``previous``, found without
    landing it again: a local file whose size and times are those recorded when it was copied (else its
    sha256), a server that answers the conditional request with 304. False whenever that cannot be told
    (no earlier copy, a changed URL, a 200, a refused or failed request): the flow then fetches it, with its
    retries and its named errors."""
    if not previous or previous.get("url") != source.url or not isinstance(previous.get("sha256"), str):
        return False
    if source.sha256 and previous["sha256"] != source.sha256:
        return False
    if not source.is_remote:
        try:
            info = Path(source.url).stat()
        except OSError:
            return False
        stamp = (previous.get("source_size"), previous.get("source_mtime_ns"), previous.get("source_ctime_ns"))
        if stamp == (info.st_size, info.st_mtime_ns, info.st_ctime_ns):
            return True
        # Copied elsewhere, touched, or recorded before stats were kept: the bytes decide.
        return info.st_size == previous.get("bytes") and _sha256_file(Path(source.url)) == previous["sha256"]
    headers = _request_headers(source, previous)
    if not headers.keys() & {"If-None-Match", "If-Modified-Since"}:
        return False  # the server gave no validator: only a download can tell
    try:
        with (
            _transport(_Deadline(timeout.read or DEADLINE)) as transport,
            _follow(transport, source, headers, timeout) as response,
        ):
            return response.status_code == 304  # a 200's body is never read: the flow downloads it
    except (httpx.HTTPError, FetchError):
        return False


def _sha256_file(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _rel(path: Path, raw_dir: Path) -> str:
    # Paths in the manifest are relative to the data dir, so a data dir can be moved whole.
    return str(path.relative_to(raw_dir.parent))


def _landed_fields(record: dict) -> dict:
    fields = Landed.__dataclass_fields__
    return {k: v for k, v in record.items() if k in fields}


def record(landed: Landed) -> dict:
    return asdict(landed)
