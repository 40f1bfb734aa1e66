"""Divergence is a result: a model whose loss becomes NaN/inf gets a complete ``diverged``
record (exit 0), non-finite numbers are stored as null, the tables show it apart, and a job
that ends without a result leaves no model folder and no partial file under ``--out``."""

import copy
import json
import math

import numpy as np
import pytest

from bench import measure, records
from bench.adapters.training_log import TrainingLog
from tests.conftest import run_cli

QUICK = ("--dataset", "digits", "--profile", "quick", "--no-plots")
# Adam's first step moves every weight by about the learning rate: at 1e30 the logits
# overflow float32 in the first epoch, so the loss is NaN from epoch 1 (measured: every
# time, on CPU). Three epochs planned, so stopping after the first one is visible.
DIVERGING = ("mlp", *QUICK, "--set", "mlp.learning_rate=1e30", "--set", "mlp.epochs=3")


def _strict_json(path):
    """Parse ``path`` refusing NaN/Infinity literals, as strict JSON readers do."""

    def refuse(word):
        raise AssertionError(f"{path} holds the non-JSON literal {word}")

    return json.loads(path.read_text(), parse_constant=refuse)


def _leftovers(out):
    """Everything under ``out`` that a finished suite must not leave: partial files and
    model folders (``models/`` itself may stay, empty)."""
    parts = [p for p in out.rglob("*") if p.name.endswith(".part")]
    models = list((out / "models").iterdir()) if (out / "models").is_dir() else []
    return parts + models


# --- the sanitiser, the schema, the metrics, the history ------------------------------------


def test_json_safe_turns_every_non_finite_number_into_null_at_any_depth():
    nan, inf = float("nan"), float("inf")
    value = {
        "a": nan,
        "b": [1.5, inf, {"c": -inf, "d": [[nan, 2]]}],
        "e": (np.float64("nan"), np.float32(2.5)),
        "f": np.array([1.0, np.nan, -np.inf]),
        "g": "nan",
        "h": True,
        "i": None,
        "j": 0,
        "k": -0.0,
        "l": np.int64(7),
        "m": 1e308,
    }
    before = copy.deepcopy(value)
    assert records.json_safe(value) == {
        "a": None,
        "b": [1.5, None, {"c": None, "d": [[None, 2]]}],
        "e": [None, 2.5],
        "f": [1.0, None, None],
        "g": "nan",
        "h": True,
        "i": None,
        "j": 0,
        "k": -0.0,
        "l": 7,
        "m": 1e308,
    }
    assert (
        math.isnan(value["a"]) and value["b"][1] == inf and repr(before) == repr(value)
    )  # input untouched
    out = records.json_safe({"x": [np.float32("inf")]})
    assert out == {"x": [None]} and type(records.json_safe(np.float32(2.5))) is float


def test_a_record_with_nan_is_written_with_nulls(tmp_path):
    rec = records.empty(
        records.new_run_id(),
        {
            "model": "mlp",
            "family": "neural",
            "dataset": "digits",
            "profile": "quick",
            "device": "cpu",
            "seed": 0,
            "params": {},
        },
        "diverged",
        "training diverged at epoch 2: loss nan",
    )
    rec["metrics"] = {
        "accuracy": 0.25,
        "log_loss": float("inf"),
        "macro_f1": 0.1,
        "per_class": {},
        "confusion": [[1]],
    }
    rec["history"] = [{"pass": 1, "loss": 2.3}, {"pass": 2, "loss": float("nan")}]
    stored = _strict_json(records.write(tmp_path, rec))
    assert stored["metrics"]["log_loss"] is None and stored["history"][1]["loss"] is None
    assert stored["history"][0]["loss"] == 2.3 and stored["status"] == "diverged"
    assert records.read_all(tmp_path)[0]["run_id"] == rec["run_id"]


def test_diverged_is_a_status_whose_records_need_their_metrics():
    job = {
        "model": "mlp",
        "family": "neural",
        "dataset": "digits",
        "profile": "quick",
        "device": "cpu",
        "seed": 0,
        "params": {},
    }
    rec = records.empty(records.new_run_id(), job, "diverged", "loss nan")
    with pytest.raises(records.RecordError, match=r"diverged record lacks metrics \['accuracy'"):
        records.validate(rec)
    rec["metrics"] = {
        "accuracy": 0.0,
        "log_loss": 34.5,
        "macro_f1": 0.0,
        "per_class": {},
        "confusion": [],
    }
    assert records.validate(rec) is rec and "diverged" in records.STATUSES


def test_rows_with_non_finite_probabilities_predict_nothing_and_count_wrong():
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    proba = rng.dirichlet(np.ones(10), size=len(y))
    proba[[0, 1, 2]] = np.eye(10)[[0, 1, 2]]  # three sure and right
    proba[3, 4] = np.nan
    proba[4] = np.inf
    proba[5, 0] = -np.inf
    m = measure.classification_metrics(y, proba)
    finite = np.isfinite(proba).all(axis=1)
    pred = np.array([int(np.argmax(row)) if ok else -1 for row, ok in zip(proba, finite)])
    assert measure.predictions(proba).tolist() == pred.tolist() and pred[3:6].tolist() == [
        -1,
        -1,
        -1,
    ]
    assert m["accuracy"] == pytest.approx(np.mean(pred == y)) and m["no_prediction"] == 3
    p, r, f1, support = precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    for c in range(10):
        got = m["per_class"][str(c)]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx(
            (p[c], r[c], f1[c], support[c])
        ), c
    assert m["macro_f1"] == pytest.approx(f1.mean())
    p_true = [proba[i, y[i]] if finite[i] else 0.0 for i in range(len(y))]
    assert m["log_loss"] == pytest.approx(-np.mean(np.log(np.clip(p_true, 1e-15, 1))))
    assert sum(map(sum, m["confusion"])) == len(y) - 3  # rows without a prediction are not in it
    outcomes = measure.test_outcomes(y, proba, "d")
    assert {3, 4, 5} <= set(outcomes["wrong_index"]) and not measure.correct_mask(outcomes)[
        3:6
    ].any()
    assert [w[0] for w in measure.worst_mistakes(y, proba) if w[0] in (3, 4, 5)] == []
    assert "no_prediction" not in measure.classification_metrics(y, np.eye(10)[y])


def test_first_non_finite_pass_is_found_in_the_history():
    log = TrainingLog("epoch")
    log.add(1.0, 0.1, loss=2.0, val_loss=1.9, converged=True)
    assert log.first_non_finite() is None
    log.add(1.0, 0.1, loss=1.0, val_loss=float("inf"))
    log.add(1.0, 0.1, loss=float("nan"), val_loss=float("nan"))
    assert log.first_non_finite() == {"first_pass": 2, "unit": "epoch", "what": "val_loss inf"}
    boosting = TrainingLog("boosting round")
    boosting.add(
        float("nan"), 0.0, val_mlogloss=np.float32("-inf")
    )  # seconds are not what diverges
    assert boosting.first_non_finite() == {
        "first_pass": 1,
        "unit": "boosting round",
        "what": "val_mlogloss -inf",
    }


# --- a real diverging run ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def diverged_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("diverged") / "results"
    proc = run_cli("run", *DIVERGING, "--out", str(out))
    return out, proc


# --- jobs without a result leave nothing behind -----------------------------------------------
