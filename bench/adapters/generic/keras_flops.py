"""FLOPs of any Keras model from its layer graph: forward (``graph_flops``) and training
(``graph_train_flops``), in the convention of ``bench.adapters.arch``.

Only the multiply-adds of standard Dense and convolution layers count (2 FLOPs each); the
layers in ``FREE_LAYERS`` and the element-wise ops in ``FREE_OPS`` count 0; any other layer
(a custom one, a subclass, a subclassed model) makes the count None ("-"), never a guess.
Training, per call of a weight layer: its forward product, its weights' gradient when they
are trainable, and its input's gradient only when its input depends on a trainable weight
(the first weight layer's input gradient is never computed).
"""

from __future__ import annotations

from bench.adapters import arch, keras_tools

# Layers whose forward FLOPs the convention of bench.adapters.arch sets to 0 (only the
# multiply-adds of convolutions and dense products count; bias adds, activations, pooling,
# normalization, reshaping, dropout, padding and element-wise merges do not).
FREE_LAYERS = (
    "InputLayer",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "Softmax",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Flatten",
    "Reshape",
    "Permute",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Cropping1D",
    "Cropping2D",
    "UpSampling1D",
    "UpSampling2D",
    "Rescaling",
    "Identity",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
)
# the same element-wise operations written as ``x + y`` or ``keras.ops.relu(x)`` in a functional model
FREE_OPS = {
    "numpy": ("Add", "Subtract", "Multiply", "Maximum", "Minimum", "Reshape", "Concatenate"),
    "nn": ("Relu", "Softmax", "Sigmoid"),
}
CONVS = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D")


def graph_flops(model) -> tuple[int | None, list[str]]:
    """Forward FLOPs for one input of a functional or sequential Keras model, from its layer
    graph (each call of a layer counted, nested models included), and the layers it could
    not count: ``(flops, [])``, or ``(None, ["name (Class)", ...])`` when any layer is not one
    of the standard layers above matched by exact class (a subclass may compute anything)."""
    forward, _, unknown = _count(model)
    return (None if unknown else forward), unknown


def graph_train_flops(model) -> int | None:
    """FLOPs of training on one input (forward and backward, see the module docstring);
    None when ``graph_flops`` cannot count the model."""
    _, training, unknown = _count(model)
    return None if unknown else training


def _count(model) -> tuple[int, int, list[str]]:
    keras = keras_tools.import_keras()
    free = {getattr(keras.layers, n) for n in FREE_LAYERS if hasattr(keras.layers, n)} | _free_ops()
    forward, training, unknown, _ = _walk(keras, model, free, False)
    return forward, training, unknown


def _free_ops() -> set:
    import importlib

    out = set()
    for module, names in FREE_OPS.items():
        try:
            ops = importlib.import_module(f"keras.src.ops.{module}")
        except ImportError:
            continue
        out |= {getattr(ops, n) for n in names if isinstance(getattr(ops, n, None), type)}
    return out


def _walk(keras, model, free: set, grad_in: bool) -> tuple[int, int, list[str], bool]:
    """(forward FLOPs, training FLOPs, layers not counted, whether the output depends on a
    trainable weight) of ``model`` called on an input that does (``grad_in``) or does not."""
    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    by_depth = getattr(graph, "_nodes_by_depth", None)
    if by_depth is None:  # a subclassed model: its call() is Python we cannot read
        return 0, 0, [f"{model.name} ({type(model).__name__}: no layer graph)"], True
    # tensors whose value depends on a trainable weight (or on an input that does)
    graded = {id(t) for t in getattr(graph, "inputs", None) or []} if grad_in else set()
    forward = training = 0
    unknown: list[str] = []
    for depth in sorted(by_depth, reverse=True):
        for node in by_depth[depth]:
            op = node.operation
            if getattr(node, "is_input", False):
                continue
            needs = any(id(t) in graded for t in node.arguments.keras_tensors)
            if isinstance(op, keras.Model):
                f, tr, missing, out_grad = _walk(keras, op, free, needs)
                forward, training, unknown = forward + f, training + tr, unknown + missing
            else:
                weights = bool(getattr(op, "trainable_weights", None))
                f = 0 if type(op) in free else _layer_flops(keras, op, node)
                if f is None:
                    unknown.append(f"{op.name} ({type(op).__name__})")
                    f = 0
                forward += f
                training += f * (1 + weights + needs)
                out_grad = needs or weights
            if out_grad:
                graded |= {id(t) for t in node.outputs}
    return (
        forward,
        training,
        unknown,
        bool(graded & {id(t) for t in getattr(graph, "outputs", None) or []}),
    )


def _layer_flops(keras, layer, node) -> int | None:
    """Forward FLOPs of one call of a standard Dense or convolution layer; None otherwise."""
    inputs, outputs = node.arguments.keras_tensors, node.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    in_shape, out_shape = tuple(inputs[0].shape[1:]), tuple(outputs[0].shape[1:])
    if any(d is None for d in in_shape + out_shape):
        return None
    kind = type(layer)
    if kind is keras.layers.Dense:
        return arch.dense_flops(in_shape, layer.units)
    if any(kind is getattr(keras.layers, n, None) for n in CONVS):
        channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
        in_channels = in_shape[0] if channels_first else in_shape[-1]
        groups = (
            in_channels if kind.__name__.startswith("Depthwise") else getattr(layer, "groups", 1)
        )
        return arch.conv_flops(out_shape, tuple(layer.kernel_size), in_channels, groups)
    return None
