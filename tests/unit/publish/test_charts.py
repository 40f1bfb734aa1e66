"""Each figure defined once (``bench.publish.charts``): every chart of the committed MNIST
tables, drawn by both renderers, shows each of its series' numbers in both (the matplotlib
artists and the Plotly traces), and the description refuses what no renderer can draw."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from bench.publish import plots
from bench.publish.charts import define, spec, to_plotly, to_png
from tests.unit.publish.test_site_charts import every_chart, full, table  # noqa: F401 (fixtures)


def _numbers(values) -> list[float]:
    return [
        float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))
    ]


def _mpl_values(ax, axis: str) -> list[float]:
    """Every number the axes' lines and bars show along ``axis`` ("x" or "y")."""
    out = []
    for artist in ax.get_children():
        if isinstance(artist, Line2D):
            out += list(artist.get_xdata() if axis == "x" else artist.get_ydata())
        elif isinstance(artist, Rectangle) and artist.get_width() and artist.get_height():
            out.append(
                artist.get_x() + artist.get_width() / 2 if axis == "x" else artist.get_height()
            )
    return [float(v) for v in out if np.isfinite(v)]


def test_both_renderers_show_every_series_of_every_chart(full):  # noqa: F811
    _, group, rows = full
    charts = [define.training_gflops(group, rows), *every_chart(group, rows, rows[:3])]
    kinds = {c.kind for c in charts}
    assert kinds == {
        "pareto",
        "tta",
        "gflops",
        "robustness",
        "reliability",
        "f1",
        "curves",
        "confusion",
    }
    for chart in charts:
        fig = to_png.figure(chart)
        try:
            axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][: len(chart.panels)]
            traces = to_plotly.figure(chart)["data"]
            for ax, panel in zip(axes, chart.panels):
                shown_y = _mpl_values(ax, "y")
                for s in panel.series:
                    mine = [t for t in traces if t["name"] == s.name and t["x"] == list(s.x)]
                    assert mine and mine[0]["y"] == list(s.y), (chart.kind, s.name)
                    if s.horizontal or panel.y.categories is not None:
                        continue  # categories on the value axis: positions, checked by x
                    for v in _numbers(s.y):
                        assert any(math.isclose(v, w, rel_tol=1e-9) for w in shown_y), (
                            chart.kind,
                            s.name,
                            v,
                        )
                if panel.heatmap is not None:
                    (image,) = ax.get_images()
                    assert np.array_equal(
                        np.asarray(image.get_array()), np.maximum(panel.heatmap.z, 0.5)
                    )
                    (heat,) = [t for t in traces if t["type"] == "heatmap"]
                    assert heat["z"] == panel.heatmap.z
        finally:
            plots.pyplot().close(fig)


def test_a_chart_draws_to_the_same_bytes_twice_at_its_kinds_size(full, tmp_path):  # noqa: F811
    _, group, rows = full
    chart = define.reliability(group, rows)
    a = to_png.draw(chart, tmp_path / "a.png").read_bytes()
    b = to_png.draw(chart, tmp_path / "b.png").read_bytes()
    assert a == b
    w, h = plots.FIGSIZES["reliability"]
    assert int.from_bytes(a[16:20], "big") == round(w * plots.DPI)
    assert int.from_bytes(a[20:24], "big") == round(h * plots.DPI)


def test_a_point_series_is_named_beside_its_point_in_the_png_only(full):  # noqa: F811
    _, group, rows = full
    chart = define.accuracy_vs_throughput(group, rows)
    fig = to_png.figure(chart)
    try:
        texts = {t.get_text() for t in fig.axes[0].texts}
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    finally:
        plots.pyplot().close(fig)
    assert {r.label for r in rows} <= texts and legend == ["Pareto front"]
    traces = to_plotly.figure(chart)["data"]
    assert all("text" not in t for t in traces)  # the site names them in the legend and hover


def test_a_rule_on_a_log_axis_is_placed_at_its_value():
    chart = spec.Chart(
        "gflops",
        "t",
        "c",
        [
            spec.Panel(
                spec.Axis("x", categories=["a"]),
                spec.Axis("y", log=True, range=(1.0, 1000.0)),
                [spec.Series("a", ["a"], [10.0], "points")],
                [spec.Rule(100.0, "peak")],
            )
        ],
    )
    fig = to_plotly.figure(chart)
    (shape,) = fig["layout"]["shapes"]
    (note,) = fig["layout"]["annotations"]
    assert shape["y0"] == 100.0 and note["y"] == pytest.approx(2.0)  # plotly: log10 for notes
    assert fig["layout"]["yaxis"]["range"] == [pytest.approx(0.0), pytest.approx(3.0)]
    png = to_png.figure(chart)
    try:
        ax = png.axes[0]
        assert ax.get_yscale() == "log" and ax.get_ylim() == pytest.approx((1.0, 1000.0))
        assert [tuple(line.get_ydata()) for line in ax.lines if line.get_label() == "peak"] == [
            (100.0, 100.0)
        ]
    finally:
        plots.pyplot().close(png)


def test_the_description_refuses_what_no_renderer_draws():
    with pytest.raises(ValueError, match="kind 'pie'"):
        spec.Series("a", [1], [2], "pie")
    with pytest.raises(ValueError, match="2 x values, 1 y values"):
        spec.Series("a", [1, 2], [3])


def test_gaps_and_an_empty_panel_draw_in_both():
    chart = spec.Chart(
        "sweep",
        "t",
        "c",
        [
            spec.Panel(
                spec.Axis("x"),
                spec.Axis("y"),
                [spec.Series("a", [1.0, 2.0, 3.0], [1.0, None, 3.0], colour=spec.colour(0))],
            ),
        ],
    )
    fig = to_plotly.figure(chart)
    assert fig["data"][0]["y"] == [1.0, None, 3.0]
    png = to_png.figure(chart)
    try:
        ys = [line.get_ydata() for line in png.axes[0].lines if line.get_label() == "a"]
        assert np.isnan(ys[0][1]) and list(ys[0][[0, 2]]) == [1.0, 3.0]
    finally:
        plots.pyplot().close(png)
    empty = spec.Chart("sweep", "t", "c", [spec.Panel(spec.Axis("x"), spec.Axis("y"))])
    assert to_plotly.figure(empty)["data"] == []
    plots.pyplot().close(to_png.figure(empty))
