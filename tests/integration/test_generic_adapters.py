"""The generic adapters (``sklearn_model``, ``keras_model``) on the digits set, for real:
probabilities, parameter counts and FLOPs checked against independent computations.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_generic_adapters``."""

from __future__ import annotations

import numpy as np

from bench.adapters import keras_model, registry, sklearn_model
from bench.adapters.contract import ParamCount
from tests.unit.adapters.test_generic_adapters import (  # noqa: F401 (fixtures)
    _fit,
    _round_trip,
    fresh_names,
    prepared,
    residual_net,
)


def test_random_forest_from_a_class_path(prepared, fresh_names, tmp_path):
    cls = sklearn_model(
        "g-forest", "sklearn.ensemble:RandomForestClassifier", quick={"n_estimators": 12}
    )
    assert registry.get("g-forest") is cls and cls.library == "scikit-learn"
    params = cls.defaults["quick"]
    assert params["n_estimators"] == 12 and params["max_features"] == "sqrt"  # from the signature
    assert "random_state" not in params and "n_jobs" not in params  # None defaults: not settable
    assert cls.uses_seed(params)
    adapter, training, x_test = _fit(cls, params, prepared, seed=5)
    assert adapter.model.random_state == 5  # the job's seed, the user set none
    assert len(training.passes) == 1 and training.passes[0]["train_s"] > 0
    proba = adapter.predict_proba(x_test, batch_size=100)
    assert proba.shape == (len(x_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(proba, adapter.model.predict_proba(x_test))
    assert (proba.argmax(1) == prepared.y_test).mean() > 0.85
    # trees: feature + threshold per internal node (feature >= 0), ten class values per leaf
    internal = sum(int((t.tree_.feature >= 0).sum()) for t in adapter.model.estimators_)
    leaves = sum(int((t.tree_.feature < 0).sum()) for t in adapter.model.estimators_)
    counts = adapter.n_params()
    assert counts.total == 2 * internal + 10 * leaves and counts.non_trainable == 0
    assert "12 trees" in counts.detail
    assert adapter.serialized_size() > 0
    np.testing.assert_array_equal(_round_trip(adapter, cls, params, x_test, tmp_path), proba)


def test_linear_svc_probabilities_are_the_softmax_of_its_decision_function(
    prepared, fresh_names, tmp_path
):
    cls = sklearn_model("g-svc", "sklearn.svm.LinearSVC", defaults={"C": 0.05, "max_iter": 2000})
    params = cls.defaults["quick"]
    adapter, training, x_test = _fit(cls, params, prepared)
    scores = adapter.model.decision_function(x_test)
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    proba = adapter.predict_proba(x_test, batch_size=64)
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert training.info["probabilities"] == "softmax of decision_function"
    assert adapter.runtime_info()["probabilities"] == "softmax of decision_function"
    assert (
        adapter.n_params().total == adapter.model.coef_.size + adapter.model.intercept_.size == 7850
    )
    np.testing.assert_array_equal(_round_trip(adapter, cls, params, x_test, tmp_path), proba)


def test_a_pipeline_factory_sums_its_steps_and_an_unknown_count_is_none(prepared, fresh_names):
    def scaled_logreg(C: float = 0.5, max_iter: int = 200):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=0)
        )

    cls = sklearn_model("g-pipe", scaled_logreg)
    assert cls.defaults["full"] == {"C": 0.5, "max_iter": 200}
    assert not cls.uses_seed(cls.defaults["quick"])  # the factory fixed the only random_state
    adapter, _, _ = _fit(cls, cls.defaults["quick"], prepared)
    assert adapter.n_params().total == 2 * 784 + 7840 + 10

    def with_a_function_step():
        from sklearn.naive_bayes import GaussianNB
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer

        return make_pipeline(FunctionTransformer(np.sqrt), GaussianNB())

    unknown = sklearn_model("g-unknown", with_a_function_step)
    adapter, _, _ = _fit(unknown, unknown.defaults["quick"], prepared)
    counts = adapter.n_params()
    assert counts.total is None and counts.trainable is None and "not exposed" in counts.detail
    assert ParamCount.unknown("x").as_dict()["total"] is None


def test_keras_residual_network_trains_counts_and_round_trips(prepared, fresh_names, tmp_path):
    cls = keras_model(
        "g-res",
        residual_net,
        quick={"width": 16, "epochs": 5, "batch_size": 32, "learning_rate": 3e-3, "warmup": 0.5},
    )
    params = cls.defaults["quick"]
    assert (
        cls.defaults["full"]["width"] == 8
        and cls.defaults["full"]["epochs"] == 5
        and cls.library == "keras"
    )
    lines = []
    adapter = cls(params)
    x_train, x_val, x_test = prepared.views("image")
    adapter.prepare(n_train=len(x_train), seed=0)
    training = adapter.fit(
        x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lines.append
    )
    assert len(training.passes) == 5 and all(
        p["train_s"] > 0 and "val_accuracy" in p for p in training.passes
    )
    assert lines[-1].startswith("epoch 5/5") and "from logits" in training.info["recipe"]
    proba = adapter.predict_proba(x_test, batch_size=100)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (
        proba.argmax(1) == prepared.y_test
    ).mean() > 0.5  # five epochs of a tiny net: far above chance
    counts = adapter.n_params()
    assert counts.total == adapter.model.count_params()
    w = 16
    assert counts.non_trainable == 2 * w  # batch-norm's moving mean and variance
    # stem 14x14xw from 3x3x1, block 14x14xw from 3x3xw, head w -> 10
    assert (
        adapter.flops_per_image() == 2 * 14 * 14 * w * 9 * 1 + 2 * 14 * 14 * w * 9 * w + 2 * w * 10
    )
    np.testing.assert_allclose(
        _round_trip(adapter, cls, params, x_test, tmp_path), proba, rtol=0, atol=1e-6
    )


def test_a_compiled_model_keeps_its_optimizer_and_a_registered_custom_layer_loads_safely(
    prepared, fresh_names, tmp_path
):
    from bench.adapters.keras_tools import import_keras

    keras = import_keras()

    @keras.saving.register_keras_serializable(package="mnist_bench_tests")
    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.factor = self.add_weight(shape=(), initializer="ones")

        def call(self, inputs):
            return inputs * self.factor

    def compiled():
        inputs = keras.Input((784,))
        x = Scale()(keras.layers.Dense(16, activation="relu")(inputs))
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        return model

    cls = keras_model("g-compiled", compiled, view="flat", quick={"epochs": 2, "batch_size": 64})
    params = cls.defaults["quick"]
    adapter, training, x_test = _fit(cls, params, prepared)
    assert isinstance(adapter.model.optimizer, keras.optimizers.SGD)
    assert training.info["recipe"].startswith("the model's own compile: SGD")
    assert training.info["outputs"] == "probabilities (softmax layer)" and not adapter.logits
    assert adapter.flops_per_image() is None  # Scale is not a standard layer
    assert (
        adapter.n_params().total == adapter.model.count_params() == 784 * 16 + 16 + 1 + 16 * 10 + 10
    )
    proba = adapter.predict_proba(x_test)
    np.testing.assert_allclose(
        _round_trip(adapter, cls, params, x_test, tmp_path), proba, rtol=0, atol=1e-6
    )
