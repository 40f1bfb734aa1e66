"""A fitted adapter served by ONNX Runtime (``--runtime onnxruntime``).

``serve(native, folder, threads)`` exports the fitted model (``Adapter.to_onnx``), writes
the graph to ``folder/model.onnx`` and opens it in an ONNX Runtime CPU session with
``threads`` intra-op threads (``bench.adapters.trained``, as for any ``.onnx`` file); the
returned ``Served`` adapter predicts through that session and nothing else, so every
figure the job measures with it (accuracy, calibration, robustness, inference speed) is
the exported model's. What the model *is* (its parameters, its FLOPs per image, how it was
trained) stays the native adapter's.

``parity(native, served)`` compares the two on the same images: how many predicted
classes differ (and which images), and the largest absolute difference of a probability.
A converter that changes predictions is a finding the record keeps, never a silent result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.adapters import trained
from bench.adapters.contract import Adapter
from bench.adapters.onnx_export import Exported
from bench.core.errors import BenchError

RUNTIMES = ("native", "onnxruntime")  # --runtime: what serves a trained model's predictions
FILE = "model.onnx"
LAYOUTS = {"flat": "flat", "image": "nhwc"}  # the adapter's view -> the file's input layout


class Served(Adapter):
    """The native adapter's model, predicted through ONNX Runtime. Not registered: a job
    builds it from a fitted adapter; it never trains."""

    trains = False
    family = "onnx"
    defaults = {"full": {}, "quick": {}}

    def __init__(self, native: Adapter, session: Adapter, exported: Exported, path: Path):
        super().__init__(dict(native.params))
        self.native, self.session, self.exported, self.path = native, session, exported, path
        self.name, self.view, self.library = native.name, native.view, "onnx"

    def fit(self, x, y, *, x_val=None, y_val=None, log=None, target=None):
        raise NotImplementedError("an exported model is not trained")

    def predict_proba(self, x, batch_size=1024):
        return self.session.predict_proba(x, batch_size)

    def n_params(self):
        return self.native.n_params()

    def flops_per_image(self):
        return self.native.flops_per_image()

    def train_flops_per_image(self):
        return self.native.train_flops_per_image()

    def serialized_size(self):
        return len(self.exported.model)

    def threads_used(self):
        return self.session.threads_used()

    def runtime_info(self):
        info = self.session.runtime_info()
        return {
            "library": "onnxruntime",
            "version": trained.version("onnx"),
            "converter": self.exported.converter,
            "input": info.get("input"),
            "outputs": info.get("outputs"),
        }


def serve(native: Adapter, folder: Path, threads: int | None) -> Served:
    """``native`` exported to ``folder/model.onnx`` and opened in ONNX Runtime;
    ``onnx_export.NotConvertible`` (one line) when it has no export."""
    exported = native.to_onnx()
    path = Path(folder) / FILE
    path.write_bytes(exported.model)
    session = open_saved(folder, native.view, None, threads)
    return Served(native, session, exported, path)


def require_known(runtimes) -> None:
    """``BenchError`` (one line, naming what is accepted) unless ``runtimes`` is a non-empty
    collection of ``RUNTIMES``."""
    unknown = [r for r in runtimes if r not in RUNTIMES]
    if unknown or not runtimes:
        raise BenchError(
            f"unknown runtime {unknown[0] if unknown else '(none)'!r} for --runtime; choose from: "
            f"{', '.join(RUNTIMES)}"
        )


def open_saved(folder: Path, view: str, sha256: str | None, threads: int | None) -> Adapter:
    """The ``model.onnx`` of a saved model folder in an ONNX Runtime session, checked
    against the manifest's ``sha256`` when given (``BenchError`` on a mismatch: a corrupt or
    replaced file); ``view``: the native model's (``flat`` or ``image``)."""
    path = Path(folder) / FILE
    options = {"input_layout": LAYOUTS[view], "input_scale": 1}
    cls = trained.adapter_for(path, options, expect_sha256=sha256)
    return cls.load(path, cls.defaults["full"], threads)


def parity(native_proba: np.ndarray, served_proba: np.ndarray) -> dict:
    """The record's ``parity`` of two predictions of the same images: ``n`` images,
    ``class_changes`` (argmax differs) and their indices, ``max_abs_dp`` (the largest
    absolute difference of one class probability; NaN on either side counts as 1)."""
    a = np.asarray(native_proba, dtype=np.float64)
    b = np.asarray(served_proba, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"parity of predictions of shapes {a.shape} and {b.shape}")
    changed = np.flatnonzero(a.argmax(axis=1) != b.argmax(axis=1)) if len(a) else np.zeros(0, int)
    diff = np.abs(a - b)
    diff[~np.isfinite(diff)] = 1.0
    return {
        "n": int(len(a)),
        "class_changes": int(len(changed)),
        "changed_index": [int(i) for i in changed],
        "max_abs_dp": float(diff.max()) if diff.size else 0.0,
    }
