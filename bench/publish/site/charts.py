"""Plotly figures of one leaderboard table for the static site: the matplotlib figures of
``bench.publish.figures`` (drawn by ``plots`` and ``beyond_plots``) made interactive, from the
same inputs (``rows = rowstats.row_stats(group)``) and the same helpers (``figures.sweeps``,
``figures.confusion_sum``, ``figures.reliability_bins``, ``plots.pareto_front``, the rows'
values and intervals), so that a page and the PNGs never disagree on a number.

Each function returns a JSON-able figure dict ``{"data": [...], "layout": {...}}``, or
None (``[]`` for the sweeps) when the records lack the data. Traces are one per row where
that makes sense, named by the row's label so that the legend toggles models; hover text
names the model, the figure and its interval. Layouts carry no plotly template (the page
stays small) and no ``config`` (the page sets it). Numbers are plain floats, never numpy
arrays (which plotly would write as base64), and NaN becomes null.
"""

from __future__ import annotations

import json

from bench import measure
from bench.analysis import rowstats
from bench.publish import figures, plots, robustness_plots
from bench.records import number

MARGIN = {"l": 60, "r": 20, "t": 50, "b": 50}
BLUES = "Blues"
LOG_STOPS = 8  # colour stops of the confusion heatmap's log-like scale
# a row keeps its colour in every figure of a table: its index in the table's rows (tab10, then tab20's light half)
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
GREY = "#444"


def _figure(data: list, layout: dict) -> dict:
    """The figure dict of ``data`` (trace dicts) and ``layout``, validated by plotly's
    graph objects, without the template plotly adds."""
    import plotly.graph_objects as go

    d = json.loads(go.Figure(data=data, layout=layout).to_json())
    d["layout"].pop("template", None)
    return {"data": d["data"], "layout": d["layout"]}


def _layout(title: str, xtitle: str, ytitle: str, **more) -> dict:
    """A plain layout: title, axis titles, small margins, grid lines, closest-point hover."""
    axis = {
        "showgrid": True,
        "gridcolor": "#e5e5e5",
        "zeroline": False,
        "linecolor": "#444",
        "ticks": "outside",
    }
    out = {
        "title": {"text": title, "x": 0.02, "font": {"size": 14}},
        "margin": dict(MARGIN),
        "xaxis": {**axis, "title": {"text": xtitle}},
        "yaxis": {**axis, "title": {"text": ytitle}},
        "hovermode": "closest",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"size": 11},
        "legend": {"font": {"size": 10}},
    }
    for key, value in more.items():
        out[key] = (
            {**out[key], **value}
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _short(group: rowstats.Group) -> str:
    return f"{group.dataset}, {group.profile} profile, {group.device}"


def _records(group: rowstats.Group, row: rowstats.Row):
    """The row's ``ok`` records, sorted by seed."""
    ok = group.ok
    return ok[ok["row.key"] == row.key].sort_values("job.seed")


def _colour(rows: list[rowstats.Row], row: rowstats.Row) -> str:
    return COLOURS[next(i for i, r in enumerate(rows) if r is row) % len(COLOURS)]


def _interval(low, high) -> str:
    low, high = number(low), number(high)
    return f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""


def _error(value: float, low, high) -> tuple[float, float]:
    """(minus, plus) of an asymmetric error bar; 0 where an end is unknown."""
    low, high = number(low), number(high)
    return (
        max(value - low, 0.0) if low is not None else 0.0,
        max(high - value, 0.0) if high is not None else 0.0,
    )


def accuracy_vs_throughput(rows: list[rowstats.Row]) -> dict | None:
    """Test accuracy (%, error bars: the row's 95% interval) against large-batch inference
    images/s (log x), one trace per row with both numbers, and the Pareto front
    (``plots.pareto_front``) as a step line named "Pareto front"; None when no row has both."""
    usable = [
        r
        for r in rows
        if number(r.values.get("infer_ips")) and number(r.values.get("accuracy")) is not None
    ]
    if not usable:
        return None
    data = []
    for r in usable:
        x, y = float(r.values["infer_ips"]), float(r.values["accuracy"])
        minus, plus = _error(y, r.accuracy_low, r.accuracy_high)
        text = (
            f"{r.label}<br>accuracy {y:.2f}%{_interval(r.accuracy_low, r.accuracy_high)}"
            f" ({r.interval or 'no'} interval, {r.n} seed{'s' if r.n != 1 else ''})<br>{x:,.0f} img/s"
        )
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": r.label,
                "x": [x],
                "y": [y],
                "text": [text],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"size": 9, "color": _colour(rows, r)},
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [plus],
                    "arrayminus": [minus],
                    "thickness": 1,
                },
            }
        )
    pts = [(float(r.values["infer_ips"]), float(r.values["accuracy"])) for r in usable]
    front = plots.pareto_front(pts)
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Pareto front",
            "line": {"shape": "hv", "color": GREY, "width": 1.5},
            "marker": {"size": 14, "symbol": "circle-open", "color": GREY},
            "x": [pts[i][0] for i in front],
            "y": [pts[i][1] for i in front],
            "text": [usable[i].label for i in front],
            "hovertemplate": "Pareto front: %{text}<extra></extra>",
        }
    )
    return _figure(
        data,
        _layout(
            "Accuracy vs inference throughput",
            "inference throughput, images/s (large batch, log scale)",
            "test accuracy, %",
            xaxis={"type": "log"},
        ),
    )


def time_to_accuracy(group: rowstats.Group, rows: list[rowstats.Row]) -> dict | None:
    """Validation accuracy (%) against training seconds (log x) of each row's first seed, as
    ``figures`` gives ``plots.time_to_accuracy`` (``measure.record_curve``, points after
    0 s), one line per row, and the table's target as a dotted line; None without curves."""
    data, ys = [], []
    for r in rows:
        curve = [c for c in measure.record_curve(_records(group, r).iloc[0]) if c["train_s"] > 0]
        if not curve:
            continue
        y = [100 * c["val_accuracy"] for c in curve]
        ys += y
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": r.label,
                "x": [float(c["train_s"]) for c in curve],
                "y": y,
                "marker": {"size": 9 if len(curve) == 1 else 5, "color": _colour(rows, r)},
                "line": {"color": _colour(rows, r)},
                "text": [
                    f"{r.label}<br>val accuracy {v:.2f}% after {c['train_s']:,.1f} s (pass {c['pass']})"
                    for v, c in zip(y, curve)
                ],
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    if not data:
        return None
    target = 100 * group.tta_target
    low = max(min(ys), target - 5) - 0.5  # the band plots.time_to_accuracy shows
    high = min(100.0, max(max(ys), target) + 0.3)
    line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": target,
        "y1": target,
        "line": {"color": "#666", "width": 1, "dash": "dot"},
    }
    note = {
        "xref": "paper",
        "x": 0.01,
        "yref": "y",
        "y": target,
        "text": f"target {target:g}%",
        "showarrow": False,
        "yanchor": "bottom",
        "xanchor": "left",
        "font": {"size": 10, "color": "#666"},
    }
    return _figure(
        data,
        _layout(
            f"Time to accuracy — {_short(group)}",
            "training seconds (per-pass clock, evaluation excluded; log scale)",
            "validation accuracy, %",
            xaxis={"type": "log"},
            yaxis={"range": [low, high]},
            shapes=[line],
            annotations=[note],
        ),
    )


def accuracy_vs_parameter(group: rowstats.Group, rows: list[rowstats.Row]) -> list[dict]:
    """One figure per (model, swept hyper-parameter) of ``figures.sweeps``: per series (the
    other swept values) test accuracy % (error bars: std over seeds) and validation
    accuracy % (dashed) by swept value (rows of one value in their order in ``rows``), log x
    when the values are positive and span a factor of 10."""
    out = []
    for (model, param), series in figures.sweeps(group, rows).items():
        data, xs_all = [], []
        for label, points in sorted(series.items()):
            points = sorted(
                points, key=lambda p: p[0]
            )  # stable: rows of one value keep their order
            xs = [p[0] for p in points]
            xs_all += xs
            name = f"{label} test" if label else "test"
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": name,
                    "x": xs,
                    "y": [number(p[1]) for p in points],
                    "error_y": {
                        "type": "data",
                        "array": [number(p[2]) or 0.0 for p in points],
                        "thickness": 1,
                    },
                    "text": [
                        f"{model} {param}={x:g} {label}<br>test accuracy {_fmt(p[1])}%"
                        + (f" ± {p[2]:.2f} (std over seeds)" if number(p[2]) is not None else "")
                        for x, p in zip(xs, points)
                    ],
                    "hovertemplate": "%{text}<extra></extra>",
                }
            )
            val = [(x, p[3]) for x, p in zip(xs, points) if number(p[3]) is not None]
            if val:
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines+markers",
                        "name": f"{label} validation" if label else "validation",
                        "x": [v[0] for v in val],
                        "y": [float(v[1]) for v in val],
                        "line": {"dash": "dash"},
                        "marker": {"symbol": "x"},
                        "text": [
                            f"{model} {param}={x:g} {label}<br>val accuracy {v:.2f}%"
                            for x, v in val
                        ],
                        "hovertemplate": "%{text}<extra></extra>",
                    }
                )
        log = bool(xs_all) and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 10
        out.append(
            _figure(
                data,
                _layout(
                    f"{model}: accuracy vs {param} — {_short(group)}",
                    param + (" (log scale)" if log else ""),
                    "accuracy, %",
                    xaxis={"type": "log" if log else "linear"},
                ),
            )
        )
    return out


def _fmt(v) -> str:
    v = number(v)
    return "-" if v is None else f"{v:.2f}"


def clean_vs_corrupted(rows: list[rowstats.Row]) -> dict | None:
    """Per row with a robustness section (``row.robustness``): accuracy % on the clean base
    images (circle) and mean accuracy % over the corruptions (square), each with its 95%
    interval as error bars (``robustness_plots._errors``), joined by a line; one trace per row,
    the first on top. None when no row has the section."""
    robust = [
        r
        for r in rows
        if r.robustness is not None and number(r.values.get("corrupted")) is not None
    ]
    if not robust:
        return None
    data = []
    for r in robust:
        rb, corrupted = r.robustness, float(r.values["corrupted"])
        xs, cis, symbols, texts = [], [], [], []
        if number(rb.clean) is not None:
            xs.append(float(rb.clean))
            cis.append((number(rb.clean_low), number(rb.clean_high)))
            symbols.append("circle")
            texts.append(
                f"{r.label}<br>clean {rb.clean:.2f}%{_interval(rb.clean_low, rb.clean_high)}"
                f" on {rb.n_per_corruption:,} base images"
            )
        xs.append(corrupted)
        cis.append((number(rb.low), number(rb.high)))
        symbols.append("square")
        texts.append(
            f"{r.label}<br>corrupted {corrupted:.2f}%{_interval(rb.low, rb.high)} ({rb.interval})"
            f"<br>mean over {rb.n_corruptions} corruptions of {rb.n_per_corruption:,} images"
        )
        err = robustness_plots._errors(xs, cis)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": r.label,
                "x": xs,
                "y": [r.label] * len(xs),
                "marker": {"symbol": symbols, "size": 9},
                "line": {"width": 2, "color": _colour(rows, r)},
                "text": texts,
                "hovertemplate": "%{text}<extra></extra>",
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [float(v) for v in err[1]],
                    "arrayminus": [float(v) for v in err[0]],
                    "thickness": 1,
                },
            }
        )
    labels = [r.label for r in robust]
    return _figure(
        data,
        _layout(
            "Clean vs corrupted (MNIST-C) accuracy, same base images",
            "test accuracy, % (95% intervals; ● clean base images, ■ mean over the corruptions)",
            "",
            yaxis={
                "type": "category",
                "categoryorder": "array",
                "categoryarray": labels,
                "autorange": "reversed",
            },
            margin={"l": 160},
            height=140 + 32 * len(robust),
        ),
    )


def reliability(group: rowstats.Group, rows: list[rowstats.Row]) -> dict | None:
    """Reliability diagram of the rows with calibration bins (``figures.reliability_bins``,
    summed over seeds): accuracy % against mean confidence % of each non-empty bin, one
    line per row, the diagonal of perfect calibration; the hover gives each bin's range and
    image count. None when no row has bins."""
    bins = figures.reliability_bins(group, rows)
    shown = [r for r in rows if r.key in bins]
    if not shown:
        return None
    data = []
    for r in shown:
        b = bins[r.key]
        k = len(b["count"])
        pts = [
            (j, n, 100 * c, 100 * a)
            for j, (n, c, a) in enumerate(zip(b["count"], b["confidence"], b["accuracy"]))
            if n and c is not None and a is not None
        ]
        ece = number(r.values.get("ece"))
        texts = [
            f"{r.label}<br>confidence {c:.1f}%, accuracy {a:.1f}%<br>{n:,} images in bin "
            f"{100 * j / k:.1f}–{100 * (j + 1) / k:.1f}%"
            + (f"<br>ECE {ece:.2f}%" if ece is not None else "")
            for j, n, c, a in pts
        ]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": r.label,
                "x": [p[2] for p in pts],
                "y": [p[3] for p in pts],
                "customdata": [p[1] for p in pts],
                "text": texts,
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"size": 6},
                "line": {"color": _colour(rows, r)},
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "perfect calibration",
            "x": [0, 100],
            "y": [0, 100],
            "line": {"color": GREY, "width": 1, "dash": "dot"},
            "hoverinfo": "skip",
        }
    )
    return _figure(
        data,
        _layout(
            f"Reliability, bins summed over seeds — {_short(group)}",
            "top-label confidence, % (points at the bin's mean confidence)",
            "accuracy in the bin, %",
            xaxis={"range": [0, 100]},
            yaxis={"range": [0, 100]},
        ),
    )


def training_curves(group: rowstats.Group, row: rowstats.Row) -> dict | None:
    """Loss (log y, left) and accuracy % (right) per training pass of the row's first seed
    record, training (solid) and validation (dashed), as ``figures`` draws them; None when
    its history has no losses."""
    from plotly.subplots import make_subplots

    first = _records(group, row).iloc[0]
    history = first["history"]
    if not isinstance(history, list) or not any("loss" in h or "val_loss" in h for h in history):
        return None
    passes = [h.get("pass", h.get("epoch")) for h in history]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12)
    for col, key, scale in ((1, "loss", 1), (2, "accuracy", 100)):
        for prefix, dash, word in (("", "solid", "training"), ("val_", "dash", "validation")):
            values = [number(h.get(prefix + key)) for h in history]
            if all(v is None for v in values):
                continue
            ys = [None if v is None else scale * v for v in values]
            unit = "%" if scale == 100 else ""
            fig.add_trace(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{word} {key}",
                    "x": passes,
                    "y": ys,
                    "line": {"dash": dash},
                    "marker": {"size": 4},
                    "text": [
                        f"{row.label}<br>pass {p}: {word} {key} "
                        + ("-" if y is None else f"{y:.4g}{unit}")
                        for p, y in zip(passes, ys)
                    ],
                    "hovertemplate": "%{text}<extra></extra>",
                },
                row=1,
                col=col,
            )
    layout = _layout(
        f"{row.label} — {_short(group)} (seed {int(first['job.seed'])})",
        "pass (epoch; boosting round for trees)",
        "loss (log scale)",
        yaxis={"type": "log"},
    )
    layout["xaxis2"] = {**layout["xaxis"]}
    layout["yaxis2"] = {**layout["xaxis"], "type": "linear", "title": {"text": "accuracy, %"}}
    fig.update_layout(layout)
    return _figure(fig.data, fig.layout)


def _log_colorscale(vmax: float) -> list | str:
    """A colour scale over counts 0..vmax whose colour follows log(count), so that the
    diagonal does not drown every error (``plots.confusion_heatmap`` uses a log norm)."""
    import plotly.colors

    if vmax <= 1:
        return BLUES
    levels = [k / LOG_STOPS for k in range(LOG_STOPS + 1)]  # count vmax ** level
    colours = plotly.colors.sample_colorscale(BLUES, [0.15 + 0.85 * lv for lv in levels])
    return [[0.0, "rgb(255, 255, 255)"]] + [[vmax**lv / vmax, c] for lv, c in zip(levels, colours)]


def confusion(group: rowstats.Group, row: rowstats.Row) -> dict | None:
    """Heatmap of the row's confusion matrix summed over seeds (``figures.confusion_sum``):
    true class down, predicted across, counts written in and in the hover, a log-like
    colour scale; None when its records hold no confusion matrix."""
    g = _records(group, row)
    if "metrics.confusion" not in g.columns or not all(
        isinstance(c, list) for c in g["metrics.confusion"]
    ):
        return None
    cm = figures.confusion_sum(g)
    z = [[int(v) for v in line] for line in cm.tolist()]
    classes = list(range(len(z)))
    vmax = max(max(line) for line in z)
    seeds = f"{len(g)} seed{'s' if len(g) != 1 else ''}"
    cells = {"dtick": 1, "showgrid": False, "constrain": "domain", "ticks": ""}
    data = [
        {
            "type": "heatmap",
            "z": z,
            "x": classes,
            "y": classes,
            "zmin": 0,
            "zmax": max(vmax, 1),
            "colorscale": _log_colorscale(vmax),
            "showscale": False,
            "text": [[str(v) if v else "" for v in line] for line in z],
            "texttemplate": "%{text}",
            "textfont": {"size": 9},
            "xgap": 1,
            "ygap": 1,
            "hovertemplate": f"{row.label}<br>true %{{y}}, predicted %{{x}}: %{{z:,}} images ({seeds})<extra></extra>",
        }
    ]
    return _figure(
        data,
        _layout(
            f"{row.label} — {group.dataset} test set, {seeds} summed (colour: log scale)",
            "predicted class",
            "true class",
            xaxis=dict(cells, range=[-0.5, len(z) - 0.5]),
            yaxis=dict(cells, range=[len(z) - 0.5, -0.5], scaleanchor="x"),
        ),
    )


def per_class_f1(group: rowstats.Group, rows: list[rowstats.Row]) -> dict | None:
    """Grouped bars: per-class F1 % (``figures.per_class_f1``, mean over seeds) of every row
    whose records all hold per-class metrics, one trace per row; None when none does."""
    ok = group.ok
    if "metrics.per_class" not in ok.columns:
        return None
    have = [
        r
        for r in rows
        if all(
            isinstance(p, dict) and all(str(c) in p for c in range(10))
            for p in ok[ok["row.key"] == r.key]["metrics.per_class"]
        )
    ]
    if not have:
        return None
    f1 = figures.per_class_f1(group, have)
    classes = [str(c) for c in range(10)]
    data = [
        {
            "type": "bar",
            "name": r.label,
            "x": classes,
            "y": [number(v) for v in f1[r.key]],
            "text": [
                f"{r.label}<br>class {c}: F1 {_fmt(v)}% (mean over {r.n} seed{'s' if r.n != 1 else ''})"
                for c, v in zip(classes, f1[r.key])
            ],
            "textposition": "none",
            "hovertemplate": "%{text}<extra></extra>",
            "marker": {"color": _colour(rows, r)},
        }
        for r in have
    ]
    values = [v for r in have for v in map(number, f1[r.key]) if v is not None]
    yaxis = {"range": [max(0.0, min(values) - 2.0), 100.0]} if values else {}
    return _figure(
        data,
        _layout(
            f"Per-class F1 — {_short(group)}",
            "class",
            "F1, %",
            barmode="group",
            xaxis={"type": "category"},
            yaxis=yaxis,
        ),
    )
