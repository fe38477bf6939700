"""What one `soetl run` holds while it runs: the data dir (one run at a time) and Prefect's API server.

* ``run_lock(data_dir)``: an exclusive flock on ``<data dir>/.soetl-run.lock``, which names its
  holder (pid, start time, host, command). A second run refuses at once with that name, or waits up
  to ``SOETL_RUN_WAIT`` seconds. The kernel drops the lock when its holder dies, even by kill -9,
  so a crashed run never leaves the data dir locked.
* ``api_server()``: with a configured server (PREFECT_API_URL) nothing is started. Otherwise Prefect's
  temporary API server (prefect.server.api.server.SubprocessASGIServer, a uvicorn subprocess) is
  started here, before the flow, and tied to this process by the kernel: the child asks for SIGTERM
  when its parent dies (Linux PR_SET_PDEATHSIG). Prefect's own clean-up is an atexit hook, which a
  SIGKILL never runs: that is how temporary servers were orphaned. The flow finds this server where
  Prefect's client looks for its temporary one, so only one is ever started.
* RunRefused (RunLocked, ServerDidNotStart) says why a run did not start.
"""

from __future__ import annotations

import ctypes
import functools
import json
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
def api_server() -> Iterator[str | None]:
    """The Prefect API this run talks to: the configured one, or a temporary one tied to this process."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield PREFECT_API_URL.value() or None  # a configured server, or none (Prefect then says so)
        return
    previous = SubprocessASGIServer._instances.get(None)
    server = _tied_server_class()(None)
    # Prefect's client starts its temporary server as SubprocessASGIServer(): the instance kept under
    # the None port. Put ours there, as prefect.testing's harness does, so the flow uses this one.
    SubprocessASGIServer._instances[None] = server
    try:
        try:
            server.start()
        except RuntimeError as exc:
            timeout = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
            raise ServerDidNotStart(
                f"Prefect's temporary API server did not start within {timeout} s ({str(exc).splitlines()[0]}); "
                "on a busy machine raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run "
                "`prefect server start` and point PREFECT_API_URL at it"
            ) from None
        yield server.api_url
    finally:
        _drain_prefect_workers()
        server.stop()
        if SubprocessASGIServer._instances.get(None) is server:
            del SubprocessASGIServer._instances[None]
        if previous is not None:
            SubprocessASGIServer._instances[None] = previous


def _drain_prefect_workers() -> None:
    """Send the run's last log lines and events while the server is still up (after: "Error logging to API")."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=10, at_exit=False)
        except RuntimeError:  # never started in this process
            pass


@functools.cache
def _tied_server_class() -> type:
    from prefect.server.api.server import SubprocessASGIServer

    class TiedServer(SubprocessASGIServer):
        """Prefect's temporary server, started with the same command, dying with this process."""

        _instances: dict[Any, Any] = {}  # its own registry: __new__ must not hand back Prefect's instance

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            # Prefect 3.8's SubprocessASGIServer._run_uvicorn_command, plus preexec_fn.
            import prefect
            from prefect.settings import get_current_settings

            server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
            return subprocess.Popen(
                args=[
                    sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                    "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                    "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
                ],
                env={
                    **os.environ,
                    **server_env,
                    **get_current_settings().to_environment_variables(exclude_unset=True),
                },
                preexec_fn=die_with_parent(),
            )  # fmt: skip

    return TiedServer


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
