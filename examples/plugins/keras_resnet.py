"""A one-file Keras plugin: a small residual network, benchmarked with

    python -m bench run resnet-small --plugin examples/plugins/keras_resnet.py --dataset digits --profile quick

The factory returns a plain ``keras.Model``; the harness trains it (Adam, warm-up + cosine
decay, sparse categorical cross-entropy from its logits), counts its parameters with Keras
and its FLOPs from the layer graph. ``--set resnet-small.width=32`` changes the factory's
arguments, ``--set resnet-small.epochs=10`` the recipe's.
"""

from bench.adapters import keras_model


def resnet_small(width: int = 16, blocks: int = 2):
    """conv3x3 stem, ``blocks`` residual blocks (two conv3x3-BN with an identity shortcut),
    stride-2 down-sampling, global average pooling, 10 logits."""
    import keras

    layers = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(x))
    for _ in range(blocks):
        y = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        y = layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(y))
        y = layers.Conv2D(width, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization(momentum=0.9)(y)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10)(x), name="resnet_small")


ResNetSmall = keras_model(
    "resnet-small",
    resnet_small,
    defaults={"width": 16, "blocks": 2, "batch_size": 32, "learning_rate": 3e-3, "warmup": 0.5},
    quick={"epochs": 5},
    description="small residual network: stem + 2 residual blocks, global pooling (Keras, plugin file)",
)
