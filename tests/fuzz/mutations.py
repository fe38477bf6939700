"""Structure-aware damage: each mutation breaks one thing the way real files break.

A mutation is ``(base, rnd) -> bytes``: ``base`` holds the original bytes and the normalized
document (see pdfdoc), ``rnd`` a seeded Random, so ``(base, mutation, seed)`` names one mutant for
good. Families: truncation, byte flips (streams, xref, anywhere), deleted and self-referencing or
looping objects, broken page trees, bad /Info and /Title types, huge or wrong /Count, bad fonts,
broken images, bad page boxes and content streams.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from tests.fuzz.pdfdoc import Doc, normalize


@dataclass
class Base:
    name: str
    original: bytes

    @cached_property
    def normalized(self) -> bytes:
        return normalize(self.original)

    def doc(self) -> Doc:
        return self._doc.copy()

    @cached_property
    def _doc(self) -> Doc:
        return Doc.parse(self.normalized)


Mutation = Callable[[Base, random.Random], bytes]
MUTATIONS: dict[str, Mutation] = {}


def mutation(fn: Mutation) -> Mutation:
    MUTATIONS[fn.__name__] = fn
    return fn


def _flip(data: bytes, rnd: random.Random, count: int, lo: int = 0, hi: int | None = None) -> bytes:
    out = bytearray(data)
    hi = len(out) if hi is None else hi
    if hi <= lo:
        return data
    for _ in range(count):
        at = rnd.randrange(lo, hi)
        out[at] = (out[at] + rnd.randrange(1, 256)) % 256  # always a different byte
    return bytes(out)


def _page(doc: Doc, rnd: random.Random) -> int:
    return rnd.choice(doc.pages())


# --- truncation and random bytes (on the file as published) ----------------------------------------


@mutation
def truncated(base: Base, rnd: random.Random) -> bytes:
    return base.original[: int(len(base.original) * rnd.uniform(0.05, 0.98))]


@mutation
def truncated_eof_kept(base: Base, rnd: random.Random) -> bytes:
    """Cut short, but still ending in %%EOF: passes the cheap tail check."""
    return base.original[: int(len(base.original) * rnd.uniform(0.05, 0.98))] + b"\n%%EOF\n"


@mutation
def random_bytes_50(base: Base, rnd: random.Random) -> bytes:
    return _flip(base.original, rnd, 50, 16, len(base.original) - 16)


@mutation
def random_bytes_block(base: Base, rnd: random.Random) -> bytes:
    n = len(base.original)
    at, size = rnd.randrange(16, n - 16), rnd.randrange(16, 4096)
    return base.original[:at] + rnd.randbytes(min(size, n - 16 - at)) + base.original[at + size :]


@mutation
def original_xref_flip(base: Base, rnd: random.Random) -> bytes:
    """Bytes flipped in the published file's xref (a table, or an xref stream) and trailer."""
    data = base.original
    start = data.rindex(b"startxref")
    offset = int(data[start + 9 :].split()[0])
    end = data.rindex(b"%%EOF")
    return _flip(data, rnd, rnd.randrange(1, 12), offset, max(offset + 1, end - 1))


# --- byte flips in streams and the xref (normalized document) --------------------------------------


@mutation
def content_stream_flip(base: Base, rnd: random.Random) -> bytes:
    """Compressed bytes of one page's content stream flipped: inflate fails part way."""
    doc = base.doc()
    n = rnd.choice(doc.contents(_page(doc, rnd)))
    raw = doc.stream_data(n)
    doc.set_raw_stream(n, _flip(raw, rnd, rnd.randrange(1, 8)))
    return doc.to_bytes()


@mutation
def content_decoded_flip(base: Base, rnd: random.Random) -> bytes:
    """Bytes of the decoded content flipped and re-encoded: operators and operands change."""
    doc = base.doc()
    n = rnd.choice(doc.contents(_page(doc, rnd)))
    doc.set_stream(n, _flip(doc.decoded(n), rnd, rnd.randrange(1, 20)))
    return doc.to_bytes()


@mutation
def content_decoded_cut(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    n = rnd.choice(doc.contents(_page(doc, rnd)))
    data = doc.decoded(n)
    doc.set_stream(n, data[: int(len(data) * rnd.uniform(0.1, 0.9))])
    return doc.to_bytes()


@mutation
def content_bad_operands(base: Base, rnd: random.Random) -> bytes:
    """Numbers in the content replaced by extremes: 1e308, -0, 99999999999, NaN-like tokens."""
    doc = base.doc()
    n = rnd.choice(doc.contents(_page(doc, rnd)))
    extremes = [b"1e308", b"-1e308", b"0", b"-0", b"99999999999999999999", b"nan", b"inf", b"1.#INF", b"--1"]
    numbers = list(re.finditer(rb"(?<![\w.])-?\d+(\.\d+)?(?![\w.])", doc.decoded(n)))
    data = bytearray(doc.decoded(n))
    for m in sorted(rnd.sample(numbers, min(len(numbers), rnd.randrange(1, 30))), key=lambda m: -m.start()):
        data[m.start() : m.end()] = rnd.choice(extremes)
    doc.set_stream(n, bytes(data))
    return doc.to_bytes()


@mutation
def content_unbalanced(base: Base, rnd: random.Random) -> bytes:
    """q/Q, BT/ET and the like removed or repeated: the graphics state stack goes wrong."""
    doc = base.doc()
    n = rnd.choice(doc.contents(_page(doc, rnd)))
    data = doc.decoded(n)
    op = rnd.choice([b"Q", b"q", b"ET", b"BT", b"cm"])
    if rnd.random() < 0.5:
        data = re.sub(rb"(?m)(?<=\s)" + op + rb"(?=\s)", b"", data, count=rnd.randrange(1, 50))
    else:
        data = (op + b"\n") * rnd.randrange(1, 5000) + data
    doc.set_stream(n, data)
    return doc.to_bytes()


@mutation
def stream_flip(base: Base, rnd: random.Random) -> bytes:
    """Any stream (fonts, images, ToUnicode, contents) with its stored bytes flipped."""
    doc = base.doc()
    n = rnd.choice(doc.streams())
    doc.set_raw_stream(n, _flip(doc.stream_data(n), rnd, rnd.randrange(1, 16)))
    return doc.to_bytes()


@mutation
def stream_length_wrong(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    n = rnd.choice(doc.streams())
    raw = doc.stream_data(n)
    doc.set_raw_stream(n, raw, length=rnd.choice([0, len(raw) // 2, len(raw) + 7, 10**9, -5]))
    return doc.to_bytes()


@mutation
def xref_flip(base: Base, rnd: random.Random) -> bytes:
    data = base.doc().to_bytes()
    start, end = Doc.xref_span(data)
    return _flip(data, rnd, rnd.randrange(1, 40), start, end)


@mutation
def xref_offsets_shifted(base: Base, rnd: random.Random) -> bytes:
    data = base.doc().to_bytes()
    start, end = Doc.xref_span(data)
    shift = rnd.choice([-3, 1, 17, 1000])
    table = re.sub(
        rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % max(0, int(m.group(1)) + shift), data[start:end]
    )
    return data[:start] + table + data[end:]


@mutation
def xref_missing(base: Base, rnd: random.Random) -> bytes:
    """No xref at all and startxref pointing nowhere: readers must rebuild it by scanning."""
    data = base.doc().to_bytes(xref=False)
    return data.replace(b"startxref\n", b"startxref\n" + str(rnd.randrange(10**6)).encode() + b"\n", 1)


@mutation
def startxref_wrong(base: Base, rnd: random.Random) -> bytes:
    data = base.doc().to_bytes()
    at = data.rindex(b"startxref\n") + len(b"startxref\n")
    end = data.index(b"\n", at)
    return data[:at] + str(rnd.choice([0, 1, 17, len(data) - 5, 10**12])).encode() + data[end:]


# --- deleted, self-referencing and looping objects ------------------------------------------------------


@mutation
def object_deleted(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    doc.delete(rnd.choice(list(doc.objects)))
    return doc.to_bytes()


@mutation
def object_self_reference(base: Base, rnd: random.Random) -> bytes:
    """An object whose whole value is a reference to itself."""
    doc = base.doc()
    n = rnd.choice(list(doc.objects))
    doc.objects[n] = b"\n%d 0 R\n" % n
    return doc.to_bytes()


@mutation
def objects_reference_each_other(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    a, b = rnd.sample(list(doc.objects), 2)
    doc.objects[a], doc.objects[b] = b"\n%d 0 R\n" % b, b"\n%d 0 R\n" % a
    return doc.to_bytes()


@mutation
def resources_loop(base: Base, rnd: random.Random) -> bytes:
    """A page's /Resources (or its /Font dictionary) pointing back at the page."""
    doc = base.doc()
    page = _page(doc, rnd)
    target = rnd.choice([page, doc.root_pages()])
    doc.set_value(page, rnd.choice(["Resources", "Contents"]), b"%d 0 R" % target)
    return doc.to_bytes()


@mutation
def font_dict_loop(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    font = rnd.choice(doc.of_type("Font"))
    key = rnd.choice(["FontDescriptor", "ToUnicode", "DescendantFonts", "Encoding"])
    doc.set_value(font, key, b"%d 0 R" % font)
    return doc.to_bytes()


# --- broken page trees -----------------------------------------------------------------------------


@mutation
def kids_point_back_at_pages(base: Base, rnd: random.Random) -> bytes:
    """One /Kids entry replaced by a reference to its own /Pages node (a page vanishes)."""
    doc = base.doc()
    root = doc.root_pages()
    kids = doc.kids(root)
    kids[rnd.randrange(len(kids))] = root
    doc.set_kids(root, kids)
    return doc.to_bytes()


@mutation
def kids_nested_loop(base: Base, rnd: random.Random) -> bytes:
    """The tree split in two /Pages nodes; the inner one lists the root among its kids."""
    doc = base.doc()
    root = doc.root_pages()
    kids = doc.kids(root)
    cut = rnd.randrange(1, len(kids)) if len(kids) > 1 else 1
    inner_kids = kids[cut:]
    inner = doc.add(b"<<\n/Type /Pages\n/Parent %d 0 R\n/Kids [ ]\n/Count %d\n>>" % (root, len(inner_kids)))
    loop_at = rnd.randrange(len(inner_kids) + 1)
    refs = [*inner_kids[:loop_at], root, *inner_kids[loop_at + 1 :]]
    doc.set_kids(inner, refs)
    for kid in inner_kids:
        doc.set_value(kid, "Parent", b"%d 0 R" % inner)
    doc.set_kids(root, [*kids[:cut], inner])
    return doc.to_bytes()


@mutation
def kids_duplicate_page(base: Base, rnd: random.Random) -> bytes:
    """One page listed twice, another not at all: the /Count still adds up."""
    doc = base.doc()
    root = doc.root_pages()
    kids = doc.kids(root)
    if len(kids) > 1:
        a, b = rnd.sample(range(len(kids)), 2)
        kids[a] = kids[b]
    doc.set_kids(root, kids)
    return doc.to_bytes()


@mutation
def kids_dangling(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    root = doc.root_pages()
    kids = doc.kids(root)
    kids[rnd.randrange(len(kids))] = max(doc.objects) + 100
    doc.set_kids(root, kids)
    return doc.to_bytes()


@mutation
def kids_bad_type(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    root = doc.root_pages()
    bad = rnd.choice([b"null", b"5", b"(pages)", b"<< /Type /Page >>", b"[ 1 2 3 ]", b"%d 0 R" % root])
    doc.set_value(root, "Kids", bad)
    return doc.to_bytes()


@mutation
def page_deleted(base: Base, rnd: random.Random) -> bytes:
    """A page object deleted (the xref says free), its /Kids entry still there."""
    doc = base.doc()
    doc.delete(_page(doc, rnd))
    return doc.to_bytes()


@mutation
def page_object_overwritten(base: Base, rnd: random.Random) -> bytes:
    """A page object's bytes gone but the xref still pointing at where it was."""
    doc = base.doc()
    page = _page(doc, rnd)
    data = doc.to_bytes()
    m = re.search(rb"(?m)^%d 0 obj" % page, data)
    assert m
    end = data.index(b"endobj", m.end()) + len(b"endobj")
    return data[: m.start()] + b" " * (end - m.start()) + data[end:]


@mutation
def count_huge(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    doc.set_value(doc.root_pages(), "Count", rnd.choice([b"1000000000", b"2147483648", b"99999999999999999999"]))
    return doc.to_bytes()


@mutation
def count_wrong(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    n = len(doc.pages())
    doc.set_value(doc.root_pages(), "Count", rnd.choice([b"0", b"-1", b"%d" % (n - 1), b"%d" % (n + 1), b"(13)"]))
    return doc.to_bytes()


@mutation
def page_type_damaged(base: Base, rnd: random.Random) -> bytes:
    """A page's /Type altered or removed (pdfium then cannot load that page)."""
    doc = base.doc()
    page = _page(doc, rnd)
    if rnd.random() < 0.25:
        doc.drop_key(page, "Type")
    else:
        doc.set_value(page, "Type", rnd.choice([b"/Pagx", b"/Pages", b"/page", b"(Page)", b"/XObject"]))
    return doc.to_bytes()


@mutation
def pages_type_damaged(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    doc.set_value(doc.root_pages(), "Type", rnd.choice([b"/Pagez", b"/Page", b"null"]))
    return doc.to_bytes()


@mutation
def page_parent_self(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    page = _page(doc, rnd)
    doc.set_value(page, "Parent", b"%d 0 R" % rnd.choice([page, 999999]))
    return doc.to_bytes()


@mutation
def catalog_pages_broken(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    root = doc.trailer_ref("Root")
    assert root is not None
    doc.set_value(root, "Pages", rnd.choice([b"%d 0 R" % root, b"999999 0 R", b"null", b"[ ]"]))
    return doc.to_bytes()


@mutation
def page_boxes_bad(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    page = _page(doc, rnd)
    box = rnd.choice(
        [b"[ 0 0 0 0 ]", b"[ 0 0 1e7 1e7 ]", b"[ 0 0 30000 30000 ]", b"[ 600 900 0 0 ]", b"[ 0 0 595 ]", b"(A4)",
         b"[ 0 0 -595 -842 ]"]
    )  # fmt: skip
    doc.set_value(page, rnd.choice(["MediaBox", "CropBox"]), box)
    return doc.to_bytes()


@mutation
def page_rotate_bad(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    doc.set_value(_page(doc, rnd), rnd.choice(["Rotate", "UserUnit"]), rnd.choice([b"45", b"-90", b"1e9", b"(x)"]))
    return doc.to_bytes()


# --- /Info and /Title ------------------------------------------------------------------------------


def _info(doc: Doc) -> int:
    n = doc.trailer_ref("Info")
    if n is None:
        n = doc.add(b"<<\n/Producer (fuzz)\n>>")
        doc.trailer = doc.trailer.replace(b"<<", b"<<\n/Info %d 0 R" % n, 1)
    return n


@mutation
def title_bad_type(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    key = rnd.choice(["Title", "Title", "Author", "Subject", "Keywords", "Producer", "CreationDate"])
    value = rnd.choice(
        [b"true", b"false", b"123", b"-1.5", b"null", b"[ (a) (b) ]", b"<< /A 1 >>", b"/Name", b"%d 0 R" % 999999,
         b"(" + b"x" * 200000 + b")", b"(\\376\\377\\330\\000)", b"<FEFF>"]
    )  # fmt: skip
    doc.set_value(_info(doc), key, value)
    return doc.to_bytes()


@mutation
def info_bad_type(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    info = _info(doc)
    target = rnd.choice(["self", "page", "number", "dangling", "array"])
    if target == "self":
        doc.objects[info] = b"\n%d 0 R\n" % info
    elif target == "page":
        doc.trailer = re.sub(rb"/Info \d+ 0 R", b"/Info %d 0 R" % doc.pages()[0], doc.trailer)
    elif target == "number":
        doc.objects[info] = b"\n42\n"
    elif target == "array":
        doc.objects[info] = b"\n[ (Title) (x) ]\n"
    else:
        doc.trailer = re.sub(rb"/Info \d+ 0 R", b"/Info 999999 0 R", doc.trailer)
    return doc.to_bytes()


@mutation
def title_markup(base: Base, rnd: random.Random) -> bytes:
    """A title with rich-markup-like text: must print as text, never as markup."""
    doc = base.doc()
    doc.set_value(_info(doc), "Title", rnd.choice([b"([/])", b"([bold]x[/bold] [/] [link=file:///etc])", b"(\\[/\\])"]))
    return doc.to_bytes()


# --- fonts -----------------------------------------------------------------------------------------


@mutation
def font_program_broken(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    candidates = doc.with_key("FontFile") + doc.with_key("FontFile2") + doc.with_key("FontFile3")
    descriptor = rnd.choice(candidates)
    key = next(k for k in ("FontFile", "FontFile2", "FontFile3") if doc.value(descriptor, k))
    ref = int((doc.value(descriptor, key) or b"0").split()[0])
    choice = rnd.random()
    if choice < 0.4:
        doc.delete(ref)
    elif choice < 0.7:
        doc.set_raw_stream(ref, _flip(doc.stream_data(ref), rnd, rnd.randrange(1, 30)))
    else:
        doc.set_stream(ref, rnd.randbytes(rnd.randrange(10, 2000)))
    return doc.to_bytes()


@mutation
def tounicode_broken(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    font = rnd.choice(doc.with_key("ToUnicode"))
    ref = int((doc.value(font, "ToUnicode") or b"0").split()[0])
    choice = rnd.random()
    if choice < 0.3:
        doc.drop_key(font, "ToUnicode")
    elif choice < 0.6 and ref in doc.objects:
        doc.set_stream(ref, _flip(doc.decoded(ref), rnd, rnd.randrange(1, 40)))
    else:
        doc.set_value(font, "ToUnicode", rnd.choice([b"/Identity-H", b"999999 0 R", b"5"]))
    return doc.to_bytes()


@mutation
def font_dict_bad(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    font = rnd.choice(doc.of_type("Font") + doc.of_type("FontDescriptor"))
    key, value = rnd.choice(
        [("Subtype", b"/Type9"), ("Widths", b"5"), ("Widths", b"[ (a) ]"), ("FirstChar", b"1000000000"),
         ("LastChar", b"-5"), ("Encoding", b"/NoSuchEncoding"), ("W", b"[ 1 [ 2 ] ]"), ("DW", b"(x)"),
         ("FontBBox", b"[ 0 0 ]"), ("Ascent", b"1e308"), ("Descent", b"(x)"), ("FontMatrix", b"[ 0 0 0 0 0 0 ]"),
         ("BaseFont", b"123"), ("CIDSystemInfo", b"null"), ("DescendantFonts", b"[ 999999 0 R ]")]
    )  # fmt: skip
    doc.set_value(font, key, value)
    return doc.to_bytes()


@mutation
def font_deleted(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    doc.delete(rnd.choice(doc.of_type("Font")))
    return doc.to_bytes()


# --- images ----------------------------------------------------------------------------------------


def _image(doc: Doc, rnd: random.Random) -> int | None:
    images = doc.with_key("Subtype", rb"/Image")
    return rnd.choice(images) if images else None


@mutation
def image_broken(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    n = _image(doc, rnd)
    if n is None:  # a base without images: damage a form XObject or a content stream instead
        return content_stream_flip(base, rnd)
    choice = rnd.random()
    raw = doc.stream_data(n)
    if choice < 0.3:
        doc.set_raw_stream(n, raw[: rnd.randrange(max(1, len(raw)))])
    elif choice < 0.5:
        doc.set_raw_stream(n, _flip(raw, rnd, rnd.randrange(1, 50)))
    elif choice < 0.7:
        doc.set_raw_stream(n, zlib.compress(rnd.randbytes(rnd.randrange(1, 5000))))
    else:
        doc.delete(n)
    return doc.to_bytes()


@mutation
def image_dict_bad(base: Base, rnd: random.Random) -> bytes:
    doc = base.doc()
    n = _image(doc, rnd)
    if n is None:
        return font_dict_bad(base, rnd)
    key, value = rnd.choice(
        [("Width", b"100000"), ("Height", b"100000"), ("Width", b"0"), ("Height", b"-1"), ("BitsPerComponent", b"7"),
         ("BitsPerComponent", b"64"), ("ColorSpace", b"/DeviceN"), ("ColorSpace", b"[ /Indexed /DeviceRGB 300 <00> ]"),
         ("Filter", b"/DCTDecode"), ("Filter", b"/JBIG2Decode"), ("Filter", b"[ /FlateDecode /FlateDecode ]"),
         ("DecodeParms", b"<< /Predictor 15 /Columns 0 >>"), ("SMask", b"999999 0 R"), ("SMask", b"%d 0 R" % n),
         ("Decode", b"[ 1 ]")]
    )  # fmt: skip
    doc.set_value(n, key, value)
    return doc.to_bytes()


def mutate(base: Base, name: str, seed: int) -> bytes:
    """The mutant ``(base, name, seed)``: the same bytes on every run."""
    return MUTATIONS[name](base, random.Random(f"{base.name}:{name}:{seed}"))
