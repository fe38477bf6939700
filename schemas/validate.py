"""Validate every curated dataset of a run: pandera schemas plus the checks of ``schemas/checks.py``.

Lazy throughout: every schema error (pandera ``lazy=True``) and every failing relation is collected; a
check that crashes becomes a failed result, not an exception. ``failed_datasets()`` names the datasets
that must not be published.
"""

from __future__ import annotations

import json
import tomllib
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from extractors.datasets import Curated
from schemas.checks import CHECKS, Check, Context, Instance, Skip
from schemas.models import models
from schemas.stated import StatedFact
from schemas.values import CellRef, SourceValues

FINDINGS = Path(__file__).resolve().parent / "findings.toml"
# Every table cell is also published in ``facts`` (numbers) and ``tables`` (text): a wrong cell is wrong there too.
_TABLE_MIRRORS = ("facts", "tables")


@dataclass
class CheckResult:
    name: str
    dataset: str
    kind: str  # schema | sum | share | consistency | chart | cross-document | mapping
    description: str
    status: str  # passed | failed | finding | skipped
    checked: int = 0  # relation instances (or rows) tested
    failures: list[Instance] = field(default_factory=list)  # failed and finding instances
    worst: Instance | None = None  # the instance closest to (or furthest past) its tolerance
    reason: str = ""  # why skipped, or what crashed
    findings: list[dict[str, str]] = field(default_factory=list)  # explanations of known inconsistencies

    @property
    def observed(self) -> Any:
        return self.worst.observed if self.worst else None

    @property
    def expected(self) -> Any:
        return self.worst.expected if self.worst else None

    @property
    def tolerance(self) -> float | None:
        return self.worst.tolerance if self.worst else None

    @property
    def failing_rows(self) -> list[dict[str, Any]]:
        """(source, dataset, row) of every cell of a failing instance, each once."""
        seen: dict[tuple[str, str, int], None] = {}
        for inst in self.failures:
            if inst.status != "failed":
                continue
            for cell in inst.cells:
                seen.setdefault((cell.source_id, cell.dataset, cell.row), None)
        return [{"source_id": s, "dataset": d, "row": r} for s, d, r in seen]

    @property
    def evidence(self) -> list[CellRef]:
        cells: dict[tuple[str, str, int, str], CellRef] = {}
        for inst in self.failures:
            for cell in inst.cells:
                cells.setdefault(cell.key, cell)
        return list(cells.values())

    def affected_datasets(self) -> set[str]:
        """Datasets publishing a cell of a failed (not merely known-finding) instance."""
        return set().union(*self.affected_by_source().values())

    def affected_by_source(self) -> dict[str | None, set[str]]:
        """affected_datasets by the source whose cell a failed instance shows: that source's datasets are the
        ones in doubt. None: a failure that shows no cell (a check that crashed), which holds the datasets back
        for every source it checked."""
        if self.status != "failed":
            return {}
        out: dict[str | None, set[str]] = {}
        failed = [i for i in self.failures if i.status == "failed"]
        if not failed:
            return {None: {self.dataset}}  # the check itself crashed
        for inst in failed:
            if self.kind == "reconciliation":
                # A stated figure that disagrees with a table, a chart or another sentence (and is no known
                # finding) withholds the statements of the report that states it: the sentence is what is in
                # doubt. The tables and charts it was compared with answer to their own sum/share/chart checks,
                # and one misread or corrupted sentence must not hold back a table that adds up.
                stating = {c.source_id for c in inst.cells if c.dataset == "statements"}
                for source in stating or {c.source_id for c in inst.cells} or {None}:
                    out.setdefault(source, set()).add("statements")
                continue
            if not inst.cells:
                out.setdefault(None, set()).add(self.dataset)
            for cell in inst.cells:
                held = out.setdefault(cell.source_id, set())
                if cell.dataset != "stated":
                    held.add(cell.dataset)
                if cell.table_id and self.kind not in ("schema", "mapping"):
                    held.update(_TABLE_MIRRORS)
        return {source: held for source, held in out.items() if held}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dataset": self.dataset,
            "kind": self.kind,
            "description": self.description,
            "status": self.status,
            "checked": self.checked,
            "observed": _json_value(self.observed),
            "expected": _json_value(self.expected),
            "tolerance": _json_value(self.tolerance),
            "reason": self.reason,
            "failing_rows": self.failing_rows,
            "failures": [i.to_dict() for i in self.failures],
            "worst": self.worst.to_dict() if self.worst else None,
            "findings": self.findings,
            "affected_datasets": sorted(self.affected_datasets()),
        }


def _json_value(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


@dataclass
class ValidationRun:
    results: list[CheckResult]
    sources: dict[str, str | None]  # source id → sha256
    stated_facts: list[StatedFact] | None = None
    started_at: str = ""
    # Source → the datasets failed checks hold back for it, where the night validated groups of sources
    # (flows/stages.py); else held_back() works it out.
    failing_by_source: dict[str, set[str]] | None = None

    def failed_datasets(self) -> set[str]:
        out: set[str] = set()
        for result in self.results:
            if result.status == "failed":
                out |= result.affected_datasets()
        return out

    def failed_datasets_by_source(self, sources: Iterable[str]) -> dict[str, set[str]]:
        """Each of ``sources`` → the datasets a failed check holds back for it: those its own cells show failing
        (one source's bad table does not hold back another's). A failure that shows no cell, or the cell of a
        source not among ``sources``, holds its datasets back for all of them."""
        out: dict[str, set[str]] = {s: set() for s in sources}
        for result in self.failed():
            for source, held in result.affected_by_source().items():
                for each in [source] if source in out else out:
                    out[each] |= held
        return out

    def held_back(self) -> dict[str, set[str]]:
        """Source → the datasets failed checks keep from being published for it (empty sets left out)."""
        held = self.failing_by_source
        if held is None:
            held = self.failed_datasets_by_source(self.sources)
        return {source: datasets for source, datasets in held.items() if datasets}

    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        counts = {"run": 0, "passed": 0, "failed": 0, "finding": 0, "skipped": 0}
        for result in self.results:
            counts[result.status] += 1
            counts["run"] += result.status != "skipped"
        return counts

    def why_not_published(self) -> dict[str, list[str]]:
        """Dataset → the checks that keep it from being published."""
        why: dict[str, list[str]] = {}
        for result in self.failed():
            for dataset in sorted(result.affected_datasets()):
                why.setdefault(dataset, []).append(result.name)
        return why

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "sources": self.sources,
            "counts": self.counts(),
            "failed_datasets": sorted(self.failed_datasets()),
            "why_not_published": self.why_not_published(),
            "held_back": {source: sorted(held) for source, held in sorted(self.held_back().items())},
            "stated_facts": [f.to_dict() for f in self.stated_facts] if self.stated_facts is not None else None,
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **({"indent": 2} | kwargs))


@cache
def known_findings(path: Path = FINDINGS) -> tuple[dict[str, Any], ...]:
    if not path.exists():
        return ()
    return tuple(tomllib.loads(path.read_text(encoding="utf-8")).get("finding", []))


def _acknowledged(check: str, inst: Instance, findings: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    printed = [c.text for c in inst.cells]
    for entry in findings:
        if entry["check"] == check and entry["instance"] == inst.key and entry["printed"] == printed:
            return entry
    return None


def validate(
    curated: dict[str, Curated],
    stated_facts: list[StatedFact] | None = None,
    *,
    checks: Iterable[Check] = CHECKS,
    findings: Iterable[dict[str, Any]] | None = None,
    schemas: bool = True,
) -> ValidationRun:
    """Run every schema and check over the curated datasets of ``curated`` (source id → Curated).

    ``stated_facts`` (``schemas.stated.read_stated_facts(pdf_paths)``) enables the checks against the
    figures the reports state in their text; without them those checks are skipped, and say so.
    """
    started = datetime.now(UTC).isoformat()
    sources = {sid: SourceValues(sid, c) for sid, c in curated.items()}
    ctx = Context(sources, stated_facts)
    known = tuple(findings) if findings is not None else known_findings()
    results: list[CheckResult] = _schema_results(sources) if schemas else []
    for check in checks:
        results.append(_run_check(check, ctx, known))
    results += _mapping_results(curated)
    return ValidationRun(results, {sid: v.sha256() for sid, v in sources.items()}, stated_facts, started)


def _mapping_results(curated: dict[str, Curated]) -> list[CheckResult]:
    """A table its spec claims but whose header does not map, or a table the spec expects missing or printed
    twice: its dataset fails, showing what was seen."""
    out = []
    for sid, item in curated.items():
        for problem in item.problems:
            located = bool(problem.table_id)  # a missing table has no cell to show
            label = f"{problem.table_id or problem.dataset} header"
            cell = CellRef(sid, problem.dataset, 0, "header", problem.table_id or None,
                           problem.page if located else None, problem.bbox if located else None,
                           " | ".join(problem.header_seen), label)  # fmt: skip
            inst = Instance(problem.table_id, problem.header_seen, problem.expected, None, [cell], False,
                            note=problem.message)  # fmt: skip
            out.append(
                CheckResult(
                    f"columns map to the spec: {sid} {problem.table_id}" if problem.table_id
                    else f"the spec's tables are all there: {sid} {problem.dataset}",
                    problem.dataset,
                    "mapping",
                    "every column the dataset needs is found in the table's header" if problem.table_id
                    else "every table the spec expects is found once",
                    "failed",
                    checked=1,
                    failures=[inst],
                    worst=inst,
                    reason=problem.message,
                )
            )
    return out


def _run_check(check: Check, ctx: Context, known: tuple[dict[str, Any], ...]) -> CheckResult:
    result = CheckResult(check.name, check.dataset, check.kind, check.description, "passed")
    try:
        instances = list(check.instances(ctx))
    except Skip as exc:
        result.status, result.reason = "skipped", str(exc)
        return result
    except Exception as exc:  # noqa: BLE001 - a broken check must show in the report, not end the run
        result.status = "failed"
        result.reason = f"the check crashed: {exc!r}\n{traceback.format_exc(limit=3)}"
        return result
    result.checked = len(instances)
    if not instances:
        result.status, result.reason = "skipped", "nothing to check in this run's data"
        return result
    for inst in instances:
        if inst.passed:
            continue
        entry = _acknowledged(check.name, inst, known)
        if entry is not None:
            inst.status = "finding"
            inst.note = (inst.note + " " if inst.note else "") + "Known inconsistency of the published data."
            result.findings.append({"instance": inst.key, "why": " ".join(entry["why"].split())})
        result.failures.append(inst)
    statuses = {i.status for i in result.failures}
    result.status = "failed" if "failed" in statuses else "finding" if statuses else "passed"
    result.worst = max(instances, key=lambda i: i.excess)
    return result


# ---------------------------------------------------------------- schemas


def _schema_checks(name: str, schema: pa.DataFrameSchema) -> list[tuple[str | None, str, str]]:
    """(column, pandera check name, description) of every check the model runs, for passing results too."""
    out: list[tuple[str | None, str, str]] = [(None, "column_in_dataframe", "every dictionary column is present")]
    out.append((None, "column_in_schema", "no column outside the dictionary"))
    for column, col in schema.columns.items():
        unit = f" ({col.metadata.get('unit')})" if col.metadata and col.metadata.get("unit") else ""
        out.append((column, f"dtype('{col.dtype}')", f"{column}{unit}: {col.dtype}, {col.description}"))
        if not col.nullable:
            out.append((column, "not_nullable", f"{column} is never empty"))
        for check in col.checks:
            out.append((column, str(check.error or check.name), f"{column}: {check.error or check.name}"))
    if schema.unique:
        out.append((None, "multiple_fields_uniqueness", f"key ({', '.join(schema.unique)}) is unique"))
    for check in schema.checks:
        out.append((None, str(check.name), str(check.description or check.name)))
    return out


def _schema_results(sources: dict[str, SourceValues]) -> list[CheckResult]:
    failures: dict[tuple[str, str | None, str], list[Instance]] = {}
    checked: dict[str, int] = {}
    for values in sources.values():
        for name, model in models().items():
            frame = values.frames.get(name)
            if frame is None:
                continue
            checked[name] = checked.get(name, 0) + len(frame)
            try:
                model.validate(frame, lazy=True)
            except pa.errors.SchemaErrors as exc:
                for key, inst in _schema_failures(values, name, exc.failure_cases):
                    failures.setdefault(key, []).append(inst)
    results = []
    for name, model in models().items():
        schema = model.to_schema()
        expected = _schema_checks(name, schema)
        known = {(col, chk) for col, chk, _ in expected}
        for column, check, description in expected:
            results.append(
                _schema_result(name, column, check, description, failures.pop((name, column, check), []), checked)
            )
        # Failures of checks not enumerated above (a coercion, a pandera-internal check): keep them.
        for (dataset, column, check), insts in list(failures.items()):
            if dataset == name and (column, check) not in known:
                results.append(_schema_result(name, column, check, f"{column or name}: {check}", insts, checked))
                del failures[(dataset, column, check)]
    return results


def _schema_result(
    dataset: str, column: str | None, check: str, description: str, insts: list[Instance], checked: dict[str, int]
) -> CheckResult:
    title = f"schema: {column + ' ' if column else ''}{check}"
    result = CheckResult(title, dataset, "schema", description, "failed" if insts else "passed")
    result.checked = checked.get(dataset, 0)
    result.failures = insts
    result.worst = insts[0] if insts else None
    if not checked.get(dataset):
        result.status, result.reason = "skipped", "no rows in this run"
    return result


def _schema_failures(
    values: SourceValues, dataset: str, cases: pd.DataFrame
) -> Iterable[tuple[tuple[str, str | None, str], Instance]]:
    frame_level = cases["schema_context"].astype(str) == "DataFrameSchema"
    for (check, index), group in cases[frame_level].groupby(["check", "index"], dropna=False, sort=False):
        # A dataframe-level failure lists every column of the row: one instance per row, naming its key.
        row = None if pd.isna(index) else int(index)
        cols = [str(c) for c in group["column"] if isinstance(c, str)]
        cells = [values.ref(dataset, row, c) for c in cols] if row is not None else []
        # column_in_dataframe / column_in_schema carry the column name as the failure case.
        column = None
        shown = ", ".join(str(v) for v in group["failure_case"].head(6))
        yield (
            (dataset, column, str(check)),
            Instance(
                f"{values.source_id} {dataset} row {row}" if row is not None else f"{values.source_id} {dataset}",
                shown,
                str(check),
                None,
                [c for c in cells if c.table_id] or cells[:1],
                False,
                f"row {row}: " + ", ".join(f"{c}={v}" for c, v in zip(cols, group["failure_case"], strict=False))
                if row is not None
                else shown,
            ),
        )
    for _, case in cases[~frame_level].iterrows():
        column = str(case["column"]) if isinstance(case["column"], str) else None
        row = None if pd.isna(case["index"]) else int(case["index"])
        cells = [values.ref(dataset, row, column)] if row is not None and column else []
        yield (
            (dataset, column, str(case["check"])),
            Instance(
                f"{values.source_id} {dataset} row {row} · {column}"
                if row is not None
                else f"{values.source_id} {dataset}",
                _json_value(case["failure_case"])
                if not isinstance(case["failure_case"], list)
                else str(case["failure_case"]),
                str(case["check"]),
                None,
                cells,
                False,
            ),
        )
