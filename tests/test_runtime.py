"""One `soetl run` per data dir, and no Prefect API server outliving its run (flows/runtime.py).

The kill test runs the real command in a child process with its own PREFECT_HOME, waits for Prefect's
temporary server (a uvicorn process) to come up under it, kills the run with SIGKILL and watches the
server go. Before flows/runtime.py the server stayed, orphaned, for good.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.runtime import LOCK_NAME, RunLocked, run_lock
from tests.conftest import ROOT
from tests.procs import alive, api_servers, isolated_env, notice_catalog, soetl_run

runner = CliRunner()
HOLD = "import sys, time; from pathlib import Path; from flows.runtime import run_lock\n" \
       "with run_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(120)\n"  # fmt: skip


def _holder(data: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_on_the_same_data_dir_is_refused_naming_the_first(tmp_path):
    holder = _holder(tmp_path)
    try:
        result = runner.invoke(app, ["run", "--catalog", str(notice_catalog(tmp_path)), "--data-dir", str(tmp_path)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3, result.output
    output = " ".join(result.output.split())
    assert f"pid {holder.pid}" in output and "started 20" in output and str(tmp_path) in output
    assert "SOETL_RUN_WAIT" in output
    assert not (tmp_path / "raw").exists(), "the refused run did no work"


def test_a_waiting_run_gets_the_data_dir_when_the_first_ends(tmp_path):
    holder = _holder(tmp_path)
    with pytest.raises(RunLocked, match=f"pid {holder.pid}"):
        with run_lock(tmp_path, wait=0.5):
            pass
    subprocess.Popen(["sh", "-c", f"sleep 1; kill {holder.pid}"])
    started = time.monotonic()
    with run_lock(tmp_path, wait=30) as lock:
        assert lock == tmp_path / LOCK_NAME
        assert str(os.getpid()) in lock.read_text()
    holder.wait()
    assert 0.5 < time.monotonic() - started < 20


def test_a_killed_run_leaves_the_data_dir_free(tmp_path):
    holder = _holder(tmp_path)
    holder.send_signal(signal.SIGKILL)  # no clean-up runs; the kernel drops the flock with the process
    holder.wait()
    with run_lock(tmp_path, wait=0):
        pass


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the server process")
def test_kill_9_of_a_run_takes_its_api_server_down(tmp_path):
    command = soetl_run(notice_catalog(tmp_path), tmp_path / "data")
    env = isolated_env(tmp_path)
    run = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        give_up = time.monotonic() + 150
        while server is None and time.monotonic() < give_up and run.poll() is None:
            server = next(iter(api_servers(run.pid)), None)
            time.sleep(0.2)
        assert server is not None, "Prefect's temporary API server never started under `soetl run`"
        run.send_signal(signal.SIGKILL)
        run.wait()
        give_up = time.monotonic() + 30
        while alive(server) and time.monotonic() < give_up:
            time.sleep(0.2)
        assert not alive(server), f"the API server (pid {server}) outlived its run"
    finally:
        if run.poll() is None:
            run.kill()
        if server is not None and alive(server):
            os.kill(server, signal.SIGKILL)  # never leave an orphan behind, even when the test fails


def test_while_starting_runs_with_the_servers_url_before_the_server_answers(monkeypatch):
    """`soetl run` starts its worker processes there (flows/cli.py): seconds of imports beside the server's.
    (The server's process is a stand-in: a first server on a fresh Prefect home spends its start migrating.)"""
    from flows.runtime import TemporaryServer, api_server

    seen: list[str] = []

    class Process:
        def terminate(self) -> None:
            seen.append("stopped")

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(TemporaryServer, "_launch", lambda self: seen.append("launched") or Process())
    monkeypatch.setattr(TemporaryServer, "wait", lambda self, timeout: seen.append("the server answers"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with api_server(while_starting=lambda: seen.append(os.environ.get("PREFECT_API_URL", "no URL"))) as url:
        assert url and seen == ["launched", url, "the server answers"]
    assert seen[-1] == "stopped"
