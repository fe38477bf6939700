"""Opening a PDF safely: what it is, where it came from, and the named error when it cannot be read.

Besides opening, ``open_pdf`` looks for damage that the PDF libraries recover from without a word:

* **the page tree**: pdfminer (text), playa (camelot) and pdfium (figure images) each walk it, and
  the document states its own ``/Count``; add the objects that say ``/Type /Page``. When these
  disagree a page is missing or listed twice, and every later page number is off: a ``page_tree``
  problem on the source (its result is not complete).
* **reference loops**: an object that is a reference to itself (or to one that refers back) sends
  pdfminer into an endless loop; the file is refused with DamagedPDF before pdfminer sees it.
* **content streams**: a stream that does not inflate whole, an operator no PDF has, an operator
  short of operands, a font or XObject its page does not define, a damaged image: pdfminer skips
  each silently, losing the text or drawing after it. Each is a ``damaged_content`` problem naming
  the page.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber
import playa
import pypdfium2
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfexceptions import PDFException, PDFObjectNotFound
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.pdftypes import PDFObjRef, PDFStream
from pdfminer.psexceptions import PSException
from pdfminer.psparser import PSLiteral, literal_name
from pdfplumber.utils.exceptions import PdfminerException

from extractors.errors import DamagedPDF, EncryptedPDF, ExtractionError, NotAPDF, TruncatedPDF
from extractors.layout import invisible
from extractors.model import PageProblem
from extractors.page_objects import use_fast_objects

PDF_MAGIC = b"%PDF-"
MAX_REFERENCE_CHAIN = 16  # "1 0 obj 2 0 R endobj" chains longer than this are damage, not design
MAX_REPORTED = 3  # content problems named per page; the rest are counted
# What pdfminer's parsers raise on damaged bytes: its own types, and asserts and the builtins its
# parsing code trips (an octal escape over 255 is an AssertionError).
PDFMINER_ERRORS = (PDFException, PSException, AssertionError, ValueError, TypeError, KeyError, IndexError)


@dataclass(frozen=True)
class Source:
    path: Path
    sha256: str
    bytes: int
    pages: int
    problems: tuple[PageProblem, ...] = field(default=())  # damage found while opening (see module doc)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_pdf(path: Path | str) -> tuple[Source, pdfplumber.PDF]:
    """Open ``path`` with pdfplumber after checking it is a whole, unencrypted PDF.

    Raises NotAPDF, TruncatedPDF, DamagedPDF or EncryptedPDF, each naming the file and what to do.
    Damage the libraries survive is returned in ``Source.problems``.
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
    structure = _structure(path)  # before pdfplumber: it would loop forever on a reference loop
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
    use_fast_objects(pdf)
    # camelot reads the file again with playa, which recovers from less damage than pdfminer.
    try:
        with playa.open(path, space="page") as doc:
            playa_pages = len(doc.pages)
    except Exception as exc:
        pdf.close()
        raise TruncatedPDF(path, f"corrupt PDF structure ({describe(exc)})") from None
    problems = _page_tree_problems(path, pages, playa_pages, _pdfium_pages(path), structure)
    try:
        for page in pdf.pages:
            problems += ContentAudit(path, page.page_number, encrypted=pdf.doc.encryption is not None).page(page)
    except PdfminerException as exc:
        pdf.close()
        raise TruncatedPDF(path, f"page cannot be parsed ({describe(unwrap(exc))})") from None
    return Source(path, sha256_of(path), path.stat().st_size, pages, tuple(problems)), pdf


def unwrap(exc: BaseException) -> BaseException:
    """The pdfminer exception inside pdfplumber's PdfminerException wrapper."""
    if isinstance(exc, PdfminerException) and exc.args and isinstance(exc.args[0], BaseException):
        return exc.args[0]
    return exc


def describe(exc: BaseException) -> str:
    """'Type: message', or just the type when the message is empty."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --- structure: reference loops, /Count, objects that look like pages -------------------------------


class _ChainSafeDocument(PDFDocument):
    """pdfminer's document whose getobj ends reference chains ("1 0 obj 1 0 R") instead of looping."""

    def getobj(self, objid: int) -> object:
        obj = super().getobj(objid)
        seen = [objid]
        while isinstance(obj, PDFObjRef):
            if obj.objid in seen or len(seen) > MAX_REFERENCE_CHAIN:
                raise _ReferenceLoop([*seen, obj.objid])
            seen.append(obj.objid)
            obj = super().getobj(obj.objid)
        return obj


class _ReferenceLoop(PDFObjectNotFound):
    def __init__(self, chain: list[int]) -> None:
        self.chain = chain
        super().__init__(" -> ".join(f"{n} 0 R" for n in chain))


@dataclass
class _Structure:
    declared: Any = None  # the root /Pages node's /Count, as written (may be no number at all)
    typed_pages: int | None = None  # objects with /Type /Page; None when the objects cannot be listed


def _structure(path: Path) -> _Structure:
    """The page count the document declares and the number of objects that say they are pages.

    Raises DamagedPDF for a reference loop. Other damage is left to the real open, which names it.
    """
    found = _Structure()
    try:
        with path.open("rb") as fh:
            doc = _ChainSafeDocument(PDFParser(fh))
            pages_node = _resolved(doc.catalog.get("Pages"))
            if isinstance(pages_node, dict):
                found.declared = _resolved(pages_node.get("Count"))
            typed, seen = 0, set()
            for xref in doc.xrefs:
                for objid in xref.get_objids():
                    if objid in seen:
                        continue
                    seen.add(objid)
                    try:
                        obj = doc.getobj(objid)
                    except _ReferenceLoop:
                        raise
                    except PDFMINER_ERRORS:
                        continue  # a damaged object; if it matters, reading its page will say so
                    if isinstance(obj, dict) and _is_name(obj.get("Type"), "Page"):
                        typed += 1
            found.typed_pages = typed
    except _ReferenceLoop as loop:
        raise DamagedPDF(
            path, f"object {loop.chain[0]} is a loop of references ({loop}); no reader can resolve it"
        ) from None
    except (*PDFMINER_ERRORS, AttributeError):
        pass  # pdfplumber.open meets the same damage and names it
    return found


def _resolved(value: object) -> object:
    return value.resolve() if isinstance(value, PDFObjRef) else value


def _is_name(value: object, name: str) -> bool:
    return isinstance(value, PSLiteral) and literal_name(value) == name


def _pdfium_pages(path: Path) -> int | None:
    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError:
        return None
    try:
        return len(doc)
    finally:
        doc.close()


def _page_tree_problems(
    path: Path, pdfminer_pages: int, playa_pages: int, pdfium_pages: int | None, structure: _Structure
) -> list[PageProblem]:
    """Readers that disagree on the page count, or a tree that gives fewer pages than its /Count.

    Objects typed /Page beyond the tree are only noted: editors that delete pages (pypdf, an
    incremental save) leave the old page objects in the file, with the tree and /Count both updated.
    """
    declared = structure.declared
    counts = {"pdfminer's page tree": pdfminer_pages, "playa's (camelot's)": playa_pages}
    counts["pdfium's (figure images)"] = pdfium_pages if pdfium_pages is not None else "none (cannot open it)"
    counts["the document's /Count"] = declared if isinstance(declared, int) else f"{declared!r} (not a number)"
    typed = structure.typed_pages
    said = ", ".join(f"{who} {n}" for who, n in counts.items())
    if typed is not None:
        said += f", objects typed /Page {typed}"
    if len(set(counts.values())) > 1:
        err = DamagedPDF(
            path,
            f"the page tree is damaged: page counts disagree ({said}); a page may be missing or listed twice, "
            "and page numbers after it are off",
        )
        return [PageProblem(None, str(err), kind="page_tree")]
    if typed is not None and typed != pdfminer_pages:
        err = DamagedPDF(
            path,
            f"{typed} objects are typed /Page but the page tree holds {pdfminer_pages} ({said}); usually pages "
            "an editor deleted, whose objects stayed in the file",
            hint="check that no page of the report is missing",
        )
        return [PageProblem(None, str(err), kind="page_objects")]
    return []


def unmapped_glyphs(path: Path, page: pdfplumber.page.Page) -> list[PageProblem]:
    """Characters pdfminer could not map to Unicode ("(cid:12)"): a font without a usable ToUnicode map.

    Their text is lost (a city name reads as two control characters), so the page says so.
    """
    lost = [c for c in page.chars if c["text"].startswith("(cid:") and not invisible(c)]
    if not lost:
        return []
    fonts = sorted({str(c.get("fontname", "?")) for c in lost})
    err = DamagedPDF(
        path,
        f"{len(lost)} characters map to no Unicode text (font {', '.join(fonts[:3])} has no usable ToUnicode map); "
        "their text is lost",
        page=page.page_number,
    )
    return [PageProblem(page.page_number, str(err), kind="unreadable_text")]


def invisible_text(path: Path, page: pdfplumber.page.Page) -> list[PageProblem]:
    """Text set at size 0 or horizontal scaling 0 all over a page: in the text layer, never on the page.

    A stray invisible char is only dropped (layout.seen_chars); most of a page's text invisible means
    the page cannot be read as a reader sees it, so the page says so rather than losing its tables
    without a word.
    """
    chars = [c for c in page.chars if c["text"].strip()]
    hidden = sum(1 for c in chars if invisible(c))
    if not chars or hidden <= len(chars) / 2:
        return []
    err = DamagedPDF(
        path,
        f"{hidden} of its {len(chars)} characters are set at size 0 or horizontal scaling 0 (0 Tf, 0 Tz): "
        "the text layer holds them but nothing of them shows on the page",
        page=page.page_number,
        hint="check the file against the published one; a broken producer or an edit left the text invisible",
    )
    return [PageProblem(page.page_number, str(err), kind="unreadable_text")]


# --- content streams ---------------------------------------------------------------------------------


def _operators() -> dict[str, int]:
    """Every content operator pdfminer executes, with its operand count, plus the spec's d0/d1."""
    ops = {"d0": 2, "d1": 6}
    for name in dir(PDFPageInterpreter):
        if name.startswith("do_"):
            op = name[3:].replace("_a", "*").replace("_w", '"').replace("_q", "'")
            ops[op] = getattr(PDFPageInterpreter, name).__code__.co_argcount - 1
    return ops


OPERATORS = _operators()
VARIADIC = frozenset({"SC", "SCN", "sc", "scn", "BI", "ID", "EI"})  # pdfminer takes their operands itself


class ContentAudit:
    """What pdfminer would skip without a word while reading one page's content."""

    def __init__(self, path: Path, page_number: int, *, encrypted: bool = False) -> None:
        self.path, self.page_number, self.encrypted = path, page_number, encrypted
        self.found: list[str] = []
        self.visited: set[int] = set()

    def page(self, page: pdfplumber.page.Page) -> list[PageProblem]:
        obj = page.page_obj
        try:
            self.streams(obj.contents, obj.resources or {}, "content stream")
            rotate = _resolved(obj.attrs.get("Rotate", 0))
        except PDFMINER_ERRORS as exc:  # resolving a font, an XObject or /Rotate hit a damaged object
            self.found.append(f"an object the page uses cannot be read ({describe(exc)})")
            rotate = 0
        notes = []
        for name, (x0, top, x1, bottom) in (("MediaBox", page.mediabox), ("CropBox", page.cropbox)):
            if not (x1 - x0 > 0 and bottom - top > 0):  # viewers show nothing; pdfium renders nothing
                self.found.append(f"the page's {name} {[round(v, 1) for v in (x0, top, x1, bottom)]} has no area")
        if not isinstance(rotate, int) or isinstance(rotate, bool) or rotate % 90:
            self.found.append(f"/Rotate {rotate!r} is not a multiple of 90")
        elif rotate % 360:
            # A landscape page is legal, but its text runs sideways to a reader of the page as stored.
            err = ExtractionError(
                self.path, f"the page is turned {rotate % 360}°; captions and tables on it may be missed",
                page=self.page_number, hint="check this page's tables and figures by hand",
            )  # fmt: skip
            notes.append(PageProblem(self.page_number, str(err), kind="rotated_page"))
        if not self.found:
            return notes
        shown = "; ".join(self.found[:MAX_REPORTED])
        more = f" (and {len(self.found) - MAX_REPORTED} more)" if len(self.found) > MAX_REPORTED else ""
        err = DamagedPDF(
            self.path,
            f"damaged content: {shown}{more}; text or drawings on the page may be lost or misplaced",
            page=self.page_number,
        )
        return [*notes, PageProblem(self.page_number, str(err), kind="damaged_content")]

    def streams(self, streams: list[Any], resources: dict[str, Any], what: str) -> None:
        streams = [s for s in (_resolved(s) for s in streams) if isinstance(s, PDFStream)]
        for stream in streams:
            self.encoded(stream, what)
        try:
            data = b"\n".join(stream.get_data() for stream in streams)
        except PDFMINER_ERRORS as exc:
            self.found.append(f"the {what} cannot be decoded ({describe(exc)})")
            return
        fonts = _names(resources.get("Font"))
        xobjects = _resolved(resources.get("XObject"))
        xobjects = xobjects if isinstance(xobjects, dict) else {}
        operands: list[bytes] = []
        compatibility = 0  # inside BX … EX unknown operators are allowed
        for op, operands in _operations(data):
            if op is None:
                self.found.append(f"unbalanced {operands[0].decode('latin-1')!r} in the {what}")
            elif op == "BX":
                compatibility += 1
            elif op == "EX":
                compatibility = max(0, compatibility - 1)
            elif op not in OPERATORS:
                if not compatibility:
                    self.found.append(f"unknown operator {op!r} in the {what}")
            elif len(operands) < OPERATORS[op]:
                self.found.append(f"operator {op!r} lacks operands in the {what}")
            elif len(operands) > OPERATORS[op] and op not in VARIADIC:
                # Left-overs: the operator that should have taken them is gone (a flipped "cm" …).
                self.found.append(f"{len(operands) - OPERATORS[op]} stray operands before {op!r} in the {what}")
            elif op == "Tf" and _pdf_name(operands[-2]) not in fonts:
                self.found.append(f"font {_pdf_name(operands[-2])!r} is not defined for the {what}")
            elif op == "Do":
                self.xobject(_pdf_name(operands[-1]), xobjects)

    def xobject(self, name: str | None, xobjects: dict[str, Any]) -> None:
        target = _resolved(xobjects.get(name)) if name is not None else None
        if not isinstance(target, PDFStream):
            self.found.append(f"XObject {name!r} is not defined")
            return
        if target.objid in self.visited:
            return
        if target.objid is not None:
            self.visited.add(target.objid)
        subtype = target.get("Subtype")
        if _is_name(subtype, "Image"):
            self.encoded(target, f"image {name}")
        elif _is_name(subtype, "Form"):
            resources = _resolved(target.get("Resources"))
            self.streams([target], resources if isinstance(resources, dict) else {}, f"form {name}")

    def encoded(self, stream: PDFStream, what: str) -> None:
        """A Flate stream that does not inflate to its end, or a JPEG without its end marker."""
        raw = stream.rawdata
        if raw is None or self.encrypted:
            return  # already decoded by pdfminer (nothing left to check), or encrypted bytes
        filters = [literal_name(f) for f, _ in stream.get_filters() if isinstance(f, PSLiteral)]
        if filters and filters[0] in ("FlateDecode", "Fl"):
            inflate = zlib.decompressobj()
            try:
                inflate.decompress(raw)
            except zlib.error as exc:
                self.found.append(f"the {what} does not inflate ({exc})")
                return
            if not inflate.eof:
                self.found.append(f"the {what} ends before its compressed data does")
        elif filters == ["DCTDecode"] and not (raw.startswith(b"\xff\xd8") and b"\xff\xd9" in raw[-64:]):
            self.found.append(f"the {what} is not a whole JPEG")


def _names(value: object) -> set[str]:
    value = _resolved(value)
    return {str(k) for k in value} if isinstance(value, dict) else set()


def _pdf_name(token: bytes) -> str | None:
    """The name a /Name token spells (#xx escapes decoded), None for any other token."""
    if not token.startswith(b"/"):
        return None
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), token[1:]).decode("latin-1")


# A content-stream tokenizer in `re` (C speed): pdfminer's own tokenizer, run a second time, cost
# more than the rest of opening. Operands are kept as their bytes; arrays and dicts as one operand.
_REGULAR = rb"[^\s()<>\[\]{}/%\x00]"
_TOKEN = re.compile(
    rb"(?P<space>[\s\x00]+|%[^\r\n]*)"
    rb"|(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?!" + _REGULAR + rb"))"
    rb"|(?P<name>/" + _REGULAR + rb"*)"
    rb"|(?P<dict><<|>>)"
    rb"|(?P<hex><[^<>]*>)"
    rb"|(?P<open>\[)|(?P<close>\])"
    rb"|(?P<string>\()"
    rb"|(?P<word>" + _REGULAR + rb"+)"
    rb"|(?P<stray>[\s\S])"
)
_PAREN = re.compile(rb"\\[\s\S]|[()]")
_END_OF_INLINE_IMAGE = re.compile(rb"\sEI(?=\s|$)")
_OPERAND_WORDS = {b"true", b"false", b"null"}


def _operations(data: bytes) -> Iterator[tuple[str | None, list[bytes]]]:
    """(operator, its operands) for each operator in a content stream; (None, [token]) for a stray
    ")", ">", "]" or ">>", or a string that never ends."""
    operands: list[bytes] = []
    depth, pos, end = 0, 0, len(data)  # depth: inside arrays and dicts, tokens are not operands
    while pos < end:
        m = _TOKEN.match(data, pos)
        assert m is not None  # "stray" matches any byte
        kind, token, pos = m.lastgroup, m.group(), m.end()
        if kind == "space":
            continue
        if kind == "string":
            pos = _string_end(data, pos)
            if pos < 0:
                yield None, [b"("]
                return
            token = b"(...)"
        if kind in ("open", "dict") and token != b">>":
            depth += 1
            continue
        if kind == "close" or token == b">>":
            if depth == 0:
                yield None, [token]
                continue
            depth -= 1
            if depth == 0:
                operands.append(b"[...]" if kind == "close" else b"<<...>>")
            continue
        if kind == "stray":
            yield None, [token]
            continue
        if depth:
            continue
        if kind != "word" or token in _OPERAND_WORDS:
            operands.append(token)
            continue
        if token == b"BI":  # an inline image: its dict, ID, binary data, EI
            at = data.find(b"ID", pos)
            stop = _END_OF_INLINE_IMAGE.search(data, at + 2) if at >= 0 else None
            if stop is None:
                yield None, [b"BI"]
                return
            pos = stop.end()
            yield "BI", operands
            operands = []
            continue
        yield token.decode("latin-1"), operands
        operands = []


def _string_end(data: bytes, pos: int) -> int:
    """Where the literal string opened before ``pos`` ends (balanced parentheses), or -1."""
    depth = 1
    for m in _PAREN.finditer(data, pos):
        if m.group() == b"(":
            depth += 1
        elif m.group() == b")":
            depth -= 1
            if depth == 0:
                return m.end()
    return -1
