"""The CJK font subsets the variants typeset with, bundled in samples/variants/fonts/ (CI has no CJK fonts).

    python -m samples.variants.fonts      # remake the subsets; needs fonts-noto-cjk, fonts-wqy-*, fonts-arphic-*

Each family is cut down with fontTools to the characters the variants can print (ASCII, every string of
samples/truth, and samples/variants/text.toml); the bold face, used for titles, captions and headers only,
keeps only their characters. The Noto faces keep their CFF outlines (a TrueType conversion is twice the
size), so only WeasyPrint can use them: reportlab embeds TrueType only, and its variants use the
WenQuanYi and AR PL faces. AR PL UMing is left out to keep the bundle small (UKai is the AR PL face here).
``check_text`` is called on every string before it is typeset: a character a subset lacks is an
error, never a silent fallback to whatever system font fontconfig finds.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
FONT_DIR = HERE / "fonts"
TRUTH_DIR = HERE.parent / "truth"
TEXT = HERE / "text.toml"
# Other builders that typeset with these subsets list the characters they print: ``all`` and ``bold``.
EXTRA_TEXT = (HERE.parent / "backcatalog" / "glyphs.toml",)


@dataclass(frozen=True)
class Family:
    key: str  # the matrix's font value
    name: str  # the family's own name
    source: str  # the system file the subset is cut from
    index: int  # face index in a .ttc collection
    file: str  # the subset, in FONT_DIR
    licence: str  # the licence file beside it


FAMILIES = {
    f.key: f
    for f in (
        Family("noto_serif", "Noto Serif CJK SC", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2,
               "NotoSerifCJKsc-Regular-subset.otf", "OFL-Noto.txt"),
        Family("noto_sans", "Noto Sans CJK SC", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2,
               "NotoSansCJKsc-Regular-subset.otf", "OFL-Noto.txt"),
        Family("noto_sans_bold", "Noto Sans CJK SC Bold", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
               2, "NotoSansCJKsc-Bold-subset.otf", "OFL-Noto.txt"),
        Family("wqy_zenhei", "WenQuanYi Zen Hei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0,
               "WenQuanYiZenHei-subset.ttf", "LICENSE-WenQuanYi-ZenHei.txt"),
        Family("wqy_microhei", "WenQuanYi Micro Hei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0,
               "WenQuanYiMicroHei-subset.ttf", "LICENSE-WenQuanYi-MicroHei.txt"),
        Family("ukai", "AR PL UKai CN", "/usr/share/fonts/truetype/arphic/ukai.ttc", 0,
               "ARPLUKaiCN-subset.ttf", "LICENSE-Arphic.txt"),
    )
}
BOLD = "noto_sans_bold"


class MissingGlyph(ValueError):
    """A variant would print a character its font subset lacks: remake the subsets (see module doc)."""


def path(key: str) -> Path:
    return FONT_DIR / FAMILIES[key].file


@cache
def _font(key: str) -> TTFont:
    return TTFont(str(path(key)))


@cache
def cmap(key: str) -> frozenset[int]:
    return frozenset(_font(key).getBestCmap())


def check_text(key: str, text: str, where: str) -> None:
    missing = sorted({ch for ch in text if ord(ch) not in cmap(key) and ch not in "\n\t"})
    if missing:
        raise MissingGlyph(
            f"{where}: font {FAMILIES[key].file} has no glyph for {''.join(missing)!r}; add the text to "
            "samples/variants/text.toml and run python -m samples.variants.fonts"
        )


def text_width(key: str, text: str, size: float) -> float:
    """Advance width in points of one line of ``text`` (no kerning: the CJK faces have none that matters)."""
    font = _font(key)
    best, hmtx = font.getBestCmap(), font["hmtx"]
    upm = font["head"].unitsPerEm
    return sum(hmtx[best[ord(ch)]][0] for ch in text if ord(ch) in best) / upm * size


def characters(*, bold: bool = False) -> str:
    """Every character a variant can print: ASCII, samples/truth's tables, text.toml's strings.

    ``bold``: only what is set bold (titles, captions, header labels, headings, the words of text.toml).
    """
    chars = {chr(c) for c in range(0x20, 0x7F)} | {"\u3000", "（", "）", "：", "，", "。", "、", "－", "—"}

    def walk(value: object) -> None:
        if isinstance(value, str):
            chars.update(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for truth in sorted(TRUTH_DIR.glob("*.json")):
        doc = json.loads(truth.read_text(encoding="utf-8"))
        if "tables" not in doc:
            continue  # not a document's truth (issue 14's statement labels live here too)
        walk(doc["title"])
        if bold:
            walk([[t["caption"], t["header_rows"], t["columns"]] for t in doc["tables"]])
        else:
            walk(doc["tables"])
    text = tomllib.loads(TEXT.read_text(encoding="utf-8"))
    if bold:
        text = {k: v for k, v in text.items() if k != "body"}
    walk(text)
    for extra in EXTRA_TEXT:
        if extra.is_file():
            walk(tomllib.loads(extra.read_text(encoding="utf-8"))["bold" if bold else "all"])
    return "".join(sorted(chars - {"\n", "\t"}))


def make_subsets() -> None:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    FONT_DIR.mkdir(parents=True, exist_ok=True)
    for family in FAMILIES.values():
        text = characters(bold=family.key == BOLD)
        source = TTCollection(family.source).fonts[family.index]
        missing = sorted({ch for ch in text if ord(ch) not in source.getBestCmap()} - {"\u3000"})
        if missing:
            raise MissingGlyph(f"{family.name} ({family.source}) lacks {''.join(missing)!r}")
        options = subset.Options()
        options.notdef_outline = True
        options.hinting = False
        options.drop_tables += ["VORG", "vhea", "vmtx", "DSIG", "EBDT", "EBLC", "EBSC", "gasp"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(source)
        out = FONT_DIR / family.file
        source.save(str(out))
        print(f"wrote {out.name}: {out.stat().st_size // 1024} KiB")
    print(f"{len(characters())} characters, {len(characters(bold=True))} in the bold face")


if __name__ == "__main__":
    make_subsets()
