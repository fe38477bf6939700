"""The long fuzz sweep: damaged copies of the samples (and of any PDFs you name), plus whole corpora.

    .venv/bin/python benchmarks/fuzz.py                        # 520 mutants of samples/*.pdf
    .venv/bin/python benchmarks/fuzz.py --mutants 1000 --bases samples/variants --corpus ../shared/corpora
    .venv/bin/python benchmarks/fuzz.py --only page_deleted --keep /tmp/fuzz-failures

Bases are samples/*.pdf plus every *.pdf in each ``--bases`` directory (the layout variants, once
merged). Mutant i uses mutation i mod M on base (i div M) mod B with seed i, so a label such as
``city_evaluation_2021 kids_point_back_at_pages #37`` names the same bytes on every machine
(rebuild it with ``tests.fuzz.mutations.mutate``). Every PDF under each ``--corpus`` directory runs as
it is, and again with ``--corpus-kind`` forced (default annual_report), so that a PDF that is no MOFCOM
report still goes through table extraction, the generic layer and figures. Each run is a fresh
interpreter (tests/fuzz/child.py) with a timeout and a memory ceiling; classes are defined in
tests/fuzz/harness.py. Exit status 1 when any run is a traceback, a hang, a
memory blow-up or a silent loss.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.harness import FAILING, TIMEOUT, Job, Run, run_child, sweep  # noqa: E402
from tests.fuzz.mutations import MUTATIONS, Base, mutate  # noqa: E402

# Mutations of the file as published; the others damage the pypdf-normalized copy (see pdfdoc).
ON_ORIGINAL = {"truncated", "truncated_eof_kept", "random_bytes_50", "random_bytes_block", "original_xref_flip"}


def base_pdfs(extra_dirs: list[Path]) -> list[Path]:
    paths = sorted((ROOT / "samples").glob("*.pdf"))
    for directory in extra_dirs:
        paths += sorted(directory.glob("*.pdf"))
    return paths


def baseline(pdf: Path, timeout: float) -> dict:
    status, detail, _, _, summary = run_child(pdf, timeout)
    if status != "ok" or summary is None or summary["outcome"] != "result":
        raise SystemExit(f"{pdf}: the undamaged base does not extract ({status} {detail} {summary}); fix that first")
    return summary


def mutant_jobs(
    bases: list[Path], count: int, only: list[str], workdir: Path, timeout: float, first_seed: int = 0
) -> list[Job]:
    names = only or list(MUTATIONS)
    loaded = [Base(p.stem, p.read_bytes()) for p in bases]
    baselines: dict[tuple[str, bool], dict] = {}
    for base, path in zip(loaded, bases, strict=True):
        normalized = workdir / f"{base.name}.normalized.pdf"
        normalized.write_bytes(base.normalized)
        baselines[base.name, True] = baseline(path, timeout)
        baselines[base.name, False] = baseline(normalized, timeout)
    jobs = []
    for i in range(first_seed, first_seed + count):
        name = names[i % len(names)]
        base = loaded[(i // len(names)) % len(loaded)]
        try:
            data = mutate(base, name, i)
        except (ValueError, IndexError, KeyError, AssertionError, StopIteration) as exc:
            # This base lacks what the mutation damages (no ToUnicode, one page …): say so, go on.
            print(f"  skipped {base.name} {name} #{i}: {type(exc).__name__} {exc}", file=sys.stderr)
            continue
        path = workdir / f"{base.name}.{name}.{i}.pdf"
        path.write_bytes(data)
        jobs.append(Job(f"{base.name} {name} #{i}", path, baselines[base.name, name in ON_ORIGINAL]))
    return jobs


def replay_jobs(labels: list[str], bases: list[Path], workdir: Path, timeout: float) -> list[Job]:
    """The mutants named by labels such as "city_evaluation_2021 page_deleted #26"."""
    by_name = {p.stem: p for p in bases}
    jobs, baselines = [], {}
    for label in labels:
        name, mutation_name, seed = label.replace("#", "").split()
        base = Base(name, by_name[name].read_bytes())
        path = workdir / f"{name}.{mutation_name}.{seed}.pdf"
        path.write_bytes(mutate(base, mutation_name, int(seed)))
        reference = by_name[name] if mutation_name in ON_ORIGINAL else workdir / f"{name}.normalized.pdf"
        if not reference.exists():
            reference.write_bytes(base.normalized)
        if reference not in baselines:
            baselines[reference] = baseline(reference, timeout)
        jobs.append(Job(label, path, baselines[reference]))
    return jobs


def corpus_jobs(directories: list[Path], kinds: list[str | None]) -> list[Job]:
    pdfs = [p for d in directories for p in sorted(d.rglob("*.pdf")) + sorted(d.rglob("*.PDF"))]
    return [Job(f"{p}" + (f" (as {kind})" if kind else ""), p, kind=kind) for kind in kinds for p in pdfs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=520)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--bases", type=Path, nargs="*", default=[], help="more directories of PDFs to mutate")
    parser.add_argument("--corpus", type=Path, nargs="*", default=[], help="directories of PDFs to run as they are")
    parser.add_argument(
        "--corpus-kind", default="annual_report",
        help="also run each corpus PDF with this kind forced, through tables and figures ('none': don't)",
    )  # fmt: skip
    parser.add_argument("--only", nargs="*", default=[], choices=sorted(MUTATIONS), metavar="MUTATION")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=TIMEOUT)
    parser.add_argument("--keep", type=Path, help="copy failing mutants here")
    parser.add_argument(
        "--replay", nargs="*", default=[], metavar="LABEL", help='e.g. "city_evaluation_2021 page_deleted #26"'
    )
    args = parser.parse_args()

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soetl-fuzz-") as tmp:
        workdir = Path(tmp)
        bases = base_pdfs(args.bases)
        if args.replay:
            jobs = replay_jobs(args.replay, bases, workdir, args.timeout)
        else:
            jobs = mutant_jobs(bases, args.mutants, args.only, workdir, args.timeout, args.first_seed)
        mutants = len(jobs)
        jobs += corpus_jobs(args.corpus, [None] + ([] if args.corpus_kind == "none" else [args.corpus_kind]))
        print(f"{mutants} mutants of {len(bases)} bases, {len(jobs) - mutants} corpus PDFs, {args.workers} workers")

        done = []

        def report(run: Run) -> None:
            done.append(run)
            if run.outcome in FAILING:
                print(f"  {run.outcome.upper()}: {run.label}: {run.detail}", flush=True)
            if len(done) % 25 == 0:
                elapsed = time.monotonic() - started
                print(f"  {len(done)}/{len(jobs)} runs, {elapsed:.0f} s", flush=True)

        result = sweep(jobs, workers=args.workers, timeout=args.timeout, on_run=report)
        if args.keep and result.failures:
            args.keep.mkdir(parents=True, exist_ok=True)
            for job, run in zip(jobs, result.runs, strict=True):
                if run.outcome in FAILING:
                    (args.keep / job.pdf.name).write_bytes(job.pdf.read_bytes())

    mutant_runs, corpus_runs = result.runs[:mutants], result.runs[mutants:]
    from tests.fuzz.harness import Sweep

    print()
    print(Sweep(mutant_runs).table(f"Mutants ({mutants})"))
    if corpus_runs:
        print()
        print(Sweep(corpus_runs).table(f"Corpus PDFs ({len(corpus_runs)})"))
    print()
    print(result.table(f"All runs ({len(result.runs)}), {time.monotonic() - started:.0f} s wall"))
    by_mutation: dict[str, list[Run]] = {}
    for run in mutant_runs:
        by_mutation.setdefault(run.label.split()[1], []).append(run)
    print("\nper mutation: " + ", ".join(
        f"{name} {sum(r.outcome in FAILING for r in runs)}/{len(runs)}" for name, runs in sorted(by_mutation.items())
    ))  # fmt: skip
    heaviest = max(result.runs, key=lambda r: r.peak_mib, default=None)
    if heaviest:
        print(f"peak memory: {heaviest.peak_mib:.0f} MiB ({heaviest.label})")
    for run in result.failures:
        print(f"FAIL {run.outcome}: {run.label}: {run.detail}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
