"""The training recipes' moving parts (issue 15): the warm-up + cosine learning-rate
schedule, Keras' steps_per_execution (how the steps reach the graph, never what they
compute), and XGBoost's zero-pixels-as-missing input path, for real on the digits set."""

import numpy as np
import pytest

import models
from bench import preprocess as pp
from models.keras_base import import_keras, learning_rate_schedule


@pytest.fixture(scope="module")
def prepared(digits):
    return pp.prepare(digits.x_train, digits.y_train, digits.x_test, digits.y_test, pp.SplitRule(val_fraction=0.1))


def _lr(schedule, step):
    return float(schedule(step))


def test_warm_up_rises_from_a_tenth_to_the_peak_then_cosine_decays_to_one_percent():
    keras = import_keras()
    params = {"learning_rate": 2e-3, "schedule": "cosine", "warmup": 0.5, "epochs": 4, "batch_size": 100}
    schedule = learning_rate_schedule(keras, params, n_train=1000)  # 10 steps per epoch, 5 warm-up steps
    assert _lr(schedule, 0) == pytest.approx(2e-4)
    assert _lr(schedule, 2) < _lr(schedule, 4) < 2e-3  # rising
    assert _lr(schedule, 5) == pytest.approx(2e-3)
    assert _lr(schedule, 20) < _lr(schedule, 10) < 2e-3  # decaying after the peak
    assert _lr(schedule, 40) == pytest.approx(2e-5, rel=1e-3)  # 1% of the peak at the last step


def test_without_warm_up_the_cosine_starts_at_the_peak():
    keras = import_keras()
    params = {"learning_rate": 1e-3, "schedule": "cosine", "warmup": 0.0, "epochs": 2, "batch_size": 100}
    schedule = learning_rate_schedule(keras, params, n_train=1000)
    assert _lr(schedule, 0) == pytest.approx(1e-3)
    assert _lr(schedule, 20) == pytest.approx(1e-5, rel=1e-3)


def test_constant_rate_and_reference_recipes_without_a_warmup_key():
    keras = import_keras()
    assert learning_rate_schedule(keras, {"learning_rate": 1e-3, "schedule": "constant"}, None) == 1e-3
    with pytest.raises(ValueError, match="warmup needs schedule='cosine'"):
        learning_rate_schedule(keras, {"learning_rate": 1e-3, "schedule": "constant", "warmup": 1.0}, None)
    with pytest.raises(ValueError, match="schedule must be 'cosine' or 'constant', got 'step'"):
        learning_rate_schedule(keras, {"learning_rate": 1e-3, "schedule": "step"}, 1000)


def _fit_mlp(prepared, steps_per_execution):
    cls = models.get("mlp")
    adapter = cls({**cls.defaults["quick"], "epochs": 3, "batch_size": 64, "steps_per_execution": steps_per_execution})
    x_train, x_val, x_test = prepared.views(cls.view)
    adapter.prepare(n_train=len(x_train), seed=3)
    training = adapter.fit(x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lambda line: None)
    return [p["val_loss"] for p in training.passes], adapter.predict_proba(x_test)


def test_steps_per_execution_changes_how_steps_are_fed_not_what_they_compute(prepared):
    losses_one, proba_one = _fit_mlp(prepared, 1)
    losses_many, proba_many = _fit_mlp(prepared, 16)
    assert len(losses_one) == len(losses_many) == 3
    np.testing.assert_allclose(losses_many, losses_one, rtol=1e-5)
    np.testing.assert_allclose(proba_many, proba_one, atol=1e-5)


def _fit_xgboost(prepared, **params):
    cls = models.get("xgboost")
    adapter = cls({**cls.defaults["quick"], "n_estimators": 8, **params})
    x_train, x_val, x_test = prepared.views(cls.view)
    adapter.prepare(n_train=len(x_train), seed=0, threads=1)
    adapter.fit(x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lambda line: None)
    return adapter, x_test


def test_xgboost_predicts_with_the_missing_value_it_was_trained_with(prepared, tmp_path):
    import xgboost as xgb

    cls = models.get("xgboost")
    assert np.mean(prepared.x_train == 0) > 0.3  # the digits images are mostly background too
    sparse, x_test = _fit_xgboost(prepared, zero_is_missing=True, colsample_bynode=1.0)
    dense, _ = _fit_xgboost(prepared, zero_is_missing=False, colsample_bynode=1.0)
    for adapter, missing in ((sparse, 0.0), (dense, np.nan)):
        expected = adapter.booster.predict(xgb.DMatrix(x_test, missing=missing))
        np.testing.assert_allclose(adapter.predict_proba(x_test), expected, rtol=1e-6)
    # a model saved before zero_is_missing existed has no such key: it was trained dense
    legacy_params = {k: v for k, v in dense.params.items() if k not in ("zero_is_missing", "colsample_bynode")}
    path = dense.save(tmp_path)
    reloaded = cls.load(path, legacy_params)
    np.testing.assert_array_equal(reloaded.predict_proba(x_test), dense.predict_proba(x_test))
    assert cls.uses_seed(legacy_params) is False and cls.uses_seed(cls.defaults["full"]) is True


@pytest.mark.parametrize("override, fragment", [
    ("cnn-deep.warmup=5", "cnn-deep: warmup=5.0: epochs of warm-up, >= 0 and < epochs"),
    ("cnn-deep.schedule=constant", "cnn-deep: warmup needs schedule=cosine"),
    ("cnn-small.dropout_dense=1.5", "cnn-small: dropout_dense=1.5: a rate >= 0 and < 1"),
    ("mlp.steps_per_execution=0", "mlp: steps_per_execution=0: an integer >= 1"),
    ("xgboost.colsample_bynode=0", "xgboost: colsample_bynode=0.0: a fraction > 0 and <= 1"),
    ("xgboost.max_bin=1", "xgboost: max_bin=1: an integer >= 2"),
    ("cnn-fast.kernel=13", "cnn-fast: Conv("),
])
def test_a_bad_hyper_parameter_is_refused_before_any_job_runs(tmp_path, override, fragment):
    from tests.conftest import assert_one_line_error, run_cli

    model = override.split(".")[0]
    out = tmp_path / "out"
    proc = run_cli("run", model, "--dataset", "digits", "--profile", "quick", "--set", override, "--out", str(out))
    assert_one_line_error(proc, fragment)
    assert not out.exists()  # nothing written
