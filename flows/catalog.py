"""The catalog of sources (catalog.toml): which PDFs to pull, from where, and what they are."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

KINDS = ("city_evaluation", "annual_report")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class CatalogError(ValueError):
    """A catalog that cannot be used; the message names the file, the entry and what to fix."""


@dataclass(frozen=True)
class SourceEntry:
    id: str
    url: str  # https://, http://, or a local path (absolute, or resolved against the catalog's folder)
    sha256: str | None = None  # pin: refuse anything else
    kind: str | None = None  # detected from the PDF's title when absent
    year: int | None = None  # detected from the title when absent

    @property
    def is_remote(self) -> bool:
        return urlparse(self.url).scheme in ("http", "https")


def load_catalog(path: Path) -> list[SourceEntry]:
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: no such catalog file (pass --catalog PATH, or create catalog.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path}: no [[source]] entries; add one with id and url")
    sources: list[SourceEntry] = []
    for n, entry in enumerate(entries, start=1):
        where = f"{path}: source #{n}" + (f" ({entry['id']})" if isinstance(entry.get("id"), str) else "")
        sources.append(_entry(entry, where, path.parent))
    ids = [s.id for s in sources]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"{path}: duplicate source id(s) {', '.join(dupes)}; ids name raw/<id>/ and must be unique")
    return sources


def _entry(entry: dict, where: str, base: Path) -> SourceEntry:
    unknown = set(entry) - {"id", "url", "sha256", "kind", "year"}
    if unknown:
        raise CatalogError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: id, url, sha256, kind, year"
        )
    source_id, url = entry.get("id"), entry.get("url")
    if not isinstance(source_id, str) or not _ID_RE.match(source_id):
        raise CatalogError(f"{where}: id must be lower-case letters, digits, '_', '-' or '.', got {source_id!r}")
    if not isinstance(url, str) or not url.strip():
        raise CatalogError(f"{where}: url is missing")
    scheme = urlparse(url).scheme
    if scheme in ("http", "https"):
        if not urlparse(url).netloc:
            raise CatalogError(f"{where}: url {url!r} has no host")
    elif scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", url):
        local = Path(urlparse(url).path if scheme == "file" else url)
        url = str(local if local.is_absolute() else (base / local).resolve())
    else:
        raise CatalogError(f"{where}: url scheme {scheme!r} is not supported; use https://, http:// or a file path")
    kind = entry.get("kind")
    if kind is not None and kind not in KINDS:
        raise CatalogError(f"{where}: kind {kind!r} is unknown; use one of {', '.join(KINDS)} or leave it out")
    sha = entry.get("sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha.lower())):
        raise CatalogError(f"{where}: sha256 must be 64 hex digits")
    year = entry.get("year")
    if year is not None and not (isinstance(year, int) and 2000 <= year <= 2100):
        raise CatalogError(f"{where}: year must be a four-digit year, got {year!r}")
    return SourceEntry(source_id, url, sha.lower() if sha else None, kind, year)
