"""Every adapter trains and predicts on the embedded digits set, for real.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_adapters``."""

from __future__ import annotations

import numpy as np
import pytest

from bench.adapters import registry
from tests.unit.adapters.test_adapters import (
    CHANCE,
    DIGITS_OVERRIDES,
    FLOORS,
    prepared,  # noqa: F401 (fixtures)
)


@pytest.mark.parametrize("name", [*registry.DEFAULT_SUITE, "cnn-fast"])
def test_adapter_fits_and_predicts_on_digits(name, prepared):
    cls = registry.get(name)
    params = {**cls.defaults["quick"], **DIGITS_OVERRIDES.get(name, {})}
    adapter = cls(params)
    x_train, x_val, x_test = prepared.views(cls.view)
    lines = []
    adapter.prepare(n_train=len(x_train), seed=0)
    training = adapter.fit(
        x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lines.append
    )
    proba = adapter.predict_proba(x_test, batch_size=100)
    assert proba.shape == (len(x_test), 10)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    accuracy = (proba.argmax(1) == prepared.y_test).mean()
    assert accuracy > FLOORS[name] > 5 * CHANCE, accuracy
    # batch size does not change the answer
    np.testing.assert_allclose(
        adapter.predict_proba(x_test[:7], batch_size=3), proba[:7], rtol=1e-4, atol=1e-6
    )
    counts = adapter.n_params()
    assert counts.total > 0 and counts.detail
    assert adapter.serialized_size() > 0
    if cls.family == "neural":
        assert len(training.passes) == params["epochs"] and training.unit == "epoch"
        assert "val_accuracy" in training.passes[-1] and training.passes[-1]["train_s"] > 0
        assert lines and lines[-1].startswith(f"epoch {params['epochs']}/")
        assert counts.total == cls.static_param_count(params)
        assert adapter.flops_per_image() > 0


def test_logreg_flops_are_one_matrix_vector_product(prepared):
    cls = registry.get("logreg")
    adapter = cls({**cls.defaults["quick"], "max_iter": 5})
    x_train, x_val, _ = prepared.views("flat")
    adapter.fit(x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val)
    assert adapter.flops_per_image() == 2 * 784 * 10  # one multiply-add per weight
    assert adapter.n_params().total == cls.static_param_count({}) == 7850
