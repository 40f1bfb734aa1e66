"""Already-trained model files, inference only: one ``Adapter`` subclass per file.

``adapter_for(path, options)`` opens a ``.keras`` file (Keras, ``safe_mode``), an ``.onnx``
file (ONNX Runtime, CPU), a skops file (``.skops``: scikit-learn, only scikit-learn, NumPy
and SciPy types trusted) or an XGBoost model (``.ubj`` UBJSON, ``.json``) and returns a
class the registry registers under the file's name (``logreg.onnx``). The class never
trains (``trains = False``: the runner measures it without a training clock); its
hyper-parameters are the file's identity (name, sha256) and its input convention, so the
record's ``params_hash`` changes with the file's content.

The input convention (``INPUT``): the layout is read from the model's input shape where it
says one (``(N, 784)`` flat, ``(N, 1, 28, 28)`` NCHW, ``(N, 28, 28, 1)`` NHWC, ``(N, 28,
28)``), else given by the option ``input_layout``; the pixel scale cannot be read from a
model: ``input_scale`` 1 (the harness's [0, 1], ``bench.prep.preprocess``, the default) or
255 ([0, 255]). A model that cannot take 28x28 grayscale images or does not give 10 class
scores is one ``BenchError`` saying what it expects and what the datasets give.

Outputs: rows that are probabilities (non-negative, summing to 1 within ``SUM_TOL``) are
used as they are; anything else is taken for logits and turned into probabilities by a
softmax, and ``runtime_info()["outputs"]`` says so (the record's ``evaluated`` section
repeats it). A scikit-learn model without ``predict_proba`` is read through
``decision_function`` and a softmax, said the same way.

This module holds the input convention and the adapter; opening each format, its forward
pass and its parameter count are ``bench.adapters.trained_formats``'.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bench.adapters.contract import Adapter
from bench.adapters.trained_formats import (
    N_CLASSES,
    Runtime,
    open_model,
    shape_text,
    version,
)
from bench.core.errors import BenchError

LIBRARIES = {
    ".keras": "keras",
    ".onnx": "onnx",
    ".skops": "scikit-learn",
    ".ubj": "xgboost",
    ".json": "xgboost",
}
# what each layout feeds the model, per image (after the batch dimension)
INPUT = {"flat": (784,), "nchw": (1, 28, 28), "nhwc": (28, 28, 1), "hw": (28, 28)}
LAYOUTS = ("auto", *INPUT)
SCALES = (1, 255)
SUM_TOL = 1e-3
DATASETS_GIVE = (
    "the datasets give 28x28 grayscale images of 10 classes, fed as (N, 784) flat, (N, 1, 28, 28) NCHW, "
    "(N, 28, 28, 1) NHWC or (N, 28, 28)"
)


def is_model_file(ref: str | Path) -> bool:
    """True when ``ref`` names a trained model file (by its suffix: ``.keras``, ``.onnx``,
    ``.skops``, ``.ubj``, ``.json``) rather than a model name."""
    return Path(ref).suffix.lower() in LIBRARIES


def adapter_for(path: Path, options: dict, expect_sha256: str | None = None) -> type[Adapter]:
    """The inference-only adapter class for the model file ``path``; ``options``: the input
    convention (``input_layout``: auto|flat|nhwc|nchw|hw, ``input_scale``: 1|255).
    ``BenchError`` (one line, naming the file) when it is missing on this host, not the
    content ``expect_sha256`` names, of an unknown format, corrupt, or unable to take the
    datasets' images; the model is opened here, so these fail before any job runs."""
    path = Path(path).expanduser()
    library = LIBRARIES.get(path.suffix.lower())
    if library is None:
        raise BenchError(
            f"model file {path}: unknown format {path.suffix or '(no suffix)'!r}; accepted: "
            f"{', '.join(LIBRARIES)}"
        )
    if not path.is_file():
        raise BenchError(f"model file {path}: not found on host {socket.gethostname()}")
    from bench.adapters.registry import sha256_of

    sha = sha256_of(path)
    if expect_sha256 and sha != expect_sha256:
        raise BenchError(
            f"model file {path}: on host {socket.gethostname()} its content (sha256 {sha[:12]}) is not "
            f"the one the job was planned with ({expect_sha256[:12]}); give every host the same file"
        )
    layout, scale = _options(options)
    runtime = open_model(library, path, sha, _env_threads())
    layout = resolve_layout(runtime.input_shape, layout, path.name)
    if runtime.n_outputs is not None and runtime.n_outputs != N_CLASSES:
        raise BenchError(
            f"model file {path.name}: it gives {runtime.n_outputs} outputs per image, not {N_CLASSES} "
            f"class scores; {DATASETS_GIVE}"
        )
    params = {"file": path.name, "sha256": sha, "input_layout": layout, "input_scale": scale}
    attrs = {
        "name": path.name,
        "family": "file",
        "library": library,
        "trains": False,
        "view": "flat" if layout == "flat" else "image",
        "description": f"trained elsewhere: {path.name}, sha256 {sha[:12]}",
        "defaults": {"full": dict(params), "quick": dict(params)},
        "origin": {
            "kind": "file",
            "path": str(path.resolve()),
            "sha256": sha,
            "options": {k: v for k, v in (options or {}).items() if v is not None},
        },
        "model_input": runtime.input_shape,
        "__module__": __name__,
    }
    return type(f"Trained_{_identifier(path.name)}", (TrainedFile,), attrs)


def _identifier(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _options(options: dict | None) -> tuple[str, int]:
    """(layout, scale) from the user's options, checked."""
    options = options or {}
    layout = str(options.get("input_layout") or "auto").lower()
    if layout not in LAYOUTS:
        raise BenchError(f"input layout {layout!r}: accepted: {', '.join(LAYOUTS)}")
    raw = options.get("input_scale", 1)
    try:
        scale = int(float(raw)) if float(raw) in SCALES else None
    except (TypeError, ValueError):
        scale = None
    if scale is None:
        raise BenchError(
            f"input scale {raw!r}: accepted: 1 (pixels in [0, 1]) or 255 (pixels in [0, 255])"
        )
    return layout, scale


def _env_threads() -> int | None:
    """The job's thread budget as the runner exports it to a job's process (``OMP_NUM_THREADS``,
    ``bench.run.supervise.child_env``): a framework whose thread pools are fixed when the
    model is first opened (TensorFlow) gets them right in a worker; None elsewhere."""
    raw = os.environ.get("OMP_NUM_THREADS", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def resolve_layout(shape: tuple | None, wanted: str, name: str) -> str:
    """The layout feeding a model whose per-image input shape is ``shape`` (ints, None where
    the model leaves a dimension open; None: unknown): ``wanted`` when it fits, or with
    ``auto`` the one layout that fits; ``BenchError`` when none does, or several do."""

    def fits(layout: str) -> bool:
        want = INPUT[layout]
        return shape is None or (
            len(shape) == len(want) and all(d is None or d == w for d, w in zip(shape, want))
        )

    if wanted != "auto":
        if not fits(wanted):
            raise BenchError(
                f"model file {name}: it expects input {shape_text(shape)}, not the {wanted} layout "
                f"{shape_text(INPUT[wanted])} given by the input layout option; {DATASETS_GIVE}"
            )
        return wanted
    candidates = [layout for layout in INPUT if fits(layout)]
    if shape is None:
        raise BenchError(
            f"model file {name}: its input shape is not stored in it; give the input layout "
            "(--input-layout flat|nhwc|nchw)"
        )
    if not candidates:
        raise BenchError(
            f"model file {name}: it expects input {shape_text(shape)}; {DATASETS_GIVE}"
        )
    if len(candidates) > 1:
        raise BenchError(
            f"model file {name}: its input {shape_text(shape)} fits several layouts "
            f"({', '.join(candidates)}); give one with --input-layout"
        )
    return candidates[0]


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def looks_like_probabilities(raw: np.ndarray) -> bool:
    """Every row non-negative and summing to 1 within ``SUM_TOL``."""
    raw = np.asarray(raw, dtype=np.float64)
    return (
        bool(len(raw))
        and bool(np.all(raw >= 0))
        and bool(np.all(np.abs(raw.sum(axis=1) - 1) <= SUM_TOL))
    )


# ---------------------------------------------------------------- the adapter


class TrainedFile(Adapter):
    """Base of every ``adapter_for`` class: predicts, counts and copies the file; never trains."""

    trains = False
    family = "file"
    model_input: ClassVar[tuple | None] = None

    def __init__(self, params: dict[str, Any]):
        super().__init__(params)
        self._file = Path(self.origin["path"])
        self._threads: int | None = None
        self._runtime: Runtime | None = None
        self.outputs: str | None = None  # what the model's scores were: set by the first prediction

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = open_model(
                self.library, self._file, self.origin["sha256"], self._threads
            )
        return self._runtime

    def fit(self, x, y, *, x_val=None, y_val=None, log=None, target=None):
        raise BenchError(
            f"{self.name} is an already-trained file: inference only, it cannot be trained here"
        )

    @classmethod
    def check_params(cls, params):
        for key in ("file", "sha256"):
            if params.get(key) != cls.defaults["full"][key]:
                raise ValueError(f"{key}={params.get(key)!r}: the file's own, not settable")
        if params.get("input_scale") not in SCALES:
            raise ValueError(f"input_scale={params.get('input_scale')!r}: 1 or 255")
        if params.get("input_layout") not in INPUT:
            raise ValueError(
                f"input_layout={params.get('input_layout')!r}: one of {', '.join(INPUT)}"
            )
        try:
            resolve_layout(cls.model_input, params["input_layout"], cls.name)
        except BenchError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def uses_seed(cls, params):
        return False

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        """The harness's view (flat, or NHWC images in [0, 1]) in the model's convention."""
        layout, rt = self.params["input_layout"], self.runtime
        if layout == "nchw":
            x = np.transpose(
                np.asarray(x, dtype=np.float32).reshape(len(x), 28, 28, 1), (0, 3, 1, 2)
            )
        else:
            x = np.asarray(x, dtype=np.float32).reshape(len(x), *INPUT[layout])
        if self.params["input_scale"] != 1:
            x = x * np.float32(self.params["input_scale"])
        return np.ascontiguousarray(x, dtype=rt.dtype)

    def predict_proba(self, x, batch_size=1024):
        x = self._inputs(x)
        parts = [
            self.runtime.raw_scores(x[i : i + batch_size]) for i in range(0, len(x), batch_size)
        ]
        raw = np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, N_CLASSES))
        if raw.ndim != 2 or raw.shape[1] != N_CLASSES:
            raise BenchError(
                f"model file {self.name}: it gave scores of shape {raw.shape}, not (N, {N_CLASSES}); "
                f"{DATASETS_GIVE}"
            )
        if self.outputs is None:  # decided once per instance, so every call treats its scores alike
            self.outputs = (
                "decision function, softmax applied by the harness"
                if self.runtime.scores != "auto"
                else "probabilities"
                if looks_like_probabilities(raw)
                else "logits, softmax applied by the harness"
            )
        if self.outputs != "probabilities":
            return softmax(raw)
        return raw / raw.sum(axis=1, keepdims=True)

    def n_params(self):
        return self.runtime.n_params()

    def serialized_size(self):
        return self._file.stat().st_size

    def threads_used(self):
        return self.runtime.threads_used()

    def runtime_info(self):
        return {
            "library": self.library,
            "version": version(self.library),
            "file": self.name,
            "sha256": self.origin["sha256"],
            "input": {
                "layout": self.params["input_layout"],
                "shape": shape_text(self.runtime.input_shape),
                "scale": self.params["input_scale"],
            },
            "outputs": self.outputs,
        }

    def save(self, folder):
        """A copy of the file itself, under its own name (``registry.add_file`` of the copy
        registers this same model: same name, same sha256)."""
        target = Path(folder) / self.name
        shutil.copyfile(self._file, target)
        return target

    @classmethod
    def load(cls, path, params, threads=None):
        adapter = cls(params)
        adapter._file, adapter._threads = Path(path), threads
        adapter.runtime  # noqa: B018 - open it now: loading is what a cold start measures
        return adapter
