"""Reproductions of the classic MNIST tutorial models, tagged ``reference``.

Each adapter copies its tutorial's architecture (parameter count checked exactly by a test)
and training recipe: Adam at the default learning rate (1e-3, constant), the tutorial's batch
size and epoch count, cross-entropy on the labels (sparse labels; the same loss as one-hot
categorical cross-entropy). ``published`` holds the accuracy the tutorial reports, which the
leaderboard shows beside the measured one.

Run them with ``python -m bench run --suite reference``. Like every model here they train on
the profile's training split (MNIST full: 55,000 images; the tutorials use 60,000, or 54,000
for the Keras example's 10% validation split).
"""

from __future__ import annotations

from bench.adapters.arch import Activation, Conv, Dense, Dropout, Flatten, MaxPool
from bench.adapters.registry import register

from .keras_base import KerasAdapter


def _recipe(batch_size: int, epochs: int, quick_epochs: int = 2) -> dict:
    # steps_per_execution is how Keras feeds the steps, not part of the recipe: same arithmetic
    base = {
        "batch_size": batch_size,
        "learning_rate": 1e-3,
        "schedule": "constant",
        "steps_per_execution": 16,
    }
    return {"full": {**base, "epochs": epochs}, "quick": {**base, "epochs": quick_epochs}}


class ReferenceAdapter(KerasAdapter):
    tags = ("reference",)


@register
class Conv32Dense128(ReferenceAdapter):
    """Conv2D(32, 3x3, relu) -> MaxPool(2) -> Flatten -> Dense(128, relu) -> Dense(10, softmax).

    Source recipe: the common TensorFlow/Keras beginner CNN; Adam, 10 epochs of 300 steps
    (batch 200 over the 60k training images). Published test accuracy 98.26%; 693,962 params.
    """

    name = "ref-conv32-dense128"
    view = "image"
    description = "reference: conv32-pool-dense128 beginner CNN (Adam, batch 200, 10 epochs)"
    defaults = _recipe(batch_size=200, epochs=10)
    published = {"accuracy": 0.9826, "params": 693_962, "recipe": "Adam, batch 200, 10 epochs"}

    @classmethod
    def architecture(cls, params):
        return (Conv(32, 3, "valid"), MaxPool(2), Flatten(), Dense(128), Dense(10, "softmax"))


@register
class ThreeConv(ReferenceAdapter):
    """3 x [Conv2D(64, 3x3) -> ReLU -> MaxPool(2)] -> Flatten -> Dense(64, relu) -> Dense(32, relu)
    -> Dense(10, softmax).

    Source recipe: Adam, 5 epochs (Keras' default batch 32). Published test accuracy 98.38%;
    81,066 params.
    """

    name = "ref-3conv"
    view = "image"
    description = "reference: 3 x (conv64-relu-pool), dense 64-32 (Adam, batch 32, 5 epochs)"
    defaults = _recipe(batch_size=32, epochs=5, quick_epochs=1)
    published = {"accuracy": 0.9838, "params": 81_066, "recipe": "Adam, batch 32, 5 epochs"}

    @classmethod
    def architecture(cls, params):
        block = (Conv(64, 3, "valid", activation=None), Activation("relu"), MaxPool(2))
        return (*block, *block, *block, Flatten(), Dense(64), Dense(32), Dense(10, "softmax"))


@register
class MLP256x128(ReferenceAdapter):
    """Flatten(784) -> Dense(256, relu) -> Dense(128, relu) -> Dense(10, softmax).

    Source recipe: Adam, categorical cross-entropy on one-hot labels, 10 epochs, batch 32.
    Published test accuracy about 98%; 235,146 params.
    """

    name = "ref-mlp-256-128"
    view = "flat"
    description = "reference: 784-256-128-10 MLP (Adam, batch 32, 10 epochs)"
    defaults = _recipe(batch_size=32, epochs=10)
    published = {"accuracy": 0.98, "params": 235_146, "recipe": "Adam, batch 32, 10 epochs"}

    @classmethod
    def architecture(cls, params):
        return (Dense(256), Dense(128), Dense(10, "softmax"))


@register
class KerasConvnet(ReferenceAdapter):
    """The Keras ``mnist_convnet`` example: Conv2D(32, 3x3, relu) -> MaxPool(2) -> Conv2D(64, 3x3,
    relu) -> MaxPool(2) -> Flatten -> Dropout(0.5) -> Dense(10, softmax).

    Source recipe: Adam, batch 128, 15 epochs, 10% validation split. Published test
    accuracy 99.2%; 34,826 params.
    """

    name = "ref-keras-convnet"
    view = "image"
    description = "reference: Keras mnist_convnet example (Adam, batch 128, 15 epochs)"
    defaults = _recipe(batch_size=128, epochs=15)
    published = {"accuracy": 0.992, "params": 34_826, "recipe": "Adam, batch 128, 15 epochs"}

    @classmethod
    def architecture(cls, params):
        return (
            Conv(32, 3, "valid"),
            MaxPool(2),
            Conv(64, 3, "valid"),
            MaxPool(2),
            Flatten(),
            Dropout(0.5),
            Dense(10, "softmax"),
        )
