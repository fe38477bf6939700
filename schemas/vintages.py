"""Across editions: revisions of restated values, and one validation run out of many.

A revision is a quantity (dataset, key, year, column) that two editions print differently beyond
rounding: |a − b| greater than half a unit of a's last printed digit plus half a unit of b's (the
project's printed-precision rule, nothing looser). It is a finding, not a failure: the ministry may
restate a year, and both values stay published (the newest is current). The finding shows each
printed value's cell, so the audit report crops both editions' pages.

Validation runs per group of sources published for the same year (the checks between a notice and
the annual report of its year need both); ``merge_runs`` makes one run of the groups' runs for the
audit report, each check once, its instances from every group.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from schemas.checks import Instance
from schemas.validate import CheckResult, ValidationRun
from schemas.values import CellRef, printed_decimals

CHECK = "revisions_between_editions"
STATUS_ORDER = {"failed": 3, "finding": 2, "passed": 1, "skipped": 0}


def read_vintages(curated_root: Path) -> pd.DataFrame:
    """Every source's ``vintages`` rows from a published tree (the Parquet files, not the run's memory)."""
    folder = Path(curated_root) / "vintages"
    files = sorted(folder.glob("year=*/*.parquet")) if folder.is_dir() else []
    frames = []
    for path in files:
        frame = pq.read_table(path).to_pandas()
        frame["year"] = int(path.parent.name.split("=", 1)[1])  # the hive partition: not in the file
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _half(text: str | None, value: float) -> float:
    return 0.5 * 10 ** -printed_decimals(text, value)


def revisions(frame: pd.DataFrame) -> CheckResult:
    """One finding per quantity that editions of different years print differently beyond their rounding."""
    result = CheckResult(
        CHECK, "vintages", "vintage",
        "A year restated by several editions: the editions agree within half a unit of each one's last printed "
        "digit, or the difference is a revision (a finding: both values stay published, the newest is current).",
        "passed",
    )  # fmt: skip
    if frame.empty:
        result.status, result.reason = "skipped", "no year-keyed values in the published data"
        return result
    frame = frame[frame["value"].notna()].sort_values(["edition_year", "source_id"], kind="stable")
    quantity = ["dataset", "key", "year", "column"]
    # Most quantities are printed by one edition only: keep those two or more print, before the loop.
    frame = frame[frame.groupby(quantity, sort=False)["edition_year"].transform("nunique") >= 2]
    quantities = 0
    for (dataset, key, year, column), group in frame.groupby(quantity, sort=True):
        quantities += 1
        inst = _compare(dataset, key, int(year), column, group)
        if inst is not None:
            result.failures.append(inst)
    result.checked = quantities
    if not quantities:
        result.status, result.reason = "skipped", "no year is printed by more than one edition"
        return result
    if result.failures:
        result.status = "finding"
        result.worst = max(result.failures, key=lambda i: i.excess)
    return result


def _compare(dataset: str, key: str, year: int, column: str, group: pd.DataFrame) -> Instance | None:
    rows = list(group.itertuples(index=False))
    newest = rows[-1]
    cells: list[CellRef] = []
    printed: list[str] = []
    differs = False
    tolerance = 0.0
    for n, row in enumerate(rows):
        if n and row.edition_year == rows[n - 1].edition_year and row.value_text == rows[n - 1].value_text:
            continue  # another copy of the same edition printing the same: one cell is evidence enough
        gap = abs(float(row.value) - float(newest.value))
        tol = _half(row.value_text, row.value) + _half(newest.value_text, newest.value)
        if gap > tol + 1e-9:
            differs = True
            tolerance = max(tolerance, tol)
        label = f"{row.edition_year} edition ({row.source_id}): {row.value_text}"
        cells.append(
            CellRef(str(row.source_id), dataset, n, column, row.table_id, None if pd.isna(row.page) else int(row.page),
                    tuple(row.bbox) if row.bbox is not None else None, row.value_text, label)  # fmt: skip
        )
        printed.append(f"{row.value_text} ({row.edition_year} ed., {row.source_id})")
    if not differs:
        return None
    oldest = rows[0]
    return Instance(
        f"{year} {key} · {dataset}.{column}",
        float(newest.value),
        float(oldest.value),
        tolerance,
        cells,
        False,
        "restated differently: " + "; ".join(printed) + f". Current: {newest.value_text} ({newest.edition_year} ed.)",
        status="finding",
    )


def merge_runs(runs: Iterable[ValidationRun]) -> ValidationRun:
    """One run of several groups' runs: each check once, with the instances and counts of every group."""
    runs = list(runs)
    merged: dict[tuple[str, str], CheckResult] = {}
    sources: dict[str, str | None] = {}
    stated = []
    for run in runs:
        sources.update(run.sources)
        stated += run.stated_facts or []
        for result in run.results:
            key = (result.name, result.dataset)
            if key not in merged:
                merged[key] = CheckResult(
                    result.name, result.dataset, result.kind, result.description, result.status, result.checked,
                    list(result.failures), result.worst, result.reason, list(result.findings),
                )  # fmt: skip
                continue
            into = merged[key]
            into.checked += result.checked
            into.failures += result.failures
            into.findings += result.findings
            if STATUS_ORDER[result.status] > STATUS_ORDER[into.status]:
                into.status = result.status
                into.reason = result.reason if result.status in ("failed", "skipped") else into.reason
            elif result.status == "failed" and result.reason and result.reason not in into.reason:
                into.reason = f"{into.reason}\n{result.reason}".strip()
            candidates = [w for w in (into.worst, result.worst) if w is not None]
            into.worst = max(candidates, key=lambda i: i.excess) if candidates else None
    for result in merged.values():
        if result.status != "skipped" and result.status != "failed":
            result.reason = ""
    started = min((r.started_at for r in runs if r.started_at), default="")
    return ValidationRun(list(merged.values()), sources, stated if any(r.stated_facts is not None for r in runs)
                         else None, started)  # fmt: skip
