"""Landing a source in raw/: download (or copy), check it is a PDF, store it content-addressed.

``raw/<source id>/<sha256>.pdf`` holds every version ever landed, unchanged; ``raw/manifest.jsonl``
says where each came from and when. Repeat downloads are conditional (ETag / Last-Modified).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from flows.catalog import SourceEntry

PDF_MAGIC = b"%PDF-"
MAX_BYTES = 200 * 1024 * 1024  # MOFCOM reports are a few MB; anything this big is not one
TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=10.0)
USER_AGENT = "soetl/0.1 (+https://github.com/; service-outsourcing statistics pipeline)"

Progress = Callable[[int, int | None], None]  # (bytes so far, total if known)


class FetchError(Exception):
    """A source could not be landed. Says which, from where, and what to do."""

    def __init__(self, source_id: str, url: str, problem: str, hint: str = "") -> None:
        self.source_id, self.url, self.problem = source_id, url, problem
        super().__init__(f"source {source_id} ({url}): {problem}" + (f" — {hint}" if hint else ""))


class TransientFetchError(FetchError):
    """Worth retrying: a timeout, a dropped connection, a 5xx."""


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


def manifest_path(raw_dir: Path) -> Path:
    return raw_dir / "manifest.jsonl"


def read_manifest(raw_dir: Path) -> list[dict]:
    path = manifest_path(raw_dir)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a crash mid-append; the others still count
    return records


def last_good(raw_dir: Path, source_id: str) -> dict | None:
    """The newest manifest record of a landed copy that is still on disk."""
    for record in reversed(read_manifest(raw_dir)):
        if record.get("source_id") == source_id and record.get("status") in ("downloaded", "not_modified", "copied"):
            if (raw_dir.parent / record["path"]).exists() or Path(record["path"]).exists():
                return record
    return None


def append_manifest(raw_dir: Path, record: dict) -> None:
    raw_dir.mkdir(parents=True, exist_ok=True)
    with manifest_path(raw_dir).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _store(tmp: Path, source: SourceEntry, raw_dir: Path) -> tuple[Path, str, int]:
    """Check a downloaded file and move it to its content address."""
    with tmp.open("rb") as fh:
        head = fh.read(1024)
    if not head.lstrip().startswith(PDF_MAGIC):
        looks = "an HTML page" if b"<html" in head.lower() or b"<!doctype" in head.lower() else "not a PDF"
        raise FetchError(
            source.id, source.url, f"the server sent {looks}, not a PDF (no %PDF- header)",
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


def fetch(
    source: SourceEntry,
    raw_dir: Path,
    *,
    timeout: httpx.Timeout = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
) -> Landed:
    """Land one source. Raises TransientFetchError (retry it) or FetchError (don't)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    if not source.is_remote:
        return _copy_local(source, raw_dir)
    previous = last_good(raw_dir, source.id)
    headers = {"User-Agent": USER_AGENT}
    if previous and previous.get("url") == source.url:
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = previous["last_modified"]
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=raw_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, httpx.Client(timeout=timeout, follow_redirects=True) as client:
            with client.stream("GET", source.url, headers=headers) as response:
                if response.status_code == 304 and previous:
                    return Landed(**{**_landed_fields(previous), "fetched_at": _now(), "status": "not_modified"})
                if response.status_code >= 500 or response.status_code == 429:
                    raise TransientFetchError(source.id, source.url, f"HTTP {response.status_code}", "will retry")
                if response.status_code >= 400:
                    raise FetchError(
                        source.id, source.url, f"HTTP {response.status_code}", "check the URL in the catalog"
                    )
                total = int(response.headers["content-length"]) if "content-length" in response.headers else None
                if total is not None and total > max_bytes:
                    raise FetchError(source.id, source.url, f"{total} bytes is over the {max_bytes}-byte cap")
                received = 0
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise FetchError(source.id, source.url, f"more than the {max_bytes}-byte cap")
                    out.write(chunk)
                    if progress:
                        progress(received, total)
                if total is not None and received != total:
                    raise TransientFetchError(
                        source.id, source.url, f"truncated: got {received} of {total} bytes", "will retry"
                    )
                etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        path, sha, size = _store(tmp, source, raw_dir)
    except httpx.TimeoutException as exc:
        raise TransientFetchError(source.id, source.url, f"timed out ({type(exc).__name__})", "will retry") from None
    except httpx.TransportError as exc:
        raise TransientFetchError(source.id, source.url, f"connection failed: {exc}", "will retry") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Landed(source.id, source.url, _rel(path, raw_dir), sha, size, _now(), "downloaded", etag, modified)


def _copy_local(source: SourceEntry, raw_dir: Path) -> Landed:
    src = Path(source.url)
    if not src.is_file():
        raise FetchError(
            source.id,
            source.url,
            "no such file",
            "fix the path in the catalog (relative paths are read from the catalog's folder)",
        )
    fd, tmp_name = tempfile.mkstemp(prefix=".copy-", suffix=".part", dir=raw_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(src, tmp)
        path, sha, size = _store(tmp, source, raw_dir)
    finally:
        tmp.unlink(missing_ok=True)
    return Landed(source.id, source.url, _rel(path, raw_dir), sha, size, _now(), "copied")


def _rel(path: Path, raw_dir: Path) -> str:
    # Paths in the manifest are relative to the data dir, so a data dir can be moved whole.
    return str(path.relative_to(raw_dir.parent))


def _landed_fields(record: dict) -> dict:
    fields = Landed.__dataclass_fields__
    return {k: v for k, v in record.items() if k in fields}


def record(landed: Landed) -> dict:
    return asdict(landed)
