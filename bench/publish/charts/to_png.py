"""A ``spec.Chart`` drawn with matplotlib (headless Agg) as one PNG, at the chart kind's fixed
size (``plots.FIGSIZES``) and DPI, written atomically without timestamps, so that the same
chart gives the same bytes (for one matplotlib version).

What the PNG adds to the description, having no hover: the names of a ``name_points``
chart's points written beside them, moved until no two labels overlap."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.publish import plots
from bench.publish.charts.spec import Chart, Panel, Series

MARKERS = {"o": "o", "s": "s", "D": "D", "x": "x", "open": "o"}
DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}
LEGENDS = {
    "right": {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "frameon": False},
    "below": {"loc": "upper center", "bbox_to_anchor": (0.5, -0.12), "ncol": 2, "frameon": False},
}
# label offsets (points) tried in order until a label overlaps no other label or marker
OFFSETS = (
    (6, 4, "left"),
    (6, -11, "left"),
    (-6, 4, "right"),
    (-6, -11, "right"),
    (6, 14, "left"),
    (6, -21, "left"),
    (-6, 14, "right"),
    (-6, -21, "right"),
)


def draw(chart: Chart, path: Path) -> Path:
    """Draw ``chart`` into the PNG file ``path``; returns ``path``."""
    return plots.save(figure(chart), path)


def figure(chart: Chart):
    """``chart`` as a matplotlib figure (the caller saves or closes it)."""
    plt = plots.pyplot()
    n = len(chart.panels)
    weights = [p.weight for p in chart.panels]
    shape, ratios = ((n, 1), "height_ratios") if chart.stacked else ((1, n), "width_ratios")
    fig, axes = plt.subplots(
        *shape,
        figsize=plots.FIGSIZES[chart.kind],
        sharex=chart.stacked,
        squeeze=False,
        gridspec_kw={ratios: weights},
    )
    axes = list(axes.flat)
    for ax, panel in zip(axes, chart.panels):
        _panel(fig, ax, panel, chart)
    if chart.note:
        axes[0].text(
            0.99, 0.98, chart.note, transform=axes[0].transAxes, ha="right", va="top", fontsize=7
        )
    fig.suptitle(chart.title, fontsize=10)
    fig.tight_layout()
    if chart.name_points:
        for ax, panel in zip(axes, chart.panels):
            _name_points(fig, ax, panel)
    return fig


def _positions(values: list, axis) -> np.ndarray:
    """Data coordinates: a category's index on a categorical axis, the number otherwise
    (None: a gap)."""
    if axis.categories is not None:
        return np.array([axis.categories.index(str(v)) for v in values], dtype=float)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _panel(fig, ax, panel: Panel, chart: Chart) -> None:
    if panel.heatmap is not None:
        _heatmap(fig, ax, panel)
    bars = [s for s in panel.series if s.kind == "bars"]
    for s in panel.series:
        xs, ys = _positions(s.x, panel.x), _positions(s.y, panel.y)
        label = s.name if s.legend and not (chart.name_points and s.kind == "points") else None
        if s.kind == "bars":
            _bars(ax, s, xs, ys, bars, panel, label)
        else:
            _points(ax, s, xs, ys, label)
    for rule in panel.rules:
        style = {"ls": DASHES[rule.dash], "color": rule.colour, "lw": 1, "label": rule.label}
        if rule.diagonal:
            ax.plot(rule.value, rule.value, **style)
        else:
            ax.axhline(rule.value, **style)
    _axes(ax, panel)
    handles, _ = ax.get_legend_handles_labels()
    if handles and chart.legend != "none":
        ax.legend(fontsize=7, **LEGENDS.get(chart.legend, {"loc": chart.legend}))


def _bars(ax, s: Series, xs, ys, bars: list[Series], panel: Panel, label) -> None:
    """One series of side-by-side bars: 80% of the spacing between positions shared by the
    panel's bar series, this one at its place among them."""
    spread = np.unique(np.concatenate([_positions(b.x, panel.x) for b in bars]))
    step = float(np.min(np.diff(spread))) if len(spread) > 1 else 1.0
    width = 0.8 * step / len(bars)
    k = next(i for i, b in enumerate(bars) if b is s)
    ax.bar(
        xs + (k - (len(bars) - 1) / 2) * width,
        ys,
        width,
        color=s.colour,
        alpha=s.opacity,
        label=label,
    )


def _points(ax, s: Series, xs, ys, label) -> None:
    """Points, a line or a step line, with error bars and labels above the points."""
    ms = 0.75 * s.size
    marker = s.marker if isinstance(s.marker, list) else [s.marker] * len(xs)
    if s.kind == "step":
        ax.step(xs, ys, where="post", color=s.colour, lw=1.5, label=label, zorder=2)
    elif s.kind == "line":
        ax.plot(xs, ys, DASHES[s.dash], color=s.colour, lw=1.2, label=label, zorder=2)
        label = None
    if s.err is not None:
        minus, plus = np.asarray(s.err[0], float), np.asarray(s.err[1], float)
        key = "xerr" if s.horizontal else "yerr"
        ax.errorbar(
            xs,
            ys,
            fmt="none",
            ecolor=s.colour,
            capsize=3,
            alpha=s.opacity,
            zorder=3,
            **{key: [minus, plus]},
        )
    for i, (x, y, m) in enumerate(zip(xs, ys, marker)):
        face = "none" if m == "open" else s.colour
        ax.plot(
            [x],
            [y],
            ls="none",
            marker=MARKERS[m],
            ms=ms,
            mfc=face,
            mec=s.colour,
            alpha=s.opacity,
            label=label if i == 0 and s.kind == "points" else None,
            zorder=4,
        )
    for x, y, text, up in zip(xs, ys, s.labels or [], (s.err[1] if s.err else [0.0] * len(xs))):
        if text:
            ax.annotate(
                text,
                (x, y + up),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )


def _heatmap(fig, ax, panel: Panel) -> None:
    """Counts as coloured cells (a log norm when asked), each non-empty cell's text written in."""
    from matplotlib.colors import LogNorm

    h = panel.heatmap
    z = np.asarray(h.z, dtype=float)
    top = max(1.0, float(z.max()))
    norm = LogNorm(vmin=0.5, vmax=top) if h.log else None
    image = ax.imshow(np.maximum(z, 0.5) if h.log else z, cmap="Blues", norm=norm)
    for (i, j), v in np.ndenumerate(z):
        if h.text[i][j]:
            dark = v > top**0.7 if h.log else v > top / 2
            ax.text(
                j,
                i,
                h.text[i][j],
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=h.colour_title)


def _axes(ax, panel: Panel) -> None:
    """Titles, scales, ranges, categories and the grid of one panel."""
    for axis, which in ((panel.x, "x"), (panel.y, "y")):
        set_label, set_scale, set_lim, set_ticks = (
            getattr(ax, f"set_{which}label"),
            getattr(ax, f"set_{which}scale"),
            getattr(ax, f"set_{which}lim"),
            getattr(ax, f"set_{which}ticks"),
        )
        if axis.title:
            set_label(axis.title)
        if axis.log:
            set_scale("log")
        if axis.categories is not None:
            long = which == "x" and max((len(c) for c in axis.categories), default=0) > 3
            rotate = {"rotation": 30, "ha": "right"} if long else {}
            set_ticks(range(len(axis.categories)), axis.categories, **rotate)
            n = len(axis.categories)
            low, high = -0.6, n - 0.4
            if panel.heatmap is None:  # imshow already puts row 0 on top
                set_lim((high, low) if axis.reversed else (low, high))
        elif axis.range is not None:
            set_lim(axis.range[::-1] if axis.reversed else axis.range)
    if panel.heatmap is None:
        ax.grid(True, which="both", alpha=0.3)


def _name_points(fig, ax, panel: Panel) -> None:
    """Write each point series' name beside its first point, moving a label that would
    overlap an earlier label or another marker."""
    pts = [
        (s.name, float(s.x[0]), float(s.y[0])) for s in panel.series if s.kind == "points" and s.x
    ]
    renderer = fig.canvas.get_renderer()
    markers = []
    for _, x, y in pts:
        px, py = ax.transData.transform((x, y))
        markers.append((px - 5, py - 5, px + 5, py + 5))
    placed: list[tuple] = []
    for i in sorted(range(len(pts)), key=lambda i: (-pts[i][2], pts[i][1])):
        name, x, y = pts[i]
        others = placed + [m for j, m in enumerate(markers) if j != i]
        for dx, dy, ha in OFFSETS:
            text = ax.annotate(
                name, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize=8, ha=ha
            )
            box = _box(text, renderer)
            if not any(_overlap(box, o) for o in others):
                break
            text.remove()
        else:  # nowhere free: keep the first position
            text = ax.annotate(
                name, (x, y), textcoords="offset points", xytext=OFFSETS[0][:2], fontsize=8
            )
            box = _box(text, renderer)
        placed.append(box)


def _box(text, renderer) -> tuple:
    bb = text.get_window_extent(renderer)
    return (bb.x0, bb.y0, bb.x1, bb.y1)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
