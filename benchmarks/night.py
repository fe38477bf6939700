"""Many editions a night, measured: cold and warm runs of `soetl run` on the generated back catalogue.

    .venv/bin/python benchmarks/night.py                        # builds the catalogue (46 PDFs) into a temp dir
    .venv/bin/python benchmarks/night.py --catalogue DIR        # reuse a built one (python -m samples.backcatalog DIR)
    .venv/bin/python benchmarks/night.py --sizes 10,20 --workers 2

For each size N (default 10, 20, 40 and the whole catalogue) N PDFs are taken evenly spread over the
catalogue (both kinds, every year); N−1 of them make the cold catalog and the last is the "new" PDF:

- cold, 1 worker        `soetl run --workers 1` in a fresh data dir
- cold, N workers       `soetl run --workers N` in another fresh data dir
- cold, LocalCluster    `soetl run --dask-address` on a distributed.LocalCluster (N worker processes, one
                        thread each) started for the run
- warm, nothing new     the 1-worker data dir again, same catalog
- warm, one new PDF     the same data dir, the catalog with the N-th PDF added

Every run is a real `soetl run` in a fresh interpreter (its own temporary Prefect server, as a user's
run; all share one Prefect home whose database exists before the first run, as a user's machine keeps
~/.prefect), under a small wrapper process that reports: wall seconds, CPU seconds (the whole process tree:
flow, extraction workers, Dask workers, Prefect's server once reaped), peak RSS of the largest single
process of the tree (Linux ru_maxrss of the reaped descendants), PDFs extracted (not served from the
cache: the run's report), and curated files written (files of the new version whose inode is not in the
previous version: a hard-linked file is not written). The machine is shared: figures carry its load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Runs the command (or a LocalCluster and then the command) and prints its tree's resource use as JSON.
WRAPPER = r"""
import json, resource, subprocess, sys, time
mode, cmd = sys.argv[1], sys.argv[2:]
cluster = None
if mode.startswith("dask:"):
    from distributed import LocalCluster
    n = int(mode.split(":")[1])
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
    cmd = cmd + ["--dask-address", cluster.scheduler_address]
t0 = time.perf_counter()
done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
wall = time.perf_counter() - t0
if cluster is not None:
    cluster.close()
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "tail": done.stdout[-1500:], "wall": wall, "cpu": kids.ru_utime + kids.ru_stime
                  + (me.ru_utime + me.ru_stime if cluster is not None else 0.0),
                  "rss_kib": max(kids.ru_maxrss, me.ru_maxrss if cluster is not None else 0)}))
"""


@dataclass
class Row:
    size: int
    scenario: str
    pdfs: int
    wall: float
    cpu: float
    rss_mib: float
    extracted: int
    written: int
    linked: int
    rc: int


def _sources(catalogue: Path) -> list[dict]:
    return tomllib.loads((catalogue / "catalog.toml").read_text(encoding="utf-8"))["source"]


def _spread(sources: list[dict], n: int) -> list[dict]:
    """n sources evenly spread over the catalogue (sorted by year, then id), the newest last."""
    ordered = sorted(sources, key=lambda s: (s.get("year") or 0, s["id"]))
    if n >= len(ordered):
        return ordered
    picks = sorted({round(i * (len(ordered) - 1) / (n - 1)) for i in range(n)})
    return [ordered[i] for i in picks]


def _catalog(path: Path, catalogue: Path, sources: list[dict]) -> Path:
    lines = []
    for s in sources:
        lines += ["[[source]]", f'id = "{s["id"]}"', f'url = "{catalogue / s["url"]}"']
        lines += [f'kind = "{s["kind"]}"'] if s.get("kind") else []
        lines += [f"year = {s['year']}", ""] if s.get("year") else [""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _inodes(root: Path) -> set[int]:
    return {p.stat().st_ino for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()


def _version(data: Path) -> Path | None:
    link = data / "curated"
    return (data / os.readlink(link)) if link.is_symlink() else None


def run(catalog: Path, data: Path, mode: str, workers: int, env: dict[str, str]) -> dict:
    before = _version(data)
    old = _inodes(before) if before else set()
    reports_before = set((data / "reports").glob("*/report.json"))
    cmd = [str(BIN / "soetl"), "run", "--catalog", str(catalog), "--data-dir", str(data)]
    if not mode.startswith("dask:"):
        cmd += ["--workers", str(workers)]
    out = subprocess.run([sys.executable, "-c", WRAPPER, mode, *cmd], env=env, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        # The wrapper itself failed (no LocalCluster without `distributed`: `make .venv/.installed` installs it)
        raise SystemExit(f"night benchmark: could not measure the {mode} run (exit {out.returncode}):\n"
                         f"{out.stderr.strip()[-800:]}")  # fmt: skip
    stats = json.loads(lines[-1])
    after = _version(data)
    new_files = [p for p in after.rglob("*") if p.is_file()] if after and after != before else []
    written = sum(1 for p in new_files if p.stat().st_ino not in old)
    reports = sorted(set((data / "reports").glob("*/report.json")) - reports_before)
    sources = json.loads(reports[-1].read_text(encoding="utf-8"))["sources"] if reports else []
    stats.update(written=written, linked=len(new_files) - written,
                 extracted=sum(1 for s in sources if s.get("extraction") == "extracted"))  # fmt: skip
    return stats


def prefect_env(work: Path) -> dict[str, str]:
    """One Prefect home for every run, its database created before the first clock: a machine that runs
    soetl nightly keeps ~/.prefect, and creating a database (a minute of migrations on a slow disk) is
    once per machine, not per night."""
    home = work / "prefect-home"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           # The machine is shared: give Prefect's temporary server time to start under load.
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    if not (home / "prefect.db").is_file():
        subprocess.run([str(BIN / "prefect"), "server", "database", "upgrade", "-y"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return env


def bench(catalogue: Path, size: int, workers: int, work: Path) -> list[Row]:
    picked = _spread(_sources(catalogue), size)
    base, new = picked[:-1], picked
    folder = work / f"n{size}"
    folder.mkdir()
    cold_catalog = _catalog(folder / "cold.toml", catalogue, base)
    warm_catalog = _catalog(folder / "new.toml", catalogue, new)
    rows = []

    def measure(scenario: str, catalog: Path, data: Path, mode: str, n: int, pdfs: int) -> None:
        s = run(catalog, data, mode, n, prefect_env(work))
        if s["rc"] not in (0, 1):  # 1: a check or a source failed (named in the report); else it did not run
            print(f"  {scenario}: soetl run exited {s['rc']}:\n{s['tail']}", flush=True)
        row = Row(size, scenario, pdfs, s["wall"], s["cpu"], s["rss_kib"] / 1024, s["extracted"], s["written"],
                  s["linked"], s["rc"])  # fmt: skip
        rows.append(row)
        print(_line(row), flush=True)

    one, many, dask = folder / "data-1", folder / "data-n", folder / "data-dask"
    measure("cold, 1 worker", cold_catalog, one, "local", 1, len(base))
    measure(f"cold, {workers} workers", cold_catalog, many, "local", workers, len(base))
    measure(f"cold, LocalCluster ({workers} procs)", cold_catalog, dask, f"dask:{workers}", workers, len(base))
    measure("warm, nothing new", cold_catalog, one, "local", workers, len(base))
    measure("warm, one new PDF", warm_catalog, one, "local", workers, len(new))
    return rows


HEADER = (f"{'size':>4}  {'scenario':<30} {'PDFs':>4} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>12} "
          f"{'extracted':>9} {'written':>7} {'linked':>6} {'rc':>2}")  # fmt: skip


def _line(r: Row) -> str:
    return (f"{r.size:>4}  {r.scenario:<30} {r.pdfs:>4} {r.wall:>7.1f} {r.cpu:>7.1f} {r.rss_mib:>12.0f} "
            f"{r.extracted:>9} {r.written:>7} {r.linked:>6} {r.rc:>2}")  # fmt: skip


def summary(rows: list[Row], workers: int) -> list[str]:
    out = []
    for size in sorted({r.size for r in rows}):
        mine = {r.scenario: r for r in rows if r.size == size}
        one, many = mine["cold, 1 worker"], mine[f"cold, {workers} workers"]
        warm = mine["warm, nothing new"]
        speedup = one.wall / many.wall
        out.append(
            f"n={size}: {workers} workers {speedup:.2f}x faster than 1 (target ≥ {0.8 * workers:.1f}x: "
            f"{'met' if speedup >= 0.8 * workers else 'NOT met'}); warm nothing new {warm.wall / one.wall:.0%} of cold "
            f"(target ≤ 10%: {'met' if warm.wall <= 0.1 * one.wall else 'NOT met'}); peak RSS "
            f"{max(r.rss_mib for r in mine.values()):.0f} MiB (target < 1024: "
            f"{'met' if max(r.rss_mib for r in mine.values()) < 1024 else 'NOT met'})"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalogue", type=Path, help="a built back catalogue (default: build one)")
    parser.add_argument("--sizes", default="10,20,40,all", help="comma-separated PDF counts; 'all' = the catalogue")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--work", type=Path, help="where data dirs go (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="soetl-night-"))
    work.mkdir(parents=True, exist_ok=True)
    catalogue = args.catalogue
    if catalogue is None:
        catalogue = work / "backcatalog"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "samples.backcatalog", str(catalogue), "--jobs", str(args.workers)],
                       cwd=ROOT, check=True)  # fmt: skip
        print(f"built the back catalogue in {time.perf_counter() - t:.0f} s")
    total = len(_sources(catalogue))
    sizes = [total if s == "all" else min(int(s), total) for s in args.sizes.split(",")]
    load = os.getloadavg()
    print(f"soetl night benchmark: {total} PDFs in the catalogue, sizes {sizes}, {args.workers} workers, "
          f"{os.cpu_count()} cores, load {load[0]:.1f} at start; work dir {work}")  # fmt: skip
    print(HEADER, flush=True)
    rows = []
    for size in dict.fromkeys(sizes):
        rows += bench(catalogue, size, args.workers, work)
    print()
    print(HEADER)
    for row in rows:
        print(_line(row))
    print()
    for line in summary(rows, args.workers):
        print(line)
    print(f"load at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
