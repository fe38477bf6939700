"""The fast char conversion makes, object by object, the dicts pdfplumber makes itself."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest
from pdfminer.pdftypes import PDFStream

from extractors.page_objects import use_fast_objects

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.pdf"))


def _comparable(objects: dict[str, list[dict]]) -> dict[str, list[dict]]:
    # Two parses of one file hold two PDFStream objects for one stream: the same if their objid is.
    def plain(value: object) -> object:
        return ("stream", value.objid) if isinstance(value, PDFStream) else value

    return {kind: [{k: plain(v) for k, v in o.items()} for o in objs] for kind, objs in objects.items()}


def _pdf(content: bytes, mediabox: str) -> bytes:
    """A one-page PDF with Helvetica, its xref worked out."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox " + mediabox.encode() + b" /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


def _same(path: Path, pages: int | None = None, **options: object) -> int:
    library = pdfplumber.open(path, **options)
    fast = pdfplumber.open(path, **options)
    use_fast_objects(fast)
    chars = 0
    for ours, theirs in zip(fast.pages[:pages], library.pages[:pages], strict=True):
        mine, want = _comparable(ours.objects), _comparable(theirs.objects)
        assert mine == want, f"{path.name} page {ours.page_number}"
        assert [list(o) for o in mine.get("char", [])] == [list(o) for o in want.get("char", [])]  # key order
        chars += len(mine.get("char", []))
    library.close()
    fast.close()
    return chars


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_samples_chars_are_pdfplumbers(sample: Path) -> None:
    assert _same(sample, pages=12) > 1000  # CJK text, colour spaces, images and rules


def test_offset_mediabox_and_normalised_text(tmp_path: Path) -> None:
    # The media box starts away from 0,0 (pdfplumber moves x and top), a colour is set, and text
    # normalisation is on: every branch of the conversion is taken.
    content = b"BT /F1 11 Tf 0.2 0.4 0.6 rg 100 700 Td (Total 1,234) Tj ET 1 0 0 RG 90 690 m 300 690 l S"
    path = tmp_path / "offset.pdf"
    path.write_bytes(_pdf(content, "[40 30 652 822]"))
    assert _same(path) == len("Total 1,234")
    assert _same(path, unicode_norm="NFKC") == len("Total 1,234")


def test_other_documents_keep_the_library_conversion() -> None:
    fast = pdfplumber.open(SAMPLES[0])
    other = pdfplumber.open(SAMPLES[0])
    use_fast_objects(fast)
    assert "process_object" in vars(fast.pages[0])
    assert "process_object" not in vars(other.pages[0])
    fast.close()
    other.close()
