"""The figures of a leaderboard table, each defined once as a ``spec.Chart`` from the table's
group and rows; the Markdown leaderboard draws them as PNGs (``to_png``), the site as
interactive Plotly figures (``to_plotly``).

A row keeps its colour (``spec.colour`` of its index in ``rows``) in every figure of its
table. A function returns None (an empty dict for the sweeps) when the records lack what
its figure shows.
"""

from __future__ import annotations

from bench import measure
from bench.analysis import efficiency, rowstats
from bench.publish.charts import data
from bench.publish.charts.spec import GREY, Axis, Chart, Heatmap, Panel, Rule, Series, colour
from bench.records import number


def short_title(group: rowstats.Group) -> str:
    """The table's title without the hardware, for figures too narrow for it."""
    return f"{group.dataset}, {group.profile} profile, {group.device}"


def _colour(rows: list[rowstats.Row], row: rowstats.Row) -> str:
    return colour(next(i for i, r in enumerate(rows) if r is row))


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


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


def _fmt(v) -> str:
    v = number(v)
    return "-" if v is None else f"{v:.2f}"


def accuracy_vs_throughput(group: rowstats.Group, rows: list[rowstats.Row]) -> Chart | None:
    """Test accuracy % (error bars: the row's 95% interval) against large-batch inference
    images/s (log x), a point per row with both numbers, and the Pareto front
    (``data.pareto_front``) as a step line."""
    usable = [
        r
        for r in rows
        if number(r.values.get("infer_ips")) and number(r.values.get("accuracy")) is not None
    ]
    if not usable:
        return None
    series, ends = [], []
    for r in usable:
        x, y = float(r.values["infer_ips"]), float(r.values["accuracy"])
        minus, plus = _error(y, r.accuracy_low, r.accuracy_high)
        ends += [y - minus, y + plus]
        hover = (
            f"{r.label}<br>accuracy {y:.2f}%{_interval(r.accuracy_low, r.accuracy_high)}"
            f" ({r.interval or 'no'} interval, {_seeds(r.n)})<br>{x:,.0f} img/s"
        )
        series.append(
            Series(
                r.label,
                [x],
                [y],
                "points",
                _colour(rows, r),
                size=8,
                err=([minus], [plus]),
                hover=[hover],
            )
        )
    pts = [(s.x[0], s.y[0]) for s in series]
    front = data.pareto_front(pts)
    series.append(
        Series(
            "Pareto front",
            [pts[i][0] for i in front],
            [pts[i][1] for i in front],
            "step",
            GREY,
            marker="open",
            size=12,
            hover=[f"Pareto front: {usable[i].label}" for i in front],
        )
    )
    xs = [p[0] for p in pts]
    pad = max(0.2, (max(ends) - min(ends)) * 0.12)
    return Chart(
        "pareto",
        f"Accuracy vs inference throughput — {short_title(group)}",
        "Test accuracy (95% interval) against large-batch inference throughput; the line is the "
        "Pareto front. Click a legend entry to hide a model.",
        [
            Panel(
                Axis(
                    "inference throughput, images/s (large batch, log scale)",
                    log=True,
                    range=(min(xs) / 2, max(xs) * 3),
                ),
                Axis("test accuracy, %", range=(min(ends) - pad, min(100.0, max(ends) + pad))),
                series,
            )
        ],
        name_points=True,
        legend="lower left",
    )


def time_to_accuracy(group: rowstats.Group, rows: list[rowstats.Row]) -> Chart | None:
    """Validation accuracy % against training seconds (log x) of each row's first seed
    (``measure.record_curve``, points after 0 s), a line per row, the table's target as a
    dotted rule; the y axis from a little under the target to the top."""
    series, ys = [], []
    for r in rows:
        curve = [
            c for c in measure.record_curve(data.records_of(group, r).iloc[0]) if c["train_s"] > 0
        ]
        if not curve:
            continue
        y = [100 * c["val_accuracy"] for c in curve]
        ys += y
        series.append(
            Series(
                r.label,
                [float(c["train_s"]) for c in curve],
                y,
                "line",
                _colour(rows, r),
                size=8 if len(curve) == 1 else 4,
                hover=[
                    f"{r.label}<br>val accuracy {v:.2f}% after {c['train_s']:,.1f} s (pass {c['pass']})"
                    for v, c in zip(y, curve)
                ],
            )
        )
    if not series:
        return None
    target = 100 * group.tta_target
    return Chart(
        "tta",
        f"Time to accuracy — {short_title(group)}",
        "Validation accuracy against training seconds, each row's first seed.",
        [
            Panel(
                Axis("training seconds (per-pass clock, evaluation excluded; log scale)", log=True),
                Axis(
                    "validation accuracy, %",
                    range=(max(min(ys), target - 5) - 0.5, min(100.0, max(max(ys), target) + 0.3)),
                ),
                series,
                [Rule(target, f"target {target:g}%")],
            )
        ],
        legend="lower right",
    )


def accuracy_vs_parameter(
    group: rowstats.Group, rows: list[rowstats.Row]
) -> dict[tuple[str, str], Chart]:
    """(model, parameter) -> a figure per swept hyper-parameter (``data.sweeps``): per series
    (the other swept values) test accuracy % (error bars: std over seeds) and validation
    accuracy % (dashed) by swept value; log x when the values are positive and span a
    factor of 10 or more."""
    out = {}
    for (model, param), sweep in data.sweeps(group, rows).items():
        series, xs_all = [], []
        for i, (label, points) in enumerate(sorted(sweep.items())):
            points = sorted(
                points, key=lambda p: p[0]
            )  # stable: rows of one value keep their order
            xs = [p[0] for p in points]
            xs_all += xs
            series.append(
                Series(
                    f"{label} test" if label else "test",
                    xs,
                    [number(p[1]) for p in points],
                    colour=colour(i),
                    size=5,
                    err=(
                        [number(p[2]) or 0.0 for p in points],
                        [number(p[2]) or 0.0 for p in points],
                    ),
                    hover=[
                        f"{model} {param}={x:g} {label}<br>test accuracy {_fmt(p[1])}%"
                        + (f" ± {p[2]:.2f} (std over seeds)" if number(p[2]) is not None else "")
                        for x, p in zip(xs, points)
                    ],
                )
            )
            val = [(x, float(p[3])) for x, p in zip(xs, points) if number(p[3]) is not None]
            if val:
                series.append(
                    Series(
                        f"{label} validation" if label else "validation",
                        [v[0] for v in val],
                        [v[1] for v in val],
                        colour=colour(i),
                        marker="x",
                        size=5,
                        dash="dash",
                        hover=[
                            f"{model} {param}={x:g} {label}<br>val accuracy {v:.2f}%"
                            for x, v in val
                        ],
                    )
                )
        log = bool(xs_all) and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 10
        out[(model, param)] = Chart(
            "sweep",
            f"{model}: accuracy vs {param} — {short_title(group)}",
            "Accuracy against a swept hyper-parameter.",
            [
                Panel(
                    Axis(param + (" (log scale)" if log else ""), log=log),
                    Axis("accuracy, %"),
                    series,
                )
            ],
        )
    return out


def per_class_f1(group: rowstats.Group, rows: list[rowstats.Row]) -> Chart | None:
    """Grouped bars: per-class F1 % (``data.per_class_f1``, mean over seeds) of every row
    whose records all hold per-class metrics."""
    have = [r for r in rows if data.has_per_class(group, r)]
    if not have:
        return None
    f1 = data.per_class_f1(group, have)
    classes = [str(c) for c in range(10)]
    series = [
        Series(
            r.label,
            classes,
            [number(v) for v in f1[r.key]],
            "bars",
            _colour(rows, r),
            hover=[
                f"{r.label}<br>class {c}: F1 {_fmt(v)}% (mean over {_seeds(r.n)})"
                for c, v in zip(classes, f1[r.key])
            ],
        )
        for r in have
    ]
    values = [v for s in series for v in s.y if v is not None]
    return Chart(
        "f1",
        f"Per-class F1 — {short_title(group)}",
        "Per-class F1, mean over seeds.",
        [
            Panel(
                Axis("class", categories=classes),
                Axis("F1, %", range=(max(0.0, min(values) - 2.0), 100.0) if values else None),
                series,
            )
        ],
        legend="right",
    )


def training_gflops(group: rowstats.Group, rows: list[rowstats.Row]) -> Chart | None:
    """Per row with a FLOP count: its seeds' training GFLOP/s (small dots) and their mean (a
    diamond, error bar: std over seeds, labelled with "% of peak"); each measured peak of the
    table (``efficiency.roofs``) a horizontal rule; log y."""
    shown = [(r, data.seed_gflops(group, r)) for r in rows]
    shown = [(r, vals) for r, vals in shown if vals]
    if not shown:
        return None
    series, ys = [], []
    for r, vals in shown:
        mean = sum(vals) / len(vals)
        std = (
            (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5 if len(vals) > 1 else 0.0
        )
        pct = number(r.values.get("peak_pct"))
        precision = data.row_precision(group, r)
        share = f"{pct:.1f}% of the {precision} peak" if pct is not None else "no measured peak"
        ys += vals + [mean + std]
        series.append(
            Series(
                r.label,
                [r.label] * len(vals),
                vals,
                "points",
                _colour(rows, r),
                size=5,
                opacity=0.45,
                legend=False,
                group=r.label,
                hover=[f"{r.label}: {v:,.1f} GFLOP/s (one seed)" for v in vals],
            )
        )
        series.append(
            Series(
                r.label,
                [r.label],
                [mean],
                "points",
                _colour(rows, r),
                marker="D",
                size=9,
                err=([min(std, 0.999 * mean)], [std]),
                group=r.label,
                labels=[f"{pct:.1f}% of peak" if pct is not None else ""],
                hover=[
                    f"{r.label} ({precision})<br>training {mean:,.1f} ± {std:,.1f} GFLOP/s (mean ± std "
                    f"over {_seeds(len(vals))}: {', '.join(f'{v:,.1f}' for v in vals)})<br>{share}"
                ],
            )
        )
    roofs = efficiency.roofs(group.ok, group.device)
    rules = [
        Rule(value, f"{name}: {value:,.0f} GFLOP/s", dash=("dash", "dot", "dashdot")[i % 3])
        for i, (name, value) in enumerate(roofs)
    ]
    ys += [value for _, value in roofs]
    labels = [r.label for r, _ in shown]
    return Chart(
        "gflops",
        f"Training GFLOP/s against the measured peaks — {short_title(group)}",
        "Training GFLOP/s of each seed (diamond: mean ± std, with its % of peak) against the host's "
        "measured peaks.",
        [
            Panel(
                Axis("", categories=labels),
                Axis(
                    "training GFLOP/s (training FLOPs x images / train s; log scale)",
                    log=True,
                    range=(min(ys) / 2, max(ys) * 2.5),
                ),
                series,
                rules,
            )
        ],
        note=None if roofs else "no measured peak for this hardware",
        legend="upper right",
    )


def clean_vs_corrupted(group: rowstats.Group, rows: list[rowstats.Row]) -> Chart | None:
    """Per row with a robustness section: accuracy % on the clean base images (circle) and
    the mean over the corruptions (square), each with its 95% interval, joined by a line;
    the first row on top."""
    robust = [
        r
        for r in rows
        if r.robustness is not None and number(r.values.get("corrupted")) is not None
    ]
    if not robust:
        return None
    series, ends = [], []
    for r in robust:
        rb = r.robustness
        points = []  # (value, low, high, marker, hover)
        if number(rb.clean) is not None:
            points.append(
                (
                    float(rb.clean),
                    rb.clean_low,
                    rb.clean_high,
                    "o",
                    f"{r.label}<br>clean {rb.clean:.2f}%{_interval(rb.clean_low, rb.clean_high)}"
                    f" on {rb.n_per_corruption:,} base images",
                )
            )
        corrupted = float(r.values["corrupted"])
        points.append(
            (
                corrupted,
                rb.low,
                rb.high,
                "s",
                f"{r.label}<br>corrupted {corrupted:.2f}%{_interval(rb.low, rb.high)} ({rb.interval})"
                f"<br>mean over {rb.n_corruptions} corruptions of {rb.n_per_corruption:,} images",
            )
        )
        errs = [_error(v, lo, hi) for v, lo, hi, *_ in points]
        ends += [v - m for (v, *_), (m, _) in zip(points, errs)]
        ends += [v + p for (v, *_), (_, p) in zip(points, errs)]
        series.append(
            Series(
                r.label,
                [p[0] for p in points],
                [r.label] * len(points),
                "line",
                _colour(rows, r),
                marker=[p[3] for p in points],
                size=8,
                horizontal=True,
                err=([e[0] for e in errs], [e[1] for e in errs]),
                hover=[p[4] for p in points],
            )
        )
    return Chart(
        "robustness",
        f"Clean vs corrupted (MNIST-C) accuracy, same base images — {short_title(group)}",
        "Clean against corrupted accuracy on the same base images, with 95% intervals.",
        [
            Panel(
                Axis(
                    "test accuracy, % (95% intervals; ● clean base images, ■ mean over the corruptions)",
                    range=(max(0.0, min(ends) - 2.0), min(100.5, max(ends) + 1.0)),
                ),
                Axis("", categories=[r.label for r in robust], reversed=True),
                series,
            )
        ],
        legend="none",
    )


def reliability(group: rowstats.Group, rows: list[rowstats.Row]) -> Chart | None:
    """Reliability diagram of the rows with calibration bins (``data.reliability_bins``,
    summed over seeds): accuracy % against mean confidence % of each non-empty bin, a line
    per row, the diagonal of perfect calibration; below, each bin's images (log scale)."""
    bins = data.reliability_bins(group, rows)
    shown = [r for r in rows if r.key in bins]
    if not shown:
        return None
    lines, counts = [], []
    for r in shown:
        b = bins[r.key]
        k = len(b["count"])
        pts = [
            (j, n, 100 * c, 100 * a)
            for j, (n, c, a) in enumerate(zip(b["count"], b["confidence"], b["accuracy"]))
            if n and c is not None and a is not None
        ]
        ece = number(r.values.get("ece"))
        name = r.label + (f" (ECE {ece:.2f}%)" if ece is not None else "")
        lines.append(
            Series(
                name,
                [p[2] for p in pts],
                [p[3] for p in pts],
                "line",
                _colour(rows, r),
                size=5,
                group=r.label,
                hover=[
                    f"{r.label}<br>confidence {c:.1f}%, accuracy {a:.1f}%<br>{n:,} images in bin "
                    f"{100 * j / k:.1f}–{100 * (j + 1) / k:.1f}%"
                    for j, n, c, a in pts
                ],
            )
        )
        filled = [j for j in range(k) if b["count"][j] > 0]  # a log axis has no room for zero
        counts.append(
            Series(
                name,
                [100 * (j + 0.5) / k for j in filled],
                [b["count"][j] for j in filled],
                "bars",
                _colour(rows, r),
                legend=False,
                group=r.label,
                hover=[
                    f"{r.label}: {b['count'][j]:,} images in bin {100 * j / k:.1f}–"
                    f"{100 * (j + 1) / k:.1f}%"
                    for j in filled
                ],
            )
        )
    return Chart(
        "reliability",
        f"Reliability, bins summed over seeds — {short_title(group)}",
        "Reliability diagram: accuracy against confidence per bin, bins summed over seeds; below, "
        "the images in each bin.",
        [
            Panel(
                Axis("", range=(0, 100)),
                Axis("accuracy in the bin, %", range=(0, 100)),
                lines,
                [Rule((0, 100), "perfect calibration", diagonal=True)],
                weight=3,
            ),
            Panel(
                Axis(
                    "top-label confidence, % (equal-width bins; points at the bin's mean confidence)",
                    range=(0, 100),
                ),
                Axis("images", log=True),
                counts,
            ),
        ],
        stacked=True,
        legend="upper left",
    )


def training_curves(group: rowstats.Group, row: rowstats.Row) -> Chart | None:
    """Loss (log y, left) and accuracy % (right) per training pass of the row's first seed's
    record, training (solid) and validation (dashed); None when its history has no losses."""
    first = data.records_of(group, row).iloc[0]
    history = first["history"]
    if not isinstance(history, list) or not any("loss" in h or "val_loss" in h for h in history):
        return None
    passes = [h.get("pass", h.get("epoch")) for h in history]
    panels = []
    for key, scale, ytitle in (("loss", 1, "loss (log scale)"), ("accuracy", 100, "accuracy, %")):
        series = []
        for i, (prefix, dash, word) in enumerate(
            (("", "solid", "training"), ("val_", "dash", "validation"))
        ):
            values = [number(h.get(prefix + key)) for h in history]
            if all(v is None for v in values):
                continue
            ys = [None if v is None else scale * v for v in values]
            unit = "%" if scale == 100 else ""
            series.append(
                Series(
                    f"{word} {key}",
                    passes,
                    ys,
                    "line",
                    colour(i),
                    size=3,
                    dash=dash,
                    hover=[
                        f"{row.label}<br>pass {p}: {word} {key} "
                        + ("-" if y is None else f"{y:.4g}{unit}")
                        for p, y in zip(passes, ys)
                    ],
                )
            )
        panels.append(
            Panel(
                Axis("pass (epoch; boosting round for trees)"),
                Axis(ytitle, log=key == "loss"),
                series,
            )
        )
    return Chart(
        "curves",
        f"{row.label} — {short_title(group)} (seed {int(first['job.seed'])})",
        "Training curves of its first seed's record.",
        panels,
    )


def confusion(group: rowstats.Group, row: rowstats.Row) -> Chart | None:
    """The row's confusion matrix summed over seeds (``data.confusion_sum``): true class
    down, predicted across, counts written in, colour by log(count)."""
    g = data.records_of(group, row)
    if not data.has_confusion(g):
        return None
    z = [[int(v) for v in line] for line in data.confusion_sum(g).tolist()]
    classes = [str(c) for c in range(len(z))]
    seeds = _seeds(len(g))
    return Chart(
        "confusion",
        f"{row.label} — {group.dataset} test set, {seeds} summed (colour: log scale)",
        "Test images, summed over seeds.",
        [
            Panel(
                Axis("predicted class", categories=classes),
                Axis("true class", categories=classes, reversed=True),
                heatmap=Heatmap(
                    z,
                    [[str(v) if v else "" for v in line] for line in z],
                    f"{row.label}<br>true {{y}}, predicted {{x}}: {{z}} images ({seeds})",
                    colour_title="images (log scale)",
                ),
            )
        ],
    )
