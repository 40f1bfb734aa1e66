"""A ``spec.Chart`` as the site's interactive Plotly figure: a JSON-able dict ``{"data":
[...], "layout": {...}}`` validated by plotly's graph objects.

What the site adds to the description: hover text (each series' ``hover``), a legend that
toggles series (those of one ``group`` together), and a page-width layout. Layouts carry no
plotly template (the page stays small) and no ``config`` (the page sets it); numbers are
plain floats, never numpy arrays (which plotly would write as base64), and NaN becomes null.
"""

from __future__ import annotations

import json
import math

from bench.publish.charts.spec import GREY, Axis, Chart, Heatmap, Panel, Series

MARGIN = {"l": 60, "r": 20, "t": 50, "b": 50}
SYMBOLS = {"o": "circle", "s": "square", "D": "diamond", "x": "x", "open": "circle-open"}
BLUES = "Blues"
LOG_STOPS = 8  # colour stops of a heatmap's log-like scale
AXIS = {
    "showgrid": True,
    "gridcolor": "#e5e5e5",
    "zeroline": False,
    "linecolor": "#444",
    "ticks": "outside",
}


def figure(chart: Chart) -> dict:
    """The Plotly figure dict of ``chart``: one subplot per panel, side by side or stacked."""
    from plotly.subplots import make_subplots

    n = len(chart.panels)
    weights = [p.weight / sum(q.weight for q in chart.panels) for p in chart.panels]
    if chart.stacked:
        fig = make_subplots(
            rows=n, cols=1, shared_xaxes=True, row_heights=weights, vertical_spacing=0.06
        )
    else:
        fig = make_subplots(rows=1, cols=n, column_widths=weights, horizontal_spacing=0.12)
    shapes, notes = [], []
    for i, panel in enumerate(chart.panels):
        at = {"row": i + 1, "col": 1} if chart.stacked else {"row": 1, "col": i + 1}
        for trace in _traces(panel):
            fig.add_trace(trace, **at)
        suffix = "" if i == 0 else str(i + 1)
        fig.update_xaxes(_axis(panel.x, panel, "x"), **at)
        fig.update_yaxes(_axis(panel.y, panel, "y"), **at)
        for rule in panel.rules:
            if not rule.diagonal:
                shapes.append(_rule_line(rule, suffix))
                notes.append(_rule_note(rule, suffix, panel.y.log))
    if chart.note:
        notes.append(_note(chart.note, "paper", 0.99, "paper", 0.99))
    fig.update_layout(_layout(chart, shapes, notes))
    return _plain(fig)


def _plain(fig) -> dict:
    d = json.loads(fig.to_json())
    d["layout"].pop("template", None)
    return {"data": d["data"], "layout": d["layout"]}


def _layout(chart: Chart, shapes: list, notes: list) -> dict:
    """Title, small margins, closest-point hover, grouped bars; a chart with a categorical
    y axis of rows grows with them."""
    out = {
        "title": {"text": chart.title, "x": 0.02, "font": {"size": 14}},
        "margin": dict(MARGIN),
        "hovermode": "closest",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"size": 11},
        "legend": {"font": {"size": 10}},
        "barmode": "group",
        "shapes": shapes,
        "annotations": notes,
    }
    rows = chart.panels[0].y.categories
    if rows is not None and chart.panels[0].heatmap is None:
        out["height"] = 140 + 32 * len(rows)
        out["margin"]["l"] = 160
    return out


def _traces(panel: Panel) -> list[dict]:
    out = [_heatmap(panel.heatmap, panel)] if panel.heatmap is not None else []
    out += [_bar(s) if s.kind == "bars" else _scatter(s) for s in panel.series]
    out += [
        {
            "type": "scatter",
            "mode": "lines",
            "name": rule.label,
            "x": list(rule.value),
            "y": list(rule.value),
            "line": {"color": rule.colour, "width": 1, "dash": rule.dash},
            "hoverinfo": "skip",
        }
        for rule in panel.rules
        if rule.diagonal
    ]
    return out


def _common(s: Series) -> dict:
    out = {"name": s.name, "x": list(s.x), "y": list(s.y), "showlegend": s.legend}
    if s.group is not None:
        out["legendgroup"] = s.group
    if s.hover is not None:
        out |= {"hovertext": list(s.hover), "hovertemplate": "%{hovertext}<extra></extra>"}
    else:
        out["hoverinfo"] = "skip"
    return out


def _scatter(s: Series) -> dict:
    """Points, a line (``hv`` steps for a step line), error bars on the value axis, labels
    above the points."""
    symbol = [SYMBOLS[m] for m in s.marker] if isinstance(s.marker, list) else SYMBOLS[s.marker]
    mode = "markers" if s.kind == "points" else "lines+markers"
    out = _common(s) | {
        "type": "scatter",
        "mode": mode + ("+text" if s.labels else ""),
        "marker": {"size": s.size, "color": s.colour, "symbol": symbol, "opacity": s.opacity},
    }
    if s.kind != "points":
        out["line"] = {"color": s.colour, "dash": s.dash, "width": 1.5} | (
            {"shape": "hv"} if s.kind == "step" else {}
        )
    if s.labels:
        out |= {"text": list(s.labels), "textposition": "top center"}
    if s.err is not None:
        out["error_x" if s.horizontal else "error_y"] = {
            "type": "data",
            "symmetric": False,
            "array": [float(v) for v in s.err[1]],
            "arrayminus": [float(v) for v in s.err[0]],
            "thickness": 1,
        }
    return out


def _bar(s: Series) -> dict:
    return _common(s) | {"type": "bar", "marker": {"color": s.colour, "opacity": s.opacity}}


def _heatmap(h: Heatmap, panel: Panel) -> dict:
    vmax = max(max(line) for line in h.z)
    template = h.hover.replace("{x}", "%{x}").replace("{y}", "%{y}").replace("{z}", "%{z:,}")
    return {
        "type": "heatmap",
        "z": h.z,
        "x": panel.x.categories,
        "y": panel.y.categories,
        "zmin": 0,
        "zmax": max(vmax, 1),
        "colorscale": _log_colorscale(vmax) if h.log else BLUES,
        "showscale": False,
        "text": h.text,
        "texttemplate": "%{text}",
        "textfont": {"size": 9},
        "xgap": 1,
        "ygap": 1,
        "hovertemplate": template + "<extra></extra>",
    }


def _log_colorscale(vmax: float) -> list | str:
    """A colour scale over counts 0..vmax whose colour follows log(count)."""
    import plotly.colors

    if vmax <= 1:
        return BLUES
    levels = [k / LOG_STOPS for k in range(LOG_STOPS + 1)]  # count vmax ** level
    colours = plotly.colors.sample_colorscale(BLUES, [0.15 + 0.85 * lv for lv in levels])
    return [[0.0, "rgb(255, 255, 255)"]] + [[vmax**lv / vmax, c] for lv, c in zip(levels, colours)]


LONG_LABEL = 12  # characters: category labels longer than this are set upright


def _axis(axis: Axis, panel: Panel, which: str) -> dict:
    """One axis: type (log, category or linear), title, range (log10 on a log axis), order.
    Tick labels never overlap: a log axis spanning a decade or more labels its decades only
    (Plotly's default also labels 2-9 within them, which collide near the next decade),
    and long category labels on an x axis are set upright."""
    out = dict(AXIS, title={"text": axis.title}, automargin=True)
    if axis.categories is not None:
        out |= {"type": "category", "categoryorder": "array", "categoryarray": axis.categories}
        long = max((len(str(c)) for c in axis.categories), default=0) > LONG_LABEL
        if which == "x" and long and panel.heatmap is None:
            out["tickangle"] = -90
        if panel.heatmap is not None:  # square cells, row 0 on top
            n = len(axis.categories)
            out |= {"dtick": 1, "showgrid": False, "constrain": "domain", "ticks": ""}
            out["range"] = [n - 0.5, -0.5] if axis.reversed else [-0.5, n - 0.5]
            if which == "y":
                out["scaleanchor"] = "x"
        elif axis.reversed:
            out["autorange"] = "reversed"
        return out
    out["type"] = "log" if axis.log else "linear"
    if axis.range is not None:
        low, high = (math.log10(v) for v in axis.range) if axis.log else axis.range
        out["range"] = [high, low] if axis.reversed else [low, high]
        if axis.log and high - low >= 1:
            out |= {"dtick": 1, "minor": {"showgrid": True, "gridcolor": "#f2f2f2"}}
    return out


def _rule_line(rule, suffix: str) -> dict:
    return {
        "type": "line",
        "xref": f"x{suffix} domain",
        "x0": 0,
        "x1": 1,
        "yref": f"y{suffix}",
        "y0": rule.value,
        "y1": rule.value,
        "line": {"color": rule.colour, "width": 1.2, "dash": rule.dash},
    }


def _rule_note(rule, suffix: str, log: bool) -> dict:
    # on a log axis Plotly places annotations at log10 of the value (shapes take the value itself)
    y = math.log10(rule.value) if log else rule.value
    return _note(rule.label, f"x{suffix} domain", 0.99, f"y{suffix}", y) | {"yanchor": "bottom"}


def _note(text: str, xref: str, x: float, yref: str, y: float) -> dict:
    return {
        "xref": xref,
        "x": x,
        "yref": yref,
        "y": y,
        "text": text,
        "showarrow": False,
        "xanchor": "right",
        "font": {"size": 10, "color": GREY},
    }
