"""Run PDFs through extraction, each in a fresh interpreter with a time and memory limit, and classify.

Classes, worst first:

* ``traceback``: the process ended with an exception that is not an ExtractionError (or a signal);
* ``hang``: still running at the timeout (killed);
* ``memory``: resident memory over the limit (killed), or a MemoryError;
* ``silent loss``: exit 0 with less than the undamaged file gave (a page, a table, rows, filled
  cells, a figure, its points or image, or provenance pages moved) and nothing said about it: the
  result is marked complete and carries no problem the undamaged file did not have;
* ``reported loss``: the same, said out loud (a named problem, the result marked incomplete);
* ``altered``: same shape, some cell texts differ (what a flipped glyph does; validation's job);
* ``named error``: an ExtractionError naming the file (and page) and what to do;
* ``result``: what the undamaged file gave, or any result for a file without a baseline.

The suite fails on the first four.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAILING = ("traceback", "hang", "memory", "silent loss")
CLASSES = ("result", "named error", "altered", "reported loss", "silent loss", "traceback", "hang", "memory")
TIMEOUT = 120.0
MEMORY_LIMIT = 1 << 30  # bytes: the ceiling


@dataclass
class Run:
    label: str  # "city_evaluation_2021 page_deleted #3" or a corpus file's path
    outcome: str  # one of CLASSES
    detail: str  # the error's first line, what was lost, the traceback's last line …
    seconds: float
    peak_mib: float
    summary: dict | None = None


def run_child(
    pdf: Path,
    timeout: float = TIMEOUT,
    memory_limit: int = MEMORY_LIMIT,
    command: list[str] | None = None,
    kind: str | None = None,
) -> tuple[str, str, float, float, dict | None]:
    """(status, detail, seconds, peak MiB, summary) of ``python -m tests.fuzz.child pdf``.

    status: "ok" (summary parsed), "traceback", "hang" or "memory". Peak memory is the child's own
    maximum resident set (wait4's ru_maxrss), imports included. ``command`` replaces the child (tests
    of the harness itself).
    """
    with tempfile.TemporaryDirectory(prefix="soetl-fuzz-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        with out.open("wb") as fo, err.open("wb") as fe:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
            child = [sys.executable, "-m", "tests.fuzz.child", str(pdf), str(Path(tmp, "images"))]
            child += [kind] if kind else []
            proc = subprocess.Popen(
                command or child,
                stdout=fo, stderr=fe, cwd=ROOT, env=env, start_new_session=True,
            )  # fmt: skip
            start, killed, rusage, status = time.monotonic(), None, None, 0
            while True:
                pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > timeout:
                    killed = "hang"
                elif _rss(proc.pid) > memory_limit:
                    killed = "memory"
                if killed:
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, rusage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        seconds = time.monotonic() - start
        peak = rusage.ru_maxrss / 1024 if rusage else 0.0
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
    if killed == "hang":
        return "hang", f"still running after {timeout:.0f} s", seconds, peak, None
    if killed == "memory" or "MemoryError" in stderr:
        return (
            "memory",
            f"resident memory over {memory_limit >> 20} MiB",
            seconds,
            max(peak, memory_limit / 2**20),
            None,
        )
    if proc.returncode != 0 or not stdout.strip():
        last = [ln for ln in stderr.splitlines() if ln.strip()]
        why = last[-1] if last else f"exit {proc.returncode}"
        if proc.returncode < 0:
            why = f"killed by signal {-proc.returncode}: {why}"
        return "traceback", why[:300], seconds, peak, None
    try:
        return "ok", "", seconds, peak, json.loads(stdout.strip().splitlines()[-1])
    except json.JSONDecodeError:
        return "traceback", f"unreadable output: {stdout[-200:]!r}", seconds, peak, None


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def classify(label: str, pdf: Path, baseline: dict | None, timeout: float = TIMEOUT, kind: str | None = None) -> Run:
    return judge(label, baseline, *run_child(pdf, timeout, kind=kind))


def judge(
    label: str, baseline: dict | None, status: str, detail: str, seconds: float, peak: float, summary: dict | None
) -> Run:
    """The class of one run (see the module doc), against the undamaged file's ``baseline``."""
    if status != "ok":
        return Run(label, status, detail, seconds, peak)
    assert summary is not None
    if summary["outcome"] == "named":
        return Run(label, "named error", summary["message"].splitlines()[0][:300], seconds, peak, summary)
    if baseline is None or baseline.get("outcome") != "result":
        return Run(label, "result", "", seconds, peak, summary)
    losses, altered = compare(baseline, summary)
    if losses:
        loud = not summary["complete"] or _new_problems(baseline, summary)
        return Run(label, "reported loss" if loud else "silent loss", "; ".join(losses)[:300], seconds, peak, summary)
    if altered:
        return Run(label, "altered", "; ".join(altered)[:300], seconds, peak, summary)
    return Run(label, "result", "", seconds, peak, summary)


def _new_problems(baseline: dict, summary: dict) -> bool:
    old = {p["problem"] for p in baseline["problems"]}
    if any(p["problem"] not in old for p in summary["problems"]):
        return True
    old_figs = {f["id"]: set(f["problems"]) for f in baseline["figures"]}
    return any(set(f["problems"]) - old_figs.get(f["id"], set()) for f in summary["figures"])


def compare(baseline: dict, summary: dict) -> tuple[list[str], list[str]]:
    """(losses, alterations) of ``summary`` against the undamaged file's ``baseline``."""
    losses: list[str] = []
    altered: list[str] = []
    if summary["pages"] < baseline["pages"]:
        losses.append(f"pages {baseline['pages']} -> {summary['pages']}")
    tables = {t["id"]: t for t in summary["tables"]}
    by_caption = {(t["dataset"], t.get("caption")): t for t in summary["tables"]}
    for old in baseline["tables"]:
        new = tables.get(old["id"])
        if new is None and old["dataset"] and (old["dataset"], old.get("caption")) in by_caption:
            new = by_caption[old["dataset"], old.get("caption")]
            altered.append(f"table {old['id']} now {new['id']}")  # same table, another id: a lost section number
        if new is None:
            losses.append(f"table {old['id']} missing")
            continue
        for key in ("rows", "cols", "filled"):
            if new[key] < old[key]:
                losses.append(f"table {old['id']} {key} {old[key]} -> {new[key]}")
        if new["pages"] != old["pages"]:
            losses.append(f"table {old['id']} pages {old['pages']} -> {new['pages']}")
        if new["dataset"] != old["dataset"]:
            losses.append(f"table {old['id']} dataset {old['dataset']} -> {new['dataset']}")
        elif new["digest"] != old["digest"] and not any(new[k] < old[k] for k in ("rows", "cols", "filled")):
            altered.append(f"table {old['id']} cells differ")
    figures: dict[str, list[dict]] = {}
    for f in summary["figures"]:
        figures.setdefault(f["id"], []).append(f)
    for old in baseline["figures"]:
        candidates = figures.get(old["id"], [])
        new = candidates.pop(0) if candidates else None
        if new is None:
            losses.append(f"figure {old['id']} missing")
            continue
        if new["page"] != old["page"]:
            losses.append(f"figure {old['id']} page {old['page']} -> {new['page']}")
        if new["points"] < old["points"]:
            losses.append(f"figure {old['id']} points {old['points']} -> {new['points']}")
        if old["image"] and not new["image"]:
            losses.append(f"figure {old['id']} image missing")
    return losses, altered


@dataclass
class Job:
    label: str
    pdf: Path
    baseline: dict | None = None
    kind: str | None = None  # forced report kind


@dataclass
class Sweep:
    runs: list[Run] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.runs)

    @property
    def failures(self) -> list[Run]:
        return [r for r in self.runs if r.outcome in FAILING]

    def table(self, title: str = "") -> str:
        """The classification table: one row per class, with peak memory and time."""
        counts = self.counts()
        lines = [title] if title else []
        lines += ["| class | runs | peak MiB (max) | seconds (median) |", "|---|---:|---:|---:|"]
        for cls in CLASSES:
            runs = [r for r in self.runs if r.outcome == cls]
            if not runs and cls not in FAILING:
                continue
            peak = max((r.peak_mib for r in runs), default=0.0)
            secs = sorted(r.seconds for r in runs)
            median = secs[len(secs) // 2] if secs else 0.0
            lines.append(f"| {cls} | {counts[cls]} | {peak:.0f} | {median:.1f} |")
        peak = max((r.peak_mib for r in self.runs), default=0.0)
        lines.append(f"| **all** | {len(self.runs)} | {peak:.0f} | |")
        return "\n".join(lines)


def sweep(jobs: Iterable[Job], workers: int = 2, timeout: float = TIMEOUT, on_run=None) -> Sweep:  # type: ignore[no-untyped-def]
    result = Sweep()

    def one(job: Job) -> Run:
        run = classify(job.label, job.pdf, job.baseline, timeout, job.kind)
        if on_run:
            on_run(run)
        return run

    with ThreadPoolExecutor(max_workers=workers) as pool:
        result.runs = list(pool.map(one, jobs))
    return result
