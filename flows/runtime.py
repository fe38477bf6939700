"""What one `soetl run` holds while it runs: the data dir (one run at a time) and Prefect's API server.

* ``run_lock(data_dir)``: an exclusive flock on ``<data dir>/.soetl-run.lock``, which names its
  holder (pid, start time, host, command). A second run refuses at once with that name, or waits up
  to ``SOETL_RUN_WAIT`` seconds. The kernel drops the lock when its holder dies, even by kill -9,
  so a crashed run never leaves the data dir locked.
* ``api_server()``: with a configured server (PREFECT_API_URL) nothing is started. Otherwise Prefect's
  temporary API server (the uvicorn subprocess Prefect's SubprocessASGIServer runs) is started here,
  before the flow, and tied to this process by the kernel: the child asks for SIGTERM when its parent
  dies (Linux PR_SET_PDEATHSIG). Prefect's own clean-up is an atexit hook, which a SIGKILL never
  runs: that is how temporary servers were orphaned. Its URL is then PREFECT_API_URL for the run (the
  settings and the environment), so the flow and its worker processes use it and start no other.
* RunRefused (RunLocked, ServerDidNotStart) says why a run did not start.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_NAME = ".soetl-run.lock"
POLL = 0.25  # seconds between tries for the lock
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class RunRefused(Exception):
    """A run that must not start; the message says why and what to do."""

    exit_code = 3


class RunLocked(RunRefused):
    """Another soetl run is using the data dir."""


class ServerDidNotStart(RunRefused):
    """Prefect's temporary API server did not come up."""


def data_dir_default() -> Path:
    """SOETL_DATA_DIR, or the project root (raw/, curated/, reports/ beside the code)."""
    env = os.environ.get("SOETL_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1]


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
        raise RunRefused(f"SOETL_RUN_WAIT={value!r} is not a number of seconds; set it to one, or unset it") from None


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
def api_server(while_starting: Callable[[], None] | None = None) -> Iterator[str | None]:
    """The Prefect API this run talks to: the configured one, or a temporary one tied to this process.

    ``while_starting()`` is called once its URL is the run's (explicit_api), before it answers: with a
    temporary server, while the server process is still importing (seconds), such as to start worker
    processes that will talk to it."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        if while_starting is not None:
            while_starting()
        yield PREFECT_API_URL.value() or None  # a configured server, or none (Prefect then says so)
        return
    server = TemporaryServer()
    try:
        server.launch()
        with explicit_api(server.api_url):
            try:
                try:
                    if while_starting is not None:
                        while_starting()
                    server.wait(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
                except RuntimeError as exc:
                    raise ServerDidNotStart(
                        f"Prefect's temporary API server did not start within "
                        f"{PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()} s ({str(exc).splitlines()[0]}); "
                        "on a busy machine raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run "
                        "`prefect server start` and point PREFECT_API_URL at it"
                    ) from None
                yield server.api_url
            finally:
                _drain_prefect_workers()
    finally:
        server.stop()


@contextmanager
def explicit_api(url: str) -> Iterator[None]:
    """``url`` as PREFECT_API_URL while it lasts: in the environment (worker processes read their settings
    from it), in the process-global settings (threads with no settings context of their own, such as a
    task runner's resolver threads, would otherwise start a temporary server of their own) and in this
    context's settings."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    refresh_global_settings_context()
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        refresh_global_settings_context()


def _drain_prefect_workers() -> None:
    """Send the run's last log lines and events while the server is still up (after: "Error logging to API")."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=10, at_exit=False)
        except RuntimeError:  # never started in this process
            pass


class TemporaryServer:
    """Prefect's temporary API server, started as Prefect starts it (uvicorn on the server's app factory,
    UI off, ephemeral mode) but dying with this process, and without importing Prefect's server code
    here: that import alone costs the run two seconds before the server process even starts."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.process: subprocess.Popen[Any] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        """Start the server process (its URL is known from now on); ``wait`` for it to answer."""
        from prefect.logging.configuration import ensure_logging_setup

        ensure_logging_setup()  # the flow's modules, which configure it, may still be loading (flows/cli.py)
        self.port = _free_port()
        logging.getLogger("prefect").info("Starting temporary server on http://127.0.0.1:%s", self.port)
        self.process = self._launch()

    def wait(self, timeout: float) -> None:
        """Until its /health answers; RuntimeError when it exits or does not answer within ``timeout`` s."""
        import httpx

        assert self.process is not None, "launch() first"
        give_up = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < give_up:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server process exited with code {self.process.returncode}")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError("timed out waiting for its /health")

    def _launch(self) -> subprocess.Popen[Any]:
        # The command and environment of Prefect 3.8's SubprocessASGIServer._run_uvicorn_command.
        import prefect
        from prefect.settings import get_current_settings

        server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        return subprocess.Popen(
            args=[
                sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
            ],
            env={**os.environ, **server_env, **get_current_settings().to_environment_variables(exclude_unset=True)},
            preexec_fn=die_with_parent(),
        )  # fmt: skip

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        logging.getLogger("prefect").info("Stopping temporary server on http://127.0.0.1:%s", self.port)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the child get SIGTERM when this process dies (Linux); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return preexec
