"""Opening an already-trained model file with its own library, behind one interface.

``open_model(library, path, sha256, threads)`` returns a ``Runtime``: the opened model, its
per-image input shape and number of class scores as the file states them, and what the
adapter (``bench.adapters.trained``) asks of any model: ``raw_scores`` (one row of class
scores per image, columns in digit order), ``n_params``, ``threads_used`` and the library's
``version``. One opener per library:

- ``keras`` (``.keras``): ``keras.saving.load_model(safe_mode=True)`` on TensorFlow, through
  ``bench.adapters.keras_tools`` (backend, thread pools, a compiled forward pass);
- ``onnx`` (``.onnx``): an ONNX Runtime CPU session; the class scores are its first float
  output of one row per image (a converter's label output is skipped);
- ``scikit-learn`` (``.skops``): only scikit-learn, NumPy and SciPy types trusted; parameters
  counted as ``sklearn_model`` counts them (``bench.adapters.generic.sklearn.count_params``),
  so a skops file and the generic adapter report the same figures for the same estimator;
- ``xgboost`` (``.ubj``, ``.json``): a ``Booster``; ``multi:softmax`` (labels, not scores) refused.

A file that cannot be read, or read as 28x28 images into 10 class scores, is a ``BenchError``
naming it. Frameworks are imported inside the functions, never at module level.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.adapters.contract import ParamCount
from bench.core.errors import BenchError

N_CLASSES = 10
TRUSTED_ROOTS = ("sklearn", "numpy", "scipy", "builtins")
DISTRIBUTIONS = {
    "keras": ("keras",),
    "onnx": ("onnxruntime",),
    "scikit-learn": ("scikit-learn",),
    "xgboost": ("xgboost", "xgboost-cpu"),
}


def shape_text(shape) -> str:
    """``(N, 28, 28, 1)`` for a per-image shape, ``?`` for an open dimension."""
    return (
        "(N, " + ", ".join("?" if d is None else str(d) for d in shape) + ")"
        if shape is not None
        else "unknown"
    )


def _dims(shape) -> tuple:
    return tuple(
        d if isinstance(d, int) and not isinstance(d, bool) and d > 0 else None for d in shape
    )


@dataclass
class Runtime:
    """An opened model: what the adapter needs of it, whatever the library."""

    library: str
    path: Path
    model: Any
    input_shape: tuple | None  # per image, None where a dimension is open
    n_outputs: int | None  # class scores per image, None when the file does not say
    scores: str = (
        "auto"  # "auto": probabilities or logits, told from the values; "decision_function"
    )
    dtype: Any = np.float32
    threads: int | None = None

    def raw_scores(self, x: np.ndarray) -> np.ndarray:
        """The model's scores for the batch ``x`` (already in its input convention and dtype)."""
        if self.library == "keras":
            return self.model[1](x).numpy()
        if self.library == "onnx":
            session, name_in, name_out = self.model
            return session.run([name_out], {name_in: x})[0]
        if self.library == "scikit-learn":
            raw = (
                self.model.decision_function(x)
                if self.scores == "decision_function"
                else self.model.predict_proba(x)
            )
            return np.asarray(raw)[
                :, np.argsort([int(str(c)) for c in self.model.classes_])
            ]  # digit order
        return self.model.inplace_predict(x)

    def n_params(self) -> ParamCount:
        return {
            "keras": _count_keras,
            "onnx": _count_onnx,
            "scikit-learn": _count_sklearn,
            "xgboost": _count_xgboost,
        }[self.library](self)

    def threads_used(self) -> dict:
        if self.library == "keras":
            from bench.adapters import keras_tools

            return keras_tools.threads_used()
        if self.library == "onnx":  # 0: ONNX Runtime's own default (every core)
            return {"onnxruntime_intra_op": self.threads or 0, "onnxruntime_inter_op": 1}
        return {"xgboost_nthread": self.threads} if self.library == "xgboost" else {}


_OPENED: dict[tuple, Runtime] = {}  # (sha256, threads) -> the model opened in this process


def open_model(library: str, path: Path, sha: str, threads: int | None) -> Runtime:
    """The model in ``path`` opened by ``library`` (once per content and thread budget in a
    process); ``BenchError`` naming the file and the cause when it cannot be read."""
    key = (sha, threads)
    if key not in _OPENED:
        opener = {
            "keras": _open_keras,
            "onnx": _open_onnx,
            "scikit-learn": _open_skops,
            "xgboost": _open_xgboost,
        }
        try:
            _OPENED[key] = opener[library](path, threads)
        except BenchError:
            raise
        except ImportError as exc:
            raise BenchError(
                f"model file {path.name}: needs {exc.name or exc}, which is not installed here"
            ) from None
        except Exception as exc:  # noqa: BLE001 - the library could not read it: one line
            raise BenchError(
                f"model file {path}: cannot be read as a model of {library} "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
            ) from None
    return _OPENED[key]


def version(library: str) -> str | None:
    """The installed version of ``library``'s distribution, None when none is installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    for dist in DISTRIBUTIONS[library]:
        with contextlib.suppress(PackageNotFoundError):
            return installed(dist)
    return None


# ---------------------------------------------------------------- one opener per library


def _open_keras(path: Path, threads: int | None) -> Runtime:
    if not zipfile.is_zipfile(path):
        raise BenchError(
            f"model file {path}: not a .keras file (a .keras file is a zip archive; this one is not: "
            "corrupt or another format)"
        )
    from bench.adapters import keras_tools

    keras = keras_tools.import_keras()
    with contextlib.suppress(
        RuntimeError
    ):  # pools are settable only before TensorFlow's runtime starts
        keras_tools.configure("cpu", threads)
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise BenchError(
            f"model file {path.name}: {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "one image input and one output of 10 class scores are needed"
        )
    out = _dims(model.outputs[0].shape[1:])
    if len(out) != 1:
        raise BenchError(
            f"model file {path.name}: its output has shape {shape_text(out)}, not (N, {N_CLASSES}) "
            "class scores"
        )
    shape = _dims(model.inputs[0].shape[1:])
    forward = keras_tools.compiled_forward(model, shape)
    return Runtime("keras", path, (model, forward), shape, out[0], threads=threads)


def _open_onnx(path: Path, threads: int | None) -> Runtime:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise BenchError(
            f"model file {path.name}: {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
            "one image input is needed"
        )
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64}.get(inputs[0].type)
    if dtype is None:
        raise BenchError(
            f"model file {path.name}: its input is {inputs[0].type}; a float or double tensor is needed"
        )
    outputs = [
        o
        for o in session.get_outputs()
        if o.type in ("tensor(float)", "tensor(double)") and len(o.shape) == 2
    ]
    if not outputs:
        raise BenchError(
            f"model file {path.name}: no output of shape (N, {N_CLASSES}) class scores (outputs: "
            f"{', '.join(f'{o.name} {o.type}' for o in session.get_outputs())}); a converter's "
            "probability map (skl2onnx ZipMap) must be turned off: options={'zipmap': False}"
        )
    out = _dims(outputs[0].shape[1:])[0]
    return Runtime(
        "onnx",
        path,
        (session, inputs[0].name, outputs[0].name),
        _dims(inputs[0].shape[1:]),
        out,
        dtype=dtype,
        threads=threads,
    )


def _open_skops(path: Path, threads: int | None) -> Runtime:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if t.split(".")[0] not in TRUSTED_ROOTS]
    if foreign:
        raise BenchError(
            f"model file {path.name}: holds types that are not scikit-learn, NumPy or SciPy ones, not "
            f"loaded: {', '.join(sorted(foreign))}"
        )
    model = sio.load(path, trusted=untrusted)
    n_in = getattr(model, "n_features_in_", None)
    classes = getattr(model, "classes_", None)
    if classes is None or sorted(str(c) for c in classes) != [str(d) for d in range(N_CLASSES)]:
        raise BenchError(
            f"model file {path.name}: its classes are {list(classes) if classes is not None else '?'}; "
            "the digits 0 to 9 are needed"
        )
    scores = "auto" if hasattr(model, "predict_proba") else "decision_function"
    if scores == "decision_function" and not hasattr(model, "decision_function"):
        raise BenchError(
            f"model file {path.name}: a {type(model).__name__} without predict_proba or "
            "decision_function: no class scores to measure"
        )
    return Runtime(
        "scikit-learn",
        path,
        model,
        (int(n_in),) if n_in else None,
        N_CLASSES,
        scores=scores,
        threads=threads,
    )


def _open_xgboost(path: Path, threads: int | None) -> Runtime:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(path))
    if threads:
        booster.set_param({"nthread": threads})
    learner = json.loads(booster.save_config())["learner"]
    objective = learner.get("objective", {}).get("name", "?")
    if objective == "multi:softmax":
        raise BenchError(
            f"model file {path.name}: objective multi:softmax gives class labels, not probabilities; "
            "train (or set) objective multi:softprob"
        )
    n_class = int(learner["learner_model_param"].get("num_class", 0))
    if objective != "multi:softprob" or n_class != N_CLASSES:
        raise BenchError(
            f"model file {path.name}: objective {objective} with {n_class} classes; a 10-class "
            "classifier is needed (objective multi:softprob, num_class 10)"
        )
    return Runtime(
        "xgboost", path, booster, (booster.num_features(),), n_class or None, threads=threads
    )


# ---------------------------------------------------------------- parameter counts


def _count_keras(rt: Runtime) -> ParamCount:
    from bench.adapters import keras_tools

    return ParamCount(*keras_tools.weight_counts(rt.model[0]), "Keras weights (count_params)")


def _count_onnx(rt: Runtime) -> ParamCount:
    import onnx

    graph = onnx.load(str(rt.path), load_external_data=False).graph
    sizes = [int(np.prod(t.dims)) for t in graph.initializer]
    return ParamCount(
        sum(sizes),
        0,
        f"ONNX initializers: {len(sizes)} stored tensors (which of them were trained "
        "is not in the file)",
    )


def _count_sklearn(rt: Runtime) -> ParamCount:
    from bench.adapters.generic.sklearn import count_params

    counted = count_params(rt.model)
    if counted is None:
        return ParamCount.unknown(f"not exposed by {type(rt.model).__name__} (or a step inside it)")
    return ParamCount(counted[0], 0, counted[1])


def _count_xgboost(rt: Runtime) -> ParamCount:
    trees = json.loads(rt.model.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
    leaves = splits = 0
    for tree in trees:
        left = np.asarray(tree["left_children"])
        n_leaves = int((left == -1).sum())
        leaves, splits = leaves + n_leaves, splits + len(left) - n_leaves
    return ParamCount(
        leaves + splits, 0, f"{len(trees)} trees: {splits} split thresholds + {leaves} leaf values"
    )
