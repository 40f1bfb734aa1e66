"""Neural architectures as plain data: one description gives the Keras model, the
parameter count, the forward FLOPs and the training FLOPs.

An architecture is a tuple of layer specs (``Conv``, ``MaxPool``, ``Dense`` ...). Shapes
are propagated here in pure Python, so ``bench list`` can show parameter counts without
importing TensorFlow, and FLOPs are computed from the same shapes Keras builds. A test
checks the analytic counts against Keras' ``count_params``.

FLOPs convention: a multiply-add counts 2; bias adds, activations, pooling and batch-norm
(folded into the preceding layer at inference) are not counted, as in most papers.

Training FLOPs (``training_flops``), the same convention for one image's forward and backward
pass: each weight layer (Dense, Conv) does its forward product, the product for its weights'
gradient (as many FLOPs as the forward one) and, only when some layer before it has trainable
parameters, the product for its input's gradient (as many again): nothing upstream needs
the first weight layer's input gradient, and TensorFlow does not compute it. Bias, activation,
pooling, dropout and batch-norm gradients are element-wise and not counted, like their forward
work; the optimizer's update (a few operations per parameter per step, not per image) neither.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

Shape = tuple[int, ...]


def conv_flops(out_shape: Shape, kernel: tuple[int, ...], in_channels: int, groups: int = 1) -> int:
    """Forward FLOPs of a convolution: each output value (``out_shape`` = spatial dims then
    channels) is a dot product over ``kernel`` x ``in_channels / groups`` inputs."""
    return 2 * math.prod(out_shape) * math.prod(kernel) * (in_channels // groups)


def dense_flops(in_shape: Shape, units: int) -> int:
    """Forward FLOPs of a dense layer applied along the last axis of ``in_shape``."""
    return 2 * math.prod(in_shape) * units


@dataclass(frozen=True)
class Conv:
    filters: int
    kernel: int = 3
    padding: str = "same"  # "same" | "valid"
    activation: str | None = "relu"
    use_bias: bool = True

    def out_shape(self, s: Shape) -> Shape:
        h, w, _ = s
        if self.padding == "valid":
            h, w = h - self.kernel + 1, w - self.kernel + 1
        return (h, w, self.filters)

    def params(self, s: Shape) -> tuple[int, int]:
        return self.kernel * self.kernel * s[2] * self.filters + (
            self.filters if self.use_bias else 0
        ), 0

    def flops(self, s: Shape) -> int:
        return conv_flops(self.out_shape(s), (self.kernel, self.kernel), s[2])

    def keras(self, keras):
        return keras.layers.Conv2D(
            self.filters,
            self.kernel,
            padding=self.padding,
            activation=self.activation,
            use_bias=self.use_bias,
        )


@dataclass(frozen=True)
class MaxPool:
    size: int = 2

    def out_shape(self, s: Shape) -> Shape:
        return (s[0] // self.size, s[1] // self.size, s[2])

    def keras(self, keras):
        return keras.layers.MaxPooling2D(self.size)


@dataclass(frozen=True)
class Flatten:
    def out_shape(self, s: Shape) -> Shape:
        return (math.prod(s),)

    def keras(self, keras):
        return keras.layers.Flatten()


@dataclass(frozen=True)
class Dense:
    units: int
    activation: str | None = "relu"
    use_bias: bool = True

    def out_shape(self, s: Shape) -> Shape:
        return (*s[:-1], self.units)

    def params(self, s: Shape) -> tuple[int, int]:
        return s[-1] * self.units + (self.units if self.use_bias else 0), 0

    def flops(self, s: Shape) -> int:
        return dense_flops(s, self.units)

    def keras(self, keras):
        return keras.layers.Dense(self.units, activation=self.activation, use_bias=self.use_bias)


@dataclass(frozen=True)
class Dropout:
    rate: float

    def keras(self, keras):
        return keras.layers.Dropout(self.rate)


@dataclass(frozen=True)
class BatchNorm:
    """gamma and beta are trainable; the moving mean and variance are not.

    Momentum 0.9 rather than Keras' 0.99: the moving statistics settle within a few dozen
    steps, so short runs (quick profile, small datasets) evaluate with sensible statistics.
    """

    momentum: float = 0.9

    def params(self, s: Shape) -> tuple[int, int]:
        return 2 * s[-1], 2 * s[-1]

    def keras(self, keras):
        return keras.layers.BatchNormalization(momentum=self.momentum)


@dataclass(frozen=True)
class Activation:
    fn: str

    def keras(self, keras):
        return keras.layers.Activation(self.fn)


INPUT_SHAPES = {"flat": (784,), "image": (28, 28, 1)}


def walk(layers, input_shape: Shape):
    """Yield (layer, input shape, output shape) through the network."""
    s = input_shape
    for layer in layers:
        out = layer.out_shape(s) if hasattr(layer, "out_shape") else s
        if any(d <= 0 for d in out):
            raise ValueError(f"{layer} shrinks {s} to {out}")
        yield layer, s, out
        s = out


def param_counts(layers, input_shape: Shape) -> tuple[int, int]:
    """(trainable, non-trainable) parameters of the network."""
    trainable = non_trainable = 0
    for layer, s, _ in walk(layers, input_shape):
        if hasattr(layer, "params"):
            t, n = layer.params(s)
            trainable += t
            non_trainable += n
    return trainable, non_trainable


def forward_flops(layers, input_shape: Shape) -> int:
    """Forward FLOPs for one input (see module docstring for the convention)."""
    return sum(
        layer.flops(s) for layer, s, _ in walk(layers, input_shape) if hasattr(layer, "flops")
    )


def training_flops(layers, input_shape: Shape) -> int:
    """FLOPs of one image's forward and backward pass (see the module docstring): per weight
    layer 2 x its forward FLOPs, plus its forward FLOPs again when a layer before it has
    trainable parameters (its input gradient is needed). The MLP 784-512-512-10: 3,209,216."""
    total, upstream_trainable = 0, False
    for layer, s, _ in walk(layers, input_shape):
        if hasattr(layer, "flops"):
            total += layer.flops(s) * (3 if upstream_trainable else 2)
        if hasattr(layer, "params") and layer.params(s)[0] > 0:
            upstream_trainable = True
    return total


def build_keras(layers, input_shape: Shape, keras, output_float32: bool = False):
    """A ``keras.Sequential`` for the architecture; the output layer is given in ``layers``.
    ``output_float32``: the output layer computes in float32 whatever the global policy (under
    mixed precision the softmax's probabilities then keep float32 resolution, as Keras'
    mixed-precision guide advises)."""
    built = [layer.keras(keras) for layer in layers]
    if output_float32 and built:
        config = {**built[-1].get_config(), "dtype": "float32"}
        built[-1] = type(built[-1]).from_config(config)
    return keras.Sequential([keras.Input(input_shape), *built])


def describe(layers) -> str:
    """A compact one-line summary, e.g. ``conv32-pool-dense128-dense10``."""
    parts = []
    for layer in layers:
        if isinstance(layer, Conv):
            parts.append(
                f"conv{layer.filters}x{layer.kernel}{'v' if layer.padding == 'valid' else ''}"
            )
        elif isinstance(layer, Dense):
            parts.append(f"dense{layer.units}")
        elif isinstance(layer, MaxPool):
            parts.append("pool")
        elif isinstance(layer, BatchNorm):
            parts.append("bn")
        elif isinstance(layer, Dropout):
            parts.append(f"drop{layer.rate:g}")
    return "-".join(parts)


_TOKEN = re.compile(r"conv(\d+)x(\d+)(v?)|pool|dense(\d+)|bn|drop(\d*\.?\d+(?:e[+-]?\d+)?)(?=-|$)")


def parse(text: str) -> tuple[tuple, Shape]:
    """The layers and input shape of a ``describe`` summary (as old records hold it in
    ``size.detail``): convolutions and pools on the image, a flatten before the first dense
    layer that follows them, max-pools of 2; a summary starting with a dense layer is on the
    flat view. What ``describe`` leaves out (activations, biases) counts no FLOPs. ``ValueError``
    when the text is not a summary this module writes."""
    layers: list = []
    spatial = False
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if m.group(1):
            layers.append(Conv(int(m.group(1)), int(m.group(2)), "valid" if m.group(3) else "same"))
            spatial = True
        elif token == "pool":
            layers.append(MaxPool(2))
        elif m.group(4):
            layers += [Flatten()] if spatial else []
            layers.append(Dense(int(m.group(4))))
            spatial = False
        elif token == "bn":
            layers.append(BatchNorm())
        else:
            layers.append(Dropout(float(m.group(5))))
    if not layers or describe(layers) != text:
        raise ValueError(f"not an architecture summary: {text!r}")
    first = next((layer for layer in layers if isinstance(layer, (Conv, Dense))), None)
    return tuple(layers), INPUT_SHAPES[
        "image" if isinstance(first, Conv) or isinstance(layers[0], MaxPool) else "flat"
    ]
