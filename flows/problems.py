"""What went wrong with one source, named: which source, at which stage, what, and what to do.

Every exception raised while one source is fetched, extracted, shaped, validated or published becomes a
``SourceError`` at that source; the other sources go on. An exception soetl does not know (a bug, or a
library failing in a way nobody named yet) is reported the same way, with its traceback kept for the log
and the audit report.
"""

from __future__ import annotations

import traceback as tb
from dataclasses import asdict, dataclass
from typing import Any

STAGES = ("fetch", "extract", "curate", "validate", "publish", "report")
BUG_HINT = (
    "an unexpected error (a bug in soetl or in a library it calls); the traceback is in the run's log and "
    "the audit report — please report it"
)


@dataclass
class SourceError:
    source_id: str  # "*" for a failure of the run as a whole (the report could not be written …)
    stage: str  # one of STAGES
    message: str
    hint: str = ""
    dataset: str | None = None  # when one dataset of the source failed and the others did not
    traceback: str | None = None  # only for unexpected exceptions

    @property
    def unexpected(self) -> bool:
        return self.traceback is not None

    @property
    def where(self) -> str:
        return f"{self.stage} {self.dataset}" if self.dataset else self.stage

    def line(self) -> str:
        """One line for a terminal or a log: source [stage]: message — hint."""
        return f"{self.source_id} [{self.where}]: {self.message}" + (f" — {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def name_error(exc: BaseException, source_id: str, stage: str, dataset: str | None = None) -> SourceError:
    """The SourceError for an exception caught at one source's stage."""
    from extractors.errors import ExtractionError
    from flows.fetch import FetchError

    if isinstance(exc, FetchError):
        # FetchError's text is "source <id> (<url>): <problem> — <hint>"; the id is said elsewhere.
        hint = str(exc).split(" — ", 1)[1] if " — " in str(exc) else ""
        return SourceError(source_id, stage, f"{exc.problem} ({exc.url})", hint, dataset)
    if isinstance(exc, ExtractionError):
        page = f" (page {exc.page})" if exc.page is not None else ""
        return SourceError(source_id, stage, f"{exc.path.name}{page}: {exc.problem}", exc.hint, dataset)
    if _is_publish_error(exc):
        return SourceError(source_id, stage, str(exc), "its previous files, if any, are kept", dataset)
    if isinstance(exc, OSError):
        hint = "check the path, its permissions and the free disk space"
        return SourceError(source_id, stage, str(exc), hint, dataset)
    text = "".join(tb.format_exception(type(exc), exc, exc.__traceback__))
    return SourceError(source_id, stage, f"{type(exc).__name__}: {exc}", BUG_HINT, dataset, text)


def _is_publish_error(exc: BaseException) -> bool:
    # By name: flows.publish loads pyarrow, which naming an error should not need.
    return any(cls.__name__ == "PublishError" for cls in type(exc).__mro__)


def log_error(logger: Any, error: SourceError) -> None:
    if error.traceback:
        logger.error("%s\n%s", error.line(), error.traceback)
    else:
        logger.error("%s", error.line())
