"""Text as patterns see it: one form for what publishers print in many.

Captions, headers and notes are matched only after this: NFKC (full-width letters, digits, brackets,
colons and percent signs become ASCII), the dashes and brackets NFKC leaves alone folded too, and the
spaces glyph spacing leaves between CJK characters removed. What is stored and published stays as printed.
"""

from __future__ import annotations

import re
import unicodedata

from extractors.numbers import squash_cjk

_FOLD = str.maketrans(
    {
        "〔": "(",
        "〕": ")",
        "【": "[",
        "】": "]",
        "〈": "<",
        "〉": ">",
        "—": "-",
        "–": "-",
        "－": "-",
        "―": "-",
        "‐": "-",
        "−": "-",
        "～": "~",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
    }
)


def normalize(text: str) -> str:
    """For captions and lines: one form of every character, CJK spacing removed, spaces folded."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return re.sub(r"\s+", " ", squash_cjk(folded)).strip()


def label_key(text: str) -> str:
    """For header labels: normalised, with no whitespace at all (labels wrap anywhere)."""
    return re.sub(r"\s+", "", normalize(text))


# A unit printed inside a header label or a caption: （亿美元）, (%), （单位：亿美元）, （金额单位：万元）.
UNIT_TAIL = re.compile(
    r"\((?:(?:金额)?单位[:：]?\s*)?(?P<unit>%|‰|亿美元|万亿美元|万美元|美元|亿元|万亿元|万元|元|个|家|人|万人|"
    r"个百分点|倍|分|USD[^)]*|[^()]{0,12}单位[^()]*)\)$"
)


def split_unit(label: str) -> tuple[str, str | None]:
    """A normalised label without its unit tail, and the unit (``同比增长(%)`` → ``同比增长``, ``%``)."""
    m = UNIT_TAIL.search(label)
    if not m or m.start() == 0:
        return label, None
    unit = m.group("unit")
    unit = re.sub(r"^.*单位[:：]?\s*", "", unit) or unit
    return label[: m.start()].rstrip(), unit
