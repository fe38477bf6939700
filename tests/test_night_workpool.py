"""The multi-host path against a real `prefect server start`: a process work pool, the flow deployed to it
with `soetl deploy`, a `prefect worker start` that picks up the run, and curated output at the end.

On many hosts each runs its own `prefect worker start --pool …`; here one worker stands for them. The
server, the worker and every command are real processes on a free 127.0.0.1 port; the test stops them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import NOTICE_PDF
from tests.test_server import BIN, Proc, _wait, start_server

pytestmark = pytest.mark.server
POOL = "soetl-night-pool"


def _cli(env: dict[str, str], cwd: Path, *cmd: str) -> str:
    done = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_a_work_pool_worker_runs_the_deployed_flow_to_curated_output(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SOETL_"))}
    url, server = start_server(tmp_path, base)
    worker = None
    try:
        env = {
            **base,
            "PREFECT_API_URL": url,
            "PREFECT_HOME": str(tmp_path / "client-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "2",  # the worker looks for due runs every 2 s, not 10
            "SOETL_WORKERS": "1",
        }
        data = tmp_path / "shared-data"  # what hosts would mount at the same path
        data.mkdir()
        shutil.copyfile(NOTICE_PDF, data / "notice.pdf")
        (data / "catalog.toml").write_text(
            '[[source]]\nid = "notice"\nurl = "notice.pdf"\nkind = "city_evaluation"\n', encoding="utf-8"
        )
        _cli(env, tmp_path, str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process")
        out = _cli(env, tmp_path, str(BIN / "soetl"), "deploy", "--pool", POOL, "--data-dir", str(data),
                   "--name", "night")  # fmt: skip
        assert f"on work pool {POOL}" in " ".join(out.split()), out
        worker = Proc.start(
            [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name", "host-a"],
            env, tmp_path, tmp_path / "worker.log",
        )  # fmt: skip
        out = _cli(env, tmp_path, str(BIN / "prefect"), "deployment", "run", "soetl-nightly/night")
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]

        def final() -> dict | None:
            run = httpx.get(f"{url}/flow_runs/{run_id}", timeout=30).json()
            return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        run = _wait("the worker to run the deployment", final, 300, every=2)
        logs = f"--- worker\n{worker.tail()}\n--- server\n{server.tail(20)}"
        assert run["state_type"] == "COMPLETED", f"{run['state_name']}: {run['state']['message']}\n{logs}"
        assert run["work_queue_name"] and run["work_pool_name"] == POOL
        assert "host-a" in worker.log.read_text(encoding="utf-8", errors="replace")
        assert (data / "curated" / "city_scores" / "year=2021" / "notice.parquet").is_file()
        assert list((data / "reports").glob("*/index.html"))
    finally:
        for proc in (worker, server):
            if proc is not None:
                proc.stop()
