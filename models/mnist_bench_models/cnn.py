"""Convolutional networks (Keras) on the image view: a small one and a deep one."""

from __future__ import annotations

from bench.adapters.arch import (
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    MaxPool,
)
from bench.adapters.registry import register

from .keras_base import TRAINING_DEFAULTS, KerasAdapter


@register
class SmallCNNAdapter(KerasAdapter):
    name = "cnn-small"
    default_suite = True
    view = "image"
    description = (
        "2 x (conv3x3 + max-pool), dense 128, dropout; Adam, warm-up + cosine decay (Keras)"
    )
    defaults = {
        # issue 15, chosen on validation: 5 epochs at a 2e-3 peak after half an epoch of warm-up,
        # with lighter dropout for the shorter run, reached 99.00% in 49 s (10 epochs at 1e-3 with
        # dropout 0.25/0.5: 98.98% in 94 s; 5 epochs with that dropout: 98.96%; 4 epochs: 98.90%)
        "full": {
            **TRAINING_DEFAULTS,
            "epochs": 5,
            "learning_rate": 2e-3,
            "warmup": 0.5,
            "dropout_conv": 0.1,
            "dropout_dense": 0.25,
        },
        "quick": {
            **TRAINING_DEFAULTS,
            "epochs": 4,
            "learning_rate": 2e-3,
            "warmup": 0.5,
            "dropout_conv": 0.1,
            "dropout_dense": 0.25,
        },
    }
    dataset_defaults = {
        # issue 23, chosen on Fashion-MNIST's validation split (seed 0) within twice the MNIST
        # training time: 10 epochs reached 91.70% in 97 s (5 epochs: 90.64%; 10 with the
        # heavier dropout 0.25/0.5: 91.16%)
        "fashion-mnist": {"full": {"epochs": 10}},
        # on the digits set's 120 validation images (seed 0): 5 epochs 88.33%; 20 and 40 epochs
        # both 100%, so the validation loss decided: 0.0091 after 40 against 0.0309 after 20
        "digits": {"full": {"epochs": 40}},
    }

    @classmethod
    def architecture(cls, params):
        return (
            Conv(32, 3, "valid"),
            MaxPool(2),
            Conv(64, 3, "valid"),
            MaxPool(2),
            Flatten(),
            Dropout(params["dropout_conv"]),
            Dense(128),
            Dropout(params["dropout_dense"]),
            Dense(10, "softmax"),
        )


def _conv_bn(filters: int, padding: str = "same") -> tuple:
    """conv (no bias: batch-norm's beta replaces it) -> batch-norm -> ReLU."""
    return (
        Conv(filters, 3, padding, activation=None, use_bias=False),
        BatchNorm(),
        Activation("relu"),
    )


@register
class DeepCNNAdapter(KerasAdapter):
    name = "cnn-deep"
    default_suite = True
    view = "image"
    description = (
        "VGG-style 4 x conv3x3-BN-ReLU in two blocks, dense 256-BN, dropout; random 2-pixel shifts; "
        "Adam, warm-up + cosine (Keras)"
    )
    defaults = {
        # issue 15, chosen on validation (seed 0): 5 epochs at a 2e-3 peak after half an epoch
        # of warm-up reached 99.38% (12 epochs at 1e-3 without warm-up: 99.40%, in 2.5x the
        # time). Random shifts of up to 2 pixels tied on accuracy (99.36%; one image is 0.02
        # pp) and lowered the validation loss from 0.0229 to 0.0208; label smoothing 0.1: 99.30%
        "full": {
            **TRAINING_DEFAULTS,
            "epochs": 5,
            "learning_rate": 2e-3,
            "warmup": 0.5,
            "shift": 2,
        },
        "quick": {
            **TRAINING_DEFAULTS,
            "epochs": 4,
            "learning_rate": 2e-3,
            "warmup": 0.5,
            "shift": 2,
        },
    }
    dataset_defaults = {
        # issue 23, chosen on Fashion-MNIST's validation split (seed 0) within twice the MNIST
        # training time: 10 epochs without the random shifts reached 93.36% (5 epochs without
        # them: 91.78%, with them: 91.10%; Fashion-MNIST is far from fitted after 5 epochs, and
        # shifted copies make fitting slower still)
        "fashion-mnist": {"full": {"epochs": 10, "shift": 0}},
        # on the digits set's 120 validation images (seed 0): 5 epochs 95.83%; 20 and 40 epochs
        # both 100%, so the validation loss decided: 0.0070 after 40 against 0.0166 after 20
        "digits": {"full": {"epochs": 40}},
    }

    @classmethod
    def architecture(cls, params):
        return (
            *_conv_bn(32, "valid"),
            *_conv_bn(32, "valid"),
            MaxPool(2),
            Dropout(0.2),
            *_conv_bn(64, "valid"),
            *_conv_bn(64, "valid"),
            MaxPool(2),
            Dropout(0.2),
            Flatten(),
            Dense(256, None, use_bias=False),
            BatchNorm(),
            Activation("relu"),
            Dropout(0.4),
            Dense(10, "softmax"),
        )


# cnn-fast's recipe, the same for both profiles
_SPEED_RUN = {
    **TRAINING_DEFAULTS,
    "epochs": 2,
    "batch_size": 128,
    "learning_rate": 3e-3,
    "warmup": 0.0,
    "label_smoothing": 0.1,
    "kernel": 5,
    "filters": 16,
    "filters2": 32,
    "hidden": 128,
    "batch_norm": False,
}


@register
class FastCNNAdapter(KerasAdapter):
    """The speed-run entry: the least training time to a mean test accuracy of 99% over seeds
    on two CPU cores that we found (chosen on the validation split; the ablation and its
    measurements are in ``docs/speedrun.md``).

    What it takes from public speed runs and the work behind them:

    - T. Oikarinen, "How to train a CNN to 99% accuracy on MNIST in less than a second on a
      laptop" (github.com/tuomaso/train_mnist_fast): a fixed short budget instead of a long
      schedule, and a network shrunk together with its regularisation (no dropout: there is
      no time to over-fit).
    - L. N. Smith ("Super-convergence", 2018) and D. Page, "How to train your ResNet" (the
      DAWNBench CIFAR-10 series): a high peak learning rate annealed over the few epochs
      there are (cosine here; a warm-up did not help at this rate), label smoothing with
      the short schedule.
    - LeCun et al. (1998): two small 5x5 convolution/pooling stages and a dense layer already
      carry MNIST to 99%.

    Batch-norm is off by default (``batch_norm=True`` adds it after each convolution).
    """

    name = "cnn-fast"
    view = "image"
    description = (
        "speed run: conv5x5(16)-pool-conv5x5(32)-pool-dense128, no dropout; Adam 3e-3, "
        "label smoothing 0.1, 2 epochs of cosine decay (Keras)"
    )
    defaults = {profile: dict(_SPEED_RUN) for profile in ("full", "quick")}

    @classmethod
    def architecture(cls, params):
        k, f1, f2, hidden = (
            params["kernel"],
            params["filters"],
            params["filters2"],
            params["hidden"],
        )

        def conv(n):
            if params["batch_norm"]:
                return (
                    Conv(n, k, "valid", activation=None, use_bias=False),
                    BatchNorm(),
                    Activation("relu"),
                )
            return (Conv(n, k, "valid"),)

        head = (Dense(hidden),) if hidden else ()
        return (
            *conv(f1),
            MaxPool(2),
            *conv(f2),
            MaxPool(2),
            Flatten(),
            *head,
            Dense(10, "softmax"),
        )
