"""The soetl command as a user meets it: clear messages and exit codes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import NOTICE_PDF, REPORT_PDF

SOETL = str(Path(sys.executable).parent / "soetl")

runner = CliRunner()


def test_extract_lists_the_tables_of_one_pdf():
    result = runner.invoke(app, ["extract", str(NOTICE_PDF)])
    assert result.exit_code == 0, result.output
    assert "city_evaluation 2021" in result.stdout and "附1-1" in result.stdout


def test_extract_puts_results_on_stdout_and_diagnostics_on_stderr(tmp_path):
    """As a pipe sees it: a real process, stdout and stderr apart."""
    done = subprocess.run([SOETL, "extract", str(REPORT_PDF)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "annual_report 2021, 91 pages, 7 tables, 52 figures" in out
    assert "表8-1" in out and "region_execution" in out
    assert "图1-1" in out and "raster" in out and "vector" in out, "figures are listed, with their kind"
    assert "None" not in out and "None" not in done.stderr
    assert "warning:" not in out, "diagnostics stay off stdout"
    assert "[" not in out.splitlines()[0], "no markup left in the output"


def test_extract_out_on_an_existing_file_is_a_clear_error(tmp_path):
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    result = runner.invoke(app, ["extract", str(NOTICE_PDF), "--out", str(target)])
    assert result.exit_code == 2
    assert "is a file, not a directory" in result.stderr and target.read_text() == "keep me"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_with_an_unreachable_configured_server_says_so_in_one_line(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/api"
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(f'[[source]]\nid = "n"\nurl = "{NOTICE_PDF}"\n', encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": url}
    done = subprocess.run([SOETL, "run", "--catalog", str(catalog), "--data-dir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert url in lines[0] and "not reachable" in lines[0] and "prefect server start" in lines[0]
    assert "PREFECT_API_URL environment variable" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "raw").exists(), "nothing ran"


def test_serve_without_a_server_says_how_to_give_it_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "home")
    done = subprocess.run([SOETL, "serve", "--data-dir", str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "PREFECT_API_URL=http://127.0.0.1:4200/api soetl serve" in done.stderr and "Traceback" not in done.stderr


def test_extract_writes_csv_and_json(tmp_path):
    result = runner.invoke(app, ["extract", str(NOTICE_PDF), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "附1-1.csv").read_text(encoding="utf-8").splitlines()[1].startswith("1,上海,48.78")
    assert (tmp_path / "extraction.json").exists()


def test_extract_of_a_bad_file_names_the_problem(tmp_path):
    bad = tmp_path / "page.pdf"
    bad.write_text("<!DOCTYPE html><html>404</html>")
    result = runner.invoke(app, ["extract", str(bad)])
    assert result.exit_code == 1
    assert "page.pdf" in result.output and "HTML page" in result.output


def test_run_with_an_unknown_kind_in_the_catalog_says_so(tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('[[source]]\nid = "x"\nurl = "x.pdf"\nkind = "budget"\n', encoding="utf-8")
    result = runner.invoke(app, ["run", "--catalog", str(catalog), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "kind 'budget' is unknown" in result.output and "catalog.toml" in result.output


def test_run_with_a_missing_catalog_says_so(tmp_path):
    result = runner.invoke(app, ["run", "--catalog", str(tmp_path / "nope.toml"), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no such catalog file" in result.output


def test_report_without_runs_says_what_to_do(tmp_path):
    result = runner.invoke(app, ["report", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "soetl run" in result.output


def test_run_with_a_broken_url_in_the_catalog_says_so(tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('[[source]]\nid = "x"\nurl = "https://"\n', encoding="utf-8")
    result = runner.invoke(app, ["run", "--catalog", str(catalog), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "source #1 (x): url 'https://' has no host" in result.output
