"""A PDF as numbered objects, for mutating structure the way damage does, then writing a valid xref.

Bases are first rewritten by pypdf (``normalize``): every object stands alone (no object streams),
one dictionary key per line, and a classic xref table. That makes structure-aware edits simple
line edits (``/Count 13`` -> ``/Count 1000000000``), and ``to_bytes`` rebuilds the xref, so a
mutant is damaged exactly where the mutation says and nowhere else.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field

_OBJ = re.compile(rb"(?m)^(\d+) (\d+) obj\b")
_LENGTH = re.compile(rb"/Length (\d+)\b")
_REF = re.compile(rb"(\d+) 0 R")


def normalize(data: bytes) -> bytes:
    """The same document as pypdf writes it: standalone objects and a classic xref table."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Doc:
    header: bytes
    objects: dict[int, bytes]  # object number -> everything between "N 0 obj" and "endobj"
    trailer: bytes  # the trailer dictionary, "<< ... >>"
    free: set[int] = field(default_factory=set)

    @classmethod
    def parse(cls, data: bytes) -> Doc:
        objects: dict[int, bytes] = {}
        first = _OBJ.search(data)
        if first is None:
            raise ValueError("no objects: not a normalized PDF")
        pos = first.start()
        while (m := _OBJ.search(data, pos)) is not None:
            start = m.end()
            stream_at = data.find(b"stream", start)
            end = data.find(b"endobj", start)
            if 0 <= stream_at < end:  # skip the stream by its length: its bytes may contain "endobj"
                length = _LENGTH.search(data, start, stream_at)
                if length:
                    end = data.find(b"endobj", stream_at + int(length.group(1)))
            objects[int(m.group(1))] = data[start:end]
            pos = end + len(b"endobj")
        trailer_at = data.rindex(b"trailer")
        trailer = data[trailer_at + len(b"trailer") : data.rindex(b"startxref")].strip()
        return cls(data[: first.start()], objects, trailer)

    def copy(self) -> Doc:
        return Doc(self.header, dict(self.objects), self.trailer, set(self.free))

    # --- reading ---------------------------------------------------------------------------------

    def dict_part(self, n: int) -> bytes:
        body = self.objects[n]
        at = body.find(b"stream")
        return body if at < 0 else body[:at]

    def value(self, n: int, key: str) -> bytes | None:
        m = re.search(rb"(?m)^/" + key.encode() + rb" (.*)$", self.dict_part(n))
        return m.group(1) if m else None

    def of_type(self, type_name: str) -> list[int]:
        pattern = re.compile(rb"(?m)^/Type /" + type_name.encode() + rb"$")
        return [n for n in self.objects if pattern.search(self.dict_part(n))]

    def with_key(self, key: str, value_re: bytes = rb".*") -> list[int]:
        pattern = re.compile(rb"(?m)^/" + key.encode() + rb" " + value_re + rb"$")
        return [n for n in self.objects if pattern.search(self.dict_part(n))]

    def trailer_ref(self, key: str) -> int | None:
        m = re.search(rb"/" + key.encode() + rb" (\d+) 0 R", self.trailer)
        return int(m.group(1)) if m else None

    def root_pages(self) -> int:
        root = self.trailer_ref("Root")
        assert root is not None
        ref = self.value(root, "Pages")
        assert ref is not None
        return int(ref.split()[0])

    def kids(self, pages: int) -> list[int]:
        value = self.value(pages, "Kids") or b""
        return [int(m.group(1)) for m in _REF.finditer(value)]

    def pages(self) -> list[int]:
        """Page objects in page-tree order (the tree of a normalized base has no loops)."""
        out: list[int] = []

        def walk(n: int) -> None:
            if self.of_type_is(n, "Pages"):
                for kid in self.kids(n):
                    walk(kid)
            else:
                out.append(n)

        walk(self.root_pages())
        return out

    def of_type_is(self, n: int, type_name: str) -> bool:
        return self.value(n, "Type") == b"/" + type_name.encode()

    def streams(self) -> list[int]:
        return [n for n in self.objects if b"stream" in self.objects[n] and _LENGTH.search(self.dict_part(n))]

    def stream_data(self, n: int) -> bytes:
        body = self.objects[n]
        at = body.index(b"stream") + len(b"stream")
        at += 2 if body[at : at + 2] == b"\r\n" else 1
        length = int(self.value(n, "Length") or b"0")
        return body[at : at + length]

    def decoded(self, n: int) -> bytes:
        data = self.stream_data(n)
        return zlib.decompress(data) if self.value(n, "Filter") == b"/FlateDecode" else data

    def contents(self, page: int) -> list[int]:
        value = self.value(page, "Contents") or b""
        refs = [int(m.group(1)) for m in _REF.finditer(value)]
        # /Contents may point at an array object of refs
        if len(refs) == 1 and refs[0] in self.objects and self.objects[refs[0]].strip().startswith(b"["):
            refs = [int(m.group(1)) for m in _REF.finditer(self.objects[refs[0]])]
        return [r for r in refs if r in self.objects]

    # --- editing ---------------------------------------------------------------------------------

    def set_value(self, n: int, key: str, value: bytes) -> None:
        """Set a top-level key of object ``n`` (added when absent)."""
        body = self.objects[n]
        head, rest = self._split(body)
        pattern = re.compile(rb"(?m)^/" + key.encode() + rb" .*$")
        if pattern.search(head):
            head = pattern.sub(lambda _: b"/" + key.encode() + b" " + value, head, count=1)
        else:
            at = head.index(b"<<") + 2
            head = head[:at] + b"\n/" + key.encode() + b" " + value + head[at:]
        self.objects[n] = head + rest

    def set_kids(self, pages: int, kids: list[int]) -> None:
        self.set_value(pages, "Kids", b"[ " + b" ".join(b"%d 0 R" % k for k in kids) + b" ]")

    def drop_key(self, n: int, key: str) -> None:
        head, rest = self._split(self.objects[n])
        self.objects[n] = re.sub(rb"(?m)^/" + key.encode() + rb" .*\n", b"", head, count=1) + rest

    def set_stream(self, n: int, data: bytes, *, compress: bool | None = None) -> None:
        """Replace the stream's bytes; ``compress`` re-encodes with Flate (default: as it was)."""
        flate = self.value(n, "Filter") == b"/FlateDecode" if compress is None else compress
        raw = zlib.compress(data) if flate else data
        head, _ = self._split(self.objects[n])
        self.objects[n] = head + b"stream\n" + raw + b"\nendstream\n"
        self.set_value(n, "Length", str(len(raw)).encode())
        if not flate:
            self.drop_key(n, "Filter")

    def set_raw_stream(self, n: int, raw: bytes, length: int | None = None) -> None:
        """Replace the stream's stored bytes as they are (damage: no re-encoding)."""
        head, _ = self._split(self.objects[n])
        self.objects[n] = head + b"stream\n" + raw + b"\nendstream\n"
        self.set_value(n, "Length", str(len(raw) if length is None else length).encode())

    def add(self, body: bytes) -> int:
        n = max(self.objects) + 1
        self.objects[n] = b"\n" + body + b"\n"
        self.trailer = re.sub(rb"/Size \d+", b"/Size %d" % (n + 1), self.trailer)
        return n

    def delete(self, n: int) -> None:
        """The object is gone and the xref says it is free: every reference to it resolves to null."""
        self.objects.pop(n, None)
        self.free.add(n)

    @staticmethod
    def _split(body: bytes) -> tuple[bytes, bytes]:
        at = body.find(b"stream")
        return (body, b"") if at < 0 else (body[:at], body[at:])

    # --- writing ---------------------------------------------------------------------------------

    def to_bytes(self, *, xref: bool = True) -> bytes:
        out = bytearray(self.header)
        offsets: dict[int, int] = {}
        for n in sorted(self.objects):
            offsets[n] = len(out)
            out += b"%d 0 obj" % n + self.objects[n] + b"endobj\n"
        start = len(out)
        if xref:
            size = max([*offsets, *self.free, 0]) + 1
            out += b"xref\n0 %d\n" % size
            for n in range(size):
                out += b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
        out += b"trailer\n" + self.trailer + b"\nstartxref\n%d\n%%%%EOF\n" % start
        return bytes(out)

    @staticmethod
    def xref_span(data: bytes) -> tuple[int, int]:
        """Where the xref table of a written document lies (from 'xref' to 'trailer')."""
        start = data.rindex(b"\nxref\n") + 1
        return start, data.index(b"trailer", start)
