"""Bad inputs give a named ExtractionError that names the file and the problem, never a raw traceback.

Every bad file is made here, in tmp_path, from samples/city_evaluation_2021.pdf. Each check asserts the
exception's type and that its message names the file: that message is what a user of the flow sees.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pdfplumber
import pytest

from extractors.errors import EncryptedPDF, ExtractionError, NotAPDF, NoTextLayer, TruncatedPDF
from extractors.extract import UnknownReportKind, extract_pdf
from tests.conftest import NOTICE_PDF

KIND = "city_evaluation"
TABLE_IDS = ["附1-1", "附1-2", "附1-3", "附2-1", "附2-2", "附2-3"]


def pypdf():  # type: ignore[no-untyped-def]
    # pypdf is in the test extra (and camelot needs it); skip cleanly if an install lacks it.
    return pytest.importorskip("pypdf")


def expect(cls: type[ExtractionError], path: Path, *fragments: str, kind: str | None = None) -> ExtractionError:
    """extract_pdf(path) raises exactly ``cls``, whose message names the file and each fragment."""
    with pytest.raises(ExtractionError) as info:
        extract_pdf(path, kind=kind)
    exc = info.value
    assert type(exc) is cls, f"{path.name}: expected {cls.__name__}, got {type(exc).__name__}: {exc}"
    message = str(exc)
    assert path.name in message, message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), (fragment, message)
    return exc


@pytest.fixture(scope="module")
def sample() -> bytes:
    return NOTICE_PDF.read_bytes()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def scanned_pdf(pages: list[int]) -> bytes:
    """The sample's ``pages`` rendered to pictures and saved as a PDF with no text layer."""
    with pdfplumber.open(NOTICE_PDF) as pdf:
        images = [pdf.pages[n - 1].to_image(resolution=72).original.convert("RGB") for n in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=72.0, save_all=True, append_images=images[1:])
    return out.getvalue()


# --- not a PDF ---------------------------------------------------------------------------------


def test_an_html_error_page_saved_as_pdf_is_not_a_pdf(tmp_path):
    html = b"<!doctype html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n"
    path = write(tmp_path, "city_evaluation_2021.pdf", html)
    exc = expect(NotAPDF, path, "HTML")
    assert exc.path == path and exc.page is None


def test_an_empty_file_is_not_a_pdf(tmp_path):
    expect(NotAPDF, write(tmp_path, "empty.pdf", b""), "not a PDF")


# --- truncated or corrupt ------------------------------------------------------------------------


def test_a_download_cut_at_60_percent_is_truncated(tmp_path, sample):
    path = write(tmp_path, "cut.pdf", sample[: len(sample) * 6 // 10])
    expect(TruncatedPDF, path, "%%EOF", "fetch it again")


def _middle_garbage(data: bytes) -> bytes:
    n = len(data)
    a, b = n // 3, 2 * n // 3
    return data[:a] + (b"garbage " * n)[: b - a] + data[b:]


def _xref_garbage(data: bytes) -> bytes:
    """The xref table, trailer and startxref (all between the last 'xref' and %%EOF) overwritten."""
    start, end = data.rindex(b"\nxref") + 1, data.rindex(b"%%EOF")
    return data[:start] + random.Random(1).randbytes(end - start) + data[end:]


def _random_body(data: bytes) -> bytes:
    """Everything between the first and last KiB replaced by random bytes."""
    return data[:1024] + random.Random(2).randbytes(len(data) - 2048) + data[-1024:]


def _flipped_bytes(data: bytes) -> bytes:
    rnd, out = random.Random(3), bytearray(data)
    for _ in range(1000):
        out[rnd.randrange(16, len(data) - 8)] = rnd.randrange(256)
    return bytes(out)


def _objects_renamed(data: bytes) -> bytes:
    """Every 'N 0 obj' made unreadable: the file parses, but no object is where the xref says."""
    return data.replace(b" obj", b" obx")


def _header_and_eof_only(data: bytes) -> bytes:
    return data[: data.index(b"\n") + 1] + b"%%EOF\n"


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        (_middle_garbage, TruncatedPDF),
        (_xref_garbage, TruncatedPDF),
        (_random_body, TruncatedPDF),
        (_flipped_bytes, TruncatedPDF),
        (_header_and_eof_only, TruncatedPDF),
        (_objects_renamed, TruncatedPDF),  # the trailer's metadata still reads, no page does
    ],
    ids=lambda v: getattr(v, "__name__", "").strip("_"),
)
def test_a_corrupt_pdf_gives_a_named_error(tmp_path, sample, corrupt, expected):
    data = corrupt(sample)
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:] and data != sample
    expect(expected, write(tmp_path, f"{corrupt.__name__.strip('_')}.pdf", data))


# --- encrypted -----------------------------------------------------------------------------------


def test_a_password_protected_pdf_is_encrypted(tmp_path):
    lib = pypdf()
    writer = lib.PdfWriter(clone_from=NOTICE_PDF)
    writer.encrypt(user_password="secret", owner_password="o")
    out = io.BytesIO()
    writer.write(out)
    expect(EncryptedPDF, write(tmp_path, "locked.pdf", out.getvalue()), "encrypted", "password")


# --- no text layer -------------------------------------------------------------------------------


def test_a_scanned_page_is_reported_and_the_real_pages_are_still_read(tmp_path, notice_truth):
    lib = pypdf()
    scan = write(tmp_path, "page1_scan.pdf", scanned_pdf([1]))
    writer = lib.PdfWriter()
    writer.append(lib.PdfReader(scan))  # page 1: the cover page, as a picture
    with pdfplumber.open(NOTICE_PDF) as pdf:
        count = len(pdf.pages)
    writer.append(lib.PdfReader(NOTICE_PDF), pages=list(range(1, count)))  # pages 2..: real text
    path = tmp_path / "mixed.pdf"
    writer.write(path)

    result = extract_pdf(path, kind=KIND)  # the catalog names the kind: the title is on the scan

    assert result.pages == count and result.kind == KIND
    assert [t.table_id for t in result.tables] == [t["id"] for t in notice_truth["tables"]] == TABLE_IDS
    assert [len(t.rows) for t in result.tables] == [len(t["rows"]) for t in notice_truth["tables"]]
    assert [p.page for p in result.problems] == [1]
    problem = result.problems[0].problem
    assert problem.startswith(f"{path}, page 1:"), problem
    assert "no text layer" in problem and NoTextLayer.hint in problem

    # Without the kind, the scanned cover hides the title: the PDF is read as generic, and says why.
    generic = extract_pdf(path)
    assert generic.kind == "generic" and all(t.dataset is None for t in generic.tables)
    notice = next(p.problem for p in generic.problems if p.page is None)
    assert "page 1 has no text layer" in notice and "name the kind" in notice and "no dataset spec applied" in notice


@pytest.mark.parametrize("kind", [None, KIND])
def test_an_all_image_pdf_needs_ocr(tmp_path, kind):
    # NoTextLayer, not UnknownReportKind: naming the kind or adding a spec would not help, OCR would.
    path = write(tmp_path, "scanned.pdf", scanned_pdf([1, 9]))
    exc = expect(NoTextLayer, path, "none of its 2 pages has a text layer", "OCR", kind=kind)
    assert exc.page is None


# --- unknown kind --------------------------------------------------------------------------------


def test_a_pdf_that_is_neither_report_is_read_as_generic_and_says_so(tmp_path):
    lib = pypdf()
    writer = lib.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    path = tmp_path / "blank.pdf"
    writer.write(path)
    result = extract_pdf(path)
    assert result.kind == "generic" and result.tables == []
    # The notice says what to do for a dataset: name the kind in the catalog or add a spec.
    notice = " ".join(p.problem for p in result.problems)
    for fragment in ("no known report title", "no dataset spec applied", "kind =", "extractors/specs/"):
        assert fragment in notice, notice


def test_a_kind_without_a_spec_is_an_unknown_kind(tmp_path, sample):
    path = write(tmp_path, "city_evaluation_2021.pdf", sample)
    expect(UnknownReportKind, path, "'annual'", "known: annual_report, city_evaluation", kind="annual")


# --- one failing source does not stop the others ---------------------------------------------------


def test_one_bad_source_does_not_stop_the_others(tmp_path, sample):
    bad = [
        write(tmp_path, "error_page.pdf", b"<!DOCTYPE html><html><body>403 Forbidden</body></html>"),
        write(tmp_path, "cut.pdf", sample[: len(sample) // 2]),
    ]
    good = write(tmp_path, "city_evaluation_2021.pdf", sample)
    results, failures = {}, {}
    for path in [*bad, good]:  # how the flow uses it: record the failure, go on with the next source
        try:
            results[path] = extract_pdf(path)
        except ExtractionError as exc:
            failures[path] = exc
    assert {p: type(e) for p, e in failures.items()} == {bad[0]: NotAPDF, bad[1]: TruncatedPDF}
    assert all(p.name in str(e) for p, e in failures.items())
    assert list(results) == [good]
    assert [t.table_id for t in results[good].tables] == TABLE_IDS


def test_tables_the_spec_expects_but_the_pdf_lacks_are_reported(tmp_path: Path) -> None:
    lib = pypdf()
    writer = lib.PdfWriter(clone_from=str(NOTICE_PDF))
    while len(writer.pages) > 9:  # keep up to the first page of 附1: five score tables are gone
        writer.remove_page(len(writer.pages) - 1)
    cut = tmp_path / "cut.pdf"
    writer.write(cut)
    result = extract_pdf(cut)
    assert [t.table_id for t in result.tables if t.dataset] == ["附1-1"]
    missing = [p.problem for p in result.problems if p.page is None]
    assert len(missing) == 5 and all("cut.pdf" in m and "no table matches" in m for m in missing)
