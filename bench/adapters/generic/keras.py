"""``keras_model``: any ``keras.Model`` (functional, residual, custom layers) as a benchmarked model.

The factory builds the model (after the worker fixed devices, threads and determinism and
seeded Keras with ``keras.utils.set_random_seed``); the harness trains it with its recipe:
Adam on the ``learning_rate`` (constant, or warm-up + cosine decay over all steps),
sparse categorical cross-entropy (from logits unless the model ends in a softmax),
``epochs`` passes of shuffled mini-batches of ``batch_size``. A model the factory returns
already compiled keeps its own optimizer and loss (the recipe's ``learning_rate`` and
``schedule`` then do not apply; the record says which recipe trained it). The clock is the
built-in Keras families' (``bench.adapters.keras_tools``): graph tracing happens before
``fit``, each epoch's validation pass is timed apart, ``--target`` stops at an epoch.

Parameters: Keras' own count (trainable / non-trainable weights, ``count_params()``).
FLOPs: ``graph_flops`` and ``graph_train_flops`` (``bench.adapters.generic.keras_flops``), from
the layer graph, for the standard layers only; any other layer (a custom one, a subclassed
model) makes them None ("-"), never a guess.
Saved as ``.keras``; loaded with ``safe_mode=True`` (custom layers must be registered with
``keras.saving.register_keras_serializable``, as the plugin defining them does on import).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from bench.adapters import arch, keras_tools, registry
from bench.adapters.contract import Adapter, ParamCount, require
from bench.adapters.generic.common import (
    accepts,
    class_name,
    factory_path,
    keyword_defaults,
    profiles,
    resolve_factory,
)
from bench.adapters.generic.keras_flops import graph_flops, graph_train_flops
from bench.core.errors import BenchError

# the harness's recipe; steps_per_execution 16: see mnist_bench_models.keras_base (one graph
# call per 16 steps; it changes no arithmetic)
RECIPE = {
    "epochs": 5,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "schedule": "cosine",
    "warmup": 0.0,
    "steps_per_execution": 16,
}
QUICK_RECIPE = {"epochs": 2}


def keras_model(
    name: str,
    factory,
    *,
    defaults: dict | None = None,
    quick: dict | None = None,
    view: str = "image",
    description: str = "",
    default_suite: bool = False,
) -> type[Adapter]:
    """Create, register and return an adapter for the ``keras.Model`` that ``factory(**params)``
    returns (its input: ``(28, 28, 1)`` for ``view="image"``, ``(784,)`` for ``"flat"``; its
    output: 10 logits or softmax probabilities).

    Hyper-parameters: the recipe's (``epochs`` 5, quick 2; ``batch_size`` 128;
    ``learning_rate`` 1e-3; ``schedule`` "cosine" or "constant"; ``warmup`` epochs;
    ``steps_per_execution``) plus the factory's own: ``defaults`` (None: its keyword
    parameters with bool/int/float/str defaults), which may also change the recipe's;
    ``quick``: changes for the quick profile. Only the factory's own are passed to it."""
    fn = resolve_factory(factory, name)
    own = dict(defaults) if defaults is not None else keyword_defaults(fn)
    names, var_kw = accepts(fn)
    stray = sorted(k for k in own if k not in RECIPE and k not in names and not var_kw)
    if stray:
        raise BenchError(
            f"model {name!r}: defaults {', '.join(stray)} are not parameters of the factory "
            f"{factory_path(fn)} nor of the training recipe ({', '.join(RECIPE)})"
        )
    full = {**RECIPE, **own}
    attrs = {
        "name": name,
        "view": view,
        "default_suite": default_suite,
        "description": description
        or f"{factory if isinstance(factory, str) else factory_path(fn)} (Keras, generic adapter)",
        "defaults": profiles(
            full, {**{k: v for k, v in QUICK_RECIPE.items() if k not in own}, **(quick or {})}, name
        ),
        "factory": staticmethod(fn),
        "factory_path": factory if isinstance(factory, str) else factory_path(fn),
        "factory_keys": tuple(k for k in full if k in names or (var_kw and k not in RECIPE)),
    }
    return registry.register(type(class_name(name, "KerasAdapter"), (KerasModelAdapter,), attrs))


class KerasModelAdapter(Adapter):
    """The generic Keras adapter; ``keras_model`` makes its subclasses."""

    family = "neural"
    library = "keras"
    devices = ("cpu", "gpu")
    factory: ClassVar[Callable]
    factory_path: ClassVar[str] = ""
    factory_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check_params(cls, params):
        """The recipe's values, then the factory itself: it is called once per distinct set of
        its arguments (Keras imported here, in the planning process), so a factory that raises
        or returns something else is refused before any job starts."""
        positive_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1  # noqa: E731
        require(params, "epochs", positive_int, "an integer >= 1")
        require(params, "batch_size", positive_int, "an integer >= 1")
        require(params, "steps_per_execution", positive_int, "an integer >= 1")
        require(params, "learning_rate", lambda v: v > 0, "a number > 0")
        require(params, "schedule", lambda v: v in ("cosine", "constant"), "cosine or constant")
        require(
            params,
            "warmup",
            lambda v: 0 <= v < params["epochs"],
            "epochs of warm-up, >= 0 and < epochs",
        )
        if params.get("warmup") and params.get("schedule") != "cosine":
            raise ValueError("warmup needs schedule=cosine")
        cls._check_factory(params)

    @classmethod
    def _check_factory(cls, params) -> None:
        kwargs = {k: params[k] for k in cls.factory_keys if k in params}
        key = repr(sorted(kwargs.items()))
        checked = cls.__dict__.get("_factory_checked")
        if checked is None:
            checked = cls._factory_checked = set()
        if key in checked:
            return
        try:
            cls({**params}).build()
        except BenchError as exc:
            raise ValueError(str(exc).removeprefix(f"{cls.name}: ")) from None
        checked.add(key)

    def build(self):
        """The factory's model, built (its weights exist) for this adapter's view."""
        keras = keras_tools.import_keras()
        kwargs = {k: self.params[k] for k in self.factory_keys if k in self.params}
        try:
            model = self.factory(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the user's factory: one line naming it
            raise BenchError(
                f"{self.name}: factory {self.factory_path}(**{kwargs}) raised "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(model, keras.Model):
            raise BenchError(
                f"{self.name}: factory {self.factory_path} returned a {type(model).__name__}, "
                "not a keras.Model"
            )
        shape = arch.INPUT_SHAPES[self.view]
        if not model.built:
            model(np.zeros((1, *shape), np.float32), training=False)
        expects = _input_shape(model)
        if expects is not None and (
            len(expects) != len(shape) or any(e not in (None, s) for e, s in zip(expects, shape))
        ):
            raise BenchError(
                f"{self.name}: the model expects inputs of shape {expects}; the {self.view!r} view "
                f"gives {shape} (keras_model(..., view='flat' | 'image'))"
            )
        return model

    def prepare(self, *, n_train=None, seed=0, device="cpu", threads=None, deterministic=False):
        super().prepare(
            n_train=n_train, seed=seed, device=device, threads=threads, deterministic=deterministic
        )
        keras = keras_tools.import_keras()
        keras_tools.configure(device, threads, deterministic)
        keras.utils.set_random_seed(seed)
        self.model = self.build()
        self.logits = outputs_logits(keras, self.model)
        self.one_hot = self._compile(keras, n_train)
        keras_tools.trace_off_the_clock(
            keras,
            self.model,
            arch.INPUT_SHAPES[self.view],
            self.params["batch_size"],
            seed,
            one_hot=self.one_hot,
        )

    def _compile(self, keras, n_train) -> int | None:
        """Compile with the harness's recipe, or keep the model's own optimizer and loss (with
        accuracy added, which ``--target`` and the per-epoch log read); returns the number of
        classes to one-hot the labels into (a categorical loss), else None."""
        p = self.params
        own = (
            getattr(self.model, "compiled", False)
            and getattr(self.model, "optimizer", None) is not None
        )
        if own:
            loss, optimizer = self.model.loss, self.model.optimizer
            self.recipe = (
                f"the model's own compile: {type(optimizer).__name__}, loss {_loss_name(loss)}"
            )
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=self.logits)
            optimizer = keras.optimizers.Adam(keras_tools.learning_rate_schedule(keras, p, n_train))
            self.recipe = (
                f"harness: Adam, learning rate {p['learning_rate']:g} ({p['schedule']}), sparse categorical "
                f"cross-entropy{' from logits' if self.logits else ''}"
            )
        self.model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=["accuracy"],
            steps_per_execution=p["steps_per_execution"],
        )
        return (
            10
            if _loss_name(loss).replace("_", "").lower() in ("categoricalcrossentropy",)
            else None
        )

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        settings = self.ensure_prepared(
            len(x)
        )  # a caller who skipped prepare: building is not setup
        started = (
            time.perf_counter()
        )  # setup_s: from here (the arrays' copy into tf.data) to epoch 1
        if settings["n_train"] != len(x):
            raise ValueError(f"prepared for {settings['n_train']} training images, got {len(x)}")
        p = self.params
        training = keras_tools.train(
            keras_tools.import_keras(),
            self.model,
            x,
            y,
            x_val=x_val,
            y_val=y_val,
            epochs=p["epochs"],
            batch_size=p["batch_size"],
            seed=settings["seed"],
            log=log,
            target=target,
            started=started,
            one_hot=self.one_hot,
        )
        training.info.update({"recipe": self.recipe, "outputs": self._outputs_words()})
        return training

    def _outputs_words(self) -> str:
        return (
            "logits (the harness applies softmax)"
            if self.logits
            else "probabilities (softmax layer)"
        )

    def predict_proba(self, x, batch_size=1024):
        if getattr(self, "_forward", None) is None:
            self._forward = keras_tools.compiled_forward(self.model, arch.INPUT_SHAPES[self.view])
        scores = keras_tools.predict_batches(self._forward, x, batch_size)
        if self.logits:
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def to_onnx(self):
        from bench.adapters import onnx_export

        return onnx_export.keras(self.model, arch.INPUT_SHAPES[self.view], self.name)

    def n_params(self):
        return ParamCount(
            *keras_tools.weight_counts(self.model),
            f"Keras weights of {self.model.name} ({len(self.model.layers)} layers)",
        )

    def flops_per_image(self):
        flops, _ = graph_flops(self.model)
        return None if flops is None else float(flops)

    def train_flops_per_image(self):
        flops = graph_train_flops(self.model)
        return None if flops is None else float(flops)

    def serialized_size(self):
        return keras_tools.saved_size(self.model)

    def threads_used(self):
        return keras_tools.threads_used()

    def runtime_info(self):
        _, unknown = graph_flops(self.model)
        flops = (
            "counted from the layer graph"
            if not unknown
            else f"not counted: {', '.join(unknown[:5])}"
        )
        return {
            **keras_tools.runtime_info(),
            "outputs": self._outputs_words(),
            "recipe": getattr(self, "recipe", None),
            "flops": flops,
        }

    def save(self, folder):
        path = Path(folder) / "model.keras"
        self.model.save(path)
        return path

    @classmethod
    def load(cls, path, params, threads=None):
        keras = keras_tools.import_keras()
        keras_tools.configure("cpu", threads)
        adapter = cls(params)
        # safe_mode: a .keras file that would run arbitrary code (a Lambda layer) is refused
        adapter.model = keras.saving.load_model(Path(path), compile=False, safe_mode=True)
        adapter.logits = outputs_logits(keras, adapter.model)
        return adapter


def _input_shape(model) -> tuple | None:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape[1:])


def _loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss
    return (
        type(loss).__name__
        if not callable(loss) or hasattr(loss, "get_config")
        else getattr(loss, "__name__", "?")
    )


def outputs_logits(keras, model) -> bool:
    """False when the model's output layer is a softmax (an ``activation="softmax"`` layer, a
    ``Softmax`` or ``Activation("softmax")`` layer), True otherwise: its outputs are logits."""
    layer = _output_layer(model)
    if layer is None:
        return True
    if isinstance(layer, keras.layers.Softmax):
        return False
    activation = getattr(layer, "activation", None)
    return not (
        activation is keras.activations.softmax or getattr(activation, "__name__", "") == "softmax"
    )


def _output_layer(model):
    """The layer producing the model's single output (recursing into a nested model), or None."""
    outputs = getattr(model, "outputs", None)
    if not outputs or len(outputs) != 1:
        return None
    history = getattr(outputs[0], "_keras_history", None)
    layer = getattr(history, "operation", None) if history is not None else None
    if layer is not None and hasattr(layer, "outputs") and hasattr(layer, "layers"):
        return _output_layer(layer)  # a nested Functional/Sequential model
    return layer
