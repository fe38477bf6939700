"""The flow's later stages as Prefect tasks: curate, validate, publish, and the audit report.

Each stage catches what one source raises and returns it as a SourceError beside its result, so one
source's failure never stops the others (see flows/problems.py). They are not cached (NO_CACHE: a
night with nothing new stops before them, flows/unchanged.py), so Prefect need not hash their inputs;
only each edition year's validation is, on a key of its own (ValidationCache).
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from extractors.datasets import Curated, curate
from extractors.extract import EXTRACTOR_VERSION
from flows.parallel import Opaque
from flows.problems import SourceError, log_error, name_error
from flows.summary import not_published
from flows.vintages import add_vintages

if TYPE_CHECKING:
    from flows.pipeline import RunSummary, SourceOutcome


@task(name="curate", cache_policy=NO_CACHE)
def curate_stage(outcomes: list[SourceOutcome], data: Path) -> tuple[dict[str, Curated], list[SourceError]]:
    """Shape each source's tables into the curated datasets; a source whose shaping raises is left out."""
    curated: dict[str, Curated] = {}
    errors: list[SourceError] = []
    for outcome in outcomes:
        item, error = curate_source(outcome, data)
        if error is not None:
            errors.append(error)
        else:
            curated[outcome.source.id] = item
    return curated, errors


def curate_source(outcome: SourceOutcome, data: Path) -> tuple[Any, SourceError | None]:
    """One source's curated datasets, or (its shaping raised) the error, named and logged."""
    source_id = outcome.source.id
    try:
        item = curate(outcome.extraction, source_id, outcome.source.year or outcome.extraction.year)
        add_vintages(item)  # which edition printed each year-keyed value, with its cell
        # Image paths relative to the data dir, so the published data stays valid when the dir moves.
        figures = item.frames["figures"]
        figures["image_path"] = [_relative(p, data) for p in figures["image_path"]]
    except Exception as exc:  # noqa: BLE001 - a header the spec does not know, a bug: this source only
        error = name_error(exc, source_id, "curate")
        log_error(_logger(), error)
        return None, error
    return item, None


def _relative(path: str | None, data: Path) -> str | None:
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(data.resolve()))
    except ValueError:
        return path


@dataclass(frozen=True)
class ValidationCache:
    """Where each edition year's validation is kept, and its key: what the checks of those sources depend
    on (their PDFs' bytes, kinds and years, the extractor, flows/ and schemas/: flows/unchanged.night_key).
    A night with one new PDF validates its edition year only; the other years come from the cache."""

    storage: Path
    key: Callable[[list[str]], str]
    refresh: bool = False

    def task(self, members: dict[str, Curated]) -> tuple[Any, str]:
        key = "validate-" + self.key(sorted(members))
        return validate_group_task.with_options(result_storage=self.storage, refresh_cache=self.refresh or None), key

    def holds(self, key: str) -> bool:
        return not self.refresh and (self.storage / key).is_file()


def edition_groups(curated: dict[str, Curated]) -> dict[Any, dict[str, Curated]]:
    """The sources of each edition year, in the order they come (the years in the order they first appear)."""
    groups: dict[Any, dict[str, Curated]] = {}
    for source_id, item in curated.items():
        groups.setdefault(_edition_year(item), {})[source_id] = item
    return groups


def _group_work(
    year: Any, members: dict[str, Curated], pdf_paths: dict[str, Path], cache: ValidationCache | None
) -> tuple[Any, dict[str, Any], bool]:
    """One edition year's validation task, its parameters, and whether the cache holds its result."""
    task, key = cache.task(members) if cache else (validate_group_task.with_options(persist_result=False), None)
    params = {"edition": f"edition {year}" if year is not None else "no edition year", "curated": Opaque(members),
              "pdf_paths": {s: pdf_paths[s] for s in members if s in pdf_paths}, "cache_key": key}  # fmt: skip
    return task, params, cache is not None and key is not None and cache.holds(key)


def validate_stage(
    curated: dict[str, Curated],
    pdf_paths: dict[str, Path],
    runner: Callable[[], Any] | None = None,
    cache: ValidationCache | None = None,
) -> tuple[Any, list[SourceError]]:
    """Every schema and check, each edition year's sources together; a source whose validation crashes is
    left out. The checks between reports (a notice and the annual report of its year) hold within one
    edition year, so the years are independent: on ``runner()`` (the night's worker processes or cluster,
    asked for only when two years or more need checking) they run side by side, a task each; else, or when
    it gives None, here, one after another (as is a year whose task the pool lost). With ``cache``, a year
    whose sources are unchanged is read from it (here: a worker would cost more than the read)."""
    work = [_group_work(year, members, pdf_paths, cache) for year, members in edition_groups(curated).items()]
    on = runner() if runner is not None and sum(not cached for _, _, cached in work) > 1 else None
    futures = [on.submit(task, params) if on is not None and not cached else None for task, params, cached in work]
    done = [
        _group_outcome(_outcome(task, params, f), params["curated"].value)
        for (task, params, _), f in zip(work, futures, strict=True)
    ]
    return _merged(done)


class EditionValidation:
    """Each edition year validated as soon as its sources are known (``release``), on ``runner()`` (the night's
    workers, asked for at the first year not in the cache), while the night's other sources are still being
    extracted; ``finish`` gives what validate_stage gives for the same sources. A year whose task the pool
    lost (a worker died extracting another source, and the night closed the broken pool) is validated here."""

    def __init__(self, pdf_paths: dict[str, Path], runner: Callable[[], Any], cache: ValidationCache | None) -> None:
        self.pdf_paths, self.runner, self.cache = pdf_paths, runner, cache
        self._started: dict[Any, tuple[Any, dict[str, Any], Any]] = {}  # year → task, parameters, future or None

    def release(self, year: Any, members: dict[str, Curated]) -> None:
        task, params, cached = _group_work(year, members, self.pdf_paths, self.cache)
        on = None if cached else self.runner()
        self._started[year] = (task, params, on.submit(task, params) if on is not None else None)

    def finish(self, curated: dict[str, Curated]) -> tuple[Any, list[SourceError]]:
        """The night's validation of ``curated``: a year released with other sources than it holds now, or never
        released, is validated here and now."""
        done = []
        for year, members in edition_groups(curated).items():
            task, params, future = self._started.get(year, (None, None, None))
            if params is None or list(params["curated"].value) != list(members):
                task, params, _ = _group_work(year, members, self.pdf_paths, self.cache)
                future = None
            done.append(_group_outcome(_outcome(task, params, future), members))
        return _merged(done)


def _outcome(task: Any, params: dict[str, Any], future: Any) -> Callable[[], Any]:
    """One edition year's validation: its worker's result (``future``), or, when there is none, here."""

    def result() -> Any:
        if future is None:
            return task(**params)
        try:
            return future.result()
        except (Exception, CancelledError) as exc:  # noqa: BLE001 - see below
            # The task catches whatever validating raises, so this is the pool lost under it: a worker that
            # died on another source broke it (BrokenProcessPool), or the night closed the broken pool while
            # this year's task was still being handed to it (Prefect then cancels it, or finds no executor).
            # The checks are pure: once more, here.
            _logger().warning("%s: its validation on the workers was lost (%s: %s); validating it here",
                              params["edition"], type(exc).__name__, exc)  # fmt: skip
            return task(**params)

    return result


def _merged(done: list[tuple[Any, dict[str, set[str]], list[SourceError]]]) -> tuple[Any, list[SourceError]]:
    """The edition years' validations as one run, logged with its tally."""
    from schemas.validate import ValidationRun
    from schemas.vintages import merge_runs

    logger = _logger()
    runs = [group_run for group_run, _, _ in done]
    run = runs[0] if len(runs) == 1 else merge_runs(runs) if runs else ValidationRun([], {})
    # A failed check keeps back the datasets of the sources whose cells it shows failing, not every source's.
    run.failing_by_source = {s: failed for _, failing, _ in done for s, failed in failing.items()}
    errors = [e for _, _, group_errors in done for e in group_errors]
    for error in errors:
        log_error(logger, error)
    counts = run.counts()
    failed = sorted(run.failed_datasets())
    tally = f"{counts['run']} checks ran: {counts['passed']} passed, {counts['failed']} failed, " \
            f"{counts['finding']} known findings, {counts['skipped']} skipped"  # fmt: skip
    if failed:
        held = not_published(run.held_back()) or ", ".join(failed)
        logger.error("%s; datasets failing validation, not published: %s", tally, held)
    elif counts["run"] and not counts["skipped"] and not counts["failed"]:
        logger.info("every check passed (%s)", tally)
    else:
        logger.warning("%s: not every check could run on this run's data", tally)
    return run, errors


def _logger() -> Any:
    """The flow run's logger, or (called outside a flow: a test, a notebook) the module's."""
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def _group_outcome(result: Any, members: dict[str, Curated]) -> tuple[Any, dict[str, set[str]], list[SourceError]]:
    """One edition year's validation, or (its task lost: a worker that died, a result that did not come
    back) a validate error for each of its sources."""
    from schemas.validate import ValidationRun

    try:
        return result()
    except Exception as exc:  # noqa: BLE001 - a group's loss stays with that group's sources
        return ValidationRun([], {}), {}, [name_error(exc, s, "validate") for s in members]


def _group_cache_key(context: Any, parameters: dict[str, Any]) -> str | None:
    return parameters.get("cache_key")


@task(name="validate", cache_key_fn=_group_cache_key, task_run_name="validate {edition}")
def validate_group_task(
    edition: str, curated: Opaque, pdf_paths: dict[str, Path], cache_key: str | None = None
) -> tuple[Any, dict[str, set[str]], list[SourceError]]:
    """One edition year's sources (``curated.value``: source id → Curated) validated together: the run, each
    source's failing datasets, and the errors of the sources left out because validating them crashes."""
    from schemas.validate import ValidationRun

    members: dict[str, Curated] = curated.value
    errors: list[SourceError] = []
    try:
        run = _validate(members, pdf_paths)
    except Exception:  # noqa: BLE001 - find the source that makes it crash, validate the others
        ok: dict[str, Curated] = {}
        for source_id, item in members.items():
            try:
                _validate({source_id: item}, {source_id: pdf_paths[source_id]} if source_id in pdf_paths else {})
                ok[source_id] = item
            except Exception as exc:  # noqa: BLE001
                errors.append(name_error(exc, source_id, "validate"))
        try:
            run = _validate(ok, {s: pdf_paths[s] for s in ok if s in pdf_paths})
        except Exception as exc:  # noqa: BLE001 - only the sources together crash it: none is validated
            errors += [name_error(exc, s, "validate") for s in ok]
            return ValidationRun([], {}), {}, errors
    held = run.failed_datasets_by_source(members)
    return run, {s: held[s] for s in members if not any(e.source_id == s for e in errors)}, errors


def _validate(curated: dict[str, Curated], pdf_paths: dict[str, Path]) -> Any:
    from schemas.stated import read_stated_facts
    from schemas.validate import validate

    # Figures the reports state in their text (37 cities, 1109.23 …) are checked against the tables.
    return validate(curated, read_stated_facts(pdf_paths))


def _edition_year(item: Curated) -> int | None:
    for frame in item.frames.values():
        if "edition_year" in frame and len(frame) and frame["edition_year"].notna().any():
            return int(frame["edition_year"].dropna().iloc[0])
    return None


@task(name="publish", cache_policy=NO_CACHE)
def publish_stage(
    curated: dict[str, Curated],
    outcomes: list[SourceOutcome],
    data: Path,
    run_id: str,
    exclude: set[str],
    fingerprint: str = "",
    exclude_by_source: dict[str, set[str]] | None = None,
) -> tuple[list[str], list[SourceError]]:
    """Publish what passed; a dataset of a source that cannot be written is named and the rest goes out."""
    from flows.publish import RunInfo, SourceInfo, publish

    logger = get_run_logger()
    sources = {
        o.source.id: SourceInfo(
            source_id=o.source.id,
            url=o.source.url,
            sha256=o.landed.sha256,
            fetched_at=o.landed.fetched_at,
            year=o.source.year or o.extraction.year,
            kind=o.extraction.kind,
            pdf_path=str(data / o.landed.path),
        )
        for o in outcomes
        if o.extraction is not None and o.landed is not None
    }
    version = f"{EXTRACTOR_VERSION}+{fingerprint}" if fingerprint else EXTRACTOR_VERSION
    run = RunInfo(run_id=run_id, started_at=datetime.now(UTC).isoformat(), extractor_version=version)
    try:
        result = publish(curated, sources, data, run, exclude=exclude, exclude_by_source=exclude_by_source)
    except Exception as exc:  # noqa: BLE001 - the lock, the disk: nothing was published, say so per source
        errors = [name_error(exc, source_id, "publish") for source_id in curated] or [name_error(exc, "*", "publish")]
        log_error(logger, errors[0])
        return [], errors
    errors = []
    for (source_id, dataset), failure in sorted(result.failures.items()):
        error = name_error(failure, source_id, "publish", dataset)
        errors.append(error)
        log_error(logger, error)
    logger.info("published %s", result)
    return sorted(result.published), errors


@task(name="revisions", cache_policy=NO_CACHE)
def revisions_stage(curated_root: Path) -> Any:
    """The revisions between editions in the published vintages (a finding each, with both cells); None when
    no year is printed by two editions."""
    from schemas.validate import CheckResult
    from schemas.vintages import CHECK, read_vintages, revisions

    try:
        result = revisions(read_vintages(curated_root))
    except Exception as exc:  # noqa: BLE001 - an unreadable file: the check says so, the run's data stands
        error = name_error(exc, "*", "validate", "vintages")
        log_error(get_run_logger(), error)
        return CheckResult(CHECK, "vintages", "vintage", "revisions between editions", "skipped", reason=error.line())
    if result.failures:
        get_run_logger().warning("%d revisions between editions (findings in the audit report)", len(result.failures))
    if result.status == "skipped" and not result.checked:
        return None  # one edition per year: nothing to compare, and no check that "could not run"
    return result


@task(name="report", cache_policy=NO_CACHE)
def report_stage(
    validation: Any, curated: dict[str, Curated], pdf_paths: dict[str, Path], summary: RunSummary, data: Path
) -> tuple[Path | None, list[SourceError]]:
    """Write the audit report of the run, then prune the reports of versions no longer kept."""
    from schemas.report import write_report

    logger = get_run_logger()
    try:
        path = write_report(
            validation, curated, pdf_paths, data / "reports", summary.run_id, outcome=_run_facts(summary)
        )
    except Exception as exc:  # noqa: BLE001 - the run's data is published; its report failing must show
        error = name_error(exc, "*", "report")
        log_error(logger, error)
        return None, [error]
    logger.info("audit report: %s", path)
    try:
        prune_reports(data)
    except OSError as exc:
        logger.warning("could not prune old reports: %s", exc)
    return path, []


def _run_facts(summary: RunSummary) -> dict[str, Any]:
    return {
        "sources": summary.sources,
        "errors": [e.to_dict() for e in summary.errors],
        "published": summary.published,
        "failed_datasets": summary.failed_datasets,
        "withheld": summary.withheld,
    }


_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]+")


def report_run_id(version: str) -> str:
    """The run a curated version was published by: ``<run id>`` or ``<run id>.<n>`` for a retried publish."""
    m = _RUN_ID.match(version)
    return m.group(0) if m else version


def prune_reports(data: Path) -> list[str]:
    """Remove reports older than the oldest curated version still kept (they go with their versions).

    Reports of kept versions stay, and so do reports of later runs that published nothing: a failed night's
    report is what a person needs most. Returns the run ids removed.
    """
    from flows.publish import kept_versions

    reports = data / "reports"
    kept = [report_run_id(v) for v in kept_versions(data) if _RUN_ID.match(v)]
    if not kept or not reports.is_dir():
        return []
    oldest = min(kept)
    removed = []
    for folder in sorted(reports.iterdir()):
        if folder.is_dir() and _RUN_ID.match(folder.name) and folder.name < oldest and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def live_report(data: Path) -> Path | None:
    """The audit report of the run whose version curated/ holds now (after a rollback too)."""
    from flows.publish import current_version

    version = current_version(data)
    if version is None:
        return None
    path = data / "reports" / report_run_id(version) / "index.html"
    return path if path.is_file() else None


def newest_report(data: Path) -> Path | None:
    reports = data / "reports"
    found = sorted(p for p in reports.glob("*/index.html") if _RUN_ID.match(p.parent.name)) if reports.is_dir() else []
    return found[-1] if found else None
