"""What one `soetl run` holds while it runs: the data dir (one run at a time) and Prefect's API server.

* ``run_lock(data_dir)``: an exclusive flock on ``<data dir>/.soetl-run.lock``, which names its
  holder (pid, start time, host, command). A second run refuses at once with that name, or waits up
  to ``SOETL_RUN_WAIT`` seconds. The kernel drops the lock when its holder dies, even by kill -9,
  so a crashed run never leaves the data dir locked.
* ``api_server()``: with a configured server (PREFECT_API_URL) nothing is started. Otherwise Prefect's
  temporary API server (prefect.server.api.server.SubprocessASGIServer, a uvicorn subprocess) is
  started here, before the flow, instead of lazily inside it, and a small watchdog process is tied
  to it: when this process dies without stopping the server (kill -9, OOM killer), the watchdog
  sees its parent gone and stops the server. Prefect's own clean-up is an atexit hook, which a
  SIGKILL never runs; that is how temporary servers were orphaned.
* ``run_guard(data_dir)``: both, as `soetl run` uses them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

LOCK_NAME = ".soetl-run.lock"
POLL = 0.25  # seconds between looks, for the lock and for the watchdog


class RunLocked(click.ClickException):
    """Another soetl run is using the data dir. Exit status 3: try again later."""

    exit_code = 3


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "another soetl run (it has not written its name yet)"
    return (
        f"another soetl run (pid {info['pid']} on {info.get('host', '?')}, started {info.get('started', '?')}: "
        f"{info.get('command', '?')})"
    )


def _wait_default() -> float:
    value = os.environ.get("SOETL_RUN_WAIT", "").strip()
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        raise click.ClickException(f"SOETL_RUN_WAIT={value!r} is not a number of seconds") from None


@contextmanager
def run_lock(data_dir: Path, wait: float | None = None) -> Iterator[Path]:
    """Hold the data dir for one run; RunLocked names the run that holds it (after ``wait`` seconds)."""
    import fcntl

    wait = _wait_default() if wait is None else wait
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    give_up = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    waited = f" (waited {wait:g} s)" if wait else ""
                    raise RunLocked(
                        f"{_holder(fd)} is using {data_dir}{waited}; let it finish, or set SOETL_RUN_WAIT=SECONDS "
                        "to wait for it"
                    ) from None
                time.sleep(POLL)
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)[:300],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def api_server() -> Iterator[str | None]:
    """The Prefect API this run talks to: the configured one, or a temporary one tied to this process."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield PREFECT_API_URL.value() or None  # a configured server, or none (Prefect then says so)
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's client looks up, so the flow uses this one
    server.start()
    watchdog = _watch(server.server_process.pid) if server.server_process else None
    try:
        yield server.api_url
    finally:
        server.stop()
        if watchdog is not None:
            watchdog.terminate()
            watchdog.wait(timeout=10)


@contextmanager
def run_guard(data_dir: Path) -> Iterator[None]:
    """`soetl run`'s hold on its data dir and its API server, for as long as the run lasts."""
    with run_lock(data_dir), api_server():
        yield


def _watch(server_pid: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.runtime", "watch", str(os.getpid()), str(server_pid)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C to the run's process group is for the run, not for the watchdog
    )


def watch(parent: int, server: int) -> int:
    """Stop ``server`` once ``parent`` is gone; end when the server is gone. Runs as its own process."""
    while _alive(server):
        if os.getppid() != parent:  # reparented: the run died without stopping its server
            _stop(server)
            return 0
        time.sleep(POLL)
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    try:  # a zombie (exited, not yet reaped by the run) is not a server any more
        return "\nState:\tZ" not in status.read_text()
    except OSError:
        return True


def _stop(pid: int) -> None:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"uvicorn" not in cmdline.read_bytes():
        return  # the pid now belongs to something else
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(int(10 / POLL)):
            if not _alive(pid):
                return
            time.sleep(POLL)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


if __name__ == "__main__":  # python -m flows.runtime watch PARENT_PID SERVER_PID
    if len(sys.argv) == 4 and sys.argv[1] == "watch":
        sys.exit(watch(int(sys.argv[2]), int(sys.argv[3])))
    sys.exit("usage: python -m flows.runtime watch PARENT_PID SERVER_PID")
