"""Publish curated datasets as hive-partitioned Parquet with a data dictionary, atomically and versioned.

Layout under the data directory::

    curated -> curated.versions/<version>     relative symlink: what readers open
    curated.versions/<version>/               a whole published tree (the current one and its predecessors)
        datapackage.json  README.md  <dataset>/year=<YYYY>/<source_id>.parquet
    curated.versions/.staging-<version>/      a tree being written; never reachable through curated/
    curated.versions/.lock                    one publish or rollback at a time

A publish writes a complete new tree into the staging directory (new files written and fsynced, files
it keeps from the previous version hard-linked), renames it into place and then repoints ``curated``
with a single ``rename(2)`` of a temporary symlink. Until that rename, ``curated/`` is the previous
version untouched; after it, the new one whole. A ``kill -9`` at any point leaves one or the other,
and the next publish sweeps up what the killed one left behind.

Why a symlink and not directory renames: renaming ``curated`` away and the new tree in is two steps,
with a moment in between when ``curated/`` does not exist; a symlink swap is one step on every POSIX
filesystem. Readers resolve the link once when they open the dataset, so a reader already scanning
the previous version keeps reading it: the version just replaced is never pruned.

No Prefect here: the flow wraps ``publish`` in a task (flows/stages.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from extractors.datasets import Curated
from extractors.pdfsource import sha256_of
from flows import dictionary_doc
from schemas.dictionary import Column, Dataset, datasets

CURATED = "curated"
VERSIONS = "curated.versions"
IMAGES = "images"  # inside a version: images/<source id>/<figure>.png
KEEP_VERSIONS = 3  # the current tree and two predecessors: two bad nights can be undone
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"

_STAGING = ".staging-"
_TRASH = ".trash-"
_SWAP = ".curated-swap-"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # ends up in file and directory names
_YEAR_DIR = re.compile(r"^year=(\d{4})$")
_REMOTE = re.compile(r"^(http|ftp)s?://")

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "list_float": pa.list_(pa.float64()),
}
PACKAGE_TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean", "list_float": "array"}

# Tests set this to stop the process at a chosen step (see tests/test_publish.py); None in production.
_step_hook: Callable[[str], None] | None = None


class PublishError(Exception):
    """The curated data cannot be published as given; nothing in curated/ changed."""


class RollbackError(PublishError):
    """There is no previous version to go back to."""


@dataclass
class SourceInfo:
    source_id: str
    url: str
    sha256: str
    fetched_at: str
    year: int | None
    kind: str | None
    pdf_path: str | None = None


def _soetl_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("soetl")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class RunInfo:
    run_id: str
    started_at: str  # RFC 3339; also the datapackage's "created"
    extractor_version: str
    soetl_version: str = field(default_factory=_soetl_version)


@dataclass
class PublishResult:
    version: str | None  # what curated/ holds now (None: nothing has ever been published)
    previous: str | None  # what it held before; rollback() goes back to it
    curated_path: Path
    published: list[str] = field(default_factory=list)  # datasets with rows written by this run
    # Datasets in `exclude`: the version their files were kept from, or None when there was none to keep
    # (the dataset is then absent from curated/).
    kept_previous: dict[str, str | None] = field(default_factory=dict)
    carried: dict[str, list[str]] = field(default_factory=dict)  # dataset -> other sources' files kept as they were
    rows: dict[str, int] = field(default_factory=dict)  # rows per dataset in the new tree
    changed: bool = True
    # (source id, dataset) that could not be written, and why; dataset "" when the whole source could not.
    # Their previous files, if any, are kept; everything else is published.
    failures: dict[tuple[str, str], Exception] = field(default_factory=dict)
    # Parquet files of the new version written by this publish, and those hard-linked from the previous one
    # (a source whose rows did not change keeps its files: cost follows what changed).
    written: int = 0
    linked: int = 0

    def __str__(self) -> str:
        parts = [f"curated/ = {self.version} (previous: {self.previous or 'none'})"]
        parts.append("published: " + (", ".join(self.published) or "nothing"))
        parts.append(f"{self.written} files written, {self.linked} unchanged files linked")
        if self.kept_previous:
            kept = ", ".join(f"{d} ({v or 'none to keep, not published'})" for d, v in self.kept_previous.items())
            parts.append("failed, previous version kept: " + kept)
        if self.failures:
            parts.append("could not write: " + ", ".join(f"{d or '*'} of {s}" for s, d in sorted(self.failures)))
        return "; ".join(parts)


@dataclass
class _File:
    dataset: str
    year: int
    source_id: str
    relpath: str  # <dataset>/year=<YYYY>/<source_id>.parquet
    carried_from: str | None = None  # the version it was hard-linked from


def _step(name: str) -> None:
    if _step_hook is not None:
        _step_hook(name)


# --- frames and Parquet ---------------------------------------------------------------------------


def pandas_dtype(column: Column) -> str:
    """The pandas dtype a column is written and read back as."""
    if column.dtype == "int":
        return "Int64" if column.nullable else "int64"
    if column.dtype == "bool":
        return "boolean" if column.nullable else "bool"
    return {"string": "str", "float": "float64", "list_float": "object"}[column.dtype]


def canonical_frame(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """``frame`` with the dictionary's columns, in its order, in the dtypes the Parquet files hold."""
    names = [c.name for c in dataset.columns]
    if sorted(frame.columns) != sorted(names):
        missing, extra = set(names) - set(frame.columns), set(frame.columns) - set(names)
        raise PublishError(f"{dataset.name}: columns differ from the dictionary (missing {missing}, extra {extra})")
    out = frame[names].reset_index(drop=True).copy()
    for column in dataset.columns:
        series = out[column.name]
        missing = series.isna()  # elementwise even for list cells: a list is never NA, a None is
        if not column.nullable and missing.any():
            raise PublishError(f"{dataset.name}.{column.name} has nulls, but the dictionary says it cannot")
        if column.dtype == "list_float":
            out[column.name] = [
                None if gone else [float(x) for x in v] for v, gone in zip(series, missing, strict=True)
            ]
            continue
        try:
            out[column.name] = series.astype(pandas_dtype(column))
        except (TypeError, ValueError) as exc:
            raise PublishError(f"{dataset.name}.{column.name}: not {column.dtype}: {exc}") from None
    return out


def arrow_schema(dataset: Dataset, *, drop: Set[str] = frozenset()) -> pa.Schema:
    """The dictionary's columns as Arrow fields, each carrying its description and unit."""
    return pa.schema(
        [
            pa.field(
                c.name,
                ARROW_TYPES[c.dtype],
                nullable=c.nullable,
                # unit is always present ("" for none) so a reader can rely on the key.
                metadata={"description": c.description, "unit": c.unit or ""},
            )
            for c in dataset.columns
            if c.name not in drop
        ]
    )


def _has_year(dataset: Dataset) -> bool:
    return any(c.name == "year" for c in dataset.columns)


def _write_parquet(path: Path, frame: pd.DataFrame, dataset: Dataset, meta: dict[str, str]) -> None:
    # year lives only in the directory name: pyarrow (so pandas) refuses a dataset whose files hold the
    # partition column too ("Unable to merge: Field year has incompatible types").
    drop = {"year"} if _has_year(dataset) else set()
    body = frame.drop(columns=sorted(drop))
    table = pa.Table.from_pandas(body, schema=arrow_schema(dataset, drop=drop), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{k: v.encode() for k, v in meta.items()}})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pq.write_table(table, fh)
        fh.flush()
        os.fsync(fh.fileno())


# --- the version tree -------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Directory entries too: a renamed-in tree whose entries never reached the disk is not whole."""
    for dirpath, _dirs, _files in os.walk(root, topdown=False):
        _fsync_dir(Path(dirpath))


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _locked(versions: Path) -> Iterator[None]:
    # flock, not a lock file's existence: the kernel drops it when the holder dies, even by kill -9.
    with (versions / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _is_placeholder(path: Path) -> bool:
    """A real curated/ directory holding only dotfiles (the repository's curated/.gitkeep)."""
    return all(p.name.startswith(".") for p in path.iterdir())


def _current(data_dir: Path) -> tuple[str | None, Path | None]:
    """The version curated/ holds and the directory to carry files from (None, None before any publish)."""
    link = data_dir / CURATED
    versions = data_dir / VERSIONS
    if link.is_symlink():
        target = Path(os.readlink(link))
        resolved = (link.parent / target).resolve()
        if resolved.parent != versions.resolve():
            raise PublishError(f"{link} points at {target}, which soetl does not manage; move it away first")
        if not resolved.is_dir():  # cannot happen through publish; a hand-deleted version
            return None, None
        return resolved.name, resolved
    if not link.exists():
        return None, None
    if not link.is_dir():
        raise PublishError(f"{link} is a file, not a directory; move it away first")
    if _is_placeholder(link):
        return None, None
    # A tree published before versioning (or copied in by hand): carry from it; it becomes a version.
    return _legacy_id(link), link


def _legacy_id(path: Path) -> str:
    return "legacy-" + str(int(path.stat().st_mtime))


def _package_of(root: Path | None) -> dict[str, Any]:
    if root is None or not (root / "datapackage.json").is_file():
        return {}
    try:
        return json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _previous_of(versions: Path, version: str) -> str | None:
    return _package_of(versions / version).get("soetl:previous_version")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _point_curated_at(data_dir: Path, version: str, legacy: str | None = None) -> None:
    """Make curated/ the given version in one atomic rename (the moment a publish becomes visible)."""
    link = data_dir / CURATED
    versions = data_dir / VERSIONS
    swap = data_dir / f"{_SWAP}{version}"
    with contextlib.suppress(FileNotFoundError):
        swap.unlink()
    # Relative, so the data directory can be moved or mounted elsewhere.
    os.symlink(f"{VERSIONS}/{version}", swap)
    _step("linked")
    if link.is_dir() and not link.is_symlink():
        # First publish over a real curated/ directory: rename(2) cannot put a symlink over a directory.
        if not _exchange(swap, link):
            # Not Linux: there is a moment without curated/ here, once, on the first publish.
            aside = versions / (legacy or f"{_TRASH}placeholder")
            os.rename(link, aside)
            os.replace(swap, link)
        _fsync_dir(data_dir)
        _step("swapped")
        _settle_swapped_out(data_dir, legacy)
    else:
        os.replace(swap, link)
        _fsync_dir(data_dir)
        _step("swapped")


def _settle_swapped_out(data_dir: Path, legacy: str | None) -> None:
    """After an exchange, the old real curated/ sits at the swap path: keep it as a version or drop it."""
    versions = data_dir / VERSIONS
    for swapped in data_dir.glob(f"{_SWAP}*"):
        if swapped.is_symlink() or not swapped.is_dir():
            continue
        if legacy and not (versions / legacy).exists():
            os.rename(swapped, versions / legacy)
        else:
            os.rename(swapped, versions / f"{_TRASH}{swapped.name}")
            shutil.rmtree(versions / f"{_TRASH}{swapped.name}", ignore_errors=True)
    _fsync_dir(versions)


def _clean_stale(data_dir: Path) -> None:
    """What a killed publish left: staging trees, half-deleted versions, unused swap links."""
    versions = data_dir / VERSIONS
    for path in versions.iterdir():
        if path.name.startswith((_STAGING, _TRASH)):
            shutil.rmtree(path, ignore_errors=True)
    current, _root = _current(data_dir)
    legacy = _previous_of(versions, current) if current else None
    for path in data_dir.glob(f"{_SWAP}*"):
        if path.is_symlink():
            path.unlink()
    _settle_swapped_out(data_dir, legacy)


def _new_version_id(versions: Path, run_id: str) -> str:
    if not _SAFE_ID.match(run_id):
        raise PublishError(f"run id {run_id!r} cannot name a directory (letters, digits, _ . - only)")
    version, n = run_id, 1
    # A retried publish of the same run gets a fresh version rather than overwriting one readers may use.
    while (versions / version).exists() or (versions / f"{_STAGING}{version}").exists():
        n += 1
        version = f"{run_id}.{n}"
    return version


def _prune(versions: Path, current: str, keep: int) -> None:
    """Delete versions beyond the current one's chain of `keep` (renamed aside first, so never half there)."""
    chain: list[str] = [current]
    while len(chain) < keep and (prev := _previous_of(versions, chain[-1])) and (versions / prev).is_dir():
        chain.append(prev)
    for path in sorted(versions.iterdir()):
        if path.is_dir() and not path.name.startswith(".") and path.name not in chain:
            trash = versions / f"{_TRASH}{path.name}"
            os.rename(path, trash)
            _step(f"pruning {path.name}")
            shutil.rmtree(trash, ignore_errors=True)


def _previous_files(root: Path | None, dictionary: Mapping[str, Dataset]) -> list[_File]:
    if root is None:
        return []
    files = []
    for name in dictionary:
        for year_dir in sorted((root / name).glob("year=*")):
            m = _YEAR_DIR.match(year_dir.name)
            if not m or not year_dir.is_dir():
                continue
            for path in sorted(year_dir.glob("*.parquet")):
                files.append(_File(name, int(m.group(1)), path.stem, f"{name}/{year_dir.name}/{path.name}"))
    return files


# --- publish ----------------------------------------------------------------------------------------


def _check_inputs(
    curated: Mapping[str, Curated],
    sources: Mapping[str, SourceInfo],
    dictionary: Mapping[str, Dataset],
    failures: dict[tuple[str, str], Exception],
) -> None:
    """Sources that cannot be published at all go into ``failures``; the others still are."""
    for source_id, item in curated.items():
        if not _SAFE_ID.match(source_id):
            problem = f"source id {source_id!r} cannot name a file (letters, digits, _ . - only)"
        elif source_id not in sources:
            problem = f"{source_id}: curated data given but no SourceInfo"
        elif unknown := set(item.frames) - set(dictionary):
            problem = f"{source_id}: datasets not in the dictionary: {', '.join(sorted(unknown))}"
        else:
            continue
        failures[(source_id, "")] = PublishError(problem)


def _source_record(info: SourceInfo) -> dict[str, Any]:
    record: dict[str, Any] = {"title": info.source_id}
    if _REMOTE.match(info.url):
        # A v2 source path is a URL or a path relative to datapackage.json; a catalog file path is neither,
        # and a path on the machine that ran the pipeline means nothing to whoever receives the data.
        record.update({"path": info.url, "url": info.url})
    else:
        record["soetl:local_file"] = Path(info.url).name
    record.update({"sha256": info.sha256, "fetched_at": info.fetched_at, "kind": info.kind, "year": info.year})
    return record


def _partitions(frame: pd.DataFrame, dataset: Dataset, info: SourceInfo) -> list[tuple[int, pd.DataFrame]]:
    if _has_year(dataset):
        return [(int(year), part.reset_index(drop=True)) for year, part in frame.groupby("year", sort=True)]
    if info.year is None:
        raise PublishError(
            f"{info.source_id}: no year known, so {dataset.name} cannot be partitioned (catalog: year =)"
        )
    return [(int(info.year), frame)]


def _file_meta(dataset: Dataset, info: SourceInfo, run: RunInfo, year: int) -> dict[str, str]:
    return {
        "dataset": dataset.name,
        "title": dataset.title,
        "description": dataset.description,
        "key": json.dumps(list(dataset.key)),
        "year": str(year),
        "source_id": info.source_id,
        "source_sha256": info.sha256,
        "source_url": info.url,
        "run_id": run.run_id,
        "run_started_at": run.started_at,
        "extractor_version": run.extractor_version,
    }


def publish(
    curated: Mapping[str, Curated],
    sources: Mapping[str, SourceInfo],
    data_dir: Path,
    run: RunInfo,
    exclude: Set[str] = frozenset(),
    *,
    keep: int = KEEP_VERSIONS,
    exclude_by_source: Mapping[str, Set[str]] | None = None,
) -> PublishResult:
    """Publish the curated frames of the given sources as a new version of curated/.

    Datasets in ``exclude`` (failed validation) keep their previous files; the other datasets' files of
    these sources are replaced; files of sources not given are carried over unchanged. A dataset of a
    source that cannot be written (its frame does not fit the dictionary, no year is known for it …) keeps
    its previous files and is named in ``result.failures``; the rest is published. Figure PNGs are copied
    into the version (``images/<source id>/``), so the published tree stands on its own.

    ``exclude_by_source`` names, per source, more datasets to keep as they were (those of the sources a
    failed check was about, when checks ran per group of sources). A dataset of a source whose rows are
    exactly those of its file in the previous version is hard-linked from it, not written again.
    """
    data_dir = Path(data_dir)
    dictionary = datasets()
    failures: dict[tuple[str, str], Exception] = {}
    _check_inputs(curated, sources, dictionary, failures)
    keep = max(keep, 2)  # the version just replaced may still be open in a reader
    versions = data_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    with _locked(versions):
        _step("locked")
        _clean_stale(data_dir)
        previous, previous_root = _current(data_dir)
        legacy = previous if previous_root is not None and previous_root == data_dir / CURATED else None
        result = PublishResult(
            version=previous, previous=previous, curated_path=data_dir / CURATED, failures=failures
        )
        version = _new_version_id(versions, run.run_id)
        staging = versions / f"{_STAGING}{version}"
        staging.mkdir()
        try:
            package = _stage(
                staging, curated, sources, run, exclude, version, previous, previous_root, result,
                exclude_by_source or {},
            )  # fmt: skip
        except BaseException:
            # Nothing visible changed; leave no half tree behind either (a kill is swept by the next run).
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if package is None:
            shutil.rmtree(staging)
            result.changed = False
            return result
        os.rename(staging, versions / version)
        _fsync_dir(versions)
        _step("staged")
        _point_curated_at(data_dir, version, legacy)
        result.version = version
        result.rows = {d["name"]: d["rows"] for d in package["soetl:datasets"]}
        _prune(versions, version, keep)
        _step("done")
        return result


def _stage(
    staging: Path,
    curated: Mapping[str, Curated],
    sources: Mapping[str, SourceInfo],
    run: RunInfo,
    exclude: Set[str],
    version: str,
    previous: str | None,
    previous_root: Path | None,
    result: PublishResult,
    exclude_by_source: Mapping[str, Set[str]],
) -> dict[str, Any] | None:
    """Write the whole new tree into ``staging`` and fsync it; its datapackage, or None if it is empty."""
    dictionary = datasets()
    data_dir = staging.parent.parent
    tree: list[_File] = []
    old_files = _previous_files(previous_root, dictionary)
    failed_sources = {s for s, d in result.failures if not d}
    fresh = {s for s in curated if s not in failed_sources}

    def carry(old: _File) -> None:
        assert previous_root is not None
        _link_into(previous_root / old.relpath, staging / old.relpath)
        if old.dataset == "figures":
            for image in sorted((previous_root / IMAGES / old.source_id).glob("*")):
                _link_into(image, staging / IMAGES / old.source_id / image.name)
        tree.append(_File(old.dataset, old.year, old.source_id, old.relpath, carried_from=previous))

    def excluded(source_id: str, name: str) -> bool:
        return name in exclude or name in exclude_by_source.get(source_id, ())

    # Old files first: a dataset keeps the partitions of sources this run does not refresh.
    for old in old_files:
        if excluded(old.source_id, old.dataset) or old.source_id not in fresh:
            carry(old)
            if excluded(old.source_id, old.dataset):
                result.kept_previous[old.dataset] = previous
            elif old.source_id not in result.carried.setdefault(old.dataset, []):
                result.carried[old.dataset].append(old.source_id)
    for name in sorted((exclude | {d for ds in exclude_by_source.values() for d in ds}) & set(dictionary)):
        if name in exclude or not any(not excluded(s, name) for s in fresh):
            result.kept_previous.setdefault(name, None)
    refreshed = False
    for name, dataset in dictionary.items():
        for source_id in sorted(fresh):
            if excluded(source_id, name):
                continue
            frame = curated[source_id].frames.get(name)
            if frame is None or frame.empty:
                continue
            mine = [old for old in old_files if old.dataset == name and old.source_id == source_id]
            try:
                written = _write_dataset(staging, data_dir, name, dataset, frame, sources[source_id], run,
                                         previous_root, mine)  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - this dataset of this source only; the rest goes on
                result.failures[(source_id, name)] = exc
                for old in mine:
                    carry(old)
                continue
            if written and all(f.carried_from for f in written):
                for f in written:
                    f.carried_from = previous
                if name == "figures":
                    for image in sorted((previous_root / IMAGES / source_id).glob("*")) if previous_root else []:
                        _link_into(image, staging / IMAGES / source_id / image.name)
            tree += written
            refreshed = refreshed or bool(written)
            if name not in result.published:
                result.published.append(name)
    result.linked = sum(1 for f in tree if f.carried_from is not None)
    result.written = len(tree) - result.linked
    # A refreshed source whose rows are unchanged still makes a version (of links: cheap), so every run that
    # refreshed something has its version and its report, and rollback steps run by run.
    if not refreshed:
        # Nothing new (every source failed, or none was given): no version that only repeats the last one,
        # so curated/ and `soetl rollback` keep pointing at versions that differ.
        return None
    old_sources = {s.get("title"): s for s in _package_of(previous_root).get("sources", []) if isinstance(s, dict)}
    records = {**old_sources, **{sid: _source_record(sources[sid]) for sid in fresh}}
    package = _package(staging, tree, dictionary, run, version, previous, records, result)
    _write_text(staging / "datapackage.json", json.dumps(package, ensure_ascii=False, indent=2) + "\n")
    _step("wrote datapackage.json")
    _write_text(staging / "README.md", _readme(package, dictionary))
    _step("wrote README.md")
    from flows.vintages import views_sql

    _write_text(staging / "views.sql", views_sql({f.dataset for f in tree}))
    _fsync_tree(staging)
    _step("synced")
    return package


def content_digest(frame: pd.DataFrame) -> str:
    """A digest of a canonical frame's rows: equal digests, equal files (but for the run that wrote them)."""
    import hashlib

    text = frame.to_json(orient="split", double_precision=15, force_ascii=False, date_format="iso")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _unchanged(previous_root: Path | None, mine: list[_File], digest: str) -> bool:
    """The previous version holds this source's files of the dataset, written from the same rows."""
    if previous_root is None or not mine:
        return False
    for old in mine:
        try:
            meta = pq.read_schema(previous_root / old.relpath).metadata or {}
        except (OSError, pa.ArrowException):
            return False
        if meta.get(b"content_sha256", b"").decode() != digest:
            return False
    return True


def _write_dataset(
    staging: Path,
    data_dir: Path,
    name: str,
    dataset: Dataset,
    frame: pd.DataFrame,
    info: SourceInfo,
    run: RunInfo,
    previous_root: Path | None = None,
    previous_files: list[_File] | None = None,
) -> list[_File]:
    """One source's files of one dataset; on any failure, none of them is left in the tree.

    Rows equal to those its files in the previous version were written from: those files are linked."""
    written: list[_File] = []
    try:
        frame = canonical_frame(frame, dataset)
        _check_provenance(frame, dataset, info)
        digest = content_digest(frame)
        if _unchanged(previous_root, previous_files or [], digest):
            assert previous_root is not None and previous_files
            for old in previous_files:
                _link_into(previous_root / old.relpath, staging / old.relpath)
                written.append(_File(name, old.year, info.source_id, old.relpath, carried_from="previous"))
            return written
        if name == "figures":
            frame = _publish_images(frame, staging, data_dir, info.source_id)
        for year, part in _partitions(frame, dataset, info):
            relpath = f"{name}/year={year}/{info.source_id}.parquet"
            meta = {**_file_meta(dataset, info, run, year), "content_sha256": digest}
            _write_parquet(staging / relpath, part, dataset, meta)
            written.append(_File(name, year, info.source_id, relpath))
            _step(f"wrote {relpath}")
    except BaseException:
        for f in written:
            (staging / f.relpath).unlink(missing_ok=True)
        if name == "figures":
            shutil.rmtree(staging / IMAGES / info.source_id, ignore_errors=True)
        raise
    return written


def _publish_images(frame: pd.DataFrame, staging: Path, data_dir: Path, source_id: str) -> pd.DataFrame:
    """Copy each figure's PNG into the version and point image_path at it (relative to datapackage.json)."""
    frame = frame.copy()
    paths: list[str | None] = []
    for value in frame["image_path"]:
        if value is None or (isinstance(value, float) and pd.isna(value)) or not str(value):
            paths.append(None)
            continue
        src = Path(str(value))
        src = src if src.is_absolute() else data_dir / src
        if not src.is_file():
            raise PublishError(
                f"{source_id}: the figure image {value} is missing; `soetl run --refresh` extracts it again"
            )
        relpath = f"{IMAGES}/{source_id}/{src.name}"
        _link_into(src, staging / relpath)
        paths.append(relpath)
    frame["image_path"] = pd.Series(paths, index=frame.index, dtype="str")
    return frame


def _link_into(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        _link_or_copy(src, dst)


def _link_or_copy(src: Path, dst: Path) -> None:
    # A hard link costs no space and no time; files are never modified in place, so sharing is safe.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
        with dst.open("rb") as fh:
            os.fsync(fh.fileno())


def _check_provenance(frame: pd.DataFrame, dataset: Dataset, info: SourceInfo) -> None:
    # The file is named after the source; rows of another source in it would be misfiled for good.
    ids = set(frame["source_id"].unique())
    if ids != {info.source_id}:
        raise PublishError(f"{dataset.name} of {info.source_id} holds rows of sources {sorted(map(str, ids))}")
    shas = set(frame["source_sha256"].unique())
    if shas != {info.sha256}:
        raise PublishError(
            f"{dataset.name} of {info.source_id} was extracted from {sorted(map(str, shas))}, "
            f"but the source landed as {info.sha256}"
        )


# --- datapackage.json and README.md ----------------------------------------------------------------


def package_field(column: Column) -> dict[str, Any]:
    out: dict[str, Any] = {"name": column.name, "type": PACKAGE_TYPES[column.dtype], "description": column.description}
    if column.unit:
        out["unit"] = column.unit
    constraints: dict[str, Any] = {"required": not column.nullable}
    if column.enum:
        constraints["enum"] = list(column.enum)
    if column.max is not None:
        constraints["maximum"] = int(column.max) if column.dtype == "int" else float(column.max)
    if column.dtype == "list_float":
        # Parquet list<double>. Declared "any" to Data Package readers: frictionless (the reference
        # validator) reads Parquet through pandas, which hands list cells over as numpy arrays, and its
        # "array" type accepts only Python lists or JSON text. soetl:type says what the cells are.
        out["type"] = "any"
        out["soetl:type"] = "array"
        out["soetl:items"] = "number"
    out["constraints"] = constraints
    return out


def resource_name(f: _File) -> str:
    return f"{f.dataset}.{f.year}.{f.source_id}"


def _package(
    root: Path,
    tree: list[_File],
    dictionary: Mapping[str, Dataset],
    run: RunInfo,
    version: str,
    previous: str | None,
    source_records: Mapping[str, dict[str, Any]],
    result: PublishResult,
) -> dict[str, Any]:
    """The datapackage: one resource per Parquet file, grouped into datasets by ``soetl:datasets``.

    One file per resource because a Data Package reader (frictionless) reads a multi-part resource by
    concatenating its parts, which Parquet files do not allow. The hive partition column (``year``) is
    not in the files, so it is not a field of their schemas: ``soetl:partition`` gives its value.
    """
    resources = []
    groups = []
    used_sources: dict[str, dict[str, Any]] = {}
    for name, dataset in dictionary.items():
        files = sorted((f for f in tree if f.dataset == name), key=lambda f: f.relpath)
        if not files:
            continue
        in_file = [c for c in dataset.columns if not (c.name == "year" and _has_year(dataset))]
        names = {c.name for c in in_file}
        rows = 0
        for f in files:
            meta = pq.read_metadata(root / f.relpath)
            file_meta = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items() if k != b"pandas"}
            record = source_records.get(f.source_id) or {"title": f.source_id, "sha256": file_meta.get("source_sha256")}
            used_sources.setdefault(f.source_id, record)
            rows += meta.num_rows
            resource: dict[str, Any] = {
                "name": resource_name(f),
                "type": "table",
                "title": f"{dataset.title} — {f.year}, {f.source_id}",
                "path": f.relpath,
                "format": "parquet",
                "mediatype": PARQUET_MEDIATYPE,
                # Not v2's bytes/hash: frictionless reads Parquet through pyarrow, counts no bytes, and reports
                # a byte-count/hash mismatch for any value given.
                "soetl:bytes": (root / f.relpath).stat().st_size,
                "soetl:hash": "sha256:" + sha256_of(root / f.relpath),
                "schema": {
                    "fields": [package_field(c) for c in in_file],
                    "primaryKey": [k for k in dataset.key if k in names],
                    # Parquet has real nulls: an empty string (an empty table cell) is a value, not a null.
                    "missingValues": [],
                },
                "sources": [record],
                "soetl:dataset": name,
                "soetl:partition": {"year": f.year},
                "soetl:rows": meta.num_rows,
                "soetl:run_id": file_meta.get("run_id"),
                "soetl:carried_from": f.carried_from,
            }
            if name in result.kept_previous:
                resource["soetl:kept_previous"] = result.kept_previous[name]
            resources.append(resource)
        group: dict[str, Any] = {
            "name": name,
            "title": dataset.title,
            "description": dataset.description,
            "resources": [resource_name(f) for f in files],
            "paths": [f.relpath for f in files],
            "primaryKey": list(dataset.key),
            "rows": rows,
            "sources": sorted({f.source_id for f in files}),
            "partitioning": {
                "flavor": "hive",
                "field": package_field(next((c for c in dataset.columns if c.name == "year"), _YEAR)),
                "from": "column" if _has_year(dataset) else "source year",
                "in_file": False,
            },
        }
        if name in result.kept_previous:
            group["kept_previous"] = result.kept_previous[name]
        groups.append(group)
    return {
        "$schema": PACKAGE_PROFILE,
        "name": "soetl-curated",
        "title": "China service-outsourcing statistics from MOFCOM reports (soetl curated datasets)",
        "description": "Datasets extracted from the Ministry of Commerce's service-outsourcing PDF reports, "
        "values as published. See README.md for the data dictionary.",
        "version": version,
        "created": run.started_at,
        "keywords": ["service outsourcing", "服务外包", "MOFCOM", "China"],
        "sources": [used_sources[s] for s in sorted(used_sources)],
        "resources": resources,
        "soetl:datasets": groups,
        "soetl:run": {
            "run_id": run.run_id,
            "started_at": run.started_at,
            "extractor_version": run.extractor_version,
            "soetl_version": run.soetl_version,
            "published": sorted(result.published),
            "kept_previous": result.kept_previous,
        },
        "soetl:previous_version": previous,
    }


_YEAR = Column("year", "int", "Year of the source report (the hive partition of a dataset without a year column)")


def _readme(package: dict[str, Any], dictionary: Mapping[str, Dataset]) -> str:
    run = package["soetl:run"]
    lines = [
        "# soetl curated datasets",
        "",
        f"Version `{package['version']}`, written by run `{run['run_id']}` (started {run['started_at']}, "
        f"extractor {run['extractor_version']}). "
        + (
            f"Previous version: `{package['soetl:previous_version']}` (`soetl rollback` goes back to it)."
            if package["soetl:previous_version"]
            else "The first version published here."
        ),
        "",
        "| dataset | rows | files | sources |",
        "|---|---|---|---|",
    ]
    for group in package["soetl:datasets"]:
        kept = " (previous version kept: failed validation)" if "kept_previous" in group else ""
        lines.append(
            f"| `{group['name']}`{kept} | {group['rows']} | {len(group['paths'])} | {', '.join(group['sources'])} |"
        )
    lines += [
        "",
        "## Reading the data",
        "",
        dictionary_doc.examples_markdown(),
        "## Data dictionary",
        "",
        dictionary_doc.dictionary_markdown(),
    ]
    return "\n".join(lines)


# --- rollback ---------------------------------------------------------------------------------------


def kept_versions(data_dir: Path) -> list[str]:
    """The versions kept in curated.versions/ (the current one and its predecessors)."""
    versions = Path(data_dir) / VERSIONS
    if not versions.is_dir():
        return []
    return sorted(p.name for p in versions.iterdir() if p.is_dir() and not p.name.startswith("."))


def current_version(data_dir: Path) -> str | None:
    """The version curated/ holds, or None when nothing has been published."""
    return _current(Path(data_dir))[0]


def rollback(data_dir: Path) -> str:
    """Point curated/ back at the version before the current one; returns that version's id."""
    data_dir = Path(data_dir)
    link, versions = data_dir / CURATED, data_dir / VERSIONS
    if not link.is_symlink() or not versions.is_dir():
        raise RollbackError(f"nothing has been published in {data_dir} yet, so there is no version to roll back to")
    with _locked(versions):
        current, _root = _current(data_dir)
        if current is None:
            raise RollbackError(f"{link} points at a version that no longer exists; run `soetl run` to publish anew")
        previous = _previous_of(versions, current)
        if previous is None:
            raise RollbackError(
                f"{link} holds {current}, the first version published here: there is no previous version to restore"
            )
        if not (versions / previous).is_dir():
            raise RollbackError(
                f"{link} holds {current}; its previous version {previous} is no longer kept "
                f"(only the last {KEEP_VERSIONS} are)"
            )
        _point_curated_at(data_dir, previous)
    return previous
