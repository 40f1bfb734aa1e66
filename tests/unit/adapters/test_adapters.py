"""Every adapter trains and predicts on the embedded digits set, for real."""

import pytest

from bench.adapters import arch, registry
from bench.prep import preprocess as pp

CHANCE = 0.1


@pytest.fixture(scope="module")
def prepared(digits):
    return pp.prepare(
        digits.x_train, digits.y_train, digits.x_test, digits.y_test, pp.SplitRule(val_fraction=0.1)
    )


FLOORS = {
    "logreg": 0.9,
    "svm": 0.9,
    "xgboost": 0.85,
    "mlp": 0.85,
    "cnn-small": 0.6,
    "cnn-deep": 0.6,
    "cnn-fast": 0.6,
}
# small budgets so the suite stays fast; quick defaults otherwise
DIGITS_OVERRIDES = {
    "xgboost": {"n_estimators": 30},
    "mlp": {"epochs": 8},
    "cnn-small": {"epochs": 6},
    "cnn-deep": {"epochs": 4},
    "cnn-fast": {"epochs": 6},
}


def test_registry_lists_the_six_families():
    assert set(registry.DEFAULT_SUITE) <= set(registry.names())
    assert {registry.get(n).family for n in registry.DEFAULT_SUITE} == {
        "linear",
        "kernel",
        "trees",
        "neural",
    }


def test_unknown_model_error_lists_choices():
    from bench.core.errors import BenchError

    with pytest.raises(BenchError, match="unknown model 'resnet'; choose from: ") as info:
        registry.get("resnet")
    assert {"logreg", "cnn-deep", "xgboost"} <= set(str(info.value).split(": ", 1)[1].split(", "))


def test_flops_and_params_by_hand_for_cnn_small():
    layers = registry.get("cnn-small").architecture(registry.get("cnn-small").defaults["full"])
    # conv 3x3x1x32 valid on 28x28 -> 26x26x32; pool -> 13x13; conv 3x3x32x64 -> 11x11x64; pool -> 5x5x64
    conv1 = 2 * 26 * 26 * 32 * 9
    conv2 = 2 * 11 * 11 * 64 * 9 * 32
    dense1 = 2 * 1600 * 128
    dense2 = 2 * 128 * 10
    assert arch.forward_flops(layers, (28, 28, 1)) == conv1 + conv2 + dense1 + dense2
    params = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (1600 * 128 + 128) + (128 * 10 + 10)
    assert arch.param_counts(layers, (28, 28, 1)) == (params, 0)


def test_flops_and_params_by_hand_for_cnn_fast():
    layers = registry.get("cnn-fast").architecture(registry.get("cnn-fast").defaults["full"])
    # conv 5x5x1x16 valid -> 24x24x16; pool -> 12x12; conv 5x5x16x32 -> 8x8x32; pool -> 4x4x32 = 512
    flops = 2 * (24 * 24 * 16 * 25 + 8 * 8 * 32 * 25 * 16 + 512 * 128 + 128 * 10)
    assert arch.forward_flops(layers, (28, 28, 1)) == flops
    params = (25 * 16 + 16) + (25 * 16 * 32 + 32) + (512 * 128 + 128) + (128 * 10 + 10)
    assert arch.param_counts(layers, (28, 28, 1)) == (params, 0)


def test_batchnorm_counts_moving_statistics_as_non_trainable():
    t, n = arch.param_counts(
        (arch.Conv(8, 3, activation=None, use_bias=False), arch.BatchNorm()), (28, 28, 1)
    )
    assert (t, n) == (9 * 8 + 2 * 8, 2 * 8)
