"""The generic adapters (``sklearn_model``, ``keras_model``) on the digits set, for real:
probabilities, parameter counts and FLOPs checked against independent computations."""

import pytest

from bench.adapters import keras_model, registry, sklearn_model
from bench.core.errors import BenchError
from bench.prep import preprocess as pp
from bench.run import plan


@pytest.fixture(scope="module")
def prepared(digits):
    return pp.prepare(
        digits.x_train, digits.y_train, digits.x_test, digits.y_test, pp.SplitRule(val_fraction=0.1)
    )


@pytest.fixture
def fresh_names():
    """Model names registered by the test are removed afterwards (one registry per process)."""
    before = set(registry.names())
    yield
    for name in set(registry.REGISTRY) - before:
        del registry.REGISTRY[name]


def _fit(cls, params, prepared, seed=0):
    adapter = cls(params)
    x_train, x_val, x_test = prepared.views(cls.view)
    adapter.prepare(n_train=len(x_train), seed=seed)
    training = adapter.fit(
        x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lambda _: None
    )
    return adapter, training, x_test


def _round_trip(adapter, cls, params, x, tmp_path):
    path = adapter.save(tmp_path)
    return cls.load(path, params).predict_proba(x)


# --- scikit-learn ----------------------------------------------------------------------------


def test_set_goes_through_the_planner_and_a_bad_value_fails_at_planning(fresh_names):
    cls = sklearn_model("g-svc2", "sklearn.svm:LinearSVC")
    params = plan.resolve_params(cls, "quick", {"C": "0.25", "fit_intercept": "false"})
    assert params["C"] == 0.25 and params["fit_intercept"] is False
    assert cls.build(params).C == 0.25
    with pytest.raises(BenchError, match="unknown hyper-parameter"):
        plan.resolve_params(cls, "quick", {"gamma": "1"})
    with pytest.raises(BenchError, match="g-svc2: The 'C' parameter of LinearSVC must be"):
        plan.points([cls], ["digits"], "quick", {"g-svc2": {"C": "-1"}}, {})
    with pytest.raises(ValueError, match="'loss' parameter"):
        cls.check_params({**params, "loss": "hinge-ish"})


def test_a_bad_factory_path_is_one_error_naming_it(fresh_names):
    with pytest.raises(
        BenchError, match="g-bad.*sklearn.ensemble:NoSuchForest.*no attribute 'NoSuchForest'"
    ):
        sklearn_model("g-bad", "sklearn.ensemble:NoSuchForest")
    with pytest.raises(BenchError, match="cannot import module 'no_such_module'"):
        sklearn_model("g-bad", "no_such_module.Thing")
    assert "g-bad" not in registry.REGISTRY


# --- Keras -----------------------------------------------------------------------------------


def residual_net(width: int = 8):
    import keras

    layers = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(inputs)
    y = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=0.9)(y)
    x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10)(x))


def test_flops_by_hand_and_none_for_an_unknown_layer():
    from bench.adapters.generic.keras import graph_flops
    from bench.adapters.keras_tools import import_keras

    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)  # 26x26x4, 9 weights per output
    x = layers.MaxPooling2D(2)(layers.Dropout(0.1)(x))  # 13x13x4
    x = layers.Flatten()(x)
    plain = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    assert graph_flops(plain) == (2 * 26 * 26 * 4 * 9 + 2 * 13 * 13 * 4 * 10, [])

    nested = keras.Sequential([keras.Input((28, 28, 1)), plain])  # a model inside a model
    assert graph_flops(nested) == graph_flops(plain)

    class Doubled(layers.Dense):  # a subclass may compute anything: not counted
        def call(self, inputs):
            return 2 * super().call(inputs)

    x = layers.Flatten()(inputs)
    custom = keras.Model(inputs, Doubled(10)(x))
    flops, unknown = graph_flops(custom)
    assert flops is None and len(unknown) == 1 and "Doubled" in unknown[0]


def test_keras_check_params_refuses_a_bad_recipe_value(fresh_names):
    cls = keras_model("g-check", residual_net)
    with pytest.raises(BenchError, match="g-check: epochs=0: an integer >= 1"):
        plan.points([cls], ["digits"], "quick", {"g-check": {"epochs": "0"}}, {})
    with pytest.raises(BenchError, match="not parameters of the factory"):
        keras_model("g-check2", residual_net, defaults={"depth": 3})
