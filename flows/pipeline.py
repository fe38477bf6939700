"""The nightly flow: pull every catalog source, land it in raw/, extract, validate, publish, report.

Every fault stays with its source: whatever one source raises while it is fetched, extracted, shaped,
validated or published is caught at that source and named (flows/problems.py), and the other sources
go on. A source that fails to fetch is extracted from its last good raw copy, and the run says so.
Extraction is cached on the PDF's sha256, its kind, and a fingerprint of the extractor's code and
specs, so a night with nothing new re-extracts nothing and an edited spec is never served stale. The
run ends Failed, listing every failure, after publishing everything that passed.

Fetches run on threads, bounded and politely per host; extraction runs where ``workers`` and
``dask_address`` say (flows/parallel.py): this process, a pool of worker processes, or a Dask cluster.
"""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.context import TaskRunContext
from prefect.states import Completed, Failed
from prefect.task_runners import ProcessPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from extractors.extract import extract_pdf
from extractors.model import DAMAGED, ExtractionResult
from extractors.spec import load_specs, spec_dir_default
from flows import progress
from flows.catalog import SourceEntry, load_catalog
from flows.fetch import Landed, TransientFetchError, append_manifest, fetch, last_good, record
from flows.parallel import (
    FETCH_CONCURRENCY,
    NightWorkers,
    Plan,
    dask_address_default,
    default_workers,
    polite,
    shared_api,
)
from flows.problems import SourceError, log_error, name_error
from flows.runtime import data_dir_default
from flows.summary import RunSummary, new_run_id
from flows.unchanged import (
    extract_cache_key,
    extraction_fingerprint,
    night_key,
    read_stamp,
    stamp_stands,
    write_stamp,
)

DEFAULT_RETRIES = 3
FETCH_STATUS = {"downloaded": "downloaded", "not_modified": "not modified", "copied": "copied"}


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    # Retry timeouts, dropped connections and 5xx; a 404 or an HTML page will not mend itself.
    return isinstance(getattr(state, "data", None), TransientFetchError)


def _retry_base() -> float:
    return float(os.environ.get("SOETL_RETRY_DELAY", "10"))


@task(name="fetch", retries=DEFAULT_RETRIES, retry_condition_fn=_transient, task_run_name="fetch {source.id}")
def fetch_task(source: SourceEntry, raw_dir: Path) -> Landed:
    logger = get_run_logger()
    try:
        with polite(source.url):
            landed = fetch(source, raw_dir, progress=lambda got, total: progress.download(source.id, got, total))
    except TransientFetchError as exc:
        ctx = TaskRunContext.get()
        attempt, attempts = (ctx.task_run.run_count, ctx.task.retries + 1) if ctx else (1, 1)
        then = "will retry" if attempt < attempts else "retries exhausted"
        log = logger.warning if attempt < attempts else logger.error
        log("%s: attempt %d of %d failed: %s; %s", source.id, attempt, attempts, exc.problem, then)
        raise
    append_manifest(raw_dir, {**record(landed), "kind": source.kind})
    logger.info("%s: %s %s (%d bytes)", source.id, landed.status, landed.path, landed.bytes)
    return landed


def _extract_key(context: Any, parameters: dict[str, Any]) -> str:
    return extract_cache_key(parameters["sha256"], parameters["kind"], parameters["fingerprint"])


@task(name="extract", cache_key_fn=_extract_key, persist_result=True, task_run_name="extract {source_id}")
def extract_task(
    source_id: str, pdf_path: Path, sha256: str, kind: str | None, image_dir: Path, spec_dir: Path, fingerprint: str
) -> ExtractionResult:
    get_run_logger().info("%s: extracting %s (extractor %s)", source_id, pdf_path, fingerprint)
    return extract_pdf(
        pdf_path,
        kind=kind,
        specs=load_specs(Path(spec_dir)),
        image_dir=image_dir,
        on_page=lambda done, total: progress.page(source_id, done, total),
    )


@dataclass
class SourceOutcome:
    source: SourceEntry
    landed: Landed | None = None
    fetch_status: str = ""  # downloaded | not modified | copied (a local file) | failed → …
    used_fallback: bool = False
    extraction: ExtractionResult | None = None
    cached: bool = False  # the extraction came from the cache (same bytes, kind, code and specs)
    errors: list[SourceError] = field(default_factory=list)

    @property
    def fetch_error(self) -> str | None:
        return next((e.line() for e in self.errors if e.stage == "fetch"), None)

    @property
    def proceeds(self) -> bool:
        """Extracted, and nothing but its fetch (served from the last good copy) failed: shape, check, publish it."""
        return self.extraction is not None and all(e.stage == "fetch" for e in self.errors)


def _land_all(sources: list[SourceEntry], raw_dir: Path) -> list[SourceOutcome]:
    """Fetch every source on threads (downloads wait on the network, not the CPU), in catalog order."""
    from prefect.task_runners import ThreadPoolTaskRunner

    fetcher = fetch_task.with_options(retry_delay_seconds=exponential_backoff(backoff_factor=_retry_base()))
    with ThreadPoolTaskRunner(max_workers=min(FETCH_CONCURRENCY, max(1, len(sources)))) as runner:
        futures = [runner.submit(fetcher, {"source": s, "raw_dir": raw_dir}) for s in sources]
        return [_land(source, raw_dir, future) for source, future in zip(sources, futures, strict=True)]


def _land(source: SourceEntry, raw_dir: Path, future: Any = None) -> SourceOutcome:
    """One source's fetch (``future``: submitted already; else fetched here), or its fallback."""
    outcome = SourceOutcome(source)
    try:
        if future is None:
            fetcher = fetch_task.with_options(retry_delay_seconds=exponential_backoff(backoff_factor=_retry_base()))
            outcome.landed = fetcher(source, raw_dir)
        else:
            outcome.landed = future.result()
        outcome.fetch_status = FETCH_STATUS.get(outcome.landed.status, outcome.landed.status)
        return outcome
    except Exception as exc:  # noqa: BLE001 - whatever one source raises stays with that source
        error = name_error(exc, source.id, "fetch")
        if isinstance(exc, TransientFetchError):
            error.message += f" (gave up after {fetch_task.retries + 1} attempts)"
            error.hint = "the server may be down or slow; the next run tries again"
        outcome.errors.append(error)
    try:
        append_manifest(raw_dir, {"source_id": source.id, "url": source.url, "status": "failed",
                                  "error": error.line(), "fetched_at": datetime.now(UTC).isoformat()})  # fmt: skip
        previous = last_good(raw_dir, source.id)
    except OSError:
        previous = None
    if previous:
        outcome.landed = Landed(**{k: v for k, v in previous.items() if k in Landed.__dataclass_fields__})
        outcome.used_fallback = True
        outcome.fetch_status = f"failed → last good copy from {str(previous.get('fetched_at', '?'))[:10]}"
        fallback = f"extracted from the last good copy ({outcome.landed.path})"
        error.hint = f"{error.hint}; {fallback}" if error.hint else fallback
    else:
        outcome.fetch_status = "failed → no copy"
    log_error(get_run_logger(), error)
    return outcome


def _extract_all(
    outcomes: list[SourceOutcome],
    extractor: Any,
    workers: NightWorkers,
    data: Path,
    spec_dir: Path,
    fingerprint: str,
    storage: Path,
    refresh: bool = False,
    then: Any = None,
) -> bool:
    """Extract every landed source where the plan says: here one after another, or on its task runner.

    When sources go to the task runner, ``then(outcome)`` is called for each landed source as soon as its
    extraction is judged (the cached ones first), while the others are still being extracted; the runner is
    fed a few sources ahead of the ones it has finished, so that what ``then`` submits to it (an edition
    year's validation) runs before the rest of the extraction, not after it. Returns whether it was called."""
    plan = workers.plan
    todo = [o for o in outcomes if o.landed is not None]

    def parameters(outcome: SourceOutcome) -> dict[str, Any]:
        assert outcome.landed is not None
        source = outcome.source
        return {
            "source_id": source.id, "pdf_path": data / outcome.landed.path, "sha256": outcome.landed.sha256,
            "kind": source.kind, "image_dir": data / "images" / source.id / outcome.landed.sha256,
            "spec_dir": spec_dir, "fingerprint": fingerprint,
        }  # fmt: skip

    # A source already in the cache is read here: starting worker processes (or a cluster's round trip) to
    # load a stored result would cost more than it saves, and a night with nothing new would pay it per source.
    cached = [o for o in todo if (storage / _extract_key(None, parameters(o))).is_file() and not refresh]
    fresh = [o for o in todo if o not in cached]
    if plan.in_process:
        cached, fresh = todo, []
    for outcome in cached:
        _extract(outcome, lambda o=outcome: extractor(**parameters(o), return_state=True))
    if not fresh:
        return False
    get_run_logger().info("extracting %d sources %s", len(fresh), plan.describe())
    try:
        runner = workers.get()
    except Exception as exc:  # noqa: BLE001 - no cluster to reach: every source says so, none is lost silently
        for outcome in fresh:
            outcome.errors.append(name_error(exc, outcome.source.id, "extract"))
            outcome.errors[-1].hint = f"could not start extraction {plan.describe()}: check the address, --workers"
        log_error(get_run_logger(), fresh[0].errors[-1])
        return False
    then = then or (lambda outcome: None)
    going = {id(o) for o in fresh}
    for outcome in [o for o in outcomes if id(o) not in going]:
        then(outcome)
    stranded: list[SourceOutcome] = []
    ahead = 3 * max(1, plan.workers)  # submitted and not yet judged: enough to keep every worker busy
    futures = [runner.submit(extractor, parameters(o)) for o in fresh[:ahead]]
    for i, outcome in enumerate(fresh):
        if i + ahead < len(fresh):
            futures.append(runner.submit(extractor, parameters(fresh[i + ahead])))
        _extract(outcome, lambda f=futures[i]: (f.wait(), f.state)[1], stranded)
        if outcome not in stranded:
            then(outcome)
    if stranded:
        workers.discard()  # a dead worker broke the pool: validation starts another
        _retry_alone(stranded, extractor, parameters)
        for outcome in stranded:
            then(outcome)
    return True


class _Streamed:
    """Curation and validation while the extraction goes on (flows/pipeline._extract_all's ``then``): each
    source is curated here as soon as its extraction is judged, and an edition year is validated (on the
    night's workers) as soon as no source still being extracted can be of it: every such source has a
    catalog year, another one. What it gives equals what curate_stage and validate_stage give afterwards."""

    def __init__(self, outcomes: list[SourceOutcome], data: Path, runner: Any, cache: Any) -> None:
        self.data, self.runner, self.cache = data, runner, cache
        self.order = {o.source.id: i for i, o in enumerate(outcomes)}
        self.pending = {o.source.id: o for o in outcomes if o.landed is not None}
        self._curated: dict[str, Any] = {}
        self._validation: Any = None
        self._released: set[Any] = set()

    @property
    def validation(self) -> Any:
        if self._validation is None:
            from flows.stages import EditionValidation  # pandera, pyarrow: late

            pdf_paths = {o.source.id: self.data / o.landed.path for o in self.pending.values() if o.landed}
            self._validation = EditionValidation(pdf_paths, self.runner, self.cache())
        return self._validation

    def take(self, outcome: SourceOutcome) -> None:
        validation = self.validation  # before the source leaves pending: its PDF's path is known
        self.pending.pop(outcome.source.id, None)
        if outcome.proceeds:
            from flows.stages import curate_source

            item, error = curate_source(outcome, self.data)
            if error is not None:
                outcome.errors.append(error)
            else:
                self._curated[outcome.source.id] = item
        from flows.stages import edition_groups

        for year, members in edition_groups(self.curated()).items():
            still = [o for o in self.pending.values() if o.source.year is None or o.source.year == year]
            if year is not None and year not in self._released and not still:
                self._released.add(year)
                validation.release(year, members)

    def curated(self) -> dict[str, Any]:
        """The sources curated so far, in catalog order (as curate_stage gives them)."""
        return {s: self._curated[s] for s in sorted(self._curated, key=self.order.__getitem__)}


def _runner_for_checks(pool: NightWorkers) -> Any:
    """The night's runner for validation, or None (here, one edition after another) when it cannot start."""
    try:
        return pool.get()
    except Exception as exc:  # noqa: BLE001 - the checks can always run in this process
        get_run_logger().warning("validating in this process: %s could not start (%s)", pool.plan.describe(), exc)
        return None


def _retry_alone(stranded: list[SourceOutcome], extractor: Any, parameters: Any) -> None:
    """Sources whose worker process died (the system's OOM killer, a crash in a C library) take every
    source pending in the same pool down with them. Each is run again in a worker process of its own, one
    after another: the source that kills its worker fails alone, with a message that says so."""
    logger = get_run_logger()
    logger.warning(
        "a worker process died; %d sources it took down are extracted again, each in a process of its own",
        len(stranded),
    )
    with shared_api():
        for outcome in stranded:
            again: list[SourceOutcome] = []
            with ProcessPoolTaskRunner(max_workers=1) as runner:  # a process of its own: its death is its own
                future = runner.submit(extractor, parameters(outcome))
                _extract(outcome, lambda f=future: (f.wait(), f.state)[1], again)
            if again:
                _died_alone(outcome, logger)


def _died_alone(outcome: SourceOutcome, logger: Any) -> None:
    outcome.errors.append(
        SourceError(
            outcome.source.id, "extract",
            "the process extracting this PDF died (killed by the system, most often for running out of "
            "memory, or crashed in a library), alone in its own process too",
            "check the PDF (its size, its images) and the machine's free memory; other sources are not "
            "affected, and its datasets keep their last good version",
        )
    )  # fmt: skip
    log_error(logger, outcome.errors[-1])


def _extract(outcome: SourceOutcome, run: Any, stranded: list[SourceOutcome] | None = None) -> None:
    """Take one source's extraction (``run()`` gives its final Prefect state) and judge what it gives.

    A source whose worker pool broke (a worker process died) goes to ``stranded`` when given, to be run
    again, instead of failing."""
    source = outcome.source
    try:
        state = run()
        result = state.result()
    except Exception as exc:  # noqa: BLE001 - a damaged PDF, a library bug or a lost worker stays with its source
        if stranded is not None and isinstance(exc, BrokenProcessPool):
            stranded.append(outcome)
            return
        outcome.errors.append(name_error(exc, source.id, "extract"))
        log_error(get_run_logger(), outcome.errors[-1])
        return
    outcome.cached = state.name == "Cached"
    outcome.extraction = result
    damaged = [p for p in result.problems if p.kind in DAMAGED]
    if damaged:
        # Pages lost or unreadable: nothing of it may publish as if complete (the last good version stays).
        outcome.errors.append(
            SourceError(
                source.id, "extract",
                "the PDF is damaged, so its datasets would be incomplete: " + "; ".join(p.problem for p in damaged[:3])
                + (f" (and {len(damaged) - 3} more)" if len(damaged) > 3 else ""),
                "fetch a sound copy (check the file, or the source's URL); its datasets keep their last good version",
            )
        )  # fmt: skip
        log_error(get_run_logger(), outcome.errors[-1])
        return
    if source.year is None and result.year is None:
        # Nothing of it can be filed by year; most often the catalog names the wrong kind of report.
        said = f"the catalog says kind = {source.kind!r}, but its" if source.kind else "its"
        outcome.errors.append(
            SourceError(
                source.id, "extract",
                f"the report's year cannot be known: {said} first pages do not read as a "
                f"{result.kind or 'known'} report of a given year",
                "check kind = in its catalog entry (it may be another kind of report), or set year = there",
            )
        )  # fmt: skip
        log_error(get_run_logger(), outcome.errors[-1])


@flow(name="soetl-nightly", log_prints=True)
def nightly(
    catalog: Path | str | None = None,
    data_dir: Path | str | None = None,
    refresh: bool = False,
    workers: int | None = None,
    dask_address: str | None = None,
) -> Any:
    """Pull, land, extract, validate and publish every source of the catalog; ``refresh`` ignores the cache.

    ``workers``: extraction processes (default SOETL_WORKERS, else the core count); ``dask_address``
    (default SOETL_DASK_ADDRESS): extract on that Dask cluster instead."""
    data = Path(data_dir) if data_dir else data_dir_default()
    catalog_path = Path(catalog) if catalog else data / "catalog.toml"
    sources = load_catalog(catalog_path)
    raw_dir, cache_dir = data / "raw", data / ".cache"
    # Raster chart readings are cached beside the rest of the run's cache, not in the user's home.
    os.environ.setdefault("SOETL_CHART_CACHE", str(cache_dir / "charts"))
    run_id = new_run_id()
    summary = RunSummary(run_id=run_id, data_dir=str(data))
    spec_dir = spec_dir_default()
    fingerprint = extraction_fingerprint(spec_dir)
    # A Path (not an unsaved block) works with the ephemeral API and keeps the cache in the data dir.
    extractor = extract_task.with_options(result_storage=cache_dir / "prefect", refresh_cache=refresh or None)

    plan = Plan(workers if workers is not None else default_workers(), dask_address or dask_address_default())
    summary.extracted_on = plan.describe()
    with NightWorkers(plan) as pool:  # extraction and validation share its processes; gone after them
        outcomes = _land_all(sources, raw_dir)
        by_id = {o.source.id: o for o in outcomes}

        def validation_cache() -> Any:
            from flows.stages import ValidationCache  # pandera, pyarrow: late

            # An edition year's checks depend on what the night's would, restricted to its sources.
            return ValidationCache(
                cache_dir / "prefect", lambda ids: _night_key(fingerprint, [by_id[i] for i in ids]), refresh
            )

        stream = _Streamed(outcomes, data, lambda: _runner_for_checks(pool), validation_cache)
        streamed = _extract_all(
            outcomes, extractor, pool, data, spec_dir, fingerprint, cache_dir / "prefect", refresh, stream.take
        )

        key = _night_key(fingerprint, outcomes)
        if not refresh and (same := _same_night(data, key, outcomes)) is not None:
            # Same bytes, same code, same catalog as the night that published curated/: its checks and its version
            # stand as they are, so nothing is shaped, validated, written or reported again.
            summary = RunSummary.standing(same, str(data), run_id)
            summary.extracted_on, summary.sources = plan.describe(), [_source_row(o) for o in outcomes]
            get_run_logger().info("nothing changed since run %s: its version and report stand", same["run_id"])
            _artifacts(summary)
            return final_state(summary)

        from flows.stages import curate_stage, publish_stage, report_stage, revisions_stage, validate_stage

        run_errors: list[SourceError] = []

        def absorb(errors: list[SourceError]) -> None:
            for error in errors:
                (by_id[error.source_id].errors if error.source_id in by_id else run_errors).append(error)

        # quote(): the stages' inputs are whole sources' frames; Prefect would walk and hash every one of them
        # to record the task's inputs (seconds per stage on a large catalogue) for runs that are never cached.
        if streamed:  # curated and validated (or being validated) while the extraction went on
            curated = stream.curated()
        else:
            curated, errors = curate_stage(quote([o for o in outcomes if o.proceeds]), data)
            absorb(errors)
        good = [o for o in outcomes if o.proceeds and o.source.id in curated]
        pdf_paths = {o.source.id: data / o.landed.path for o in good if o.landed}
        checked = {o.source.id: curated[o.source.id] for o in good}
        if streamed:
            validation, errors = stream.validation.finish(checked)
        else:
            validation, errors = validate_stage(
                checked, pdf_paths, lambda: _runner_for_checks(pool), validation_cache()
            )
    absorb(errors)
    good = [o for o in good if o.proceeds]
    summary.failed_datasets = sorted(validation.failed_datasets())
    summary.checks = validation.counts()
    by_source = validation.failing_by_source
    summary.withheld = {s: sorted(held) for s, held in validation.held_back().items()}
    published, errors = publish_stage(
        quote({o.source.id: curated[o.source.id] for o in good}), quote(good), data, run_id,
        set() if by_source is not None else set(summary.failed_datasets), fingerprint, by_source,
    )  # fmt: skip
    absorb(errors)
    # Revisions between editions are judged on what is published, every edition's values: a night that
    # lands one new edition compares it with the editions earlier nights published.
    if (revised := revisions_stage(data / "curated")) is not None:
        validation.results.append(revised)
    summary.checks = validation.counts()
    summary.published, summary.curated_path = published, str(data / "curated")
    summary.sources = [_source_row(o) for o in outcomes]
    summary.errors = [e for o in outcomes for e in o.errors] + run_errors
    report, errors = report_stage(quote(validation), quote(curated), pdf_paths, quote(summary), data)
    summary.errors += errors
    summary.report_path = str(report) if report else None
    _remember_night(data, key, summary)
    _artifacts(summary)
    return final_state(summary)


def _night_key(fingerprint: str, outcomes: list[SourceOutcome]) -> str:
    return night_key(fingerprint, [(o.source.id, o.landed.sha256 if o.landed else "", o.source.kind, o.source.year)
                                   for o in outcomes])  # fmt: skip


def _same_night(data: Path, key: str, outcomes: list[SourceOutcome]) -> dict[str, Any] | None:
    """The stamp of the last night, when this one has nothing new: every source fetched (not a fallback) and
    served from the extraction cache, the same key, and curated/ still the version that night left."""
    if not outcomes or not all(o.cached and not o.errors for o in outcomes):
        return None
    stamp = read_stamp(data)
    return stamp if stamp_stands(data, key, stamp) else None


def _remember_night(data: Path, key: str, summary: RunSummary) -> None:
    from flows.publish import current_version

    if any(e.stage == "fetch" for e in summary.errors):
        return  # served from a fallback copy: the next night must look again
    stamp = {
        "key": key, "run_id": summary.run_id, "version": current_version(data), "published": summary.published,
        "failed_datasets": summary.failed_datasets, "withheld": summary.withheld, "checks": summary.checks,
        "report_path": summary.report_path,
        "errors": [e.to_dict() for e in summary.errors], "sources": summary.sources,
    }  # fmt: skip
    try:
        write_stamp(data, stamp)
    except OSError as exc:  # the next night then does the work again: slower, never wrong
        get_run_logger().warning("could not remember this night (%s): the next one checks everything again", exc)


def _source_row(outcome: SourceOutcome) -> dict[str, Any]:
    result, landed = outcome.extraction, outcome.landed
    errors = [e.to_dict() for e in outcome.errors]
    return {
        "source": outcome.source.id,
        "url": outcome.source.url,
        "status": "ok" if not outcome.errors else "failed: " + ", ".join(dict.fromkeys(e["stage"] for e in errors)),
        "fetch": outcome.fetch_status,
        "fetched_at": landed.fetched_at if landed else "",
        "sha256": landed.sha256 if landed else "",
        "kind": (result.kind if result else None) or outcome.source.kind or "",
        "year": (outcome.source.year or result.year) if result else outcome.source.year,
        "extraction": ("cached" if outcome.cached else "extracted") if result else "",
        "pages": result.pages if result else 0,
        "tables": len(result.tables) if result else 0,
        "figures": len(result.figures) if result else 0,
        "problems": [p.problem for p in result.problems] if result else [],
        "errors": errors,
        "error": "; ".join(e.line() for e in outcome.errors),
    }


def _artifacts(summary: RunSummary) -> None:
    table = [{k: v for k, v in row.items() if k not in ("errors", "problems")} for row in summary.sources]
    create_table_artifact(key="soetl-run-sources", table=table, description=f"Sources of run {summary.run_id}")
    checks = summary.checks
    lines = [
        f"# soetl run {summary.run_id}",
        f"- published datasets: {', '.join(summary.published) or 'none'}",
        f"- failed datasets (not published): {summary.not_published() or 'none'}",
        f"- failed sources: {', '.join(summary.failed_sources) or 'none'}",
        f"- checks: {checks.get('run', 0)} ran, {checks.get('passed', 0)} passed, {checks.get('failed', 0)} failed, "
        f"{checks.get('skipped', 0)} skipped",
        f"- audit report: {summary.report_path or 'none'}",
    ]
    lines += [f"- error: {e.line()}" for e in summary.errors]
    create_markdown_artifact(key="soetl-run-summary", markdown="\n".join(lines))
    if summary.report_path:
        create_link_artifact(
            key="soetl-audit-report", link=Path(summary.report_path).as_uri(), link_text="audit report"
        )


def nightly_deployment(cron: str, timezone: str, catalog: Path, data_dir: Path, name: str = "soetl-nightly") -> Any:
    """The nightly flow as a deployment on a cron schedule in a time zone (02:00 Asia/Shanghai by default)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from prefect.schedules import Cron

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name such as Asia/Shanghai") from None
    return nightly.to_deployment(
        name=name,
        schedule=Cron(cron, timezone=timezone),
        parameters={"catalog": str(catalog), "data_dir": str(data_dir)},
        description="Pull, land, extract, validate and publish every catalog source.",
    )


def deploy_to_pool(
    pool: str,
    catalog: Path,
    data_dir: Path,
    *,
    name: str = "soetl-nightly",
    cron: str | None = None,
    timezone: str = "Asia/Shanghai",
    workers: int | None = None,
    dask_address: str | None = None,
) -> Any:
    """Register the nightly flow with a work pool: the pool's workers (`prefect worker start --pool …`, one per
    host) run it from this checkout of the code (every host must have it at the same path, and the data dir
    on a shared filesystem). Returns the deployment's id."""
    from prefect.schedules import Cron

    root = Path(__file__).resolve().parents[1]
    parameters: dict[str, Any] = {"catalog": str(catalog), "data_dir": str(data_dir)}
    if workers is not None:
        parameters["workers"] = workers
    if dask_address:
        parameters["dask_address"] = dask_address
    source = nightly.from_source(source=str(root), entrypoint="flows/pipeline.py:nightly")
    return source.deploy(
        name=name,
        work_pool_name=pool,
        build=False,  # no image: a process pool runs the code where the worker is
        push=False,
        schedule=Cron(cron, timezone=timezone) if cron else None,
        parameters=parameters,
        # One run at a time across hosts: the data dir's flock may not hold on every shared filesystem.
        concurrency_limit=1,
        description="Pull, land, extract, validate and publish every catalog source (on a work pool).",
        print_next_steps=False,
        ignore_warnings=True,  # "a process pool is for local development": multi-host with a shared dir is the point
    )


def run_once(
    catalog: Path | str | None = None,
    data_dir: Path | str | None = None,
    *,
    refresh: bool = False,
    workers: int | None = None,
    dask_address: str | None = None,
) -> tuple[RunSummary, bool]:
    """Run the flow and say whether it succeeded; the Prefect state is Failed when it did not."""
    state = nightly(catalog, data_dir, refresh, workers, dask_address, return_state=True)
    summary = state.result(raise_on_failure=False)
    if not isinstance(summary, RunSummary):
        # The flow itself crashed (a bug, a full disk): re-raise with Prefect's own message.
        raise (
            summary if isinstance(summary, BaseException) else RuntimeError(f"flow ended {state.name}: {state.message}")
        )
    return summary, summary.ok


def final_state(summary: RunSummary) -> Any:
    if summary.ok:
        return Completed(message="all sources fetched and extracted, all datasets valid", data=summary)
    parts = []
    if summary.errors:
        failed = ", ".join(f"{e.source_id} ({e.where})" for e in summary.errors)
        parts.append(f"{len(summary.errors)} failure(s): {failed}")
    if summary.failed_datasets:
        parts.append("datasets failing validation (not published): " + summary.not_published())
    return Failed(message="; ".join(parts), data=summary)
