"""The soetl command as a user meets it: clear messages and exit codes."""

from __future__ import annotations

from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import NOTICE_PDF

runner = CliRunner()


def test_extract_lists_the_tables_of_one_pdf():
    result = runner.invoke(app, ["extract", str(NOTICE_PDF)])
    assert result.exit_code == 0, result.output
    assert "city_evaluation 2021" in result.output and "附1-1" in result.output


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
