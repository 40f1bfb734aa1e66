"""Inference speed of every adapter, with pytest-benchmark (``tox -e bench``).

Not part of the test suite (files here are named ``bench_*.py``, which the default test run
does not collect). Each adapter is fitted once on the embedded digits set; the benchmark
times ``predict_proba`` at batch 1 and batch 256 on fixed images, after warm-up.

    tox -e bench                                        # table + JSON under .benchmarks/
    tox -e bench -- --benchmark-compare --benchmark-compare-fail=median:15%
                                                        # fail when a median slows by > 15%
"""

import numpy as np
import pytest

from bench import data
from bench.adapters import registry
from bench.prep import preprocess as pp

QUICK_FIT = {
    "xgboost": {"n_estimators": 30},
    "mlp": {"epochs": 2},
    "cnn-small": {"epochs": 2},
    "cnn-deep": {"epochs": 1},
}
_FITTED: dict = {}


@pytest.fixture(scope="module")
def prepared():
    s = data.load("digits").splits
    return pp.prepare(s.x_train, s.y_train, s.x_test, s.y_test, pp.SplitRule(val_fraction=0.1))


def fitted(name, prepared):
    if name not in _FITTED:
        cls = registry.get(name)
        adapter = cls({**cls.defaults["quick"], **QUICK_FIT.get(name, {})})
        x_train, x_val, x_test = prepared.views(cls.view)
        adapter.fit(x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val)
        _FITTED[name] = (adapter, np.ascontiguousarray(x_test))
    return _FITTED[name]


@pytest.mark.parametrize("batch", [1, 256])
@pytest.mark.parametrize("name", registry.DEFAULT_SUITE)
def test_predict_proba(benchmark, name, batch, prepared):
    adapter, x = fitted(name, prepared)
    images = x[:batch]
    benchmark.group = f"batch {batch}"
    benchmark.extra_info["images_per_call"] = batch
    proba = benchmark(adapter.predict_proba, images, batch)
    assert proba.shape == (batch, 10)
