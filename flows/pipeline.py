"""The nightly flow: pull every catalog source, land it in raw/, extract, validate, publish, report.

A source that fails to fetch does not stop the others: its last good raw copy is used and the run
says so. Extraction is cached on the PDF's sha256 and the extractor version, so a night with nothing
new re-extracts nothing. The run ends Failed when any source failed or any dataset failed validation,
after publishing everything that passed.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.states import Completed, Failed
from prefect.tasks import exponential_backoff

from extractors.errors import ExtractionError
from extractors.extract import EXTRACTOR_VERSION, extract_pdf
from extractors.model import ExtractionResult
from flows import progress
from flows.catalog import SourceEntry, load_catalog
from flows.fetch import FetchError, Landed, TransientFetchError, append_manifest, fetch, last_good, record

DEFAULT_RETRIES = 3


def data_dir_default() -> Path:
    """SOETL_DATA_DIR, or the project root (raw/, curated/, reports/ beside the code)."""
    env = os.environ.get("SOETL_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1]


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    # Retry timeouts, dropped connections and 5xx; a 404 or an HTML page will not mend itself.
    return isinstance(getattr(state, "data", None), TransientFetchError)


def _retry_base() -> float:
    return float(os.environ.get("SOETL_RETRY_DELAY", "10"))


@task(name="fetch", retries=DEFAULT_RETRIES, retry_condition_fn=_transient, task_run_name="fetch {source.id}")
def fetch_task(source: SourceEntry, raw_dir: Path) -> Landed:
    landed = fetch(source, raw_dir, progress=lambda got, total: progress.download(source.id, got, total))
    append_manifest(raw_dir, {**record(landed), "kind": source.kind})
    get_run_logger().info("%s: %s %s (%d bytes)", source.id, landed.status, landed.path, landed.bytes)
    return landed


def _extract_key(context: Any, parameters: dict[str, Any]) -> str:
    return f"extract-{parameters['sha256']}-{parameters['kind'] or 'auto'}-{EXTRACTOR_VERSION}"


@task(name="extract", cache_key_fn=_extract_key, persist_result=True, task_run_name="extract {source_id}")
def extract_task(source_id: str, pdf_path: Path, sha256: str, kind: str | None, image_dir: Path) -> ExtractionResult:
    get_run_logger().info("%s: extracting %s", source_id, pdf_path)
    return extract_pdf(
        pdf_path, kind=kind, image_dir=image_dir, on_page=lambda done, total: progress.page(source_id, done, total)
    )


@dataclass
class SourceOutcome:
    source: SourceEntry
    landed: Landed | None = None
    fetch_error: str | None = None
    used_fallback: bool = False
    extraction: ExtractionResult | None = None
    extract_error: str | None = None


@dataclass
class RunSummary:
    run_id: str
    data_dir: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)
    failed_datasets: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    report_path: str | None = None
    curated_path: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed_sources and not self.failed_datasets


def _land(source: SourceEntry, raw_dir: Path) -> SourceOutcome:
    outcome = SourceOutcome(source)
    retry_base = _retry_base()
    fetcher = fetch_task.with_options(retry_delay_seconds=exponential_backoff(backoff_factor=retry_base))
    try:
        outcome.landed = fetcher(source, raw_dir)
        return outcome
    except (FetchError, OSError) as exc:
        outcome.fetch_error = str(exc)
    append_manifest(raw_dir, {"source_id": source.id, "url": source.url, "status": "failed",
                              "error": outcome.fetch_error, "fetched_at": datetime.now(UTC).isoformat()})  # fmt: skip
    previous = last_good(raw_dir, source.id)
    if previous:
        outcome.landed = Landed(**{k: v for k, v in previous.items() if k in Landed.__dataclass_fields__})
        outcome.used_fallback = True
    return outcome


@flow(name="soetl-nightly", log_prints=True)
def nightly(catalog: Path | str | None = None, data_dir: Path | str | None = None) -> Any:
    """Pull, land, extract, validate and publish every source of the catalog."""
    logger = get_run_logger()
    data = Path(data_dir) if data_dir else data_dir_default()
    catalog_path = Path(catalog) if catalog else data / "catalog.toml"
    sources = load_catalog(catalog_path)
    raw_dir, cache_dir = data / "raw", data / ".cache"
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    summary = RunSummary(run_id=run_id, data_dir=str(data))
    # A Path (not an unsaved block) works with the ephemeral API and keeps the cache in the data dir.
    extractor = extract_task.with_options(result_storage=cache_dir / "prefect")

    outcomes = [_land(source, raw_dir) for source in sources]
    for outcome in outcomes:
        if outcome.landed is None:
            continue
        pdf_path = data / outcome.landed.path
        try:
            outcome.extraction = extractor(
                outcome.source.id, pdf_path, outcome.landed.sha256, outcome.source.kind,
                data / "images" / outcome.source.id / outcome.landed.sha256,
            )  # fmt: skip
        except ExtractionError as exc:
            outcome.extract_error = str(exc)
            logger.error("%s", exc)

    from flows.stages import curate_stage, publish_stage, validate_stage  # pandera, pyarrow: loaded late

    good = [o for o in outcomes if o.extraction is not None]
    curated = curate_stage(good, data)
    pdf_paths = {o.source.id: data / o.landed.path for o in good if o.landed}
    validation, report_path = validate_stage(curated, pdf_paths, data, run_id)
    summary.report_path = str(report_path)
    summary.failed_datasets = sorted(validation.failed_datasets())
    published, curated_path = publish_stage(curated, good, data, run_id, set(summary.failed_datasets))
    summary.published, summary.curated_path = published, str(curated_path)

    for outcome in outcomes:
        status = "ok"
        if outcome.fetch_error:
            status = "fetch failed, used last good copy" if outcome.used_fallback else "fetch failed, no copy"
            summary.failed_sources.append(outcome.source.id)
        if outcome.extract_error:
            status = f"extract failed: {outcome.extract_error}"
            summary.failed_sources.append(outcome.source.id)
        result = outcome.extraction
        summary.sources.append(
            {
                "source": outcome.source.id,
                "status": status,
                "sha256": outcome.landed.sha256[:12] if outcome.landed else "",
                "fetch": outcome.landed.status if outcome.landed else "",
                "kind": result.kind if result else "",
                "pages": result.pages if result else 0,
                "tables": len(result.tables) if result else 0,
                "figures": len(result.figures) if result else 0,
                "error": outcome.fetch_error or outcome.extract_error or "",
            }
        )
    _artifacts(summary)
    return final_state(summary)


def _artifacts(summary: RunSummary) -> None:
    create_table_artifact(
        key="soetl-run-sources", table=summary.sources, description=f"Sources of run {summary.run_id}"
    )
    lines = [
        f"# soetl run {summary.run_id}",
        f"- published datasets: {', '.join(summary.published) or 'none'}",
        f"- failed datasets (not published): {', '.join(summary.failed_datasets) or 'none'}",
        f"- failed sources: {', '.join(summary.failed_sources) or 'none'}",
        f"- audit report: {summary.report_path or 'none'}",
    ]
    create_markdown_artifact(key="soetl-run-summary", markdown="\n".join(lines))
    if summary.report_path:
        create_link_artifact(
            key="soetl-audit-report", link=Path(summary.report_path).as_uri(), link_text="audit report"
        )


def nightly_deployment(cron: str, timezone: str, catalog: Path, data_dir: Path) -> Any:
    """The nightly flow as a deployment on a cron schedule in a time zone (02:00 Asia/Shanghai by default)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from prefect.schedules import Cron

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name such as Asia/Shanghai") from None
    return nightly.to_deployment(
        name="soetl-nightly",
        schedule=Cron(cron, timezone=timezone),
        parameters={"catalog": str(catalog), "data_dir": str(data_dir)},
        description="Pull, land, extract, validate and publish every catalog source.",
    )


def run_once(catalog: Path | str | None = None, data_dir: Path | str | None = None) -> tuple[RunSummary, bool]:
    """Run the flow and say whether it succeeded; the Prefect state is Failed when it did not."""
    state = nightly(catalog, data_dir, return_state=True)
    summary = state.result(raise_on_failure=False)
    if not isinstance(summary, RunSummary):
        # The flow itself crashed (a bug, a full disk): re-raise with Prefect's own message.
        raise (
            summary if isinstance(summary, BaseException) else RuntimeError(f"flow ended {state.name}: {state.message}")
        )
    return summary, summary.ok


def final_state(summary: RunSummary) -> Any:
    if summary.ok:
        return Completed(message="all sources fetched, all datasets valid", data=summary)
    parts = []
    if summary.failed_sources:
        parts.append("failed sources: " + ", ".join(summary.failed_sources))
    if summary.failed_datasets:
        parts.append("datasets failing validation (not published): " + ", ".join(summary.failed_datasets))
    return Failed(message="; ".join(parts), data=summary)
