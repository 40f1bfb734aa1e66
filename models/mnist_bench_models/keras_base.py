"""Shared machinery for the Keras (TensorFlow backend) adapters.

A Keras adapter declares its architecture as data (``bench.adapters.arch``) through
``architecture(params)`` and inherits training, inference, counting and saving from
``KerasAdapter``. TensorFlow is imported only inside methods, after the worker has fixed
the device and thread settings (``configure``).

Training: Adam, sparse categorical cross-entropy, shuffled mini-batches seeded by ``seed``,
fed by our own ``tf.data`` pipeline (``batches``) rather than Keras's array adapter: with
tf.data's autotuner on (as Keras leaves it), dropping an exhausted iterator waited seconds
for the autotuner's thread, idle, at every epoch boundary and at the end of ``fit``, so the
clock measured sleeping, not training.
The learning rate is constant (``schedule="constant"``) or follows a cosine decay over all
steps (``schedule="cosine"``); with ``warmup`` > 0 (in epochs) the cosine schedule first
rises linearly from a tenth of ``learning_rate`` to it, a one-cycle shape that lets short
runs use a higher peak rate.

The clock: ``prepare`` (untimed) imports and configures TensorFlow, builds and compiles the
model and traces its training and validation functions on one throw-away batch, then puts
every variable back (weights, batch-norm statistics, dropout seed states, optimizer slots),
so ``fit`` times training alone. Per epoch, the validation pass Keras runs at the epoch's
end is timed apart (``on_test_begin``/``on_test_end``) and subtracted.
An epoch whose loss (or validation loss) is NaN/inf is the last one: training diverged
(``TrainingLog.first_non_finite``), and the harness records it so.
Inference: a ``tf.function``-compiled forward pass over fixed-size batches, not
``Model.predict`` (whose per-call overhead dominates small batches).
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.adapters import arch, keras_tools
from bench.adapters.contract import Adapter, ParamCount, require
from bench.adapters.keras_tools import (  # noqa: F401 - re-exported: shared with the generic keras_model
    POLICIES,
    batches,
    configure,
    import_keras,
    learning_rate_schedule,
)

# steps_per_execution: Keras runs that many optimizer steps per call into the compiled graph,
# so the per-step Python round trip is paid once per call; it changes no arithmetic
# (docs/experiments/training-efficiency.md measures it).
TRAINING_DEFAULTS = {
    "epochs": 10,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "schedule": "cosine",
    "warmup": 0.0,
    "label_smoothing": 0.0,
    "shift": 0,
    "steps_per_execution": 16,
}


class KerasAdapter(Adapter):
    family = "neural"
    library = "keras"
    devices = ("cpu", "gpu")
    precisions = tuple(POLICIES)

    @classmethod
    def architecture(cls, params) -> tuple:
        """Layer specs from input to the 10-way softmax output."""
        raise NotImplementedError

    @classmethod
    def static_param_count(cls, params):
        return sum(arch.param_counts(cls.architecture(params), arch.INPUT_SHAPES[cls.view]))

    @classmethod
    def check_params(cls, params):
        positive_int = lambda v: isinstance(v, int) and v >= 1  # noqa: E731
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
        require(params, "label_smoothing", lambda v: 0 <= v < 1, "a fraction >= 0 and < 1")
        require(
            params,
            "shift",
            lambda v: isinstance(v, int) and v >= 0,
            "whole pixels, an integer >= 0",
        )
        if params.get("shift") and cls.view != "image":
            raise ValueError(
                f"shift={params['shift']}: random shifts need the image view, not {cls.view!r}"
            )
        if params.get("warmup") and params["schedule"] != "cosine":
            raise ValueError("warmup needs schedule=cosine")
        for key in params:
            if key.startswith("dropout"):
                require(params, key, lambda v: 0 <= v < 1, "a rate >= 0 and < 1")
        arch.param_counts(
            cls.architecture(params), arch.INPUT_SHAPES[cls.view]
        )  # shapes that vanish

    def flops_per_image(self):
        return float(
            arch.forward_flops(self.architecture(self.params), arch.INPUT_SHAPES[self.view])
        )

    def train_flops_per_image(self):
        return float(
            arch.training_flops(self.architecture(self.params), arch.INPUT_SHAPES[self.view])
        )

    def build(self):
        keras = import_keras()
        mixed = keras.config.dtype_policy().name != "float32"
        return arch.build_keras(
            self.architecture(self.params),
            arch.INPUT_SHAPES[self.view],
            keras,
            output_float32=mixed,
        )

    def prepare(
        self,
        *,
        n_train=None,
        seed=0,
        device="cpu",
        threads=None,
        deterministic=False,
        precision="fp32",
    ):
        super().prepare(
            n_train=n_train, seed=seed, device=device, threads=threads, deterministic=deterministic
        )
        self.prepared["precision"] = precision
        keras = import_keras()
        configure(device, threads, deterministic)
        keras.config.set_dtype_policy(
            POLICIES[precision]
        )  # before the model is built: its layers take it
        keras.utils.set_random_seed(seed)
        self.model = self.build()
        self._compile(keras, n_train)
        self._trace_off_the_clock(keras, seed)

    def _compile(self, keras, n_train: int | None):
        p = self.params
        smoothing = p.get("label_smoothing", 0.0)  # reference recipes predate it
        # Keras smooths only one-hot targets; without smoothing the integer labels stay as they were
        loss = (
            keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)
            if smoothing
            else "sparse_categorical_crossentropy"
        )
        self.model.compile(
            optimizer=keras.optimizers.Adam(learning_rate_schedule(keras, p, n_train)),
            loss=loss,
            metrics=["accuracy"],
            steps_per_execution=p.get("steps_per_execution", 1),
        )
        self.model.optimizer.build(self.model.trainable_variables)

    def _trace_off_the_clock(self, keras, seed: int) -> None:
        keras_tools.trace_off_the_clock(
            keras,
            self.model,
            arch.INPUT_SHAPES[self.view],
            self.params["batch_size"],
            seed,
            one_hot=self._one_hot(),
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
        return keras_tools.train(
            import_keras(),
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
            one_hot=self._one_hot(),
            shift=p.get("shift", 0),
        )

    def _one_hot(self) -> int | None:
        """Classes to one-hot the labels into when the loss smooths them, else None."""
        return 10 if self.params.get("label_smoothing") else None

    def predict_proba(self, x, batch_size=1024):
        if getattr(self, "_forward", None) is None:
            self._forward = keras_tools.compiled_forward(self.model, arch.INPUT_SHAPES[self.view])
        proba = keras_tools.predict_batches(self._forward, x, batch_size)
        return proba / proba.sum(axis=1, keepdims=True)

    def to_onnx(self):
        from bench.adapters import onnx_export

        return onnx_export.keras(self.model, arch.INPUT_SHAPES[self.view], self.name)

    def n_params(self):
        return ParamCount(
            *keras_tools.weight_counts(self.model),
            f"Keras weights, {arch.describe(self.architecture(self.params))}",
        )

    def threads_used(self):
        return keras_tools.threads_used()

    def runtime_info(self):
        return keras_tools.runtime_info()

    def save(self, folder):
        path = Path(folder) / "model.keras"
        self.model.save(path)
        return path

    @classmethod
    def load(cls, path, params, threads=None):
        keras = import_keras()
        configure("cpu", threads)
        adapter = cls(params)
        # safe_mode: a .keras file that would run arbitrary code (a Lambda layer) is refused
        adapter.model = keras.saving.load_model(Path(path), compile=False, safe_mode=True)
        return adapter

    def serialized_size(self):
        return keras_tools.saved_size(self.model)
