"""Errors a user can hit when a PDF cannot be read, each naming the file, the page and what to do."""

from __future__ import annotations

from pathlib import Path


class ExtractionError(Exception):
    """A PDF, or one page of it, cannot be extracted. Never stops the other sources."""

    hint = "check the file"

    def __init__(self, path: Path | str, problem: str, page: int | None = None, hint: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.page = page
        self.hint = hint or self.hint
        where = f"{self.path}" + (f", page {page}" if page is not None else "")
        super().__init__(f"{where}: {problem} ({self.hint})")


class NotAPDF(ExtractionError):
    hint = "the source served something else (often an HTML error page); check its URL"


class TruncatedPDF(ExtractionError):
    hint = "the download was cut short or the file is damaged; fetch it again"


class DamagedPDF(ExtractionError):
    hint = "the file is damaged inside; fetch it again, or ask the publisher for an undamaged copy"


class UnreadablePage(ExtractionError):
    hint = (
        "a PDF library failed on this page (damaged or unusual content); check the page in a viewer, "
        "and report the file to soetl if it looks fine"
    )


class EncryptedPDF(ExtractionError):
    hint = "the PDF is password-protected; supply the password or an unprotected copy"


class NoTextLayer(ExtractionError):
    hint = "the page is a scanned image; it needs OCR, which soetl does not do yet"


class NoTablesFound(ExtractionError):
    hint = "no caption of the spec matched; check the spec or the report kind"
