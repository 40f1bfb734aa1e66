"""The Keras adapters' input pipeline and learning-rate schedule.

``batches`` is our own ``tf.data`` pipeline (a seeded reshuffle of indices per epoch, a
gather, optional random whole-pixel shifts, ``prefetch(1)``, the autotuner off): with
tf.data's autotuner on, as Keras's array adapter leaves it, dropping an exhausted iterator
waited for the autotuner's thread at every epoch boundary, and the clock measured sleeping.
TensorFlow is passed in or imported inside the functions, never at module level.
"""

from __future__ import annotations

import numpy as np


def batches(x, y, batch_size: int, *, shuffle_seed: int | None = None, one_hot: int | None = None,
            shift: int = 0):
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
        draws = tf.data.Dataset.random(seed=shuffle_seed, rerandomize_each_iteration=True).batch(batch_size)
        dataset = tf.data.Dataset.zip(indices, draws).map(
            lambda i, r: (_shifted(tf, tf.gather(images, i), r[:tf.shape(i)[0]], shift), tf.gather(labels, i)))
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
    lr, warmup = params["learning_rate"], params.get("warmup", 0.0)  # reference recipes predate warm-up
    if params["schedule"] == "constant":
        if warmup:
            raise ValueError("warmup needs schedule='cosine'")
        return lr
    if params["schedule"] != "cosine":
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {params['schedule']!r}")
    if not n_train:
        raise ValueError("the cosine schedule needs prepare(n_train=...) to know its number of steps")
    per_epoch = int(np.ceil(n_train / params["batch_size"]))
    warmup_steps = int(round(warmup * per_epoch))
    decay_steps = max(1, per_epoch * params["epochs"] - warmup_steps)
    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=decay_steps, alpha=0.01)
    return keras.optimizers.schedules.CosineDecay(lr / 10, decay_steps=decay_steps, alpha=0.01,
                                                  warmup_target=lr, warmup_steps=warmup_steps)
