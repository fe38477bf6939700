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
from tests.conftest import NOTICE_PDF, ROOT

runner = CliRunner()
HOLD = "import sys, time; from pathlib import Path; from flows.runtime import run_lock\n" \
       "with run_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(120)\n"  # fmt: skip


def _holder(data: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _catalog(tmp_path: Path) -> Path:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(f'[[source]]\nid = "notice"\nurl = "{NOTICE_PDF}"\n', encoding="utf-8")
    return catalog


def test_a_second_run_on_the_same_data_dir_is_refused_naming_the_first(tmp_path):
    holder = _holder(tmp_path)
    try:
        result = runner.invoke(app, ["run", "--catalog", str(_catalog(tmp_path)), "--data-dir", str(tmp_path)])
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


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the server process")
def test_kill_9_of_a_run_takes_its_api_server_down(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a busy CI machine
    }
    command = [sys.executable, "-c", "from flows.cli import app; app()", "run", "--catalog",
               str(_catalog(tmp_path)), "--data-dir", str(tmp_path / "data")]  # fmt: skip
    run = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        give_up = time.monotonic() + 150
        while server is None and time.monotonic() < give_up and run.poll() is None:
            server = next((c for c in _children(run.pid) if b"uvicorn" in _cmdline(c)), None)
            time.sleep(0.2)
        assert server is not None, "Prefect's temporary API server never started under `soetl run`"
        run.send_signal(signal.SIGKILL)
        run.wait()
        give_up = time.monotonic() + 30
        while _alive(server) and time.monotonic() < give_up:
            time.sleep(0.2)
        assert not _alive(server), f"the API server (pid {server}) outlived its run"
    finally:
        if run.poll() is None:
            run.kill()
        if server is not None and _alive(server):
            os.kill(server, signal.SIGKILL)  # never leave an orphan behind, even when the test fails
