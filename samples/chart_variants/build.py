"""Raster-chart variants: the replica's own figure data (samples/builder/figures) drawn other ways, with
their truth, to show the raster reader on charts it was not tuned on.

Each variant draws one figure with samples/builder/charts.py and then restyles it: another palette,
another font, another resolution (96–300 dpi), JPEG compression, labels inside the bars, labels large
enough to run into each other, slanted category names, a pie labelled outside on leader lines. The
variants are typeset one per page into a PDF the way the report carries its charts (caption, image,
数据来源 line), so they are read by the same extraction as the report.

    python -m samples.chart_variants.build OUT_DIR [--only NAME ...]

Nothing built is committed: the benchmark and the tests build what they read. The fonts are subsets
bundled beside this file (make_fonts.py), so a build needs no system CJK fonts.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle, Wedge
from matplotlib.text import Annotation, Text
from PIL import Image

from samples.builder import charts

HERE = Path(__file__).resolve().parent
FONT_FILES = {
    "sans": HERE / "fonts" / "NotoSansCJKsc-charts.otf",
    "serif": HERE / "fonts" / "NotoSerifCJKsc-charts.otf",
}
FIRST_NUMBER = 90  # captions 图90-1 …: no clash with a report's own numbering

# Palettes in the replica's order: bars, stack segments, lines, pie slices.
PALETTES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "replica": (charts.BAR_COLORS, charts.STACK_COLORS, charts.LINE_COLORS, charts.PIE_COLORS),
    "tab10": (
        ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"),
        ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"),
        ("#9467bd", "#8c564b", "#e377c2"),
        ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22"),
    ),
    "warm": (
        ("#B03A2E", "#E59866", "#F4D03F", "#7B7D7D"),
        ("#7D3C98", "#BB8FCE", "#E8DAEF", "#D5D8DC", "#F5B041"),
        ("#1A5276", "#117A65", "#6E2C00"),
        ("#B03A2E", "#E59866", "#F4D03F", "#7D3C98", "#BB8FCE", "#117A65", "#1A5276", "#7B7D7D"),
    ),
    "grey": (
        ("#3A3A3A", "#8A8A8A", "#BDBDBD", "#5E5E5E"),
        ("#2E2E2E", "#6F6F6F", "#A8A8A8", "#CFCFCF", "#4F4F4F"),
        ("#C0392B", "#1A5276", "#117A65"),
        ("#2E2E2E", "#555555", "#7C7C7C", "#A3A3A3", "#C9C9C9", "#444444", "#909090", "#B5B5B5"),
    ),
}


@dataclass(frozen=True)
class Variant:
    name: str
    figure: str  # a figure id of samples/builder/figures
    palette: str = "replica"
    font: str = "sans"
    dpi: int = 200
    jpeg: int | None = None  # JPEG quality; None keeps PNG
    labels_inside: bool = False  # bar labels in the middle of their bars
    label_pt: float | None = None  # data labels this large (neighbours run into each other)
    rotate: int = 0  # category names slanted by this many degrees
    leader_lines: bool = False  # a pie's numbers outside it, on leader lines


VARIANTS: tuple[Variant, ...] = (
    Variant("bar-line tab10 150dpi", "图1-1", palette="tab10", dpi=150),
    Variant("bar-line serif 96dpi", "图1-2", font="serif", dpi=96),
    Variant("bar-line warm jpeg75", "图1-6", palette="warm", jpeg=75),
    Variant("bar-line labels inside", "图7-2", labels_inside=True),
    Variant("bar-line grey 300dpi", "图9-1", palette="grey", dpi=300),
    Variant("bar slanted 45", "图15-1", rotate=45),
    Variant("bar-line slanted regions", "图12-2", rotate=30, dpi=150),
    Variant("grouped labels inside serif", "图1-9", labels_inside=True, font="serif"),
    Variant("grouped overlapping labels", "图4-1", label_pt=10.5),
    Variant("grouped-line jpeg85 120dpi", "图3-1", jpeg=85, dpi=120),
    Variant("stacked warm", "图4-2", palette="warm"),
    Variant("stacked 96dpi jpeg80", "图6-2", dpi=96, jpeg=80),
    Variant("stacked-line tab10 serif", "图14-1", palette="tab10", font="serif"),
    Variant("stacked-line thin caps 300dpi", "图15-3", dpi=300),
    Variant("stacked-line grey", "图14-4", palette="grey", dpi=150),
    Variant("structure vector data as raster", "图1-4", palette="tab10", jpeg=90),
    Variant("line two series warm", "图13-1", palette="warm", dpi=150),
    Variant("line 11 years slanted", "图13-2", rotate=45, dpi=200),
    Variant("bar-line 11 sectors slanted", "图13-5", rotate=40),
    Variant("pie leader lines", "图13-4", leader_lines=True),
    Variant("pie leader lines tab10 serif", "图12-3", leader_lines=True, palette="tab10", font="serif"),
    Variant("pie 120dpi jpeg80", "图13-4", dpi=120, jpeg=80, palette="warm"),
)


def register_fonts() -> dict[str, str]:
    """Font family name per variant font, from the bundled subsets."""
    names = {}
    for key, path in FONT_FILES.items():
        font_manager.fontManager.addfont(str(path))
        names[key] = font_manager.FontProperties(fname=str(path)).get_name()
    return names


def render(variant: Variant, spec: charts.FigureSpec, family: str) -> tuple[bytes, str]:
    """The variant's image bytes and its format ("png" or "jpeg")."""
    with matplotlib.rc_context({"font.sans-serif": [family], "font.family": "sans-serif"}):
        figure = charts.draw(spec)
        for text in figure.findobj(Text):
            text.set_fontfamily(family)
        _restyle(figure, variant, spec)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=variant.dpi, metadata={"Software": None})
    if variant.jpeg is None:
        return buffer.getvalue(), "png"
    out = io.BytesIO()
    Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").save(out, format="JPEG", quality=variant.jpeg)
    return out.getvalue(), "jpeg"


def _restyle(figure: Figure, variant: Variant, spec: charts.FigureSpec) -> None:
    recolor = _color_map(variant.palette)
    for artist in figure.findobj(lambda a: isinstance(a, Rectangle | Wedge) and a.get_visible()):
        face = to_hex(artist.get_facecolor(), keep_alpha=False)
        if face in recolor:
            artist.set_facecolor(recolor[face])
    for line in figure.findobj(matplotlib.lines.Line2D):
        for getter, setter in (("get_color", "set_color"), ("get_markerfacecolor", "set_markerfacecolor")):
            color = to_hex(getattr(line, getter)(), keep_alpha=False)
            if color in recolor:
                getattr(line, setter)(recolor[color])
                line.set_markeredgecolor(recolor[color])
    for ax in figure.axes:
        for text in list(ax.texts):
            color = to_hex(text.get_color(), keep_alpha=False)
            if color in recolor:  # a line's labels, in a darker shade of the line
                text.set_color(recolor[color])
            under = _patch_under(ax, text)
            if under is not None and not variant.labels_inside:
                text.set_color(charts._ink_on(to_hex(under.get_facecolor(), keep_alpha=False)))
            if variant.label_pt and isinstance(text, Annotation):
                text.set_fontsize(variant.label_pt)
        if variant.labels_inside:
            _labels_inside(ax)
        if variant.rotate:
            for label in ax.get_xticklabels():
                label.set_rotation(variant.rotate)
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
        if variant.leader_lines and spec.kind == "pie":
            _leader_lines(ax, spec)


def _color_map(palette: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for old, new in zip(PALETTES["replica"], PALETTES[palette], strict=True):
        for a, b in zip(old, new, strict=False):
            out.setdefault(to_hex(a), to_hex(b))
    for old, new in zip(PALETTES["replica"][2], PALETTES[palette][2], strict=False):
        out.setdefault(to_hex(charts._darker(old)), to_hex(charts._darker(new)))
    return out


def _patch_under(ax: matplotlib.axes.Axes, text: Text) -> Rectangle | Wedge | None:
    """The bar, segment or slice a label is printed inside, if any."""
    if isinstance(text, Annotation) and text.get_anncoords() != "data":
        return None
    x, y = text.get_position()
    for p in ax.patches:
        if isinstance(p, Rectangle) and p.get_x() <= x <= p.get_x() + p.get_width():
            if p.get_y() <= y <= p.get_y() + p.get_height():
                return p
        if isinstance(p, Wedge) and math.hypot(x, y) <= p.r:
            angle = math.degrees(math.atan2(y, x)) % 360
            if (angle - p.theta1) % 360 <= (p.theta2 - p.theta1) % 360:
                return p
    return None


def _labels_inside(ax: matplotlib.axes.Axes) -> None:
    """Bar labels (annotations at a bar's end) moved to the middle of their bars."""
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() != 0]
    for text in ax.texts:
        if not isinstance(text, Annotation):
            continue
        x, y = text.xy
        bar = next(
            (
                b
                for b in bars
                if abs(b.get_x() + b.get_width() / 2 - x) < 1e-6 and abs(b.get_y() + b.get_height() - y) < 1e-6
            ),
            None,
        )
        if bar is None:
            continue
        text.xy = (x, bar.get_y() + bar.get_height() / 2)
        text.set_position((0, 0))
        text.set_verticalalignment("center")
        text.set_color(charts._ink_on(to_hex(bar.get_facecolor(), keep_alpha=False)))
        if bar.get_width() < 0.3:
            text.set_rotation(90)


def _leader_lines(ax: matplotlib.axes.Axes, spec: charts.FigureSpec) -> None:
    """A pie's numbers moved outside it, each joined to its slice by a thin line."""
    series = spec.series[0]
    values = {series.label(v) for v in series.values}
    for text in [t for t in ax.texts if t.get_text() in values]:
        text.remove()
    wedges = [p for p in ax.patches if isinstance(p, Wedge)]
    for wedge, value in zip(wedges, series.values, strict=True):
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        cos, sin = math.cos(angle), math.sin(angle)
        ax.annotate(
            series.label(value),
            xy=(0.92 * cos, 0.92 * sin),
            xytext=(1.32 * cos, 1.32 * sin),
            ha="left" if cos >= 0 else "right",
            va="center",
            fontsize=charts.LABEL_PT + 0.5,
            color=charts.TEXT_COLOR,
            arrowprops={"arrowstyle": "-", "color": "#595959", "lw": 0.6, "shrinkA": 0, "shrinkB": 0},
        )
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.35, 1.35)


def build(out_dir: Path, variants: Sequence[Variant] = VARIANTS) -> tuple[Path, dict]:
    """Render the variants, typeset them into ``out_dir/chart_variants.pdf`` and write their truth
    (``truth.json``, the shape of samples/truth's figures). Returns the PDF's path and the truth."""
    import weasyprint

    out_dir.mkdir(parents=True, exist_ok=True)
    families = register_fonts()
    specs = {f.id: f for f in charts.load_figures()}
    blocks, figures = [], []
    for k, variant in enumerate(variants, start=1):
        spec = specs[variant.figure]
        data, fmt = render(variant, spec, families[variant.font])
        name = f"variant-{k:02d}.{'jpg' if fmt == 'jpeg' else 'png'}"
        (out_dir / name).write_bytes(data)
        number = f"{FIRST_NUMBER}-{k}"
        truth = asdict(charts.to_truth(spec))
        truth.update(id=f"图{number}", render="raster", variant=asdict(variant))
        figures.append(truth)
        blocks.append(
            f"<section><p class='caption'>图{number} {html.escape(spec.title)}</p>"
            f"<img src='{name}' alt=''><p class='source'>{html.escape(truth['source_note'])}</p></section>"
        )
    page = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@font-face {{ font-family: VariantSans; src: url("{FONT_FILES['sans'].as_uri()}"); }}
@page {{ size: A4; margin: 25mm 25mm; }}
body {{ font-family: VariantSans; font-size: 10.5pt; }}
section {{ page-break-after: always; }}
.caption {{ text-align: center; margin: 0 0 4mm; }}
img {{ width: 150mm; }}
.source {{ font-size: 9pt; margin: 2mm 0 0; }}
</style></head><body>{''.join(blocks)}</body></html>"""
    pdf = out_dir / "chart_variants.pdf"
    weasyprint.HTML(string=page, base_url=str(out_dir)).write_pdf(pdf)
    truth = {"id": "chart_variants", "pdf": pdf.name, "figures": figures}
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return pdf, truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="*", help="variant names to build (default: all)")
    args = parser.parse_args(argv)
    chosen = [v for v in VARIANTS if not args.only or v.name in args.only]
    pdf, truth = build(args.out_dir, chosen)
    print(f"{pdf}: {len(truth['figures'])} charts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
