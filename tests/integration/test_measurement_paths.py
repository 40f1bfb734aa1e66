"""Measurement you can trust: fast inference paths, threads, determinism, devices, self-check.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.measure.test_measurement_paths``."""

from __future__ import annotations

import numpy as np
import pytest

from bench import records
from tests.conftest import run_cli
from tests.unit.measure.test_measurement_paths import (
    _fit,
    _run_digits,
    prepared,  # noqa: F401 (fixtures)
)


def test_xgboost_inplace_predict_matches_dmatrix_predict(prepared):
    import xgboost as xgb

    adapter, x = _fit("xgboost", prepared, n_estimators=20)
    assert adapter.params["zero_is_missing"]  # the default: zero pixels are absent entries
    reference = adapter.booster.predict(xgb.DMatrix(x, missing=0.0))
    np.testing.assert_allclose(adapter.predict_proba(x, 64), reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "cnn-small"])
def test_compiled_keras_forward_matches_model_predict(name, prepared):
    adapter, x = _fit(name, prepared, epochs=1)
    reference = adapter.model.predict(x, batch_size=128, verbose=0)
    np.testing.assert_allclose(adapter.predict_proba(x, 100), reference, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(adapter.predict_proba(x[:1], 1), reference[:1], rtol=1e-4, atol=1e-6)


def test_threads_reach_every_framework(tmp_path):
    recs = _run_digits(
        tmp_path,
        "logreg",
        "xgboost",
        "mlp",
        "--threads",
        "1",
        "--set",
        "xgboost.n_estimators=5",
        "--set",
        "mlp.epochs=1",
    )
    for r in recs.values():
        assert r["threads"]["requested"] == 1
        assert r["threads"]["blas"] and all(n == 1 for n in r["threads"]["blas"].values()), r[
            "threads"
        ]
        assert r["env"]["thread_env"]["OMP_NUM_THREADS"] == "1"
    assert recs["xgboost"]["threads"]["xgboost_nthread"] == 1
    assert recs["mlp"]["threads"]["tensorflow_intra_op"] == 1
    assert recs["mlp"]["threads"]["tensorflow_inter_op"] == 1


def test_fixed_seed_is_bit_identical_for_sklearn_xgboost_and_deterministic_keras(tmp_path):
    args = (
        "logreg",
        "xgboost",
        "mlp",
        "--set",
        "xgboost.n_estimators=10",
        "--set",
        "mlp.epochs=2",
        "--deterministic",
    )
    a, b = _run_digits(tmp_path, *args, tag="a"), _run_digits(tmp_path, *args, tag="b")
    for name in ("logreg", "xgboost", "mlp"):
        assert a[name]["metrics"]["log_loss"] == b[name]["metrics"]["log_loss"], name
        assert a[name]["metrics"]["confusion"] == b[name]["metrics"]["confusion"], name
    assert a["mlp"]["history"][-1]["loss"] == b["mlp"]["history"][-1]["loss"]
    assert a["mlp"]["env"]["runtime"]["op_determinism"] is True
    assert a["mlp"]["job"]["deterministic"] is True


def test_inference_protocol_overrides_reach_the_record(tmp_path):
    out = tmp_path / "o"
    proc = run_cli(
        "run",
        "logreg",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--out",
        str(out),
        "--infer-batch",
        "50",
        "--infer-min-repeats",
        "7",
        "--infer-min-seconds",
        "0.1",
    )
    assert proc.returncode == 0, proc.stderr
    (rec,) = records.read_all(out / "runs")
    inf = rec["timing"]["inference"]
    assert inf["batch_50"]["batch_size"] == 50 and inf["batch_50"]["calls"] >= 7
    assert inf["batch_1"]["calls"] >= 30  # batch 1 keeps its own larger minimum
    assert rec["timing"]["inference_protocol"]["large"]["min_seconds"] == 0.1
    assert rec["job"]["inference"] == rec["timing"]["inference_protocol"]


def test_selfcheck_prints_ratios(tmp_path):
    proc = run_cli("selfcheck", "logreg", "--dataset", "digits", "--rounds", "1")
    assert proc.returncode in (0, 1), proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| logreg")]
    assert len(rows) == 2, proc.stdout
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        harness, plain, ratio = (float(c.replace(",", "")) for c in cells[2:5])
        assert harness > 0 and plain > 0
        assert ratio == pytest.approx(harness / plain, rel=0.01)
