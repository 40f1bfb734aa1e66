"""Dense multi-layer perceptron (Keras) on the flat view."""

from __future__ import annotations

from bench.adapters.arch import Dense, Dropout
from bench.adapters.registry import register

from .keras_base import TRAINING_DEFAULTS, KerasAdapter


@register
class MLPAdapter(KerasAdapter):
    name = "mlp"
    default_suite = True
    view = "flat"
    description = "784-512-512-10 ReLU MLP with dropout 0.2, Adam + cosine decay, batch 256 (Keras)"
    defaults = {
        # chosen on the validation split within a training-time budget (docs/experiments/recipes.md)
        "full": {
            **TRAINING_DEFAULTS,
            "epochs": 14,
            "batch_size": 256,
            "learning_rate": 2e-3,
            "hidden": 512,
            "dropout": 0.2,
        },
        "quick": {
            **TRAINING_DEFAULTS,
            "epochs": 10,
            "batch_size": 256,
            "learning_rate": 2e-3,
            "hidden": 512,
            "dropout": 0.2,
        },
    }
    dataset_defaults = {
        # chosen on each dataset's validation split (seed 0) within twice the MNIST training
        # time (docs/experiments/recipes.md, "Recipes per dataset")
        "fashion-mnist": {"full": {"epochs": 28}},
        "digits": {"full": {"epochs": 30}},
    }

    @classmethod
    def architecture(cls, params):
        h, d = params["hidden"], params["dropout"]
        return (Dense(h), Dropout(d), Dense(h), Dropout(d), Dense(10, "softmax"))
