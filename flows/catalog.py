"""The catalog of sources (catalog.toml): which PDFs to pull, from where, and what they are."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

MAX_ID_LENGTH = 64  # ids name directories and files (raw/<id>/, curated/…/<id>.parquet): keep them short
_ID_RE = re.compile(rf"[a-z0-9][a-z0-9_.-]{{0,{MAX_ID_LENGTH - 1}}}")  # used with fullmatch: no "$" newline gap
_KEYS = ("id", "url", "sha256", "kind", "year")


def known_kinds() -> tuple[str, ...]:
    """The report kinds the specs define (SOETL_SPEC_DIR or extractors/specs/), generic included."""
    from extractors.spec import load_specs, spec_dir_default

    return tuple(sorted(load_specs(spec_dir_default())))


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
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text (byte {exc.start}); save the catalog as UTF-8") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc.strerror or exc}") from None
    entries = data.get("source", [])
    if isinstance(entries, dict):
        raise CatalogError(f"{path}: [source] is a single table; write each source as [[source]] (double brackets)")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path}: no [[source]] entries; add one with id and url")
    sources: list[SourceEntry] = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise CatalogError(
                f"{path}: source #{n} is {_show(entry)}, not a table; write each source as [[source]] with id and url"
            )
        source_id = entry.get("id")
        named = isinstance(source_id, str) and _ID_RE.fullmatch(source_id)
        where = f"{path}: source #{n}" + (f" ({source_id})" if named else "")
        sources.append(_entry(entry, where, path.parent))
    ids = [s.id for s in sources]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"{path}: duplicate source id(s) {', '.join(dupes)}; ids name raw/<id>/ and must be unique")
    return sources


def _show(value: object, limit: int = 40) -> str:
    """A value as it can appear in a one-line message: repr (newlines escaped), shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _entry(entry: dict, where: str, base: Path) -> SourceEntry:
    unknown = set(entry) - set(_KEYS)
    if unknown:
        shown = ", ".join(_show(k) if not k.isidentifier() else k for k in sorted(unknown))
        raise CatalogError(f"{where}: unknown key(s) {shown}; allowed: {', '.join(_KEYS)}")
    source_id = entry.get("id")
    if not isinstance(source_id, str) or not _ID_RE.fullmatch(source_id):
        raise CatalogError(
            f"{where}: id must be 1 to {MAX_ID_LENGTH} lower-case letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit; got {_show(source_id)}"
        )
    kind = entry.get("kind")
    kinds = known_kinds()
    if kind is not None and (not isinstance(kind, str) or kind not in kinds):
        raise CatalogError(f"{where}: kind {_show(kind)} is unknown; use one of {', '.join(kinds)} or leave it out")
    sha = entry.get("sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha.lower())):
        raise CatalogError(f"{where}: sha256 must be 64 hex digits, got {_show(sha)}")
    year = entry.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100):
        raise CatalogError(f"{where}: year must be a four-digit year such as 2021, got {_show(year)}")
    url = _url(entry.get("url"), where, base)
    return SourceEntry(source_id, url, sha.lower() if sha else None, kind, year)


def _url(url: object, where: str, base: Path) -> str:
    """An http(s) URL as given, or a local path made absolute; anything else is a CatalogError."""
    if not isinstance(url, str) or not url.strip():
        raise CatalogError(f"{where}: url is missing or not a string (got {_show(url)}); give an https:// URL or path")
    if url != url.strip() or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise CatalogError(f"{where}: url {_show(url)} has spaces at its ends or control characters; remove them")
    try:
        parts = urlparse(url)
        parts.port  # noqa: B018 - parsing the port is what raises for "http://host:99999/"
    except ValueError as exc:
        raise CatalogError(f"{where}: url {_show(url)} cannot be parsed ({exc}); check its brackets and port") from None
    scheme = parts.scheme
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise CatalogError(f"{where}: url {_show(url)} has no host")
        if not re.fullmatch(r"[\w.:-]+", parts.hostname):
            raise CatalogError(f"{where}: url {_show(url)} has an invalid host {_show(parts.hostname)}")
        try:
            httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise CatalogError(f"{where}: url {_show(url)} is not a valid URL ({exc})") from None
        return url
    if scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", url):
        local = Path(parts.path if scheme == "file" else url)
        return str(local if local.is_absolute() else (base / local).resolve())
    raise CatalogError(f"{where}: url scheme {scheme!r} is not supported; use https://, http:// or a file path")
