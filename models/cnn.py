"""Convolutional networks (Keras) on the image view: a small one and a deep one."""

from __future__ import annotations

from models import register
from models.arch import Activation, BatchNorm, Conv, Dense, Dropout, Flatten, MaxPool
from models.keras_base import TRAINING_DEFAULTS, KerasAdapter


@register
class SmallCNNAdapter(KerasAdapter):
    name = "cnn-small"
    view = "image"
    description = "2 x (conv3x3 + max-pool), dense 128, dropout; Adam + cosine decay (Keras)"
    defaults = {
        "full": {**TRAINING_DEFAULTS, "epochs": 10},
        "quick": {**TRAINING_DEFAULTS, "epochs": 4},
    }

    @classmethod
    def architecture(cls, params):
        return (
            Conv(32, 3, "valid"), MaxPool(2),
            Conv(64, 3, "valid"), MaxPool(2),
            Flatten(), Dropout(0.25), Dense(128), Dropout(0.5), Dense(10, "softmax"),
        )


def _conv_bn(filters: int, padding: str = "same") -> tuple:
    """conv (no bias: batch-norm's beta replaces it) -> batch-norm -> ReLU."""
    return (Conv(filters, 3, padding, activation=None, use_bias=False), BatchNorm(), Activation("relu"))


@register
class DeepCNNAdapter(KerasAdapter):
    name = "cnn-deep"
    view = "image"
    description = "VGG-style 4 x conv3x3-BN-ReLU in two blocks, dense 256-BN, dropout; Adam + cosine (Keras)"
    defaults = {
        "full": {**TRAINING_DEFAULTS, "epochs": 12},
        "quick": {**TRAINING_DEFAULTS, "epochs": 4},
    }

    @classmethod
    def architecture(cls, params):
        return (
            *_conv_bn(32, "valid"), *_conv_bn(32, "valid"), MaxPool(2), Dropout(0.2),
            *_conv_bn(64, "valid"), *_conv_bn(64, "valid"), MaxPool(2), Dropout(0.2),
            Flatten(), Dense(256, None, use_bias=False), BatchNorm(), Activation("relu"), Dropout(0.4),
            Dense(10, "softmax"),
        )
