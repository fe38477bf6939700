"""The `soetl` command: run the nightly flow once, serve it on a schedule, extract one PDF, and more."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="soetl: MOFCOM service-outsourcing PDFs → checked datasets"
)
# soft_wrap: long paths and messages stay on one line, so they can be copied and grepped.
console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where raw/, curated/ and reports/ live (default: $SOETL_DATA_DIR or the project root)"
    ),
]


def _data_dir(value: Path | None) -> Path:
    from flows.pipeline import data_dir_default

    return value.resolve() if value else data_dir_default()


@app.command()
def run(
    catalog: Annotated[
        Path | None, typer.Option(help="Catalog of sources (default: <data dir>/catalog.toml, else the bundled one)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the flow once: fetch every source, extract, validate, publish, write the audit report."""
    from flows.catalog import CatalogError, load_catalog
    from flows.pipeline import run_once

    data = _data_dir(data_dir)
    catalog_path = _catalog_path(catalog, data)
    try:
        load_catalog(catalog_path)  # fail fast, before Prefect starts, with the catalog's own message
    except CatalogError as exc:
        console.print(f"[red]catalog error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from flows import progress

    bars = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=console)
    with _guarded(data), bars:
        progress.install(progress.RichReporter(bars))
        try:
            summary, ok = run_once(catalog_path, data)
        finally:
            progress.install(None)
    _print_summary(summary)
    raise typer.Exit(0 if ok else 1)


@contextmanager
def _guarded(data: Path) -> Iterator[None]:
    """One run per data dir, and a temporary API server that dies with the run (flows/runtime.py)."""
    from flows.runtime import RunRefused, run_guard

    try:
        with run_guard(data):
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
    for column in ("source", "status", "kind", "pages", "tables", "figures"):
        table.add_column(column)
    for row in summary.sources:
        style = "green" if row["status"] == "ok" else "red"
        cells = (escape(str(row[c])) for c in ("source", "status", "kind", "pages", "tables", "figures"))
        table.add_row(*cells, style=style)
    console.print(table)
    published = ", ".join(summary.published) or "none published"
    console.print(escape(f"curated datasets: {summary.curated_path}  ({published})"))
    console.print(escape(f"audit report:     {summary.report_path}"))
    if summary.failed_datasets:
        console.print(f"[red]not published (failed validation):[/red] {escape(', '.join(summary.failed_datasets))}")
    for row in summary.sources:
        if row["error"]:
            console.print(f"[red]{escape(row['source'])}:[/red] {escape(row['error'])}")


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="Cron schedule")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the schedule")] = "Asia/Shanghai",
    catalog: Annotated[Path | None, typer.Option(help="Catalog of sources")] = None,
    data_dir: DataDir = None,
) -> None:
    """Serve the flow on a nightly schedule (needs a Prefect server: `prefect server start`)."""
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL

    from flows.pipeline import nightly_deployment

    if not PREFECT_API_URL.value():
        console.print(
            "[red]no Prefect server configured.[/red] Schedules need one: run `prefect server start` in another "
            "terminal, then `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api` and run this again."
        )
        raise typer.Exit(2)
    data = _data_dir(data_dir)
    try:
        deployment = nightly_deployment(cron, timezone, _catalog_path(catalog, data), data)
    except ValueError as exc:  # a bad cron string or time zone
        console.print(f"[red]cannot schedule:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    prefect_serve(deployment)


@app.command()
def extract(
    pdf: Annotated[Path, typer.Argument(help="A PDF file", exists=False)],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write tables as CSV, figures as PNG and a summary JSON here")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="city_evaluation or annual_report (default: detect)")] = None,
) -> None:
    """Extract one PDF without the flow: print what it holds, or write it to --out."""
    from extractors.errors import ExtractionError
    from extractors.extract import extract_pdf

    if not pdf.is_file():
        console.print(f"[red]{escape(str(pdf))}: no such file[/red]")
        raise typer.Exit(2)
    try:
        result = extract_pdf(pdf, kind=kind, image_dir=(out / "figures") if out else None)
    except ExtractionError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    counts = f"{result.pages} pages, {len(result.tables)} tables, {len(result.figures)} figures"
    console.print(escape(f"{pdf}: {result.kind} {result.year}, {counts}"))
    for problem in result.problems:
        console.print(f"[yellow]{escape(problem.problem)}[/yellow]")
    if out is None:
        for table in result.tables:
            shape = f"{len(table.rows)}×{len(table.columns)}"
            pages = ",".join(map(str, table.provenance.pages))
            line = f"  {table.table_id:8} p{pages:6} {table.dataset or '-':20} {shape:7} {table.caption}"
            console.print(escape(line))
        return
    _write_extraction(result, out)
    console.print(escape(f"wrote {out}"))


def _write_extraction(result, out: Path) -> None:  # type: ignore[no-untyped-def]
    import csv

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
def report(data_dir: DataDir = None) -> None:
    """Print the path of the newest audit report."""
    reports = _data_dir(data_dir) / "reports"
    candidates = sorted(reports.glob("*/index.html"), key=os.path.getmtime) if reports.exists() else []
    if not candidates:
        console.print(escape(f"no audit report under {reports} yet; run `soetl run` first"))
        raise typer.Exit(1)
    print(candidates[-1])


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
