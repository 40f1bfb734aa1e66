"""The site's training-efficiency figure: the matplotlib figure ``figures.efficiency_figure``
draws (``plots.training_gflops``) made interactive, from the same inputs (each seed's training
GFLOP/s: ``figures.seed_gflops``, the row's "% of peak" and precision, the table's peaks:
``efficiency.roofs``), in ``charts``' figure-dict form and colours."""

from __future__ import annotations

import math
import statistics

from bench.analysis import efficiency, rowstats
from bench.publish import figures
from bench.publish.site.charts import GREY, _colour, _figure, _layout, _short
from bench.records import number

ROOF_DASH = ("dash", "dot", "dashdot")


def training_gflops(group: rowstats.Group, rows: list[rowstats.Row]) -> dict | None:
    """Per row with a FLOP count, one trace: its seeds' training GFLOP/s as small dots and the
    mean (a diamond, error bar: std over seeds), the hover giving the seeds, the mean, the
    spread and "% of peak" with the peak it divides by; each measured peak of the table a
    horizontal line named in the legend; log y. None when no row has training GFLOP/s."""
    shown = [(r, figures.seed_gflops(group, r)) for r in rows]
    shown = [(r, vals) for r, vals in shown if vals]
    if not shown:
        return None
    data, ys = [], []
    for r, vals in shown:
        mean = statistics.fmean(vals)
        std = statistics.stdev(vals) if len(vals) > 1 else 0.0
        pct = number(r.values.get("peak_pct"))
        precision = figures.row_precision(group, r)
        share = f"{pct:.1f}% of the {precision} peak" if pct is not None else "no measured peak"
        text = (
            f"{r.label} ({precision})<br>training {mean:,.1f} ± {std:,.1f} GFLOP/s (mean ± std over "
            f"{len(vals)} seed{'s' if len(vals) != 1 else ''}: {', '.join(f'{v:,.1f}' for v in vals)})<br>{share}"
        )
        ys += vals + [mean + std]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": r.label,
                "legendgroup": r.label,
                "x": [r.label] * len(vals),
                "y": vals,
                "marker": {"size": 6, "opacity": 0.45, "color": _colour(rows, r)},
                "hovertemplate": f"{r.label}: %{{y:,.1f}} GFLOP/s (one seed)<extra></extra>",
                "showlegend": False,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": r.label,
                "legendgroup": r.label,
                "x": [r.label],
                "y": [mean],
                "text": [f"{pct:.1f}%" if pct is not None else ""],
                "textposition": "top center",
                "hovertext": [text],
                "hovertemplate": "%{hovertext}<extra></extra>",
                "marker": {"size": 11, "symbol": "diamond", "color": _colour(rows, r)},
                "error_y": {
                    "type": "data",
                    "array": [std],
                    "arrayminus": [min(std, 0.999 * mean)],
                    "symmetric": False,
                    "thickness": 1,
                },
            }
        )
    shapes, annotations = [], []
    for i, (name, value) in enumerate(efficiency.roofs(group.ok, group.device)):
        ys.append(value)
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": value,
                "y1": value,
                "line": {"color": GREY, "width": 1.2, "dash": ROOF_DASH[i % len(ROOF_DASH)]},
            }
        )
        # on a log axis Plotly places annotations at log10 of the value (shapes take the value itself)
        annotations.append(
            {
                "xref": "paper",
                "x": 0.99,
                "yref": "y",
                "y": math.log10(value),
                "showarrow": False,
                "text": f"{name}: {value:,.0f} GFLOP/s",
                "xanchor": "right",
                "yanchor": "bottom",
                "font": {"size": 10, "color": GREY},
            }
        )
    if not shapes:
        annotations.append(
            {
                "xref": "paper",
                "x": 0.99,
                "yref": "paper",
                "y": 0.99,
                "showarrow": False,
                "text": "no measured peak for this hardware",
                "xanchor": "right",
                "font": {"size": 10, "color": GREY},
            }
        )
    return _figure(
        data,
        _layout(
            f"Training GFLOP/s against the measured peaks — {_short(group)}",
            "",
            "training GFLOP/s (training FLOPs x images / train s; log scale)",
            xaxis={"type": "category"},
            yaxis={"type": "log", "range": [math.log10(min(ys)) - 0.3, math.log10(max(ys)) + 0.3]},
            shapes=shapes,
            annotations=annotations,
        ),
    )
