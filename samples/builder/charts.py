"""Charts of the annual-report replica: load the figure data (figures/*.toml), draw it, describe it as truth.

One drawing routine serves every figure: the figure's ``kind`` and each series' ``chart_type`` and ``axis``
decide what is drawn where, so a new figure needs data, never code. PNG and SVG come from the same drawing,
so the raster and the vector replica of a figure differ only in how the PDF carries them.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from samples.builder.truth import ORIGINS, FigureTruth, PointTruth, SeriesTruth

FIGURE_DIR = Path(__file__).resolve().parent / "figures"

KINDS = (
    "bar_line",
    "stacked_bar",
    "stacked_bar_line",
    "grouped_bar",
    "grouped_bar_line",
    "pie",
    "bar",
    "line",
)
CHART_TYPES = ("bar", "line", "stacked_bar", "pie")
AXES = ("primary", "secondary")
RENDERS = ("raster", "vector")

# Which series types each kind may hold; catches a figure whose kind says one thing and series another.
_KIND_CHART_TYPES: dict[str, frozenset[str]] = {
    "bar": frozenset({"bar"}),
    "grouped_bar": frozenset({"bar"}),
    "line": frozenset({"line"}),
    "bar_line": frozenset({"bar", "line"}),
    "grouped_bar_line": frozenset({"bar", "line"}),
    "stacked_bar": frozenset({"stacked_bar"}),
    "stacked_bar_line": frozenset({"stacked_bar", "line"}),
    "pie": frozenset({"pie"}),
}
_FIGURE_KEYS = {"id", "title", "source_note", "kind", "render", "categories", "series"}
_SERIES_KEYS = {"name", "unit", "chart_type", "axis", "decimals", "values", "origin", "basis"}
_ID_RE = re.compile(r"^图(\d+)-(\d+)$")

FONT = "Noto Sans CJK SC"
SIZE_CM = (15.0, 8.0)
# A sober palette in the blue-and-orange manner of MOFCOM report charts.
BAR_COLORS = ("#1F5AA6", "#7FA7D9", "#F2A03D", "#8C8C8C")
STACK_COLORS = ("#1F5AA6", "#5B8FD0", "#A8C6EB", "#D4D4D4", "#F2A03D")
LINE_COLORS = ("#E0701B", "#B22222", "#4E9A3A")
PIE_COLORS = ("#1F5AA6", "#5B8FD0", "#A8C6EB", "#F2A03D", "#F7C98B", "#8C8C8C", "#C9C9C9", "#3E7C3A")
TEXT_COLOR = "#262626"
GRID_COLOR = "#D9D9D9"
LABEL_PT = 7.0
TICK_PT = 8.0

# Bars keep to the lower part of the plot and lines on their own axis to a band above them, so the two
# sets of data labels never land on each other; these are fractions of the axes height.
BAR_TOP = 0.60
BAR_TOP_ROTATED = 0.52
LINE_BAND = (0.70, 0.90)


class FigureDataError(ValueError):
    """A figures/*.toml entry that cannot be drawn or trusted as truth."""


# Builds the error for one figure or series, with its file and id in the message.
Fail = Callable[[str], FigureDataError]


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    unit: str
    chart_type: str
    axis: str
    decimals: int
    values: tuple[float, ...]
    origin: tuple[str, ...]
    basis: tuple[str, ...]

    def label(self, value: float) -> str:
        text = f"{value:.{self.decimals}f}"
        # A value that rounds to zero would otherwise print as "-0.0".
        return text[1:] if text.startswith("-") and float(text) == 0 else text


@dataclass(frozen=True)
class FigureSpec:
    id: str
    title: str
    source_note: str
    kind: str
    render: str
    categories: tuple[str, ...]
    series: tuple[SeriesSpec, ...]
    source: Path

    @property
    def number(self) -> tuple[int, int]:
        match = _ID_RE.match(self.id)
        assert match is not None  # ids are checked on load
        return int(match.group(1)), int(match.group(2))


# ---------------------------------------------------------------------------------------------- loading


def load_figures(directory: Path = FIGURE_DIR) -> list[FigureSpec]:
    """Every figure of every ``*.toml`` in ``directory``, validated, in figure-number order."""
    figures: list[FigureSpec] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as handle:
            try:
                data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                raise FigureDataError(f"{path.name}: not valid TOML: {exc}") from exc
        for index, raw in enumerate(data.get("figure", [])):
            fig = _parse_figure(raw, path, index)
            if fig.id in seen:
                raise FigureDataError(f"{path.name}: {fig.id}: id already used in {seen[fig.id].name}")
            seen[fig.id] = path
            figures.append(fig)
    return sorted(figures, key=lambda f: f.number)


def _parse_figure(raw: dict[str, Any], path: Path, index: int) -> FigureSpec:
    where = f"{path.name}: {raw.get('id', f'figure #{index + 1}')}"

    def fail(message: str) -> FigureDataError:
        return FigureDataError(f"{where}: {message}")

    _check_keys(raw, _FIGURE_KEYS, fail, "figure")
    fig_id = _str(raw["id"], "id", fail)
    if not _ID_RE.match(fig_id):
        raise fail(f"id {fig_id!r} is not of the form 图N-M")
    kind = _choice(raw["kind"], KINDS, "kind", fail)
    render = _choice(raw["render"], RENDERS, "render", fail)
    categories = tuple(_str(c, "categories", fail) for c in _list(raw["categories"], "categories", fail))
    if not categories:
        raise fail("categories is empty")
    series = tuple(
        _parse_series(s, len(categories), f"{where}: series #{i + 1}")
        for i, s in enumerate(_list(raw["series"], "series", fail))
    )
    if not series:
        raise fail("no series")
    types = {s.chart_type for s in series}
    if not types <= _KIND_CHART_TYPES[kind]:
        raise fail(f"kind {kind!r} cannot hold series of type {sorted(types - _KIND_CHART_TYPES[kind])}")
    if kind == "pie" and len(series) != 1:
        raise fail("a pie has exactly one series")
    _check_shares(series, categories, fail)
    return FigureSpec(
        id=fig_id,
        title=_str(raw["title"], "title", fail),
        source_note=_str(raw["source_note"], "source_note", fail),
        kind=kind,
        render=render,
        categories=categories,
        series=series,
        source=path,
    )


def _parse_series(raw: Any, length: int, where: str) -> SeriesSpec:
    if not isinstance(raw, dict):
        raise FigureDataError(f"{where}: not a table")

    def fail(message: str) -> FigureDataError:
        return FigureDataError(f"{where} ({raw.get('name')!r}): {message}")

    _check_keys(raw, _SERIES_KEYS, fail, "series")
    decimals = raw["decimals"]
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 4:
        raise fail(f"decimals {decimals!r} is not an integer 0…4")
    values = []
    for v in _list(raw["values"], "values", fail):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise fail(f"value {v!r} is not a finite number")
        values.append(float(v))
    origin = tuple(_choice(o, ORIGINS, "origin", fail) for o in _list(raw["origin"], "origin", fail))
    basis = tuple(_str(b, "basis", fail, allow_empty=True) for b in _list(raw["basis"], "basis", fail))
    for field_name, seq in (("values", values), ("origin", origin), ("basis", basis)):
        if len(seq) != length:
            raise fail(f"{field_name} has {len(seq)} entries, categories has {length}")
    for i, (o, b) in enumerate(zip(origin, basis, strict=True)):
        # A stated or reconstructed point is only checkable if it says where it came from.
        if o != "illustrative" and not b.strip():
            raise fail(f"point #{i + 1} is {o} but has no basis")
    return SeriesSpec(
        name=_str(raw["name"], "name", fail),
        unit=_str(raw["unit"], "unit", fail),
        chart_type=_choice(raw["chart_type"], CHART_TYPES, "chart_type", fail),
        axis=_choice(raw["axis"], AXES, "axis", fail),
        decimals=decimals,
        values=tuple(values),
        origin=origin,
        basis=basis,
    )


def _check_shares(series: Sequence[SeriesSpec], categories: Sequence[str], fail: Fail) -> None:
    """Stacked bars and pies show structure shares: what is printed must add up to 100."""
    stacked = [s for s in series if s.chart_type == "stacked_bar"]
    if stacked:
        decimals = max(s.decimals for s in stacked)
        for i, category in enumerate(categories):
            total = sum(round(s.values[i], s.decimals) for s in stacked)
            if round(total, decimals) != 100:
                raise fail(f"stacked shares of {category!r} sum to {total:.{decimals}f}, not 100")
    for s in series:
        if s.chart_type == "pie":
            total = sum(round(v, s.decimals) for v in s.values)
            if round(total, s.decimals) != 100:
                raise fail(f"pie shares of {s.name!r} sum to {total:.{s.decimals}f}, not 100")


def _check_keys(raw: dict[str, Any], expected: set[str], fail: Fail, what: str) -> None:
    missing = expected - raw.keys()
    if missing:
        raise fail(f"{what} lacks {sorted(missing)}")
    unknown = raw.keys() - expected
    if unknown:
        raise fail(f"{what} has unknown keys {sorted(unknown)}")


def _str(value: Any, field_name: str, fail: Fail, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise fail(f"{field_name} {value!r} is not a non-empty string")
    return value


def _list(value: Any, field_name: str, fail: Fail) -> list[Any]:
    if not isinstance(value, list):
        raise fail(f"{field_name} is not a list")
    return value


def _choice(value: Any, allowed: Sequence[str], field_name: str, fail: Fail) -> str:
    if value not in allowed:
        raise fail(f"{field_name} {value!r} is not one of {list(allowed)}")
    return str(value)


# ---------------------------------------------------------------------------------------------- truth


def to_truth(fig: FigureSpec) -> FigureTruth:
    return FigureTruth(
        id=fig.id,
        title=fig.title,
        source_note=fig.source_note,
        kind=fig.kind,
        render=fig.render,
        series=[
            SeriesTruth(
                name=s.name,
                unit=s.unit,
                chart_type=s.chart_type,
                axis=s.axis,
                points=[
                    PointTruth(category=c, value=v, decimals=s.decimals, origin=o, basis=b)
                    for c, v, o, b in zip(fig.categories, s.values, s.origin, s.basis, strict=True)
                ],
            )
            for s in fig.series
        ],
    )


# ---------------------------------------------------------------------------------------------- drawing


def _rc() -> dict[str, Any]:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FONT],
        "font.size": TICK_PT,
        "axes.unicode_minus": False,  # a real minus would not match the report's "-17.2"
        # Text stays text in the SVG, so the PDF that embeds it carries the labels as characters.
        "svg.fonttype": "none",
    }


def draw(fig: FigureSpec) -> Figure:
    """The figure drawn, not yet saved, under the replica's style (for builders that restyle it: the
    raster-chart variants of samples/chart_variants)."""
    with matplotlib.rc_context(_rc()):
        return _draw(fig)


def render_png(fig: FigureSpec, path: Path, dpi: int = 200) -> None:
    with matplotlib.rc_context(_rc()):
        drawing = _draw(fig)
        drawing.savefig(path, format="png", dpi=dpi, metadata={"Software": None})


def render_svg(fig: FigureSpec, path: Path) -> None:
    # A fixed salt and no date keep the SVG byte-identical between builds of the same data.
    with matplotlib.rc_context({**_rc(), "svg.hashsalt": fig.id}):
        drawing = _draw(fig)
        drawing.savefig(path, format="svg", metadata={"Date": None})


def _draw(fig: FigureSpec) -> Figure:
    drawing = Figure(figsize=(SIZE_CM[0] / 2.54, SIZE_CM[1] / 2.54), layout="constrained")
    FigureCanvasAgg(drawing)  # the label-fitting below measures text, which needs a renderer
    drawing.get_layout_engine().set(w_pad=0.04, h_pad=0.04)  # type: ignore[union-attr]
    ax = drawing.add_subplot()
    if fig.kind == "pie":
        _draw_pie(fig, ax)
    else:
        _draw_cartesian(fig, ax)
    return drawing


def _draw_pie(fig: FigureSpec, ax: Axes) -> None:
    series = fig.series[0]
    colors = [PIE_COLORS[i % len(PIE_COLORS)] for i in range(len(series.values))]
    wedges, _ = ax.pie(
        series.values,
        colors=colors,
        startangle=90,
        counterclock=False,
        radius=1.0,
        wedgeprops={"linewidth": 1.0, "edgecolor": "white"},
    )
    for wedge, value, color in zip(wedges, series.values, colors, strict=True):
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        # Thin slices get their number outside the pie, where it has room.
        inside = wedge.theta2 - wedge.theta1 >= 25
        radius = 0.68 if inside else 1.16
        ax.text(
            radius * math.cos(angle),
            radius * math.sin(angle),
            series.label(value),
            ha="center",
            va="center",
            fontsize=LABEL_PT + 0.5,
            color=_ink_on(color) if inside else TEXT_COLOR,
        )
    ax.set_aspect("equal")
    ax.legend(
        wedges,
        fig.categories,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        frameon=False,
        fontsize=TICK_PT,
    )
    ax.annotate(
        f"单位：{series.unit}",
        xy=(0, 1),
        xycoords="axes fraction",
        ha="left",
        va="bottom",
        fontsize=TICK_PT,
        color=TEXT_COLOR,
    )


def _draw_cartesian(fig: FigureSpec, ax: Axes) -> None:
    n = len(fig.categories)
    x = list(range(n))
    secondary = ax.twinx() if any(s.axis == "secondary" for s in fig.series) else None
    axes = {"primary": ax, "secondary": secondary}

    bars = [s for s in fig.series if s.chart_type == "bar"]
    stacks = [s for s in fig.series if s.chart_type == "stacked_bar"]
    lines = [s for s in fig.series if s.chart_type == "line"]
    handles: list[Any] = []
    bar_labels: list[Text] = []
    stack_axis = axes[stacks[0].axis] if stacks else None

    group = 0.72 if len(bars) > 1 else 0.5
    width = group / max(len(bars), 1)
    for k, s in enumerate(bars):
        offset = -group / 2 + width * (k + 0.5)
        container = _axis(axes, s).bar(
            [xi + offset for xi in x],
            s.values,
            width=width * 0.92,
            color=BAR_COLORS[k % len(BAR_COLORS)],
            label=s.name,
            zorder=2,
        )
        handles.append(container)
        bar_labels += _label_bars(_axis(axes, s), container, s)

    base = [0.0] * n
    for k, s in enumerate(stacks):
        color = STACK_COLORS[k % len(STACK_COLORS)]
        container = _axis(axes, s).bar(
            x,
            s.values,
            width=0.5,
            bottom=base,
            color=color,
            label=s.name,
            zorder=2,
            edgecolor="white",
            linewidth=0.6,
        )
        handles.append(container)
        base = [b + v for b, v in zip(base, s.values, strict=True)]
    bar_axis = _axis(axes, bars[0]) if bars else stack_axis

    line_axes = {s.axis for s in lines}
    for k, s in enumerate(lines):
        (handle,) = _axis(axes, s).plot(
            x,
            s.values,
            color=LINE_COLORS[k % len(LINE_COLORS)],
            linewidth=1.6,
            marker="o",
            markersize=3.8,
            label=s.name,
            zorder=4,
        )
        handles.append(handle)
    _label_lines(axes, lines)

    # Legend and ticks first: they take room from the plot, and the label fitting below measures the plot.
    ax.figure.legend(
        handles,
        [s.name for s in bars + stacks + lines],
        loc="outside lower center",
        ncol=min(len(handles), 4),
        frameon=False,
        fontsize=TICK_PT,
        handlelength=1.6,
        columnspacing=1.6,
    )
    _style_axes(fig, ax, secondary, x)

    # Scale each axis; bars and lines that share nothing get separate bands of the plot height.
    lines_on_bar_axis = [v for s in lines if axes[s.axis] is bar_axis for v in s.values]
    bar_values = [v for s in bars for v in s.values] + (base if stacks else []) + lines_on_bar_axis
    top = BAR_TOP
    if bar_axis is not None:
        above = bool(lines) and not lines_on_bar_axis
        top = BAR_TOP if above else (0.92 if stacks else 0.85)
        _scale_bars(bar_axis, bar_values, top, share_axis=bool(stacks))
        # Neighbouring labels of grouped bars may not fit side by side: first a smaller size, then upright.
        if _labels_collide(bar_labels):
            for label in bar_labels:
                label.set_fontsize(LABEL_PT - 1)
        if _labels_collide(bar_labels):
            for label in bar_labels:
                label.set_fontsize(LABEL_PT)
                label.set_rotation(90)
            top = BAR_TOP_ROTATED if above else 0.8
            _scale_bars(bar_axis, bar_values, top, share_axis=bool(stacks))
    for name in line_axes:
        line_axis = axes[name]
        assert line_axis is not None
        if line_axis is bar_axis:
            continue
        values = [v for s in lines if s.axis == name for v in s.values]
        if bar_axis is None:
            _scale_band(line_axis, values, (0.12, 0.86), max_ticks=6)
            continue
        # A slightly other bar height or gridline count usually lets the line's ticks land on the gridlines.
        tries = [(n / 100, bins) for n in (0, -1, 1, -2, 2, -3, 3, -4, 4, -6, -8) for bins in (6, 5, 7, 4, 8)]
        for nudge, bins in tries:
            _scale_bars(bar_axis, bar_values, top + nudge, share_axis=bool(stacks), bins=bins)
            if _scale_on_grid(line_axis, values, bar_axis, lowest=top + nudge + 0.06):
                break
        else:
            _scale_bars(bar_axis, bar_values, top, share_axis=bool(stacks))
            _scale_band(line_axis, values, LINE_BAND, max_ticks=3)
    if stacks:
        _label_stacks(_axis(axes, stacks[0]), stacks, handles[len(bars) : len(bars) + len(stacks)])


def _axis(axes: dict[str, Axes | None], s: SeriesSpec) -> Axes:
    axis = axes[s.axis]
    assert axis is not None  # a secondary axis exists whenever a series asks for it
    return axis


def _label_bars(ax: Axes, container: BarContainer, s: SeriesSpec) -> list[Text]:
    return list(
        ax.bar_label(
            container, labels=[s.label(v) for v in s.values], padding=2, fontsize=LABEL_PT, color=TEXT_COLOR
        )
    )


def _label_lines(axes: dict[str, Axes | None], lines: Sequence[SeriesSpec]) -> None:
    """Label every line point, the higher of two lines above its point, the lower below."""
    for i in range(len(lines[0].values) if lines else 0):
        ranked = sorted(lines, key=lambda s: s.values[i], reverse=True)
        for rank, s in enumerate(ranked):
            above = rank == 0 or len(ranked) == 1
            _axis(axes, s).annotate(
                s.label(s.values[i]),
                xy=(i, s.values[i]),
                xytext=(0, 5 if above else -6),
                textcoords="offset points",
                ha="center",
                va="bottom" if above else "top",
                fontsize=LABEL_PT,
                color=_darker(LINE_COLORS[lines.index(s) % len(LINE_COLORS)]),
                zorder=5,
            )


def _label_stacks(ax: Axes, stacks: Sequence[SeriesSpec], containers: Sequence[BarContainer]) -> None:
    """Numbers inside the segments; a segment too thin for its number gets it beside or above the bar."""
    low, high = ax.get_ylim()
    thin = 0.055 * (high - low)
    top_index = len(stacks) - 1
    for k, (s, container) in enumerate(zip(stacks, containers, strict=True)):
        color = STACK_COLORS[k % len(STACK_COLORS)]
        for patch, value in zip(container.patches, s.values, strict=True):
            cx = patch.get_x() + patch.get_width() / 2
            if patch.get_height() >= thin:
                ax.text(
                    cx,
                    patch.get_y() + patch.get_height() / 2,
                    s.label(value),
                    ha="center",
                    va="center",
                    fontsize=LABEL_PT,
                    color=_ink_on(color),
                    zorder=3,
                )
            elif k == top_index:
                ax.annotate(
                    s.label(value),
                    xy=(cx, patch.get_y() + patch.get_height()),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=LABEL_PT,
                    color=TEXT_COLOR,
                )
            else:
                ax.annotate(
                    s.label(value),
                    xy=(patch.get_x() + patch.get_width(), patch.get_y() + patch.get_height() / 2),
                    xytext=(2, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=LABEL_PT - 0.5,
                    color=TEXT_COLOR,
                )


def _labels_collide(labels: Sequence[Text]) -> bool:
    if not labels:
        return False
    figure = labels[0].figure
    assert isinstance(figure, Figure)
    figure.draw_without_rendering()  # lay the figure out first, so the boxes are where they will print
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [t.get_window_extent(renderer).padded(1.0) for t in labels]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def _scale_bars(ax: Axes, values: Sequence[float], top: float, *, share_axis: bool, bins: int = 6) -> None:
    """Put the highest bar at ``top`` of the axes height; the axis starts at zero or below a negative bar."""
    high = max([0.0, *values])
    low = min([0.0, *values])
    bottom = low - 0.06 * (high - low) if low < 0 else 0.0
    ceiling = bottom + (high - bottom) / top if high > bottom else 1.0
    ax.set_ylim(bottom, ceiling)
    if share_axis:
        # Structure shares never exceed 100, so neither should their axis.
        ax.set_yticks(list(range(0, 101, 20)))
        return
    locator = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10])
    ax.set_yticks([t for t in locator.tick_values(bottom, ceiling) if bottom - 1e-9 <= t <= ceiling + 1e-9])


def _scale_on_grid(ax: Axes, values: Sequence[float], grid_axis: Axes, *, lowest: float) -> bool:
    """Scale a line axis so its ticks fall on the bar axis' gridlines and the line runs between ``lowest``
    and the top of LINE_BAND, neither squashed flat nor cut off.

    Two axes sharing one set of gridlines read like a designed chart; ticks of their own at odd heights
    do not. False when no nice step fits, so the caller can try another bar height or fall back.
    """
    grid_low, grid_high = grid_axis.get_ylim()
    ticks = list(grid_axis.get_yticks())
    if len(ticks) < 2:
        return False
    first = (ticks[0] - grid_low) / (grid_high - grid_low)
    spacing = (ticks[1] - ticks[0]) / (grid_high - grid_low)
    low, high = min(values), max(values)
    highest = LINE_BAND[1] + 0.03
    centre, middle = (low + high) / 2, (lowest + highest) / 2
    exponent = math.floor(math.log10(max(high - low, abs(high), 1e-9))) - 2
    for e in range(exponent, exponent + 5):
        for m in (1, 2, 2.5, 5):
            step = m * 10.0**e
            span = step / spacing
            if not 0.4 * (highest - lowest) <= (high - low) / span <= highest - lowest:
                continue
            k0 = round((centre - span * middle + span * first) / step)
            fits = []
            for k in (k0 - 1, k0, k0 + 1):
                bottom = k * step - span * first
                if (low - bottom) / span >= lowest and (high - bottom) / span <= highest:
                    fits.append((abs((centre - bottom) / span - middle), bottom))
            if fits:
                bottom = min(fits)[1]
                ax.set_ylim(bottom, bottom + span)
                # Ticks on the gridlines, from zero (or the lowest negative value) to just below the top.
                floor = min(0.0, math.floor(low / step) * step)
                ks = range(
                    math.ceil(max(bottom, floor) / step - 1e-9), math.floor((bottom + span) / step) + 1
                )
                ax.set_yticks([round(k * step, 10) for k in ks if (k * step - bottom) / span <= 0.97])
                return True
    return False


def _scale_band(ax: Axes, values: Sequence[float], band: tuple[float, float], *, max_ticks: int) -> None:
    """Map the line's range onto ``band`` of the axes height; ticks only where the line runs."""
    low, high = min(values), max(values)
    if math.isclose(low, high):
        pad = max(abs(low), 1.0) * 0.5
        low, high = low - pad, high + pad
    span = (high - low) / (band[1] - band[0])
    bottom = low - band[0] * span
    ax.set_ylim(bottom, bottom + span)
    margin = 0.1 * (high - low)
    ax.set_yticks(_nice_ticks(low - margin, high + margin, max_ticks))


def _nice_ticks(low: float, high: float, max_count: int) -> list[float]:
    """The finest 1-2-2.5-5 step that puts between two and ``max_count`` ticks inside [low, high]."""
    exponent = math.floor(math.log10(high - low)) - 1
    for e in range(exponent, exponent + 4):
        for m in (1, 2, 2.5, 5):
            step = m * 10.0**e
            ticks = [k * step for k in range(math.ceil(low / step), math.floor(high / step) + 1)]
            if 2 <= len(ticks) <= max_count:
                return [round(t, 10) for t in ticks]
    return [low, high]


def _style_axes(fig: FigureSpec, ax: Axes, secondary: Axes | None, x: Sequence[int]) -> None:
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_xticks(list(x), list(fig.categories))
    figure = ax.figure
    assert isinstance(figure, Figure)
    figure.draw_without_rendering()
    room = ax.bbox.width / len(x) * 0.92
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    if any(t.get_window_extent(renderer).width > room for t in ax.get_xticklabels()):
        # Long category names (regions, programmes) break onto two or more lines rather than overlap.
        per_line = max(2, int(room / (TICK_PT * figure.dpi / 72)))
        ax.set_xticks(list(x), [_wrap(c, per_line) for c in fig.categories])
    ax.tick_params(axis="both", length=0, labelsize=TICK_PT, colors=TEXT_COLOR, pad=3)
    ax.tick_params(axis="x", pad=4)
    ax.grid(axis="y", color=GRID_COLOR, linewidth=0.5, zorder=0)
    ax.set_axisbelow(True)
    for name, spine in ax.spines.items():
        spine.set_visible(name == "bottom")
    ax.spines["bottom"].set_color("#595959")
    ax.spines["bottom"].set_linewidth(0.8)
    units = {s.axis: s.unit for s in fig.series}
    _unit_label(ax, units.get("primary", ""), left=True)
    if secondary is not None:
        secondary.tick_params(axis="y", length=0, labelsize=TICK_PT, colors=TEXT_COLOR, pad=3)
        for spine in secondary.spines.values():
            spine.set_visible(False)
        _unit_label(secondary, units.get("secondary", ""), left=False)


def _unit_label(ax: Axes, unit: str, *, left: bool) -> None:
    if unit:
        ax.annotate(
            unit,
            xy=(0 if left else 1, 1),
            xycoords="axes fraction",
            xytext=(-3 if left else 3, 4),
            textcoords="offset points",
            ha="right" if left else "left",
            va="bottom",
            fontsize=TICK_PT,
            color=TEXT_COLOR,
        )


def _wrap(text: str, per_line: int) -> str:
    """Break a label into even lines of at most ``per_line`` CJK-wide characters, not inside ASCII words."""
    tokens = re.findall(r"[A-Za-z0-9.%-]+|.", text)
    widths = [0.55 * len(t) if t.isascii() else 1.0 for t in tokens]
    target = sum(widths) / math.ceil(sum(widths) / per_line)
    lines, width = [""], 0.0
    for token, w in zip(tokens, widths, strict=True):
        if lines[-1] and width + w > target + 0.3:
            lines.append("")
            width = 0.0
        lines[-1] += token
        width += w
    return "\n".join(lines)


def _ink_on(color: str) -> str:
    r, g, b = to_rgb(color)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else TEXT_COLOR


def _darker(color: str) -> str:
    r, g, b = to_rgb(color)
    return "#{:02x}{:02x}{:02x}".format(*(int(c * 0.8 * 255) for c in (r, g, b)))
