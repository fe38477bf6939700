"""The nightly schedule against a real `prefect server start`: the pins in pyproject.toml, proven.

The module starts one Prefect server on a free 127.0.0.1 port with its own PREFECT_HOME, and two
`soetl serve` processes on it, each with a tiny catalog (one copy of the evaluation notice):

- ``soetl-nightly``: the default schedule (02:00 Asia/Shanghai). The scheduler must create its runs at
  the cron's next times in the zone (SQLAlchemy 2.1 breaks the scheduler: no run is ever created); one
  run is triggered with `prefect deployment run` and must complete under the serve process; its logs
  and artifacts are read back with Prefect's own CLI (FastAPI ≥ 0.151 makes those commands answer 422).
- ``soetl-soon``: a cron a minute or two ahead; its scheduled run must complete on its own.

Deselect locally with ``-m 'not server'``; `make test` and CI run it. It skips, saying why, only when the
server cannot start at all.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import NOTICE_PDF

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
ZONE = ZoneInfo("Asia/Shanghai")
FLOW = "soetl-nightly"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    popen: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> Proc:
        out = log.open("wb")
        # Its own session, so stopping it stops the flow-run subprocesses it started too.
        popen = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return cls(popen, log)

    def tail(self, n: int = 60) -> str:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


@dataclass
class Served:
    url: str
    env: dict[str, str]
    server: Proc
    nightly: Proc
    soon: Proc
    nightly_data: Path
    soon_data: Path
    soon_at: datetime  # when the soetl-soon deployment's cron fires next (aware)
    started: datetime

    def api(self, method: str, path: str, body: dict | None = None) -> object:
        response = httpx.request(method, self.url + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def prefect(self, *args: str) -> str:
        """A Prefect CLI command against the server; fails the test on a non-zero exit."""
        done = subprocess.run([str(BIN / "prefect"), *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"prefect {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.tail()}" for p in (self.server, self.nightly, self.soon))


def start_server(root: Path, base: dict[str, str]) -> tuple[str, Proc]:
    """A `prefect server start` on a free 127.0.0.1 port, its home in ``root``; skips (saying why) if it cannot."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    server_env = {**base, "PREFECT_HOME": str(root / "server-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = Proc.start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        server_env, root, root / "server.log",
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return url, server
        except httpx.HTTPError:
            pass
        if server.popen.poll() is not None or time.monotonic() > deadline:
            server.stop()
            reason = f"the Prefect server could not start on 127.0.0.1:{port}:\n{server.tail(30)}"
            print(reason)
            pytest.skip(reason)
        time.sleep(0.5)


def _tiny_data(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(NOTICE_PDF, root / "notice.pdf")
    (root / "catalog.toml").write_text(
        '[[source]]\nid = "notice"\nurl = "notice.pdf"\nkind = "city_evaluation"\n', encoding="utf-8"
    )
    return root


def _wait(what: str, probe, timeout: float, served: Served | None = None, every: float = 1.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{served.logs() if served else ''}")
        time.sleep(every)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    started = datetime.now(UTC)
    url, server = start_server(root, base)
    env = {
        **base,
        "PREFECT_API_URL": url,
        "PREFECT_HOME": str(root / "client-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # the serve processes look for due runs every 2 s, not 10
        "COLUMNS": "250",  # Prefect's CLI tables unwrapped
    }
    nightly_data, soon_data = _tiny_data(root / "nightly"), _tiny_data(root / "soon")
    soetl = str(BIN / "soetl")
    # A minute boundary far enough ahead for the serve process to register first, even on a busy machine
    # (two serve processes and the server starting on 2 cores); the first test runs in the meantime.
    now = datetime.now(ZONE)
    soon_at = (now + timedelta(seconds=120 if now.second < 30 else 180)).replace(second=0, microsecond=0)
    soon = Proc.start(
        [soetl, "serve", "--data-dir", str(soon_data), "--name", "soetl-soon",
         "--cron", f"{soon_at.minute} {soon_at.hour} * * *", "--timezone", "Asia/Shanghai"],
        env, soon_data, root / "serve-soon.log",
    )  # fmt: skip
    # The time-critical one first; the nightly one registers while the first test runs.
    nightly = Proc.start(
        [soetl, "serve", "--data-dir", str(nightly_data)], env, nightly_data, root / "serve-nightly.log"
    )
    served = Served(url, env, server, nightly, soon, nightly_data, soon_data, soon_at, started)
    try:
        yield served
    finally:
        for proc in (soon, nightly, server):
            proc.stop()


def _deployment(served: Served, name: str) -> dict:
    def probe():  # type: ignore[no-untyped-def]
        try:
            return served.api("GET", f"/deployments/name/{FLOW}/{name}")
        except httpx.HTTPStatusError:
            return None

    return _wait(f"deployment {FLOW}/{name} to be registered", probe, 90, served)


def _runs(served: Served, deployment_id: str) -> list[dict]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 50}
    return served.api("POST", "/flow_runs/filter", body)  # type: ignore[return-value]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _wait_final(served: Served, run_id: str, timeout: float) -> dict:
    def probe():  # type: ignore[no-untyped-def]
        run = served.api("GET", f"/flow_runs/{run_id}")
        return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    run = _wait(f"flow run {run_id} to finish", probe, timeout, served, every=2)
    assert run["state_type"] == "COMPLETED", f"{run['state_name']}: {run['state']['message']}\n{served.logs()}"
    return run


def test_the_scheduler_schedules_a_triggered_run_completes_and_the_cli_reads_it_back(served):
    deployment = _deployment(served, FLOW)
    assert deployment["schedules"][0]["schedule"] == {"cron": "0 2 * * *", "timezone": "Asia/Shanghai", "day_or": True}
    assert f"{FLOW}/{FLOW}" in served.prefect("deployment", "ls")

    # The scheduler's runs: the next 02:00s in Shanghai, as the cron and the zone say (18:00 UTC the day before).
    created = _at(deployment["created"]).astimezone(ZONE)
    first = created.replace(hour=2, minute=0, second=0, microsecond=0)
    first += timedelta(days=1) if first <= created else timedelta()
    expected = [first + timedelta(days=n) for n in range(3)]
    scheduled = _wait(
        "the scheduler to create the deployment's runs",
        lambda: [r for r in _runs(served, deployment["id"]) if r["state_type"] == "SCHEDULED"][:3]
        if len([r for r in _runs(served, deployment["id"]) if r["state_type"] == "SCHEDULED"]) >= 3 else None,
        90, served, every=2,
    )  # fmt: skip
    assert [_at(r["expected_start_time"]) for r in scheduled] == expected, served.server.tail()
    assert all(r["auto_scheduled"] for r in scheduled)

    out = served.prefect("deployment", "run", f"{FLOW}/{FLOW}")
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    run = _wait_final(served, run_id, 240)
    assert run["state"]["message"].startswith("all sources fetched and extracted")

    assert run_id[:8] in served.prefect("flow-run", "ls", "--limit", "20")
    logs = served.prefect("flow-run", "logs", run_id)
    assert "notice: copied" in logs and "Finished in state Completed" in logs
    assert "telemetry" not in logs.lower()
    artifacts = served.prefect("artifact", "ls")
    for key in ("soetl-run-summary", "soetl-run-sources", "soetl-audit-report"):
        assert key in artifacts
    summary = served.prefect("artifact", "inspect", "soetl-run-summary")
    assert run_id in summary and "city_scores" in summary
    assert (served.nightly_data / "curated" / "city_scores").is_dir()
    assert list((served.nightly_data / "reports").glob("*/index.html"))
    assert "Can't evaluate bulk DML" not in served.server.log.read_text(encoding="utf-8", errors="replace")


def test_a_scheduled_run_completes_on_its_own(served):
    deployment = _deployment(served, "soetl-soon")
    due = served.soon_at.astimezone(UTC)
    assert _at(deployment["created"]) < due, f"registered after its cron time {due}: the machine was too slow"
    scheduled = _wait(
        f"the scheduler to create the run due at {due:%H:%M:%S} UTC",
        lambda: [r for r in _runs(served, deployment["id"]) if _at(r["expected_start_time"]) == due],
        90, served, every=2,
    )  # fmt: skip
    assert scheduled[0]["auto_scheduled"], "created by the scheduler, not by hand"
    left = (due - datetime.now(UTC)).total_seconds()
    run = _wait_final(served, scheduled[0]["id"], max(left, 0) + 240)
    assert _at(run["start_time"]) >= due - timedelta(seconds=15), "it ran when the cron said, not before"
    assert (served.soon_data / "curated" / "city_scores").is_dir()
    print(f"scheduled run due {due:%H:%M:%S} UTC completed at {_at(run['end_time']):%H:%M:%S} UTC")
