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

from extractors.errors import (
    DamagedPDF,
    EncryptedPDF,
    ExtractionError,
    NotAPDF,
    NoTextLayer,
    TruncatedPDF,
)
from extractors.extract import UnknownReportKind, extract_pdf
from tests.conftest import NOTICE_PDF, REPORT_PDF

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
    missing = [p.problem for p in result.problems if p.kind == "missing_table"]
    assert len(missing) == 5 and all("cut.pdf" in m and "no table matches" in m for m in missing)
    assert not result.complete
    # pypdf leaves the removed pages' objects in the file: noted, not called damage.
    assert [p.kind for p in result.problems if p.kind.startswith("page")] == ["page_objects"]


# --- issue 12: what the fuzz sweep found -----------------------------------------------------------------
# Each damage is made by editing the pypdf-normalized sample (tests/fuzz/pdfdoc.Doc), so the test says
# exactly what is broken. Every one of these ended in a traceback, a hang or silent loss before.


def _doc(pdf: Path = NOTICE_PDF):  # type: ignore[no-untyped-def]
    from tests.fuzz.pdfdoc import Doc, normalize

    return Doc.parse(normalize(pdf.read_bytes()))


def _save(tmp_path: Path, doc, name: str = "damaged.pdf") -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(doc.to_bytes())
    return path


def _kinds(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.kind for p in result.problems]


@pytest.mark.parametrize("title", [b"true", b"42", b"[ (a) (b) ]", b"<< /A 1 >>", b"/Name", b"null"])
def test_a_title_that_is_not_a_string_is_ignored(tmp_path, title):
    # /Title true raised TypeError in _choose_spec; the title is metadata, the text says what the PDF is.
    doc = _doc()
    doc.set_value(doc.trailer_ref("Info"), "Title", title)
    result = extract_pdf(_save(tmp_path, doc))
    assert result.kind == KIND and [t.table_id for t in result.tables] == TABLE_IDS and result.complete


def _rows(result) -> dict[str, list]:  # type: ignore[no-untyped-def]
    # Text and page of every cell: what a reader sees (glyph boxes follow the font's metrics, damaged or not).
    return {t.table_id: [[(c.text, c.page) for c in r] for r in t.rows] for t in result.tables}


@pytest.fixture(scope="module")
def notice_rows() -> dict[str, list]:
    return _rows(extract_pdf(NOTICE_PDF))


def test_a_stray_char_of_size_zero_is_not_read_into_the_line_it_sits_on(tmp_path, notice_rows):
    # One char at 0 Tf over the caption of 附1: in the text layer, not on the page. Read into the caption
    # it broke the title ("附 1 (cid:49) 2021年度…") and lost the table.
    doc = _doc()
    content = doc.contents(doc.pages()[8])[0]
    doc.set_stream(content, b"BT /F1 0 Tf 100 700 Td (1) Tj ET\n" + doc.decoded(content))
    result = extract_pdf(_save(tmp_path, doc))
    assert result.complete and not result.problems, result.problems
    assert _rows(result) == notice_rows


def test_a_page_whose_text_is_all_invisible_is_named_with_its_page(tmp_path):
    # 0 Tz holds for the rest of the page: every glyph has no width, nothing shows, and the tables of the
    # page cannot be read as a reader sees them.
    doc = _doc()
    content = doc.contents(doc.pages()[8])[0]
    doc.set_stream(content, b"BT 0 Tz /F1 10 Tf 100 700 Td (1) Tj ET\n" + doc.decoded(content))
    result = extract_pdf(_save(tmp_path, doc))
    damaged = [p for p in result.problems if p.kind == "unreadable_text"]
    assert [p.page for p in damaged] == [9], result.problems
    assert "horizontal scaling 0" in damaged[0].problem and "damaged.pdf" in damaged[0].problem
    assert not result.complete


def _small_report(tmp_path: Path, pages: list[int]) -> Path:
    """Some pages of the annual report (1-based), as a PDF of their own: a small, fast fixture."""
    lib = pypdf()
    reader, writer = lib.PdfReader(REPORT_PDF), lib.PdfWriter()
    for n in pages:
        writer.add_page(reader.pages[n - 1])
    path = tmp_path / "report_pages.pdf"
    writer.write(path)
    return path


def test_a_page_pdfium_cannot_load_costs_the_figure_image_not_the_run(tmp_path):
    # /Pages pointing back at the catalog: pdfminer finds the pages by their /Type, pdfium loads none
    # (it used to end in PdfiumError: Failed to load page, from figure rendering). pdfium's pages cannot
    # be lined up with pdfminer's, so no figure image is rendered, and each figure says why.
    doc = _doc(_small_report(tmp_path, [1, 2, 3, 27, 28]))
    root = doc.trailer_ref("Root")
    doc.set_value(root, "Pages", b"%d 0 R" % root)
    result = extract_pdf(_save(tmp_path, doc), image_dir=tmp_path / "images")
    assert [f.figure_id for f in result.figures] == ["图1-1", "图1-2", "图5-1"]
    assert all(f.image_path is None and "where the page tree gives 5" in f.problems[0] for f in result.figures)
    assert "page_tree" in _kinds(result) and not result.complete


def _kids_point_back(doc) -> None:  # type: ignore[no-untyped-def]
    kids = doc.kids(doc.root_pages())
    kids[4] = doc.root_pages()
    doc.set_kids(doc.root_pages(), kids)


def _page_deleted(doc) -> None:  # type: ignore[no-untyped-def]
    doc.delete(doc.pages()[4])


def _page_listed_twice(doc) -> None:  # type: ignore[no-untyped-def]
    kids = doc.kids(doc.root_pages())
    kids[4] = kids[3]
    doc.set_kids(doc.root_pages(), kids)


def _page_type_damaged(doc) -> None:  # type: ignore[no-untyped-def]
    doc.set_value(doc.pages()[4], "Type", b"/Pagx")


@pytest.mark.parametrize("damage", [_kids_point_back, _page_deleted, _page_listed_twice, _page_type_damaged])
def test_a_page_lost_from_the_page_tree_is_loud(tmp_path, damage):
    # Each drops page 5 without a word from pdfminer; every later page number was off by one.
    doc = _doc()
    damage(doc)
    path = _save(tmp_path, doc)
    result = extract_pdf(path)
    assert result.pages == 12
    tree = [p for p in result.problems if p.kind == "page_tree"]
    assert len(tree) == 1 and not result.complete
    message = tree[0].problem
    assert message.startswith(f"{path}: the page tree is damaged") and "the document's /Count 13" in message
    assert "pdfminer's page tree 12" in message and DamagedPDF.hint in message


def test_a_huge_count_is_loud(tmp_path):
    doc = _doc()
    doc.set_value(doc.root_pages(), "Count", b"1000000000")
    result = extract_pdf(_save(tmp_path, doc))
    assert [t.table_id for t in result.tables] == TABLE_IDS
    assert "page_tree" in _kinds(result) and "/Count 1000000000" in result.incomplete[0].problem


@pytest.mark.parametrize("loop", ["self", "mutual"])
def test_a_loop_of_references_is_refused_not_a_hang(tmp_path, loop):
    # "4 0 obj 4 0 R endobj" sent pdfminer's resolve1 round forever. Run in a child with a timeout,
    # so that, broken, this test fails instead of hanging the suite.
    from tests.fuzz.harness import run_child

    doc = _doc()
    a, b = 4, 5  # the /Font dictionary and the first font: every page needs them
    doc.objects[a] = b"\n%d 0 R\n" % (a if loop == "self" else b)
    if loop == "mutual":
        doc.objects[b] = b"\n%d 0 R\n" % a
    status, detail, _, _, summary = run_child(_save(tmp_path, doc), timeout=60)
    assert status == "ok", detail
    assert summary["outcome"] == "named" and summary["error"] == "DamagedPDF", summary
    assert "loop of references" in summary["message"] and "4 0 R" in summary["message"]


def test_a_content_stream_that_does_not_inflate_is_loud(tmp_path):
    doc = _doc()
    content = doc.contents(doc.pages()[9])[0]
    raw = doc.stream_data(content)
    doc.set_raw_stream(content, raw[: len(raw) * 2 // 3])  # pdfminer inflates what there is, says nothing
    result = extract_pdf(_save(tmp_path, doc))
    damaged = [p for p in result.problems if p.kind == "damaged_content"]
    assert [p.page for p in damaged] == [10] and "ends before its compressed data does" in damaged[0].problem
    assert not result.complete


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda data: data.replace(b" Tf", b" Tx", 1), "unknown operator 'Tx'"),
        (lambda data: data.replace(b" Tm", b"", 1), "6 stray operands"),
        (lambda data: b"Tj\n" + data, "'Tj' lacks operands"),
        (lambda data: b"BT /NoSuchFont 12 Tf ET\n" + data, "font 'NoSuchFont' is not defined"),
        (lambda data: b"/NoSuchImage Do\n" + data, "XObject 'NoSuchImage' is not defined"),
    ],
    ids=["unknown-operator", "stray-operands", "missing-operands", "undefined-font", "undefined-xobject"],
)
def test_content_pdfminer_skips_silently_is_named(tmp_path, edit, said):
    doc = _doc()
    content = doc.contents(doc.pages()[9])[0]
    doc.set_stream(content, edit(doc.decoded(content)))
    result = extract_pdf(_save(tmp_path, doc))
    damaged = [p for p in result.problems if p.kind == "damaged_content"]
    assert len(damaged) == 1 and damaged[0].page == 10 and said in damaged[0].problem, result.problems


def test_a_table_missing_while_a_neighbour_satisfies_its_pattern_is_reported(tmp_path):
    # 表8-2 … 8-5 all match the province_execution title: losing 表8-3 left the entry satisfied.
    path = _small_report(tmp_path, [1, 2, 3, 39, 40, 41, 43, 44, 45])  # page 42, 表8-3, left out
    result = extract_pdf(path)
    ids = [t.table_id for t in result.tables]
    assert "表8-3" not in ids and {"表8-2", "表8-4"} <= set(ids)
    gaps = [p.problem for p in result.problems if p.kind == "missing_table" and "表8-3" in p.problem]
    assert len(gaps) == 1 and "no table 表8-3 although 表8-5 is there" in gaps[0]


def test_a_spec_table_matched_twice_alike_is_reported(tmp_path):
    lib = pypdf()
    writer = lib.PdfWriter(clone_from=str(NOTICE_PDF))
    writer.append(lib.PdfReader(NOTICE_PDF), pages=[12])  # a copy of the last page: 附2-3 twice
    path = tmp_path / "twice.pdf"
    writer.write(path)
    result = extract_pdf(path)
    dupes = [p.problem for p in result.problems if p.kind == "duplicate_table"]
    assert len(dupes) == 1 and "2 tables (附2-3, 附2-4) match the spec's city_scores title" in dupes[0], dupes
    assert not result.complete


def test_a_font_bbox_of_two_numbers_costs_no_table(tmp_path, notice_rows):
    # A /FontBBox of two numbers: pdfminer warns and reads the text; playa (camelot) dropped the font and
    # came back with captions and no rows. The tables are read from pdfminer's words: all of them, whole.
    doc = _doc()
    for descriptor in doc.of_type("FontDescriptor"):
        doc.set_value(descriptor, "FontBBox", b"[ 0 0 ]")
    result = extract_pdf(_save(tmp_path, doc))
    assert result.complete and not result.problems, result.problems
    assert _rows(result) == notice_rows


