"""Opening a PDF safely: what it is, where it came from, and the named error when it cannot be read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import playa
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfplumber.utils.exceptions import PdfminerException

from extractors.errors import EncryptedPDF, NotAPDF, TruncatedPDF

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Source:
    path: Path
    sha256: str
    bytes: int
    pages: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_pdf(path: Path | str) -> tuple[Source, pdfplumber.PDF]:
    """Open ``path`` with pdfplumber after checking it is a whole, unencrypted PDF.

    Raises NotAPDF, TruncatedPDF or EncryptedPDF, each naming the file and what to do.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, path.stat().st_size - 2048))
        tail = fh.read()
    if PDF_MAGIC not in head:
        kind = "an HTML page" if b"<html" in head.lower() or b"<!doctype" in head.lower() else "not a PDF"
        raise NotAPDF(path, f"{kind} (no %PDF- header)")
    # A PDF ends with %%EOF; a cut-off download does not.
    if b"%%EOF" not in tail:
        raise TruncatedPDF(path, "no %%EOF marker at the end of the file")
    try:
        pdf = pdfplumber.open(path)
        pages = len(pdf.pages)
    except Exception as wrapped:  # pdfminer raises many ad-hoc types for damaged files
        # pdfplumber wraps whatever pdfminer raised in PdfminerException(original).
        exc = unwrap(wrapped)
        if isinstance(exc, PDFPasswordIncorrect | PDFEncryptionError) or b"/Encrypt" in tail:
            raise EncryptedPDF(path, f"encrypted ({describe(exc)})") from None
        if isinstance(exc, PDFSyntaxError):
            raise TruncatedPDF(path, f"corrupt PDF structure: {exc}") from None
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise EncryptedPDF(path, "encrypted") from None
        raise TruncatedPDF(path, f"unreadable PDF: {describe(exc)}") from None
    if pdf.doc.encryption is not None and not pdf.doc.is_extractable:
        pdf.close()
        raise EncryptedPDF(path, "encrypted and marked not extractable")
    if pages == 0:  # pdfminer recovered an xref, but no page tree behind it
        pdf.close()
        raise TruncatedPDF(path, "no page could be read")
    # camelot reads the file again with playa, which recovers from less damage than pdfminer.
    try:
        with playa.open(path, space="page") as doc:
            len(doc.pages)
    except Exception as exc:
        pdf.close()
        raise TruncatedPDF(path, f"corrupt PDF structure ({describe(exc)})") from None
    return Source(path, sha256_of(path), path.stat().st_size, pages), pdf


def unwrap(exc: BaseException) -> BaseException:
    """The pdfminer exception inside pdfplumber's PdfminerException wrapper."""
    if isinstance(exc, PdfminerException) and exc.args and isinstance(exc.args[0], BaseException):
        return exc.args[0]
    return exc


def describe(exc: BaseException) -> str:
    """'Type: message', or just the type when the message is empty."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
