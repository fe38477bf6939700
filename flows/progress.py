"""Progress of downloads and page-by-page extraction, shown by the CLI and silent elsewhere.

Tasks report here; `soetl run` installs a rich progress display. Under a Prefect worker nothing is
installed and the calls cost nothing.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def update(self, key: str, description: str, done: int, total: int | None) -> None: ...


class _Silent:
    def update(self, key: str, description: str, done: int, total: int | None) -> None:
        return None


_reporter: Reporter = _Silent()


def install(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter or _Silent()


def download(source_id: str, received: int, total: int | None) -> None:
    _reporter.update(f"download:{source_id}", f"download {source_id}", received, total)


def page(source_id: str, done: int, total: int) -> None:
    _reporter.update(f"extract:{source_id}", f"extract {source_id}", done, total)


class RichReporter:
    """One rich progress bar per download and per extraction."""

    def __init__(self, progress) -> None:  # type: ignore[no-untyped-def]
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def update(self, key: str, description: str, done: int, total: int | None) -> None:
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(description, total=total)
        self.progress.update(self.tasks[key], completed=done, total=total)
