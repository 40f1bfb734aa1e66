"""The site's Plotly figures (``bench.publish.charts.define`` drawn by ``to_plotly``), from the 51 committed MNIST records
(results/runs: 11 + 6 rows, three seeds each, every section) and from one quick digits run
of logreg with a two-point grid (a sweep): every plotted number checked against one worked out here
from the JSON records by hand, and every figure a plain JSON dict.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.publish.test_site_charts``."""

from __future__ import annotations

import copy
import json

import pytest

from bench.publish.charts import define
from tests.unit.publish.test_site_charts import (  # noqa: F401 (fixtures)
    digits,
    every_figure,
    full,
    plotly,
    table,
)


def test_every_figure_is_plain_json_with_titles_and_no_template(full, digits):
    figs = every_figure(*full[1:]) + every_figure(*digits[1:])
    # full: five table figures, no sweep, 11 heatmaps, curves but for logreg and svm (no losses);
    # digits: six with the sweep, 2 heatmaps, no curves
    assert len(figs) == (5 + 11 + 9) + (6 + 2)
    for fig in figs:
        text = json.dumps(fig, allow_nan=False)  # NaN would be invalid JSON on the page
        assert (
            set(fig) == {"data", "layout"}
            and "template" not in fig["layout"]
            and "bdata" not in text
        )
        axes = [v for k, v in fig["layout"].items() if k.startswith("xaxis")]
        assert fig["layout"]["title"]["text"] and any(a["title"]["text"] for a in axes)
        assert max(fig["layout"]["margin"].values()) <= 160
        assert json.loads(text) == fig


def test_one_sweep_figure_per_swept_parameter(digits, full):
    recs, group, rows = digits
    (fig,) = map(plotly, define.accuracy_vs_parameter(group, rows).values())
    logreg = sorted((r["job"]["params"]["C"], r) for r in recs if r["job"]["model"] == "logreg")
    test, val = fig["data"]
    assert (test["name"], val["name"]) == ("test", "validation") and test["x"] == [0.1, 1.0] == val[
        "x"
    ]
    assert test["y"] == pytest.approx([100 * r["metrics"]["accuracy"] for _, r in logreg])
    assert val["y"] == pytest.approx([100 * r["metrics"]["val_accuracy"] for _, r in logreg])
    assert test["error_y"]["array"] == [0.0, 0.0]  # one seed: no spread
    assert (
        fig["layout"]["xaxis"]["type"] == "log"
        and "accuracy vs C" in fig["layout"]["title"]["text"]
    )
    assert define.accuracy_vs_parameter(*full[1:]) == {}  # one configuration per model: no sweep


def test_rows_at_one_swept_value_keep_their_order(digits):
    """Two more C=1 rows (other thread counts: rows of their own). The first has the same
    accuracy, no std (one seed) and no validation accuracy: its point differs from the
    original's only by a None against a number (a TypeError for a sort of whole points).
    The second is a point worse: at C=1 the points stay in the rows' order, best first."""
    recs = copy.deepcopy(digits[0])
    base = next(r for r in recs if r["job"]["params"]["C"] == 1)
    twins = [copy.deepcopy(base), copy.deepcopy(base)]
    for i, twin in enumerate(twins):
        twin["job"]["threads"] = (base["job"].get("threads") or 1) + 5 + i
        twin["run_id"] += f"-twin{i}"
    twins[0]["metrics"].pop("val_accuracy")
    twins[1]["metrics"]["accuracy"] -= 0.01
    group, rows = table([*recs, *twins], "quick", "digits")
    assert len(rows) == 4
    c_of = {r.key: group.ok[group.ok["row.key"] == r.key].iloc[-1]["job.params"]["C"] for r in rows}
    order = sorted(rows, key=lambda r: c_of[r.key])  # stable: the C=1 rows in the table's order
    (fig,) = map(plotly, define.accuracy_vs_parameter(group, rows).values())
    test, val = fig["data"]
    assert test["x"] == [float(c_of[r.key]) for r in order] == [0.1, 1.0, 1.0, 1.0]
    assert test["y"] == pytest.approx([r.values["accuracy"] for r in order])
    assert test["y"][1] == test["y"][2] == pytest.approx(100 * base["metrics"]["accuracy"])
    assert test["y"][3] == pytest.approx(
        100 * base["metrics"]["accuracy"] - 1
    )  # worst last, not sorted by y
    assert test["error_y"]["array"] == [0.0] * 4
    assert val["x"] == [0.1, 1.0, 1.0]  # the first twin has no validation point
    assert val["y"] == pytest.approx(
        [r.values["val_accuracy"] for r in order if r.values.get("val_accuracy")]
    )
