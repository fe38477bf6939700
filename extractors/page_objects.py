"""pdfplumber's char objects, made faster: the same dicts, without resolving values that are already plain.

pdfplumber turns every pdfminer object into a dict, resolving each attribute recursively (a matrix is
six calls) and decoding the colour-space name again for every char. On text-heavy pages that costs as
much as pdfminer's own parsing of the page. Chars are 95% of the objects; they go this way, and every
other object keeps pdfplumber's own conversion. tests/test_page_objects.py checks, object by object,
that the dicts are the ones pdfplumber makes, so an upgrade that changes pdfplumber's shape is caught.
"""

from __future__ import annotations

import types
from functools import lru_cache
from typing import Any
from unicodedata import normalize as normalize_unicode

import pdfplumber
from pdfminer.layout import LTChar
from pdfplumber.page import ALL_ATTRS, Page, fix_fontname_bytes
from pdfplumber.utils import resolve_all, resolve_and_decode

_PLAIN = frozenset({int, float, str, bool, type(None)})


def _resolved(value: Any) -> Any:
    """A value that is not plain itself (the caller checks that, once per attribute, on the hot path)."""
    if type(value) is tuple and all(type(v) in _PLAIN for v in value):
        return value  # resolve_all would build an equal tuple
    return resolve_all(value)


@lru_cache(maxsize=256)
def _decoded_name(name: str) -> Any:
    return resolve_and_decode(name)


def _colour(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _char(page: Page, obj: LTChar) -> dict[str, Any]:
    # The steps and key order of pdfplumber's Page.process_object for an LTChar.
    attr = {k: v for k, v in obj.__dict__.items() if k in ALL_ATTRS}
    for k, v in attr.items():
        if type(v) not in _PLAIN:
            attr[k] = _resolved(v)
    attr["object_type"] = "char"
    attr["page_number"] = page.page_number
    for cs in ("ncs", "scs"):
        if hasattr(obj, cs):
            name = getattr(obj, cs).name
            attr[cs] = _decoded_name(name) if isinstance(name, str) else resolve_and_decode(name)
    text = obj.get_text()
    norm = page.pdf.unicode_norm
    attr["text"] = normalize_unicode(norm, text) if norm is not None else text
    gs = obj.graphicstate
    attr["stroking_color"] = _colour(gs.scolor)
    attr["non_stroking_color"] = _colour(gs.ncolor)
    if isinstance(attr["fontname"], bytes):
        attr["fontname"] = fix_fontname_bytes(attr["fontname"])
    mb_x0, mb_top = page.mediabox[:2]
    if "y0" in attr:
        top = (page.height - attr["y1"]) + mb_top
        attr["top"] = top
        attr["bottom"] = (page.height - attr["y0"]) + mb_top
        attr["doctop"] = page.initial_doctop + top
    if mb_x0 != 0 and "x0" in attr:
        attr["x0"] = attr["x0"] + mb_x0
        attr["x1"] = attr["x1"] + mb_x0
    return attr


def _process_object(page: Page, obj: Any) -> dict[str, Any]:
    if type(obj) is LTChar:  # exactly: a subclass may carry attributes this path does not know
        return _char(page, obj)
    return Page.process_object(page, obj)


def use_fast_objects(pdf: pdfplumber.PDF) -> None:
    """Convert the chars of this document's pages the fast way; other documents are left alone."""
    for page in pdf.pages:
        page.process_object = types.MethodType(_process_object, page)  # type: ignore[method-assign]
