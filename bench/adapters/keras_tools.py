"""Keras (TensorFlow backend) machinery shared by every Keras adapter: the built-in families
(``mnist_bench_models.keras_base``) and the generic ``keras_model`` (``bench.adapters.generic``).

- ``import_keras`` / ``configure``: Keras on TensorFlow, device visibility, thread pools,
  op determinism, fixed before any op runs.
- ``batches``: our own ``tf.data`` pipeline (a seeded reshuffle of indices per epoch, a
  gather, optional random whole-pixel shifts, ``prefetch(1)``, the autotuner off): with
  tf.data's autotuner on, as Keras's array adapter leaves it, dropping an exhausted iterator
  waited for the autotuner's thread at every epoch boundary, and the clock measured sleeping.
- ``learning_rate_schedule``: constant, or warm-up + cosine decay over all steps.
- ``trace_off_the_clock``: trace the train and validation functions on one throw-away batch
  and put every variable back, so that ``fit`` times training alone.
- ``train``: ``Model.fit`` with ``epoch_callback``, which times each epoch and takes the
  validation pass out of it (``TrainingLog``), stops at ``--target`` and at a NaN loss.
- ``compiled_forward``: a ``tf.function`` forward pass (``Model.predict``'s per-call overhead
  dominates small batches).

TensorFlow and Keras are imported inside the functions, never at module level.
"""

from __future__ import annotations

import os
import time

import numpy as np

from bench.adapters.training_log import TrainingLog

# --precision -> Keras' global dtype policy (the variables stay float32 under the mixed ones)
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


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
        raise RuntimeError(
            f"Keras was already imported with the {keras.backend.backend()!r} backend; "
            "our adapters need tensorflow (start a fresh process)"
        )
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


def op_determinism_enabled(tf) -> bool | None:
    """TensorFlow's own view (the query is not in its public API); None if unavailable."""
    try:
        from tensorflow.python.framework import config as tf_config

        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return None


def threads_used() -> dict:
    """TensorFlow's intra/inter-op pool sizes as applied."""
    import tensorflow as tf

    return {
        "tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def runtime_info() -> dict:
    """TensorFlow's build (CUDA/cuDNN), visible GPUs, op determinism and dtype policy."""
    import tensorflow as tf

    build = tf.sysconfig.get_build_info()
    return {
        "tensorflow": tf.__version__,
        "built_with_cuda": tf.test.is_built_with_cuda(),
        "cuda_version": build.get("cuda_version"),
        "cudnn_version": build.get("cudnn_version"),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "op_determinism": op_determinism_enabled(tf),
        "dtype_policy": import_keras().config.dtype_policy().name,
    }


def batches(
    x,
    y,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    one_hot: int | None = None,
    shift: int = 0,
):
    """A ``tf.data`` pipeline of ``(images, labels)`` mini-batches for ``Model.fit``.

    Every image once per pass, reshuffled each pass from ``shuffle_seed`` (None: in order),
    the last batch short; labels as integers, or as ``one_hot`` vectors of that many
    classes. ``shift`` > 0 (images of shape (n, h, w, c) only) moves each image by a random
    whole number of pixels in [-shift, shift] along each axis, filling with zeros, new
    offsets every pass, drawn from ``shuffle_seed``. The arrays are copied once into host
    memory; a batch is a gather of shuffled indices. tf.data's autotuner is off (see the
    module docstring): the pipeline's parallelism is fixed, which changes its speed, never
    which images a batch holds."""
    import tensorflow as tf

    with tf.device("/cpu:0"):  # the input pipeline runs on the host even when training on a GPU
        images, labels = tf.constant(x), tf.constant(y)
        if one_hot:
            labels = tf.one_hot(labels, one_hot)
    indices = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        indices = indices.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    if shift:
        if images.shape.rank != 4:
            raise ValueError(f"shift needs images of shape (n, h, w, c), got {tuple(images.shape)}")
        # an endless stream: its batches stay full where the last image batch is short
        draws = tf.data.Dataset.random(seed=shuffle_seed, rerandomize_each_iteration=True).batch(
            batch_size
        )
        dataset = tf.data.Dataset.zip(indices, draws).map(
            lambda i, r: (
                _shifted(tf, tf.gather(images, i), r[: tf.shape(i)[0]], shift),
                tf.gather(labels, i),
            )
        )
    else:
        dataset = indices.map(lambda i: (tf.gather(images, i), tf.gather(labels, i)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(1).with_options(options)


def _shifted(tf, batch, draws, shift: int):
    """``batch`` (b, h, w, c) with image k moved by offsets taken from the random int64
    ``draws[k]``: each of dy, dx uniform in [-shift, shift]; uncovered pixels are zeros."""
    span = 2 * shift + 1
    dy = tf.cast(draws % span, tf.int32)
    dx = tf.cast((draws // span) % span, tf.int32)
    height, width = batch.shape[1], batch.shape[2]
    padded = tf.pad(batch, [[0, 0], [shift, shift], [shift, shift], [0, 0]])
    rows = dy[:, None] + tf.range(height)[None, :]
    cols = dx[:, None] + tf.range(width)[None, :]
    return tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)


def learning_rate_schedule(keras, params: dict, n_train: int | None):
    """The learning rate Adam gets: a float (``schedule="constant"``) or a Keras schedule
    over optimizer steps: an optional linear warm-up of ``warmup`` epochs from a tenth of
    ``learning_rate`` to it, then a cosine decay to 1% of it at the last step."""
    lr, warmup = (
        params["learning_rate"],
        params.get("warmup", 0.0),
    )  # reference recipes predate warm-up
    if params["schedule"] == "constant":
        if warmup:
            raise ValueError("warmup needs schedule='cosine'")
        return lr
    if params["schedule"] != "cosine":
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {params['schedule']!r}")
    if not n_train:
        raise ValueError(
            "the cosine schedule needs prepare(n_train=...) to know its number of steps"
        )
    per_epoch = int(np.ceil(n_train / params["batch_size"]))
    warmup_steps = int(round(warmup * per_epoch))
    decay_steps = max(1, per_epoch * params["epochs"] - warmup_steps)
    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=decay_steps, alpha=0.01)
    return keras.optimizers.schedules.CosineDecay(
        lr / 10, decay_steps=decay_steps, alpha=0.01, warmup_target=lr, warmup_steps=warmup_steps
    )


def trace_off_the_clock(
    keras, model, input_shape: tuple, batch_size: int, seed: int, one_hot: int | None = None
) -> None:
    """Trace ``model``'s (compiled) train and validation functions on one batch of zeros, then
    restore every model and optimizer variable and the seeds: training starts from exactly
    the state it would have had, minus the graph building."""
    x = np.zeros((batch_size, *input_shape), np.float32)
    y = np.zeros(batch_size, np.int64)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    state = [v.numpy() for v in model.variables]
    opt_state = [v.numpy() for v in model.optimizer.variables]
    data = batches(x, y, batch_size, one_hot=one_hot)
    model.fit(data, epochs=1, validation_data=data, verbose=0, shuffle=False)
    del data
    for v, value in zip(model.variables, state):
        v.assign(value)
    for v, value in zip(model.optimizer.variables, opt_state):
        v.assign(value)
    keras.utils.set_random_seed(seed)


def train(
    keras,
    model,
    x,
    y,
    *,
    x_val,
    y_val,
    epochs: int,
    batch_size: int,
    seed: int,
    log,
    target,
    started: float,
    one_hot: int | None = None,
    shift: int = 0,
) -> TrainingLog:
    """Train the compiled ``model`` for ``epochs`` on our pipeline and return its
    ``TrainingLog``: per-epoch training seconds without the validation pass (timed apart),
    ``setup_s`` from ``started`` (the caller's clock start) to the first epoch, ``teardown_s``
    after the last one; ``target``: stop at the first epoch whose validation accuracy reaches it."""
    log_ = TrainingLog("epoch", images_processed=len(x) * epochs)
    data = batches(x, y, batch_size, shuffle_seed=seed, one_hot=one_hot, shift=shift)
    validation = (
        batches(x_val, y_val, batch_size, one_hot=one_hot)
        if x_val is not None and len(x_val)
        else None
    )
    timer = epoch_callback(keras, log_, epochs, log, target if validation is not None else None)
    model.fit(
        data,
        epochs=epochs,
        validation_data=validation,
        shuffle=False,  # data reshuffles itself
        verbose=0,
        callbacks=[timer],
    )
    log_.images_processed = len(x) * len(log_.passes)  # fewer epochs when --target stopped it
    log_.stop_at_target(target, epochs, applies=validation is not None)
    # copying the arrays into our tf.data pipeline, and Keras building its iterator before the
    # first epoch and tearing it down after the last one: on the clock, and reported as such
    log_.setup_s = timer.train_begin - started
    log_.teardown_s = time.perf_counter() - timer.train_end
    return log_


def compiled_forward(model, input_shape: tuple):
    """``model(batch, training=False)`` as a ``tf.function`` over float32 batches of any size."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, *input_shape), tf.float32)
    return tf.function(
        lambda batch: model(batch, training=False), input_signature=[spec], reduce_retracing=True
    )


def predict_batches(forward, x, batch_size: int) -> np.ndarray:
    """``forward`` over ``x`` in batches of ``batch_size``, as one float64 array."""
    parts = [forward(x[i : i + batch_size]).numpy() for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float64)


def weight_counts(model) -> tuple[int, int]:
    """(trainable, non-trainable) numbers a Keras model stores: its weights' element counts."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return trainable, int(sum(np.prod(w.shape) for w in model.non_trainable_weights))


def saved_size(model) -> int:
    """Bytes of ``model`` saved as ``.keras``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        return os.path.getsize(path)


def epoch_callback(keras, training_log: TrainingLog, epochs: int, log, target=None):
    """A Keras callback (built here to keep Keras out of module import) that times each
    epoch, takes the validation pass out of it, logs one line per epoch, and stops training
    at ``target`` or at a non-finite loss."""

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
            measured = {
                k: float(logs[k])
                for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                if k in logs
            }
            row = training_log.add(wall - self.eval_s, self.eval_s, **measured)
            metrics = " ".join(f"{k} {v:.4f}" for k, v in measured.items())
            log(
                f"epoch {epoch + 1}/{epochs} {metrics} (train {row['train_s']:.1f}s, eval {row['eval_s']:.1f}s)"
            )
            if training_log.reached(target) and epoch + 1 < epochs:
                log(f"validation accuracy reached the target {target:g}: training stops")
                self.model.stop_training = True
            diverged = training_log.first_non_finite()
            if diverged and epoch + 1 < epochs:  # NaN weights stay NaN: more epochs teach nothing
                log(
                    f"{diverged['what']} at epoch {diverged['first_pass']}: training diverged and stops"
                )
                self.model.stop_training = True

    return EpochLog()
