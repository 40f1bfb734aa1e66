"""The reference suite: exact tutorial architectures, and a Kaggle-layout CSV through it."""

import pytest

from bench.adapters import registry
from mnist_bench_models.keras_base import import_keras

TABLE = {
    "ref-conv32-dense128": 693_962,
    "ref-3conv": 81_066,
    "ref-mlp-256-128": 235_146,
    "ref-keras-convnet": 34_826,
}


def test_suite_lists_the_four_tutorial_models():
    assert sorted(registry.suite("reference")) == sorted(TABLE)
    assert not set(TABLE) & set(registry.suite("default"))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_parameter_count_equals_the_published_architecture(name):
    cls = registry.get(name)
    assert cls.static_param_count(cls.defaults["full"]) == TABLE[name] == cls.published["params"]
    import_keras()
    built = cls(dict(cls.defaults["full"])).build()
    assert built.count_params() == TABLE[name]
