"""The flow's later stages as Prefect tasks: curate, validate (with the audit report), publish."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger, task

from extractors.datasets import Curated, curate
from extractors.extract import EXTRACTOR_VERSION

if TYPE_CHECKING:
    from flows.pipeline import SourceOutcome


@task(name="curate")
def curate_stage(outcomes: list[SourceOutcome], data: Path) -> dict[str, Curated]:
    curated = {o.source.id: curate(o.extraction, o.source.id) for o in outcomes if o.extraction is not None}
    for item in curated.values():
        # Image paths relative to the data dir, so the published data stays valid when the dir moves.
        figures = item.frames["figures"]
        figures["image_path"] = [_relative(p, data) for p in figures["image_path"]]
    return curated


def _relative(path: str | None, data: Path) -> str | None:
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(data.resolve()))
    except ValueError:
        return path


@task(name="validate")
def validate_stage(
    curated: dict[str, Curated], pdf_paths: dict[str, Path], data: Path, run_id: str
) -> tuple[Any, Path]:
    from schemas.report import write_report
    from schemas.stated import read_stated_facts
    from schemas.validate import validate

    # Figures the reports state in their text (37 cities, 1109.23 …) are checked against the tables.
    run = validate(curated, read_stated_facts(pdf_paths))
    path = write_report(run, curated, pdf_paths, data / "reports", run_id)
    failed = sorted(run.failed_datasets())
    logger = get_run_logger()
    if failed:
        logger.error("datasets failing validation, not published: %s (report: %s)", ", ".join(failed), path)
    else:
        logger.info("every check passed (report: %s)", path)
    return run, path


@task(name="publish")
def publish_stage(
    curated: dict[str, Curated], outcomes: list[SourceOutcome], data: Path, run_id: str, exclude: set[str]
) -> tuple[list[str], Path]:
    from flows.publish import RunInfo, SourceInfo, publish

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
    run = RunInfo(run_id=run_id, started_at=datetime.now(UTC).isoformat(), extractor_version=EXTRACTOR_VERSION)
    result = publish(curated, sources, data, run, exclude=exclude)
    get_run_logger().info("published %s", result)
    return sorted(getattr(result, "published", [])), data / "curated"
