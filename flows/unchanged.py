"""Whether a night has anything new, told cheaply: what a night's outcome depends on, the stamp a night
leaves in the data dir, and the answer `soetl run` gives from them before Prefect, pandas or a server start.

A night's outcome depends on every source's bytes, kind and year, on the extractor (its code and specs:
``extraction_fingerprint``) and on the code that shapes, checks and publishes (flows/, schemas/); that is
the night's key. A night that publishes leaves ``.cache/night.json``: its key, the version curated/ then
held, its checks, errors and report. A later night with the same key, whose sources are all unchanged and
whose curated/ is still that version, has nothing to do: its answer is that stamp. This module imports
only the standard library and the fetch code, so the answer costs a stat (or a conditional request) per
source, not the seconds a flow run costs to start.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.catalog import SourceEntry

NIGHT_STAMP = ".cache/night.json"
ROOT = Path(__file__).resolve().parents[1]


def tree_digest(root: Path, pattern: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob(pattern) if "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def extraction_fingerprint(spec_dir: Path, code_dir: Path | None = None) -> str:
    """A digest of the extractor package's sources and of the spec files: what an extraction depends on
    besides the PDF. Derived, never bumped by hand: any edit to either gives a new cache key."""
    code = code_dir or ROOT / "extractors"
    both = tree_digest(code, "*.py") + tree_digest(Path(spec_dir), "*.toml")
    return hashlib.sha256(both.encode()).hexdigest()[:16]


def extract_cache_key(sha256: str, kind: str | None, fingerprint: str) -> str:
    """The extraction cache's key (and file name under .cache/prefect): the PDF, its kind, the extractor."""
    return f"extract-{sha256}-{kind or 'auto'}-{fingerprint}"


def night_key(fingerprint: str, sources: list[tuple[str, str, str | None, int | None]]) -> str:
    """What a night's outcome depends on: (source id, sha256, kind, year) of every source, the extractor
    (``fingerprint``) and the code that shapes, checks and publishes (flows/, schemas/)."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update((tree_digest(ROOT / "flows", "*.py") + tree_digest(ROOT / "schemas", "*.*")).encode())
    for source_id, sha256, kind, year in sources:
        digest.update(f"{source_id}|{sha256}|{kind}|{year}\n".encode())
    return digest.hexdigest()


def read_stamp(data: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((data / NIGHT_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def write_stamp(data: Path, stamp: dict[str, Any]) -> None:
    path = data / NIGHT_STAMP
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def published_version(data: Path) -> str | None:
    """The version curated/ points at, when soetl published it (a symlink into its versions); else None.

    flows.publish.current_version says the same of these, and also names a legacy tree; that one never
    matches a stamp, so reading the link is enough here, without publish's pandas and pyarrow."""
    link = data / "curated"
    if not link.is_symlink():
        return None
    target = (link.parent / os.readlink(link)).resolve()
    return target.name if target.is_dir() else None


def stamp_stands(data: Path, key: str, stamp: dict[str, Any] | None) -> bool:
    """The stamp is this night's answer: the same key, curated/ still its version, its report on disk."""
    if not stamp or stamp.get("key") != key or stamp.get("version") != published_version(data):
        return False
    report = stamp.get("report_path")
    return bool(report) and Path(report).is_file()


def answer(sources: list[SourceEntry], data: Path, spec_dir: Path) -> dict[str, Any] | None:
    """The last night's stamp, when this night has nothing new; None when the flow must run.

    Nothing new: the stamp's night extracted every source (none of its errors is a fetch's or an
    extraction's), every source is unchanged since its last landing (``flows.fetch.unchanged``: a stat, or
    a conditional request, at most ``FETCH_CONCURRENCY`` at once and ``PER_HOST`` per host), each one's
    extraction is in the cache, and the key and curated/ are the stamp's. Each source's check is recorded in
    raw/manifest.jsonl (status not_modified), as the flow's fetch records it."""
    from flows.fetch import append_manifest, latest_good, unchanged
    from flows.parallel import FETCH_CONCURRENCY, polite

    stamp = read_stamp(data)
    if not stamp or not sources or any(e.get("stage") in ("fetch", "extract") for e in stamp.get("errors", [])):
        return None
    if stamp.get("version") is None or stamp.get("version") != published_version(data):
        return None  # curated/ moved on (a rollback, another run): cheaper to look no further
    raw_dir = data / "raw"
    previous = latest_good(raw_dir, {s.id for s in sources})

    def same(source: SourceEntry) -> bool:
        with polite(source.url):
            return unchanged(source, previous.get(source.id))

    with ThreadPoolExecutor(max_workers=min(FETCH_CONCURRENCY, len(sources))) as pool:
        if not all(pool.map(same, sources)):
            return None
    fingerprint = extraction_fingerprint(spec_dir)
    cache = data / ".cache" / "prefect"
    pairs = [(s, previous[s.id]) for s in sources]
    if not all((cache / extract_cache_key(r["sha256"], s.kind, fingerprint)).is_file() for s, r in pairs):
        return None
    key = night_key(fingerprint, [(s.id, r["sha256"], s.kind, s.year) for s, r in pairs])
    if not stamp_stands(data, key, stamp):
        return None
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for source, record in pairs:
        append_manifest(raw_dir, {**record, "fetched_at": now, "status": "not_modified", "kind": source.kind})
    return stamp
