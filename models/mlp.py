"""Dense multi-layer perceptron (Keras) on the flat view."""

from __future__ import annotations

from models import register
from models.arch import Dense, Dropout
from models.keras_base import TRAINING_DEFAULTS, KerasAdapter


@register
class MLPAdapter(KerasAdapter):
    name = "mlp"
    view = "flat"
    description = "784-512-512-10 ReLU MLP with dropout 0.2, Adam + cosine decay (Keras)"
    defaults = {
        "full": {**TRAINING_DEFAULTS, "epochs": 15, "hidden": 512, "dropout": 0.2},
        "quick": {**TRAINING_DEFAULTS, "epochs": 10, "hidden": 512, "dropout": 0.2},
    }

    @classmethod
    def architecture(cls, params):
        h, d = params["hidden"], params["dropout"]
        return (Dense(h), Dropout(d), Dense(h), Dropout(d), Dense(10, "softmax"))
