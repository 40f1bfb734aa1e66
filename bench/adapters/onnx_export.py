"""A fitted model as an ONNX graph, through each library's maintained converter.

``Adapter.to_onnx()`` (``bench.adapters.contract``) returns an ``Exported``; the built-in
families implement it with the helpers here, a plugin may too. Each graph takes the
adapter's own view (flat ``(N, 784)`` or NHWC ``(N, 28, 28, 1)`` float32 images in [0, 1],
``bench.prep.preprocess``) and gives ``(N, 10)`` class scores: probabilities, or logits
that whoever runs it turns into probabilities by a softmax (``bench.adapters.trained``
tells them apart, as for any ``.onnx`` file).

- scikit-learn estimators and pipelines: skl2onnx (``zipmap`` off: a plain probability tensor);
- an XGBoost booster: onnxmltools; a booster trained with zero pixels as *missing* entries
  gets a first node mapping 0 to NaN, ONNX's missing value, so the file alone gives the
  booster's predictions;
- a Keras model: tf2onnx from a ``tf.function`` of the model's forward pass (Keras' own
  ``export(format="onnx")`` refuses a model loaded from a file).

What a converter cannot convert is a ``NotConvertible`` naming the model and the reason,
which a job records as its one-line error (no onnxruntime row), never a crash.
Framework imports stay inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from bench.core.errors import BenchError

OPSET = 17  # the ONNX operator set asked of skl2onnx and tf2onnx
ML_OPSET = 3  # the ai.onnx.ml set (tree ensembles), where a converter uses it
XGBOOST_OPSET = 15  # onnxmltools' highest for XGBoost boosters


class NotConvertible(BenchError):
    """The model has no ONNX export: no converter for it, or the converter failed."""


@dataclass(frozen=True)
class Exported:
    """An ONNX model (``model``: serialized bytes) and how it was made."""

    model: bytes
    converter: str  # the converter and its version, e.g. "skl2onnx 1.20.0"

    def as_dict(self) -> dict:
        """What a record keeps of it (the bytes go to a file)."""
        return {"converter": self.converter, "bytes": len(self.model)}


def _version(dist: str) -> str:
    try:
        return f"{dist} {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return dist


def _converter_missing(dist: str, name: str) -> NotConvertible:
    return NotConvertible(
        f"{name}: the ONNX export needs {dist}, which is not installed (pip install {dist})"
    )


def sklearn(estimator, n_features: int, name: str) -> Exported:
    """A fitted scikit-learn estimator or pipeline taking ``n_features`` float32 columns."""
    import numpy as np

    try:
        from skl2onnx import to_onnx
    except ImportError:
        raise _converter_missing("skl2onnx", name) from None
    try:
        model = to_onnx(
            estimator,
            np.zeros((1, n_features), np.float32),
            options={"zipmap": False},
            target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
        )
    except Exception as exc:  # skl2onnx raises many kinds for an estimator it lacks
        raise NotConvertible(f"{name}: skl2onnx cannot convert it ({_why(exc)})") from None
    return Exported(model.SerializeToString(), _version("skl2onnx"))


def xgboost(booster, n_features: int, name: str, zero_is_missing: bool) -> Exported:
    """A fitted XGBoost ``Booster`` (``multi:softprob``) taking ``n_features`` float32
    columns; ``zero_is_missing``: it was trained and predicts with 0 as the missing value."""
    try:
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError:
        raise _converter_missing("onnxmltools", name) from None
    try:
        model = convert_xgboost(
            booster,
            initial_types=[("x", FloatTensorType([None, n_features]))],
            target_opset=XGBOOST_OPSET,
        )
    except Exception as exc:
        raise NotConvertible(f"{name}: onnxmltools cannot convert it ({_why(exc)})") from None
    if zero_is_missing:
        model = _zero_as_missing(model, "x", n_features)
    return Exported(model.SerializeToString(), _version("onnxmltools"))


def _zero_as_missing(model, input_name: str, n_features: int):
    """``model`` behind a first node that maps every 0 of its input to NaN."""
    from onnx import TensorProto, compose, helper

    nodes = [
        helper.make_node(
            "Constant", [], ["zero"], value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])
        ),
        helper.make_node(
            "Constant",
            [],
            ["missing"],
            value=helper.make_tensor("m", TensorProto.FLOAT, [], [float("nan")]),
        ),
        helper.make_node("Equal", ["pixels", "zero"], ["is_zero"]),
        helper.make_node("Where", ["is_zero", "missing", "pixels"], ["with_missing"]),
    ]
    graph = helper.make_graph(
        nodes,
        "zero_is_missing",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("with_missing", TensorProto.FLOAT, [None, n_features])],
    )
    first = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", XGBOOST_OPSET)],
        ir_version=model.ir_version,
    )
    return compose.merge_models(first, model, io_map=[("with_missing", input_name)])


def keras(model, input_shape: tuple, name: str) -> Exported:
    """A Keras model on TensorFlow taking images of ``input_shape`` (per image)."""
    try:
        import tf2onnx
    except ImportError:
        raise _converter_missing("tf2onnx", name) from None
    import tensorflow as tf

    spec = (tf.TensorSpec((None, *input_shape), tf.float32, name="x"),)
    forward = tf.function(lambda x: model(x, training=False), input_signature=spec)
    try:
        proto, _ = tf2onnx.convert.from_function(forward, input_signature=spec, opset=OPSET)
    except Exception as exc:
        raise NotConvertible(f"{name}: tf2onnx cannot convert it ({_why(exc)})") from None
    return Exported(proto.SerializeToString(), _version("tf2onnx"))


def _why(exc: Exception) -> str:
    """An exception in one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
