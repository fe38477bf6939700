"""The `soetl` command: run the nightly flow once, serve it on a schedule, extract one PDF, and more."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from flows.catalog import SourceEntry
    from flows.summary import RunSummary

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="soetl: MOFCOM service-outsourcing PDFs → checked datasets"
)
# Diagnostics go to stderr, results (what `extract` and `report` find) to stdout, so a pipe gets only data.
# soft_wrap: long paths and messages stay on one line, so they can be copied and grepped.
console = Console(stderr=True, soft_wrap=True)


def _stdout() -> Console:
    out = Console(soft_wrap=True, highlight=False)
    if not out.is_terminal:
        out.width = 200  # a pipe or a file: do not wrap table cells at 80 columns
    return out

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where raw/, curated/ and reports/ live (default: $SOETL_DATA_DIR or the project root)"
    ),
]


def _data_dir(value: Path | None) -> Path:
    from flows.runtime import data_dir_default

    return value.resolve() if value else data_dir_default()


@app.command()
def run(
    catalog: Annotated[
        Path | None, typer.Option(help="Catalog of sources (default: <data dir>/catalog.toml, else the bundled one)")
    ] = None,
    data_dir: DataDir = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Extract every source again, ignoring the cache")] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Extraction processes (default SOETL_WORKERS, else the core count)"),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="Extract on this Dask cluster: tcp://host:8786 (SOETL_DASK_ADDRESS)"),
    ] = None,
    always_flow: Annotated[
        bool,
        typer.Option("--always-flow", help="Run the Prefect flow even when nothing is new (a flow run on record)"),
    ] = False,
) -> None:
    """Run the flow once: fetch every source, extract, validate, publish, write the audit report.

    A night with nothing new (every source unchanged, the same code, curated/ as the last night left it) is
    answered before Prefect starts: the last night's version, checks and report stand."""
    from flows.catalog import CatalogError, load_catalog
    from flows.runtime import api_server, run_lock

    data = _data_dir(data_dir)
    catalog_path = _catalog_path(catalog, data)
    try:
        sources = load_catalog(catalog_path)  # fail fast, before Prefect starts, with the catalog's own message
    except CatalogError as exc:
        console.print(f"[red]catalog error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    with _refused(), run_lock(data):
        if not (refresh or always_flow) and (standing := _nothing_new(sources, data)) is not None:
            _print_summary(standing)
            raise typer.Exit(0 if standing.ok else 1)
        _require_reachable_server(optional=True)
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        from flows import progress

        bars = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=console)
        from flows.parallel import Plan, WarmWorkers, dask_address_default, default_workers

        preload = _preload()
        # The flow's worker processes start (and import) while the server does: both are seconds of imports.
        plan = Plan(workers if workers is not None else default_workers(), dask_address or dask_address_default())
        warm = WarmWorkers(plan)
        with warm, api_server(while_starting=warm.start), bars:
            preload.join()
            progress.install(progress.RichReporter(bars))
            from flows.pipeline import run_once

            try:
                summary, ok = run_once(catalog_path, data, refresh=refresh, workers=workers, dask_address=dask_address)
            finally:
                progress.install(None)
    _print_summary(summary)
    raise typer.Exit(0 if ok else 1)


def _preload() -> threading.Thread:
    """Import what the flow will need (pandas, pyarrow, pandera, the extractors: seconds of CPU) on a thread
    while Prefect's temporary server starts in its own process: this process only waits on it meanwhile.
    Prefect itself is imported already (the server check), so the two threads import disjoint modules."""

    def load() -> None:
        try:
            import flows.pipeline  # noqa: F401
            import flows.publish  # noqa: F401
            import flows.stages  # noqa: F401
            import schemas.validate  # noqa: F401
        except Exception:  # noqa: BLE001, S110 - the flow's own import raises it again, with its message
            pass

    thread = threading.Thread(target=load, name="soetl-preload", daemon=True)
    thread.start()
    return thread


def _nothing_new(sources: list[SourceEntry], data: Path) -> RunSummary | None:
    """Tonight's summary when it has nothing new (flows/unchanged.py), else None; never a reason to fail."""
    import time

    from extractors.spec import spec_dir_default
    from flows.summary import RunSummary, new_run_id
    from flows.unchanged import answer

    started = time.perf_counter()
    try:
        stamp = answer(sources, data, spec_dir_default())
    except (OSError, ValueError, KeyError, TypeError) as exc:  # an odd stamp or manifest: the flow decides
        console.print(f"could not tell whether anything is new ({escape(str(exc))}); running the flow")
        return None
    if stamp is None:
        return None
    console.print(
        f"nothing new since run {escape(stamp['run_id'])}: {len(sources)} sources unchanged (checked in "
        f"{time.perf_counter() - started:.2f} s); its version, checks and audit report stand. No Prefect flow "
        "ran (--always-flow runs one)."
    )
    return RunSummary.standing(stamp, str(data), new_run_id())


def _configured_api() -> tuple[str | None, str]:
    """The Prefect API URL in force and what sets it (the environment, or which profile)."""
    from prefect.context import get_settings_context
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if os.environ.get("PREFECT_API_URL"):
        return url, "the PREFECT_API_URL environment variable"
    try:
        profile = get_settings_context().profile.name
    except Exception:  # noqa: BLE001 - only for the message
        profile = "active"
    return url, f"Prefect profile {profile!r} (`prefect config unset PREFECT_API_URL` removes it)"


def _require_reachable_server(*, optional: bool) -> str | None:
    """Exit with one line when a configured Prefect server does not answer; with none, None (or exit)."""
    import httpx

    url, where = _configured_api()
    if not url:
        if optional:
            return None  # Prefect starts a temporary local server for the run
        console.print(
            "[red]no Prefect server configured.[/red] Schedules need one: run `prefect server start` in another "
            "terminal, then `PREFECT_API_URL=http://127.0.0.1:4200/api soetl serve` (or put the URL in a named "
            "profile: `prefect profile create soetl`, `prefect --profile soetl config set PREFECT_API_URL=…`)."
        )
        raise typer.Exit(2)
    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=5.0)
        problem = None if response.status_code == 200 else f"HTTP {response.status_code} from /health"
    except httpx.HTTPError as exc:
        problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if problem:
        fix = "start it (`prefect server start`)" + (
            ", or unset PREFECT_API_URL to run on a temporary local server" if optional else ""
        )
        console.print(
            f"[red]Prefect server {escape(url)} is not reachable[/red] ({escape(problem)}); it is set by "
            f"{escape(where)}: {fix}."
        )
        raise typer.Exit(2)
    return url


@contextmanager
def _refused() -> Iterator[None]:
    """A run refused (the data dir is in use, no API server came up: flows/runtime.py) says why, in one line."""
    from flows.runtime import RunRefused

    try:
        yield
    except RunRefused as exc:
        console.print(f"[red]not started:[/red] {escape(str(exc))}")
        raise typer.Exit(exc.exit_code) from None


def _catalog_path(catalog: Path | None, data: Path) -> Path:
    if catalog:
        return catalog.resolve()
    local = data / "catalog.toml"
    return local if local.exists() else Path(__file__).resolve().parents[1] / "catalog.toml"


def _print_summary(summary) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"soetl run {summary.run_id}")
    columns = ("source", "fetch", "status", "kind", "pages", "tables", "figures")
    for column in columns:
        table.add_column(column)
    for row in summary.sources:
        style = "green" if row["status"] == "ok" else "red"
        table.add_row(*(escape(str(row[c] if row[c] is not None else "")) for c in columns), style=style)
    console.print(table)
    checks = summary.checks
    console.print(
        f"checks: {checks.get('run', 0)} ran, {checks.get('passed', 0)} passed, {checks.get('failed', 0)} failed, "
        f"{checks.get('finding', 0)} known findings, {checks.get('skipped', 0)} skipped"
    )
    console.print(
        f"curated datasets: {escape(str(summary.curated_path))}  ({', '.join(summary.published) or 'none published'})"
    )
    console.print(f"audit report:     {escape(str(summary.report_path or 'not written'))}")
    if summary.failed_datasets:
        console.print(f"[red]not published (failed validation):[/red] {escape(summary.not_published())}")
    for error in summary.errors:
        console.print(f"[red]{escape(error.source_id)} [{escape(error.where)}]:[/red] {escape(error.message)}"
                      + (f" — {escape(error.hint)}" if error.hint else ""))  # fmt: skip


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="Cron schedule")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the schedule")] = "Asia/Shanghai",
    catalog: Annotated[Path | None, typer.Option(help="Catalog of sources")] = None,
    data_dir: DataDir = None,
    name: Annotated[str, typer.Option(help="Deployment name (one per catalog served)")] = "soetl-nightly",
) -> None:
    """Serve the flow on a schedule (needs a Prefect server: `PREFECT_API_URL=… soetl serve`)."""
    from prefect import serve as prefect_serve

    from flows.pipeline import nightly_deployment

    _require_reachable_server(optional=False)
    data = _data_dir(data_dir)
    try:
        deployment = nightly_deployment(cron, timezone, _catalog_path(catalog, data), data, name=name)
    except ValueError as exc:  # a bad cron string or time zone
        console.print(f"[red]cannot schedule:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    prefect_serve(deployment)


@app.command()
def deploy(
    pool: Annotated[str, typer.Option(help="The work pool (`prefect work-pool create NAME --type process`)")],
    catalog: Annotated[Path | None, typer.Option(help="Catalog of sources")] = None,
    data_dir: DataDir = None,
    name: Annotated[str, typer.Option(help="Deployment name")] = "soetl-nightly",
    cron: Annotated[str | None, typer.Option(help="Cron schedule (default: none, run it by hand)")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of the schedule")] = "Asia/Shanghai",
    workers: Annotated[int | None, typer.Option(min=1, help="Extraction processes per run")] = None,
    dask_address: Annotated[str | None, typer.Option(help="Extract on this Dask cluster")] = None,
) -> None:
    """Register the flow with a work pool, for `prefect worker start --pool …` on each host to run."""
    from flows.pipeline import deploy_to_pool

    _require_reachable_server(optional=False)
    data = _data_dir(data_dir)
    deployment_id = deploy_to_pool(
        pool, _catalog_path(catalog, data).resolve(), data, name=name, cron=cron, timezone=timezone,
        workers=workers, dask_address=dask_address,
    )  # fmt: skip
    console.print(f"deployment soetl-nightly/{name} ({deployment_id}) on work pool {escape(pool)}")
    console.print(f"run it: prefect deployment run soetl-nightly/{name}; workers: prefect worker start --pool {pool}")


@app.command()
def extract(
    pdf: Annotated[Path, typer.Argument(help="A PDF file", exists=False)],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="A directory to write tables as CSV, figures as PNG and extraction.json into"),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="city_evaluation, annual_report or generic (default: detect; generic when no spec fits)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Write the result document (README: 'The --json document') to stdout")
    ] = False,
) -> None:
    """Extract one PDF without the flow: list its tables and figures on stdout, or write them to --out."""
    import tempfile

    from extractors.errors import ExtractionError
    from extractors.extract import extract_pdf

    if not pdf.is_file():
        console.print(f"[red]{escape(str(pdf))}: no such file[/red]")
        raise typer.Exit(2)
    if out is not None and out.exists() and not out.is_dir():
        console.print(f"[red]--out {escape(str(out))} is a file, not a directory[/red]: give a directory "
                      "(it is created if missing), or remove the file")  # fmt: skip
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="soetl-figures-") as scratch:
        # Figures are found while their PNGs are rendered; without --out they go to a scratch folder.
        try:
            result = extract_pdf(pdf, kind=kind, image_dir=(out / "figures") if out else Path(scratch))
        except ExtractionError as exc:
            console.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from None
    for problem in result.problems:
        console.print(f"[yellow]warning:[/yellow] {escape(problem.problem)}")
    if as_json:
        import json

        from extractors.document import result_document

        sys.stdout.write(json.dumps(result_document(result), ensure_ascii=False, indent=1) + "\n")
        if out is None:
            return
    if out is not None:
        _write_extraction(result, out)
        console.print(f"wrote {len(result.tables)} tables and {len(result.figures)} figures to {escape(str(out))}")
        return
    _print_extraction(result, pdf)


def _print_extraction(result, pdf: Path) -> None:  # type: ignore[no-untyped-def]
    from rich import box

    out = _stdout()
    year = result.year if result.year is not None else "year unknown"
    counts = f"{result.pages} pages, {len(result.tables)} tables, {len(result.figures)} figures"
    out.print(escape(f"{pdf}: {result.kind or 'unknown kind'} {year}, {counts}"))
    tables = Table("table", "pages", "dataset", "rows×cols", "parser", "caption", box=box.SIMPLE, title="tables")
    for t in result.tables:
        pages = ",".join(map(str, t.provenance.pages))
        shape = f"{len(t.rows)}×{len(t.columns)}"
        cells = (t.table_id, pages, t.dataset or "—", shape, t.provenance.parser, t.caption or "(no caption)")
        tables.add_row(*(escape(str(v)) for v in cells))
    out.print(tables)
    figures = Table("figure", "page", "kind", "points", "title", box=box.SIMPLE, title="figures")
    for f in result.figures:
        figures.add_row(*(escape(str(v)) for v in (f.figure_id, f.page, f.kind, len(f.points), f.title or "")))
    out.print(figures)


def _write_extraction(result, out: Path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import json
    from dataclasses import asdict

    out.mkdir(parents=True, exist_ok=True)
    for table in result.tables:
        with (out / f"{table.table_id}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(table.columns)
            writer.writerows(table.texts())
    summary = {
        "source": result.source_path,
        "sha256": result.source_sha256,
        "kind": result.kind,
        "year": result.year,
        "tables": [{k: v for k, v in asdict(t).items() if k != "rows"} for t in result.tables],
        "figures": [asdict(f) for f in result.figures],
        "problems": [asdict(p) for p in result.problems],
    }
    (out / "extraction.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )


@app.command()
def report(
    data_dir: DataDir = None,
    latest: Annotated[bool, typer.Option("--latest", help="The newest run's report, published or not")] = False,
) -> None:
    """Print the path of the audit report of the curated version now live (after a rollback too)."""
    from flows.stages import live_report, newest_report

    data = _data_dir(data_dir)
    live, newest = live_report(data), newest_report(data)
    if newest is None and live is None:
        console.print(f"no audit report under {escape(str(data / 'reports'))} yet; run `soetl run` first")
        raise typer.Exit(1)
    if latest or live is None:
        if not latest:
            console.print("nothing is published yet: this is the newest run's report")
        print(newest or live)
        return
    print(live)
    if newest is not None and newest.parent.name > live.parent.name:
        console.print(f"note: a later run's report is {escape(str(newest))} (`soetl report --latest`); "
                      "curated/ holds the version of the report above")  # fmt: skip


@app.command()
def rollback(data_dir: DataDir = None) -> None:
    """Put back the curated datasets of the previous run (undo a bad night)."""
    from flows.publish import RollbackError
    from flows.publish import rollback as do_rollback

    try:
        restored = do_rollback(_data_dir(data_dir))
    except RollbackError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    console.print(escape(f"curated/ now holds {restored}"))


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
