"""The training recipes' moving parts (issue 15): the warm-up + cosine learning-rate
schedule, Keras' steps_per_execution (how the steps reach the graph, never what they
compute), the tf.data input pipeline (shuffling, random shifts), label smoothing, and
XGBoost's zero-pixels-as-missing input path, for real on the digits set.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_recipes``."""

from __future__ import annotations

import numpy as np
import pytest

from bench.adapters import registry
from tests.unit.adapters.test_recipes import (
    _fit_mlp,
    _fit_xgboost,
    prepared,  # noqa: F401 (fixtures)
)


def test_steps_per_execution_changes_how_steps_are_fed_not_what_they_compute(prepared):
    losses_one, proba_one = _fit_mlp(prepared, 1)
    losses_many, proba_many = _fit_mlp(prepared, 16)
    assert len(losses_one) == len(losses_many) == 3
    np.testing.assert_allclose(losses_many, losses_one, rtol=1e-5)
    np.testing.assert_allclose(proba_many, proba_one, atol=1e-5)


def test_label_smoothing_keeps_the_loss_above_the_smoothed_targets_entropy(prepared):
    cls = registry.get("mlp")
    x_train, x_val, _ = prepared.views(cls.view)
    losses = {}
    for smoothing in (0.0, 0.1):
        adapter = cls({**cls.defaults["quick"], "epochs": 8, "label_smoothing": smoothing})
        adapter.prepare(n_train=len(x_train), seed=0)
        training = adapter.fit(
            x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lambda line: None
        )
        losses[smoothing] = [p["loss"] for p in training.passes]
        assert training.passes[-1]["val_accuracy"] > 0.9  # it still learns the digits
    # targets 0.91 / 0.01: no prediction can score below their entropy, about 0.50
    floor = -(0.91 * np.log(0.91) + 9 * 0.01 * np.log(0.01))
    assert min(losses[0.1]) >= floor
    assert losses[0.0][-1] < floor  # without smoothing the same training goes well below it


def test_xgboost_predicts_with_the_missing_value_it_was_trained_with(prepared, tmp_path):
    import xgboost as xgb

    cls = registry.get("xgboost")
    assert np.mean(prepared.x_train == 0) > 0.3  # the digits images are mostly background too
    sparse, x_test = _fit_xgboost(prepared, zero_is_missing=True, colsample_bynode=1.0)
    dense, _ = _fit_xgboost(prepared, zero_is_missing=False, colsample_bynode=1.0)
    for adapter, missing in ((sparse, 0.0), (dense, np.nan)):
        expected = adapter.booster.predict(xgb.DMatrix(x_test, missing=missing))
        np.testing.assert_allclose(adapter.predict_proba(x_test), expected, rtol=1e-6)
    # a model saved before zero_is_missing existed has no such key: it was trained dense
    legacy_params = {
        k: v
        for k, v in dense.params.items()
        if k not in ("zero_is_missing", "colsample_bynode", "shifted_copies", "shift")
    }
    path = dense.save(tmp_path)
    reloaded = cls.load(path, legacy_params)
    np.testing.assert_array_equal(reloaded.predict_proba(x_test), dense.predict_proba(x_test))
    assert cls.uses_seed(legacy_params) is False and cls.uses_seed(cls.defaults["full"]) is True


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("cnn-deep.warmup=5", "cnn-deep: warmup=5.0: epochs of warm-up, >= 0 and < epochs"),
        ("cnn-deep.schedule=constant", "cnn-deep: warmup needs schedule=cosine"),
        ("cnn-small.dropout_dense=1.5", "cnn-small: dropout_dense=1.5: a rate >= 0 and < 1"),
        ("mlp.steps_per_execution=0", "mlp: steps_per_execution=0: an integer >= 1"),
        ("xgboost.colsample_bynode=0", "xgboost: colsample_bynode=0.0: a fraction > 0 and <= 1"),
        ("xgboost.max_bin=1", "xgboost: max_bin=1: an integer >= 2"),
        ("cnn-fast.kernel=13", "cnn-fast: Conv("),
        ("mlp.shift=2", "mlp: shift=2: random shifts need the image view, not 'flat'"),
        ("cnn-deep.shift=-1", "cnn-deep: shift=-1: whole pixels, an integer >= 0"),
        ("cnn-small.label_smoothing=1", "cnn-small: label_smoothing=1.0: a fraction >= 0 and < 1"),
        ("xgboost.shifted_copies=-1", "xgboost: shifted_copies=-1: an integer >= 0"),
    ],
)
def test_a_bad_hyper_parameter_is_refused_before_any_job_runs(tmp_path, override, fragment):
    from tests.conftest import assert_one_line_error, run_cli

    model = override.split(".")[0]
    out = tmp_path / "out"
    proc = run_cli(
        "run",
        model,
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--set",
        override,
        "--out",
        str(out),
    )
    assert_one_line_error(proc, fragment)
    assert not out.exists()  # nothing written
