"""Shared machinery for the Keras (TensorFlow backend) adapters.

A Keras adapter declares its architecture as data (``bench.adapters.arch``) through
``architecture(params)`` and inherits training, inference, counting and saving from
``KerasAdapter``. TensorFlow is imported only inside methods, after the worker has fixed
the device and thread settings (``configure``).

Training: Adam, sparse categorical cross-entropy, shuffled mini-batches seeded by ``seed``,
fed by our own ``tf.data`` pipeline (``batches``) rather than Keras's array adapter: with
tf.data's autotuner on (as Keras leaves it), dropping an exhausted iterator waited up to
~7 s on this 2-core CPU for the autotuner's thread, idle, at every epoch boundary and at
the end of ``fit``, so the clock measured sleeping, not training.
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

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.adapters import arch
from bench.adapters.contract import Adapter, ParamCount, TrainingLog, require
from models.keras_data import batches, learning_rate_schedule

# steps_per_execution: Keras runs that many optimizer steps per call into the compiled graph.
# At 1, the per-step Python round trip cost 30-50% of a small network's epoch on this 2-core
# CPU (a 3x3 conv + batch-norm probe: 11.0 s -> 5.5 s per epoch at 8); it changes no arithmetic.
TRAINING_DEFAULTS = {"epochs": 10, "batch_size": 128, "learning_rate": 1e-3, "schedule": "cosine", "warmup": 0.0,
                     "label_smoothing": 0.0, "shift": 0, "steps_per_execution": 16}


def import_keras():
    """Import Keras on the TensorFlow backend, the only backend our adapters run on,
    whatever ``KERAS_BACKEND`` the shell set (the measured speed is TensorFlow's)."""
    import sys

    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" in sys.modules:
        import keras
    else:
        with _native_stderr_silenced():  # TensorFlow's C++ start-up chatter, printed past Python
            import keras

    if "keras" in sys.modules and keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"Keras was already imported with the {keras.backend.backend()!r} backend; "
                           "our adapters need tensorflow (start a fresh process)")
    return keras


class _native_stderr_silenced:
    """Point file descriptor 2 at /dev/null for a block (Python exceptions still propagate
    and are reported normally afterwards)."""

    def __enter__(self):
        import sys

        sys.stderr.flush()
        self.saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


def configure(device: str, threads: int | None, deterministic: bool = False) -> None:
    """Fix TensorFlow's device visibility and thread pools; call before any TF op runs."""
    import tensorflow as tf

    if threads and tf.config.threading.get_intra_op_parallelism_threads() != threads:
        # only possible before TensorFlow's runtime starts, as in a fresh worker process
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise RuntimeError("no GPU visible to TensorFlow (is tensorflow[and-cuda] installed?)")


# --precision -> Keras' global dtype policy (the variables stay float32 under the mixed ones)
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


class KerasAdapter(Adapter):
    family = "neural"
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
        require(params, "warmup", lambda v: 0 <= v < params["epochs"], "epochs of warm-up, >= 0 and < epochs")
        require(params, "label_smoothing", lambda v: 0 <= v < 1, "a fraction >= 0 and < 1")
        require(params, "shift", lambda v: isinstance(v, int) and v >= 0, "whole pixels, an integer >= 0")
        if params.get("shift") and cls.view != "image":
            raise ValueError(f"shift={params['shift']}: random shifts need the image view, not {cls.view!r}")
        if params.get("warmup") and params["schedule"] != "cosine":
            raise ValueError("warmup needs schedule=cosine")
        for key in params:
            if key.startswith("dropout"):
                require(params, key, lambda v: 0 <= v < 1, "a rate >= 0 and < 1")
        arch.param_counts(cls.architecture(params), arch.INPUT_SHAPES[cls.view])  # shapes that vanish

    def flops_per_image(self):
        return float(arch.forward_flops(self.architecture(self.params), arch.INPUT_SHAPES[self.view]))

    def build(self):
        keras = import_keras()
        mixed = keras.config.dtype_policy().name != "float32"
        return arch.build_keras(self.architecture(self.params), arch.INPUT_SHAPES[self.view], keras,
                                output_float32=mixed)

    def prepare(self, *, n_train=None, seed=0, device="cpu", threads=None, deterministic=False, precision="fp32"):
        super().prepare(n_train=n_train, seed=seed, device=device, threads=threads, deterministic=deterministic)
        self.prepared["precision"] = precision
        keras = import_keras()
        configure(device, threads, deterministic)
        keras.config.set_dtype_policy(POLICIES[precision])  # before the model is built: its layers take it
        keras.utils.set_random_seed(seed)
        self.model = self.build()
        self._compile(keras, n_train)
        self._trace_off_the_clock(keras, seed)

    def _compile(self, keras, n_train: int | None):
        p = self.params
        smoothing = p.get("label_smoothing", 0.0)  # reference recipes predate it
        # Keras smooths only one-hot targets; without smoothing the integer labels stay as they were
        loss = (keras.losses.CategoricalCrossentropy(label_smoothing=smoothing) if smoothing
                else "sparse_categorical_crossentropy")
        self.model.compile(optimizer=keras.optimizers.Adam(learning_rate_schedule(keras, p, n_train)),
                           loss=loss, metrics=["accuracy"],
                           steps_per_execution=p.get("steps_per_execution", 1))
        self.model.optimizer.build(self.model.trainable_variables)

    def _trace_off_the_clock(self, keras, seed: int) -> None:
        """Trace the train and validation functions on one batch of zeros, then restore
        every model and optimizer variable and the seeds: training starts from exactly the
        state it would have had, minus the graph building."""
        batch = self.params["batch_size"]
        x = np.zeros((batch, *arch.INPUT_SHAPES[self.view]), np.float32)
        y = np.zeros(batch, np.int64)
        state = [v.numpy() for v in self.model.variables]
        opt_state = [v.numpy() for v in self.model.optimizer.variables]
        data = batches(x, y, batch, one_hot=self._one_hot())
        self.model.fit(data, epochs=1, validation_data=data, verbose=0, shuffle=False)
        del data
        for v, value in zip(self.model.variables, state):
            v.assign(value)
        for v, value in zip(self.model.optimizer.variables, opt_state):
            v.assign(value)
        keras.utils.set_random_seed(seed)

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        settings = self.ensure_prepared(len(x))  # a caller who skipped prepare: building is not setup
        started = time.perf_counter()  # setup_s: from here (the arrays' copy into tf.data) to epoch 1
        if settings["n_train"] != len(x):
            raise ValueError(f"prepared for {settings['n_train']} training images, got {len(x)}")
        keras = import_keras()
        p = self.params
        log_ = TrainingLog("epoch", images_processed=len(x) * p["epochs"])
        train = batches(x, y, p["batch_size"], shuffle_seed=settings["seed"], one_hot=self._one_hot(),
                        shift=p.get("shift", 0))
        validation = batches(x_val, y_val, p["batch_size"], one_hot=self._one_hot()) if x_val is not None and len(x_val) else None
        epochs = _EpochLog(keras, log_, p["epochs"], log, target if validation is not None else None)
        self.model.fit(train, epochs=p["epochs"], validation_data=validation, shuffle=False,  # train reshuffles itself
                       verbose=0, callbacks=[epochs])
        log_.images_processed = len(x) * len(log_.passes)  # fewer epochs when --target stopped it
        log_.stop_at_target(target, p["epochs"], applies=validation is not None)
        # copying the arrays into our tf.data pipeline, and Keras building its iterator before the
        # first epoch and tearing it down after the last one: on the clock, and reported as such
        log_.setup_s = epochs.train_begin - started
        log_.teardown_s = time.perf_counter() - epochs.train_end
        return log_

    def _one_hot(self) -> int | None:
        """Classes to one-hot the labels into when the loss smooths them, else None."""
        return 10 if self.params.get("label_smoothing") else None

    def _compiled_forward(self):
        if getattr(self, "_forward", None) is None:
            import tensorflow as tf

            spec = tf.TensorSpec((None, *arch.INPUT_SHAPES[self.view]), tf.float32)
            self._forward = tf.function(lambda batch: self.model(batch, training=False),
                                        input_signature=[spec], reduce_retracing=True)
        return self._forward

    def predict_proba(self, x, batch_size=1024):
        forward = self._compiled_forward()
        parts = [forward(x[i:i + batch_size]).numpy() for i in range(0, len(x), batch_size)]
        proba = np.concatenate(parts).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def n_params(self):
        trainable = int(sum(np.prod(w.shape) for w in self.model.trainable_weights))
        frozen = int(sum(np.prod(w.shape) for w in self.model.non_trainable_weights))
        return ParamCount(trainable, frozen, f"Keras weights, {arch.describe(self.architecture(self.params))}")

    def threads_used(self):
        import tensorflow as tf

        return {"tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "tensorflow_inter_op": tf.config.threading.get_inter_op_parallelism_threads()}

    def runtime_info(self):
        import tensorflow as tf

        build = tf.sysconfig.get_build_info()
        return {"tensorflow": tf.__version__, "built_with_cuda": tf.test.is_built_with_cuda(),
                "cuda_version": build.get("cuda_version"), "cudnn_version": build.get("cudnn_version"),
                "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
                "op_determinism": _op_determinism_enabled(tf),
                "dtype_policy": import_keras().config.dtype_policy().name}

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
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            self.model.save(path)
            return os.path.getsize(path)


def _op_determinism_enabled(tf) -> bool | None:
    """TensorFlow's own view (the query is not in its public API); None if unavailable."""
    try:
        from tensorflow.python.framework import config as tf_config

        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return None


class _EpochLog:
    """A Keras callback (duck-typed to keep Keras out of module import) that times each
    epoch, takes the validation pass out of it, and logs one line per epoch."""

    def __new__(cls, keras, training_log, epochs, log, target=None):
        class EpochLog(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.train_begin = time.perf_counter()

            def on_train_end(self, logs=None):
                self.train_end = time.perf_counter()

            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()
                self.eval_s = 0.0

            def on_test_begin(self, logs=None):
                self.t_eval = time.perf_counter()

            def on_test_end(self, logs=None):
                self.eval_s += time.perf_counter() - self.t_eval

            def on_epoch_end(self, epoch, logs=None):
                wall = time.perf_counter() - self.t0
                logs = logs or {}
                measured = {k: float(logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs}
                row = training_log.add(wall - self.eval_s, self.eval_s, **measured)
                metrics = " ".join(f"{k} {v:.4f}" for k, v in measured.items())
                log(f"epoch {epoch + 1}/{epochs} {metrics} (train {row['train_s']:.1f}s, eval {row['eval_s']:.1f}s)")
                if training_log.reached(target) and epoch + 1 < epochs:
                    log(f"validation accuracy reached the target {target:g}: training stops")
                    self.model.stop_training = True
                diverged = training_log.first_non_finite()
                if diverged and epoch + 1 < epochs:  # NaN weights stay NaN: more epochs teach nothing
                    log(f"{diverged['what']} at epoch {diverged['first_pass']}: training diverged and stops")
                    self.model.stop_training = True

        return EpochLog()
