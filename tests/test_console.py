"""Text from a PDF or a path is printed as text: rich markup in it ("[/]") must not crash the console."""

from __future__ import annotations

import html
import shutil
import subprocess
import time

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import NOTICE_PDF, ROOT
from tests.procs import alive, api_servers, isolated_env, notice_catalog, soetl_run

runner = CliRunner()
FONT = ROOT / "tests" / "fixtures" / "fonts" / "NotoSansCJKsc-subset.otf"
MARKUP = "[/]"  # rich's "close the last tag": a MarkupError when printed as markup


def test_extract_of_a_file_in_a_directory_with_markup_in_its_name(tmp_path):
    folder = tmp_path / f"reports {MARKUP} [bold]x"
    folder.mkdir(parents=True)  # "[/]" holds a slash: a directory "reports [" holding "] [bold]x"
    pdf = folder / NOTICE_PDF.name
    shutil.copy(NOTICE_PDF, pdf)
    result = runner.invoke(app, ["extract", str(pdf)])
    assert result.exit_code == 0, result.output
    assert f"{folder}" in " ".join(result.output.split()) and "附1-1" in result.output


def test_extract_of_a_caption_with_markup_in_it(tmp_path):
    weasyprint = pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) typesets the fixture")
    caption = f"2021年度{MARKUP}服务外包示范城市综合评价得分情况"  # matches the notice's caption pattern
    rows = "".join(f"<tr><td>{n}</td><td>上海</td><td>{40 + n}.5</td><td>{30 + n}.25</td></tr>" for n in range(1, 6))
    page = f"""<html><head><style>
      @font-face {{ font-family: Fixture; src: url({FONT.as_uri()}); }}
      body {{ font-family: Fixture; }} table {{ border-collapse: collapse; width: 100%; }}
      td, th {{ border: 0.6pt solid black; padding: 2mm; text-align: center; }}
    </style></head><body>
      <p>附1</p><p style="text-align:center">{html.escape(caption)}</p>
      <table><tr><th>序号</th><th>城市</th><th>专家评审</th><th>综合得分</th></tr>{rows}</table>
    </body></html>"""
    pdf = tmp_path / "markup.pdf"
    weasyprint.HTML(string=page).write_pdf(pdf)
    result = runner.invoke(app, ["extract", str(pdf), "--kind", "city_evaluation"])
    assert result.exit_code == 0, result.output
    assert caption in result.output, result.output


def test_a_run_in_a_data_dir_with_markup_in_its_name_ends_with_its_summary(tmp_path):
    """The end of `soetl run` prints the curated and report paths; the run's API server stops with it."""
    data = tmp_path / f"data {MARKUP}"
    command, env = soetl_run(notice_catalog(tmp_path), data), isolated_env(tmp_path)
    log = tmp_path / "output.txt"
    with log.open("w") as out:
        run = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        servers: set[int] = set()
        while run.poll() is None:
            servers |= api_servers(run.pid)
            time.sleep(0.2)
    output = " ".join(log.read_text(errors="replace").split())
    assert "MarkupError" not in output and "Traceback" not in output, output[-3000:]
    assert "Error logging to API" not in output, "the server stopped before the run's last logs were sent"
    assert run.returncode in (0, 1), output[-3000:]  # 1: validation findings; the summary is what matters
    assert f"audit report: {data}" in output and f"curated datasets: {data}" in output, output[-3000:]
    assert servers, "the run used a temporary API server"
    assert not any(alive(pid) for pid in servers), "the API server outlived its run"
