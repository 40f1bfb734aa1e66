"""What a figure shows, apart from how it is drawn: the description both renderers read.

A ``Chart`` is a title, a caption and one or more ``Panel``s (side by side or stacked); a
panel has two ``Axis`` and holds ``Series`` (points, lines, steps or bars, each with its
colour, marker, dash, error bars, hover text and labels), reference ``Rule``s and at most one
``Heatmap``. ``to_png`` draws a chart with matplotlib for the Markdown leaderboard, and
``to_plotly`` turns the same chart into the site's interactive figure; neither decides what
is shown, only how (sizes, label placement, hover).

Every number is a plain float or None (a gap); every colour a ``#rrggbb`` string, so both
renderers take them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# a row keeps its colour in every figure of a table: its index in the table's rows (tab10,
# then tab20's light half)
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
)
GREY = "#444444"
KINDS = ("points", "line", "step", "bars")
MARKERS = ("o", "s", "D", "x", "open")  # circle, square, diamond, cross, open circle
DASHES = ("solid", "dash", "dot", "dashdot")


def colour(i: int) -> str:
    """The colour of the ``i``-th row (or series) of a figure."""
    return COLOURS[i % len(COLOURS)]


@dataclass
class Axis:
    """One axis: its title, a log scale, a fixed range (data units; None: fit the data),
    categories in display order (a categorical axis), and ``reversed`` (the first category or
    the smallest value at the top or right)."""

    title: str = ""
    log: bool = False
    range: tuple[float, float] | None = None
    categories: list[str] | None = None
    reversed: bool = False


@dataclass
class Series:
    """One named series of a panel.

    ``kind``: ``points`` (markers only), ``line`` (markers joined), ``step`` (a step line
    rising at each x, with open markers) or ``bars`` (the bars of one series; the series of
    a panel stand side by side in each category). ``marker`` is one of ``MARKERS`` or a list
    of them, one per point. ``err``: (minus, plus) lengths of the error bar at each point,
    along the value axis (y, or x when ``horizontal``). ``hover``: a text per point for an
    interactive view. ``labels``: a short text drawn above each point in every view.
    ``legend``: whether the legend names the series; ``group``: series toggled together."""

    name: str
    x: list
    y: list
    kind: str = "line"
    colour: str | None = None
    marker: str | list[str] = "o"
    size: float = 6.0
    dash: str = "solid"
    opacity: float = 1.0
    err: tuple[list[float], list[float]] | None = None
    hover: list[str] | None = None
    labels: list[str] | None = None
    legend: bool = True
    group: str | None = None
    horizontal: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"series kind {self.kind!r}: expected one of {KINDS}")
        if len(self.x) != len(self.y):
            raise ValueError(
                f"series {self.name!r}: {len(self.x)} x values, {len(self.y)} y values"
            )


@dataclass
class Rule:
    """A reference line across a panel: ``y = value`` (``diagonal``: y = x over ``value``'s
    range ``(low, high)``), named ``label`` in the legend or beside the line."""

    value: float | tuple[float, float]
    label: str
    dash: str = "dot"
    colour: str = GREY
    diagonal: bool = False


@dataclass
class Heatmap:
    """A matrix of counts drawn as coloured cells: ``z[i][j]`` at row ``i`` (the y category)
    and column ``j``; ``text`` written in each cell; ``hover`` a template naming the cell
    (``{x}``, ``{y}``, ``{z}``); ``log``: colour by log(count), so that large counts do not
    drown the small ones."""

    z: list[list[float]]
    text: list[list[str]]
    hover: str
    log: bool = True
    colour_title: str = ""


@dataclass
class Panel:
    """One set of axes: its series, rules and heatmap; ``weight`` its share of the figure
    along the direction panels are laid out."""

    x: Axis
    y: Axis
    series: list[Series] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    heatmap: Heatmap | None = None
    weight: float = 1.0


@dataclass
class Chart:
    """A figure: ``kind`` names its size in the PNG renderer (``plots.FIGSIZES``) and its
    file name; ``panels`` side by side (``stacked=False``) or one above the other sharing
    the x axis; ``note`` a line written in the corner of the first panel; ``name_points``:
    write each point series' name beside its point where the view has no hover (the PNG)."""

    kind: str
    title: str
    caption: str
    panels: list[Panel]
    stacked: bool = False
    note: str | None = None
    name_points: bool = False
    legend: str = "best"  # best | right (outside the axes) | below
