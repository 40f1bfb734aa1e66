"""Time to accuracy: a pure function of a record's history, checked on a synthetic history
and on a real digits run.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.measure.test_time_to_accuracy``."""

from __future__ import annotations

import json

import pytest

from bench import measure, records
from tests.conftest import run_cli
from tests.helpers import board_cells

# the records' clocks and the table's rows are looked at: no saved model, corrupted set or figure
LEAN = (
    "--no-save-models",
    "--robustness",
    "off",
    "--no-plots",
    "--infer-min-seconds",
    "0.05",
    "--infer-min-repeats",
    "3",
)


def test_a_real_run_records_it_and_the_leaderboard_shows_it(tmp_path):
    out = tmp_path / "r"
    proc = run_cli(
        "run",
        "mlp",
        "logreg",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--out",
        str(out),
        *LEAN,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    mlp = recs["mlp"]
    tta = mlp["timing"]["time_to_accuracy"]
    assert set(tta) == {"0.97", "0.98", "0.99", "0.995"}
    timing = mlp["timing"]
    # the one clock, from the other end: train s less teardown less every pass is what came first
    start = timing["fit_s"] - timing["teardown_s"] - sum(h["train_s"] for h in mlp["history"])
    curve = measure.accuracy_curve(mlp["history"], timing["images_processed"], start_s=start)
    assert len(curve) == timing["passes"]  # one point per epoch
    assert curve[0]["train_s"] == pytest.approx(start + mlp["history"][0]["train_s"])
    # the time to the last epoch's accuracy is the train s column less the teardown
    assert curve[-1]["train_s"] == pytest.approx(timing["fit_s"] - timing["teardown_s"])
    assert (
        timing["setup_s"] > 0
    )  # Keras copies the arrays into its pipeline inside fit: on the clock
    assert (
        abs(timing["unaccounted_s"]) < 0.05 * timing["fit_s"]
    )  # and nothing much is left unattributed
    for key, hit in tta.items():
        first = next((c for c in curve if c["val_accuracy"] >= float(key) - 1e-7), None)
        assert hit == first
        if hit:
            assert 0 < hit["train_s"] <= mlp["timing"]["fit_s"]
            assert hit["images"] == pytest.approx(hit["pass"] * mlp["data"]["n_train"])

    low = run_cli("report", "--out", str(out), "--no-plots", "--tta-target", "0.5")
    assert low.returncode == 0, low.stderr
    board = (out / "LEADERBOARD.md").read_text()
    assert "time to 50% (val) s" in board
    cell = board_cells(board, "mlp")["time to 50% (val) s"]
    first = f"{start + mlp['history'][0]['train_s']:.1f}"
    assert cell.strip("*") == first  # the first epoch already passed 50%
    high = run_cli("report", "--out", str(out), "--no-plots", "--tta-target", "1")
    assert "not reached" in (out / "LEADERBOARD.md").read_text() and high.returncode == 0
    assert json.loads(json.dumps(tta)) == tta


def test_target_stops_every_family_that_evaluates_per_pass_and_the_record_says_when(tmp_path):
    out = tmp_path / "t"
    proc = run_cli(
        "run",
        "mlp",
        "xgboost",
        "logreg",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--target",
        "0.8",
        "--out",
        str(out),
        *LEAN,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    for model in ("mlp", "xgboost"):
        rec = recs[model]
        t = rec["timing"]["target"]
        assert rec["job"]["target"] == 0.8
        assert (
            t["applies"]
            and t["stopped_early"]
            and t["at_pass"] == len(rec["history"]) < t["planned_passes"]
        )
        assert (
            rec["history"][-1]["val_accuracy"]
            >= 0.8
            > max([0.0] + [h["val_accuracy"] for h in rec["history"][:-1]])
        )
        per_pass = rec["data"]["n_train"] * (
            1 + rec["job"]["params"].get("shifted_copies", 0)
        )  # xgboost's copies
        assert (
            rec["timing"]["images_processed"] == len(rec["history"]) * per_pass
        )  # passes run, not planned
    assert recs["logreg"]["timing"]["target"] == {
        "value": 0.8,
        "applies": False,
        "stopped_early": False,
        "at_pass": None,
        "planned_passes": None,
    }
    board = (out / "LEADERBOARD.md").read_text()
    assert (
        "| mlp target=0.8 " in board and "--target 0.8" in board
    )  # its own row; the reproduce command says so


def test_bad_target_is_one_line(tmp_path):
    from tests.conftest import assert_one_line_error

    assert_one_line_error(
        run_cli("run", "logreg", "--dataset", "digits", "--target", "99", "--out", str(tmp_path)),
        "--target is a validation accuracy as a fraction",
    )
