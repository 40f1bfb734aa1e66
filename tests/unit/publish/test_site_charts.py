"""The site's Plotly figures (``bench.publish.charts.define`` drawn by ``to_plotly``), from the 51 committed MNIST records
(results/runs: 11 + 6 rows, three seeds each, every section) and from one quick digits run
of logreg with a two-point grid (a sweep): every plotted number checked against one worked out here
from the JSON records by hand, and every figure a plain JSON dict."""

from __future__ import annotations

import copy
import itertools
import json
from collections import defaultdict

import numpy as np
import pytest

from bench import records
from bench.analysis import rowstats
from bench.publish.charts import define, to_plotly
from tests.conftest import COMMITTED, run_cli

RUNS = COMMITTED / "runs"


def committed() -> list[dict]:
    """The committed MNIST records (results/runs also holds other datasets' records)."""
    recs = [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]
    return [r for r in recs if r["job"]["dataset"] == "mnist"]


def table(recs: list[dict], profile: str = "full", dataset: str = "mnist"):
    group = next(
        g
        for g in rowstats.groups(records.load(".", recs=recs))
        if g.profile == profile and g.dataset == dataset
    )
    return group, rowstats.row_stats(group)


@pytest.fixture(scope="module")
def full():
    recs = committed()
    return recs, *table(recs)


@pytest.fixture(scope="module")
def by_model(full):
    """row label -> its full-profile ok records, by seed. Each committed MNIST full row is one
    model, so its records are the model's; the label is the model's name, with the parameters
    that differ from the model's defaults today (a recipe changed since the records were made)."""
    recs, _, rows = full
    per_model = defaultdict(list)
    for r in sorted(recs, key=lambda r: r["job"]["seed"]):
        if r["job"]["dataset"] == "mnist" and r["job"]["profile"] == "full" and r["status"] == "ok":
            per_model[r["job"]["model"]].append(r)
    assert len({r.model for r in rows}) == len(rows)
    return {r.label: per_model[r.model] for r in rows}


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """One quick digits run: logreg at C=0.1 and C=1 (a sweep)."""
    out = tmp_path_factory.mktemp("charts")
    proc = run_cli(
        "run",
        "logreg",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--grid",
        "logreg.C=0.1,1",
        "--infer-min-seconds",
        "0.05",
        "--infer-min-repeats",
        "3",
        "--no-save-models",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    recs = records.read_all(out / "runs")
    return recs, *table(recs, "quick", "digits")


def plotly(chart) -> dict | None:
    """The site's figure dict of a chart definition (None for none)."""
    return None if chart is None else to_plotly.figure(chart)


def every_chart(group, rows, row_charts_of=None) -> list:
    """The site's chart definitions of a table (those with data): its table figures, then
    each row's curves and confusion (of the rows ``row_charts_of``, default all)."""
    charts = [
        define.accuracy_vs_throughput(group, rows),
        define.time_to_accuracy(group, rows),
        *define.accuracy_vs_parameter(group, rows).values(),
        define.clean_vs_corrupted(group, rows),
        define.reliability(group, rows),
        define.per_class_f1(group, rows),
    ]
    for r in rows if row_charts_of is None else row_charts_of:
        charts += [define.training_curves(group, r), define.confusion(group, r)]
    return [c for c in charts if c is not None]


def every_figure(group, rows) -> list[dict]:
    return [plotly(c) for c in every_chart(group, rows)]


def outcome_interval(recs) -> tuple[float, float]:
    """The accuracy interval of a row's records (percent) from their outcomes, the writers the
    unit on MNIST's test set (``uncertainty.accuracy_interval``, tested in test_uncertainty)."""
    from bench.analysis.uncertainty import accuracy_interval
    from bench.data import writers
    from bench.measure import correct_mask

    masks = {r["job"]["seed"]: correct_mask(r["outcomes"]) for r in recs}
    w = writers.for_test_set(recs[0]["outcomes"]["test_digest"], recs[0]["outcomes"]["n"])
    ci = accuracy_interval(masks, None if w is None else w.writer)
    return 100 * ci.low, 100 * ci.high


def corrupted_interval(recs) -> tuple[float, float]:
    """The corrupted interval (percent): each seed's (corruptions, base images) outcomes, the
    base images' MNIST writers the unit (the harness's stratified base sample)."""
    from bench.analysis.uncertainty import accuracy_interval
    from bench.data import corrupted, writers
    from bench.data.sampling import stratified_subset
    from bench.measure import correct_mask

    masks = {
        r["job"]["seed"]: np.stack(
            [correct_mask(c["outcomes"]) for c in r["robustness"]["corruptions"].values()]
        )
        for r in recs
    }
    labels = writers.mnist_test().label
    base = corrupted.base_indices(labels, corrupted.N_BASE)
    n = recs[0]["robustness"]["n_per_corruption"]
    if n < len(base):
        base = base[stratified_subset(labels[base], n, seed=corrupted.SEED)]
    ci = accuracy_interval(masks, writers.mnist_test().writer[base])
    return 100 * ci.low, 100 * ci.high


def model_traces(fig, labels) -> dict:
    return {t["name"]: t for t in fig["data"] if t["name"] in labels}


# -- every figure ----------------------------------------------------------------------


# -- accuracy vs throughput --------------------------------------------------------------


def test_throughput_points_are_the_records_means_with_their_intervals(full, by_model):
    _, group, rows = full
    fig = plotly(define.accuracy_vs_throughput(group, rows))
    assert [t["name"] for t in fig["data"]] == [r.label for r in rows] + ["Pareto front"]
    assert [r.label for r in rows] == sorted(
        by_model, key=lambda m: -np.mean([r["metrics"]["accuracy"] for r in by_model[m]])
    )
    for trace in fig["data"][:-1]:
        recs = by_model[trace["name"]]
        acc = [100 * r["metrics"]["accuracy"] for r in recs]
        ips = np.mean([r["timing"]["inference"]["large"]["images_per_s"] for r in recs])
        assert trace["y"] == [pytest.approx(np.mean(acc), abs=1e-9)] and trace["x"] == [
            pytest.approx(ips)
        ]
        low, high = outcome_interval(recs)
        assert trace["error_y"]["arrayminus"][0] == pytest.approx(np.mean(acc) - low, abs=1e-9)
        assert trace["error_y"]["array"][0] == pytest.approx(high - np.mean(acc), abs=1e-9)
        assert trace["hovertext"][0].startswith(
            f"{trace['name']}<br>accuracy {np.mean(acc):.2f}% [{low:.2f}, {high:.2f}]"
        )
        assert f"{ips:,.0f} img/s" in trace["hovertext"][0]
    assert {t["name"] for t in fig["data"][:-1]} >= {"svm", "logreg"}  # identical seeds included
    assert fig["layout"]["xaxis"]["type"] == "log"


def test_the_pareto_trace_is_exactly_the_non_dominated_points(full):
    fig = plotly(define.accuracy_vs_throughput(*full[1:]))
    pts = [(t["x"][0], t["y"][0]) for t in fig["data"][:-1]]
    front = {p for p in pts if not any(q != p and q[0] >= p[0] and q[1] >= p[1] for q in pts)}
    pareto = fig["data"][-1]
    assert set(zip(pareto["x"], pareto["y"])) == front and pareto["x"] == sorted(pareto["x"])
    assert 2 <= len(front) < len(pts) and pareto["line"]["shape"] == "hv"


def row(label: str, acc, ips, low=None, high=None) -> rowstats.Row:
    return rowstats.Row(
        label,
        label,
        label,
        "linear",
        [0],
        {"accuracy": acc, "infer_ips": ips},
        {},
        accuracy_low=low,
        accuracy_high=high,
        interval="wilson",
    )


def test_throughput_one_row_nan_and_rows_without_throughput(full):
    group = full[1]  # for the title only
    one = plotly(define.accuracy_vs_throughput(group, [row("a", 97.5, 1000.0, 97.0, 98.0)]))
    assert [t["name"] for t in one["data"]] == ["a", "Pareto front"]
    assert one["data"][1]["x"] == [1000.0] and one["data"][1]["y"] == [97.5]
    rows = [
        row("a", 97.5, 1000.0),
        row("b", 98.0, None),
        row("c", float("nan"), 50.0),
        row("d", 96.0, float("nan")),
        row("e", 99.0, 10.0),
    ]
    fig = plotly(define.accuracy_vs_throughput(group, rows))
    assert [t["name"] for t in fig["data"]] == ["a", "e", "Pareto front"]
    assert fig["data"][0]["error_y"]["array"] == [0.0]  # no interval: no bar, not a NaN
    assert (
        define.accuracy_vs_throughput(group, rows[1:4]) is None
        and define.accuracy_vs_throughput(group, []) is None
    )


# -- time to accuracy ------------------------------------------------------------------


def test_time_to_accuracy_is_seed_zeros_curve_on_the_records_clock(full, by_model):
    _, group, rows = full
    fig = plotly(define.time_to_accuracy(group, rows))
    assert [t["name"] for t in fig["data"]] == [r.label for r in rows]
    for trace in fig["data"]:
        rec = by_model[trace["name"]][0]
        clock = (
            rec["timing"]["setup_s"]
            + rec["timing"]["unaccounted_s"]
            + np.cumsum([h["train_s"] for h in rec["history"]])
        )
        pts = [
            (c, 100 * h["val_accuracy"])
            for c, h in zip(clock, rec["history"])
            if "val_accuracy" in h
        ]
        if not pts:  # evaluated once, at the end
            pts = [(clock[-1], 100 * rec["metrics"]["val_accuracy"])]
        assert trace["x"] == pytest.approx([p[0] for p in pts]) and trace["y"] == pytest.approx(
            [p[1] for p in pts]
        )
    (line,) = fig["layout"]["shapes"]
    assert (
        line["y0"] == line["y1"] == 99.0 and "target 99%" in fig["layout"]["annotations"][0]["text"]
    )


def test_time_to_accuracy_target_and_no_history():
    recs = committed()
    df = records.load(".", recs=recs)
    df.attrs["tta_target"] = 0.97
    group = next(g for g in rowstats.groups(df) if g.dataset == "mnist" and g.profile == "full")
    fig = plotly(define.time_to_accuracy(group, rowstats.row_stats(group)))
    assert fig["layout"]["shapes"][0]["y0"] == 97.0
    for r in recs:
        r["history"] = []
    assert define.time_to_accuracy(*table(recs)) is None


# -- sweeps ----------------------------------------------------------------------------


# -- clean vs corrupted ----------------------------------------------------------------


def test_clean_and_corrupted_points_with_their_intervals(full, by_model):
    fig = plotly(define.clean_vs_corrupted(*full[1:]))
    rows = full[2]
    assert [t["name"] for t in fig["data"]] == [r.label for r in rows]
    assert fig["layout"]["yaxis"]["categoryarray"] == [r.label for r in rows]
    for trace in fig["data"]:
        recs = by_model[trace["name"]]
        clean = [100 * r["robustness"]["clean_accuracy"] for r in recs]
        corrupted = [100 * r["robustness"]["mean_accuracy"] for r in recs]
        assert trace["x"] == pytest.approx([np.mean(clean), np.mean(corrupted)])
        assert trace["y"] == [trace["name"]] * 2 and trace["marker"]["symbol"] == [
            "circle",
            "square",
        ]
        low, high = corrupted_interval(recs)
        assert trace["error_x"]["arrayminus"][1] == pytest.approx(np.mean(corrupted) - low)
        assert trace["error_x"]["array"][1] == pytest.approx(high - np.mean(corrupted))
        assert (
            f"corrupted {np.mean(corrupted):.2f}% [{low:.2f}, {high:.2f}]" in trace["hovertext"][1]
        )


def test_no_robustness_no_figure_and_a_row_without_clean():
    recs = committed()
    for r in recs:
        r.pop("robustness")
    assert define.clean_vs_corrupted(*table(recs)) is None
    recs = committed()
    for r in recs:
        if r["job"]["model"] == "svm":
            r["robustness"].pop("clean_accuracy")
    svm = model_traces(plotly(define.clean_vs_corrupted(*table(recs))), {"svm"})["svm"]
    assert len(svm["x"]) == 1 and svm["marker"]["symbol"] == ["square"]


# -- reliability -----------------------------------------------------------------------


def test_reliability_points_are_the_bins_summed_over_seeds(full, by_model):
    _, group, rows = full
    fig = plotly(define.reliability(group, rows))
    labels = [r.label for r in rows]
    lines = [t for t in fig["data"] if t["type"] == "scatter" and t.get("legendgroup") in labels]
    counts = {t["legendgroup"]: t for t in fig["data"] if t["type"] == "bar"}
    assert [t["legendgroup"] for t in lines] == labels and list(counts) == labels
    for trace in lines:
        bins = [r["calibration"]["bins"] for r in by_model[trace["legendgroup"]]]
        n = np.sum([b["count"] for b in bins], axis=0)
        filled = [j for j in range(len(n)) if n[j]]
        for key, axis in (("confidence", "x"), ("accuracy", "y")):
            weighted = [
                sum(b["count"][j] * b[key][j] for b in bins if b["count"][j]) / n[j] for j in filled
            ]
            assert trace[axis] == pytest.approx([100 * w for w in weighted])
        bars = counts[trace["legendgroup"]]
        assert bars["y"] == [int(n[j]) for j in filled]
        assert bars["x"] == pytest.approx([100 * (j + 0.5) / len(n) for j in filled])
        assert f"{n[filled[-1]]:,} images in bin" in trace["hovertext"][-1]
        assert bars["yaxis"] == "y2" and bars["showlegend"] is False
    (diagonal,) = [t for t in fig["data"] if t["name"] == "perfect calibration"]
    assert diagonal["x"] == [0, 100] == diagonal["y"]
    assert fig["layout"]["yaxis2"]["type"] == "log"


def test_no_calibration_no_reliability():
    recs = committed()
    for r in recs:
        r.pop("calibration")
    assert define.reliability(*table(recs)) is None


# -- one row's figures -----------------------------------------------------------------


def test_training_curves_of_the_first_seed(full, by_model):
    _, group, rows = full
    cnn = next(r for r in rows if r.model == "cnn-small")
    fig = plotly(define.training_curves(group, cnn))
    rec = by_model["cnn-small"][0]
    traces = {t["name"]: t for t in fig["data"]}
    assert set(traces) == {
        "training loss",
        "validation loss",
        "training accuracy",
        "validation accuracy",
    }
    assert traces["training loss"]["y"] == pytest.approx([h["loss"] for h in rec["history"]])
    assert traces["validation accuracy"]["y"] == pytest.approx(
        [100 * h["val_accuracy"] for h in rec["history"]]
    )
    assert traces["validation accuracy"]["x"] == [h["pass"] for h in rec["history"]]
    assert "seed 0" in fig["layout"]["title"]["text"] and fig["layout"]["yaxis"]["type"] == "log"
    logreg = next(r for r in rows if r.model == "logreg")
    assert define.training_curves(group, logreg) is None  # one pass, no losses
    xgb = plotly(define.training_curves(group, next(r for r in rows if r.model == "xgboost")))
    assert {t["name"] for t in xgb["data"]} == {"validation loss", "validation accuracy"}


def test_confusion_sums_to_the_test_images_times_seeds(full, by_model):
    _, group, rows = full
    for r in rows:
        fig = plotly(define.confusion(group, r))
        (heat,) = fig["data"]
        recs = by_model[r.label]
        assert np.sum(heat["z"]) == recs[0]["data"]["n_test"] * len(recs) == 30000
        assert heat["z"] == np.sum([rec["metrics"]["confusion"] for rec in recs], axis=0).tolist()
        assert heat["text"][0][0] == str(heat["z"][0][0]) and "3 seeds" in heat["hovertemplate"]
        stops = heat["colorscale"]
        assert stops[0][0] == 0.0 and stops[-1][0] == pytest.approx(1.0)
        assert all(a[0] < b[0] for a, b in itertools.pairwise(stops))


def test_no_confusion_matrix_no_heatmap(full):
    _, group, rows = full
    frame = group.frame.copy()
    frame["metrics.confusion"] = None
    bare = rowstats.Group(group.dataset, group.profile, group.device, group.cpu, frame)
    assert define.confusion(bare, rows[0]) is None


# -- per-class F1 ----------------------------------------------------------------------


def test_per_class_f1_bars_are_the_means_over_seeds(full, by_model):
    _, group, rows = full
    fig = plotly(define.per_class_f1(group, rows))
    assert [t["name"] for t in fig["data"]] == [r.label for r in rows] and fig["layout"][
        "barmode"
    ] == "group"
    for trace in fig["data"]:
        recs = by_model[trace["name"]]
        assert trace["x"] == [str(c) for c in range(10)]
        assert trace["y"] == pytest.approx(
            [
                100 * np.mean([r["metrics"]["per_class"][str(c)]["f1"] for r in recs])
                for c in range(10)
            ]
        )
    low = min(v for t in fig["data"] for v in t["y"])
    assert fig["layout"]["yaxis"]["range"] == [pytest.approx(low - 2.0), 100.0]


def test_per_class_f1_without_the_metrics_and_with_nan():
    recs = committed()
    for r in recs:
        r["metrics"].pop("per_class")
    assert define.per_class_f1(*table(recs)) is None
    recs = committed()
    for r in recs:
        if r["job"]["model"] == "svm":
            r["metrics"]["per_class"]["3"]["f1"] = float("nan")
    fig = plotly(define.per_class_f1(*table(recs)))
    svm = model_traces(fig, {"svm"})["svm"]
    assert svm["y"][3] is None and svm["y"][2] is not None
    json.dumps(fig, allow_nan=False)


def test_one_row_table(full):
    recs = [
        copy.deepcopy(r)
        for r in full[0]
        if r["job"]["model"] == "mlp"
        and r["job"]["profile"] == "quick"
        and r["job"].get("precision", "fp32") == "fp32"
    ]  # the committed bf16 mlp is a row of its own
    group, rows = table(recs, "quick")
    assert len(rows) == 1
    figs = every_figure(group, rows)
    assert len(figs) == 7  # every figure but the sweep, one heatmap and one set of curves
    assert [t["name"] for t in figs[0]["data"]] == ["mlp", "Pareto front"]
    assert figs[0]["data"][1]["x"] == figs[0]["data"][0]["x"]
    assert all(json.dumps(f, allow_nan=False) for f in figs)
