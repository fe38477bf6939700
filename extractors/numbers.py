"""Reading printed numbers: full-width forms, thousands separators, percent, dashes, footnote marks."""

from __future__ import annotations

import re
import unicodedata

# Printed in empty cells of Chinese statistical tables for "no data".
MISSING_MARKS = {"", "—", "–", "-", "－", "——", "…", "...", "/", "／", "*", "×"}
_NUMBER = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)(%?)$")
# A footnote mark glued to a number: superscript digits, a bracketed or circled mark, or an asterisk, dagger
# or reference mark (1847.3*, 2473.7＊, 81.6※, 12.5†) at the end. Alone, * is a missing mark (above).
_FOOTNOTE_TAIL = re.compile(r"(?:[\u00b9\u00b2\u00b3\u2070-\u2079]+|\[\d+\]|[\u2460-\u2473]|(?<=[\d%％])[*＊※†‡]+)$")
_CJK = r"\u2e80-\u9fff\uff00-\uffef\u3000-\u303f"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def squash_cjk(text: str) -> str:
    """Drop the spaces PDF glyph spacing puts between CJK characters; keep them between Latin words."""
    return _CJK_SPACE.sub("", text.strip())


def parse_number(text: str | None) -> float | None:
    """The value of a printed cell, or None for an empty/missing cell. Raises ValueError otherwise.

    ``"1,847.3"`` → 1847.3, ``"－17.2"`` → -17.2, ``"８１．６"`` → 81.6, ``"29.2%"`` → 29.2 (the column's
    unit says it is a percentage), ``"—"`` → None.
    """
    if text is None:
        return None
    raw = re.sub(r"\s+", "", text)
    if raw in MISSING_MARKS:
        return None
    raw = _FOOTNOTE_TAIL.sub("", raw)
    # NFKC turns full-width digits, ．，％ and the full-width minus into their ASCII forms.
    norm = unicodedata.normalize("NFKC", raw).replace("−", "-").replace(",", "")
    if not norm.startswith("-") and raw[:1] in "－—–":
        norm = "-" + norm[1:]
    m = _NUMBER.match(norm)
    if not m:
        raise ValueError(f"not a number: {text!r}")
    return float(m.group(1) + m.group(2))


def decimals_of(text: str) -> int:
    """Printed precision: how many digits follow the decimal point."""
    norm = unicodedata.normalize("NFKC", re.sub(r"\s+", "", text))
    return len(norm.split(".", 1)[1].rstrip("%")) if "." in norm else 0
