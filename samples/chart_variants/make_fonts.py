"""Make the two small CJK fonts the raster-chart variants are drawn and typeset with, so building them
needs no system CJK fonts (CI has none).

    python -m samples.chart_variants.make_fonts   # needs fonts-noto-cjk (+extra) installed (Debian)

Keeps ASCII and every character of the figure data (samples/builder/figures/*.toml) and of the variant
PDF's captions. Noto Sans CJK and Noto Serif CJK are under the SIL Open Font License 1.1 (OFL.txt).
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
FIGURES = HERE.parent / "builder" / "figures"
NOTO = Path("/usr/share/fonts/opentype/noto")
FONTS = {
    "NotoSansCJKsc-charts.otf": NOTO / "NotoSansCJK-Regular.ttc",
    "NotoSerifCJKsc-charts.otf": NOTO / "NotoSerifCJK-Regular.ttc",
}
EXTRA = "图数据来源：，。、（）%－—单位变体样式字体调色板旋转标签引线压缩"


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA)
    for path in FIGURES.glob("*.toml"):
        chars |= {c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7F}
    return "".join(sorted(chars))


def main() -> None:
    text = characters()
    for name, source in FONTS.items():
        font = next(f for f in TTCollection(str(source)).fonts if "SC" in f["name"].getDebugName(1))
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        out = HERE / "fonts" / name
        font.save(str(out))
        print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(text)} characters)")


if __name__ == "__main__":
    main()
