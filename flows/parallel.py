"""Where the night's work runs: fetches on threads (bounded, and politely per host), extraction in
worker processes on this machine or on a Dask cluster.

* Fetching waits on the network, so threads serve: at most ``FETCH_CONCURRENCY`` downloads at once, and
  at most ``PER_HOST`` to any one host (a ministry's web server is not a CDN).
* Extraction is CPU-bound Python (pdfplumber, camelot, OCR): threads would share one core through the
  GIL. ``--workers N`` runs it in N processes through Prefect's ProcessPoolTaskRunner; ``--workers 1``
  runs it in the flow's own process, one source after another. ``--dask-address tcp://host:8786`` (or
  SOETL_DASK_ADDRESS) sends it to a Dask cluster through prefect-dask's DaskTaskRunner; its workers
  must see the data dir at the same path (a shared filesystem) and reach the Prefect API.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

FETCH_CONCURRENCY = 8
PER_HOST = 2

_hosts: dict[str, threading.BoundedSemaphore] = {}
_hosts_lock = threading.Lock()


@contextmanager
def polite(url: str) -> Iterator[None]:
    """Hold one of the ``PER_HOST`` slots of the URL's host while downloading from it (local files: none)."""
    host = urlparse(url).hostname if "://" in url else None
    if not host:
        yield
        return
    with _hosts_lock:
        slot = _hosts.setdefault(host.lower(), threading.BoundedSemaphore(PER_HOST))
    with slot:
        yield


@contextmanager
def shared_api() -> Iterator[None]:
    """While workers start: this run's Prefect API made explicit (flows/runtime.explicit_api), so worker
    processes report their task runs to it. Without it, each spawned worker would start a temporary API
    server of its own (seconds of CPU each, and task runs the flow's server never sees). `soetl run` sets
    it for the whole run; this covers the flow run by other means, on the temporary server Prefect's
    client started for it."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield  # a configured server: workers inherit it
        return
    from prefect.server.api.server import SubprocessASGIServer

    from flows.runtime import explicit_api

    server = SubprocessASGIServer._instances.get(None)  # the temporary server Prefect's client started
    if server is None or not server.running:
        yield
        return
    with explicit_api(server.api_url):
        yield


def default_workers() -> int:
    """SOETL_WORKERS, else the machine's core count."""
    value = os.environ.get("SOETL_WORKERS", "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"SOETL_WORKERS={value!r} is not a number of worker processes") from None
    return os.cpu_count() or 1


def dask_address_default() -> str | None:
    return os.environ.get("SOETL_DASK_ADDRESS", "").strip() or None


@dataclass(frozen=True)
class Plan:
    """How extraction runs: ``in_process`` (workers == 1), a process pool, or a Dask cluster."""

    workers: int
    dask_address: str | None = None

    @property
    def in_process(self) -> bool:
        return self.workers <= 1 and self.dask_address is None

    def describe(self) -> str:
        if self.dask_address:
            return f"on the Dask cluster at {self.dask_address}"
        return "in this process" if self.in_process else f"in {self.workers} worker processes"

    def runner(self) -> Any:
        """A Prefect task runner for the extraction tasks (None: call them in the flow's process)."""
        if self.dask_address:
            try:
                from prefect_dask import DaskTaskRunner
            except ImportError as exc:  # pragma: no cover - prefect-dask is a dependency
                raise RuntimeError(f"a Dask cluster needs prefect-dask ({exc}); pip install prefect-dask") from None
            return DaskTaskRunner(address=self.dask_address)
        if self.in_process:
            return None
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=self.workers)


class Opaque:
    """A task argument Prefect carries without walking it: Prefect visits every dataclass, dict and list of a
    task's arguments (to find futures, to record inputs), seconds for a few sources' frames. Its own
    ``quote`` does the same, but is a namedtuple, which Dask then reads as a task of its own graph."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _import_the_night() -> None:
    """In a worker process: import what its tasks will unpickle (Prefect, the extractors, the checks)."""
    import flows.pipeline  # noqa: F401
    import flows.stages  # noqa: F401
    import schemas.validate  # noqa: F401


class WarmWorkers:
    """The night's worker processes started early (``start()``: while Prefect's temporary server starts, see
    flows/cli.py), each importing what its tasks need meanwhile; the flow's NightWorkers of the same plan then
    takes them instead of starting its own. Its context closes them if the flow did not take them. Only a
    process pool is started early (a Dask cluster's workers run already)."""

    _waiting: dict[Plan, tuple[ExitStack, Any]] = {}

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def start(self) -> None:
        if self.plan.in_process or self.plan.dask_address or self.plan in WarmWorkers._waiting:
            return
        stack = ExitStack()
        try:
            runner = stack.enter_context(self.plan.runner())
            # Straight to the pool (not runner.submit: no task run, and the flow's context is the one its
            # tasks must carry): each call spawns a process, as none is idle yet.
            for _ in range(self.plan.workers):
                runner._executor.submit(_import_the_night)
        except BaseException:
            stack.close()
            raise
        WarmWorkers._waiting[self.plan] = (stack, runner)

    @staticmethod
    def take(plan: Plan) -> tuple[ExitStack, Any] | None:
        """The started pool of ``plan``, now the caller's to close; None when none waits."""
        return WarmWorkers._waiting.pop(plan, None)

    def __enter__(self) -> WarmWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        left = WarmWorkers.take(self.plan)
        if left is not None:
            left[0].close()


class NightWorkers:
    """The night's task runner (``plan.runner()``), started on first use and shared by extraction and
    validation: a pool's processes cost seconds each to start, once a night rather than once a stage.
    ``get()`` is None when the plan runs in this process; ``discard()`` drops a pool a dead worker broke
    (the next ``get()`` starts another). Prefect's API is made explicit while it lives (``shared_api``)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._stack: ExitStack | None = None
        self._runner: Any = None

    def get(self) -> Any:
        """The running task runner; raises what starting it raises (no cluster at the address …)."""
        if self.plan.in_process:
            return None
        if self._runner is None and (warm := WarmWorkers.take(self.plan)) is not None:
            self._stack, self._runner = warm
        if self._runner is None:
            stack = ExitStack()
            try:
                stack.enter_context(shared_api())
                runner = self.plan.runner()
                stack.enter_context(runner)
            except BaseException:
                stack.close()
                raise
            self._stack, self._runner = stack, runner
        return self._runner

    def discard(self) -> None:
        stack, self._stack, self._runner = self._stack, None, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> NightWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
