"""What one night did, source by source: the flow's result, the CLI's table, the audit report's outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows.problems import SourceError


def new_run_id() -> str:
    """A run's id: its UTC start time, sortable, and a random suffix (flows/stages.py reads it back)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@dataclass
class RunSummary:
    run_id: str
    data_dir: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    failed_datasets: list[str] = field(default_factory=list)
    withheld: dict[str, list[str]] = field(default_factory=dict)  # source → its datasets failed checks held back
    published: list[str] = field(default_factory=list)
    report_path: str | None = None
    curated_path: str | None = None
    checks: dict[str, int] = field(default_factory=dict)  # run / passed / failed / finding / skipped
    extracted_on: str = ""  # where extraction ran (flows/parallel.Plan.describe)
    unchanged_since: str | None = None  # nothing new: the run whose version and report stand

    @property
    def failed_sources(self) -> list[str]:
        return sorted({e.source_id for e in self.errors if e.source_id != "*"})

    def not_published(self) -> str:
        """The datasets failed checks held back, with the sources whose files of them keep their last good
        version ("city_scores, facts, tables of city_evaluation_2018; …"): the other sources' files publish."""
        return not_published(self.withheld) or ", ".join(self.failed_datasets)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed_datasets

    @classmethod
    def standing(cls, stamp: dict[str, Any], data_dir: str, run_id: str) -> RunSummary:
        """Tonight's summary when nothing is new: the stamped night's checks, datasets, errors and report."""
        sources = [{**row, "fetch": "not modified", "extraction": "cached"} for row in stamp.get("sources", [])]
        return cls(
            run_id=run_id, data_dir=data_dir, sources=sources, errors=[SourceError(**e) for e in stamp["errors"]],
            failed_datasets=stamp["failed_datasets"], withheld=stamp.get("withheld", {}), published=stamp["published"],
            report_path=stamp["report_path"],
            curated_path=f"{data_dir}/curated", checks=stamp["checks"], unchanged_since=stamp["run_id"],
        )  # fmt: skip


def not_published(withheld: dict[str, Any]) -> str:
    """Source → datasets held back, said dataset first: "facts, tables of a, b; city_scores of c"."""
    by_datasets: dict[tuple[str, ...], list[str]] = {}
    for source, held in sorted(withheld.items()):
        if held:
            by_datasets.setdefault(tuple(sorted(held)), []).append(source)
    return "; ".join(f"{', '.join(held)} of {', '.join(sources)}" for held, sources in by_datasets.items())
