"""The adapter contract every model family meets.

An adapter wraps one model so the runner can train and measure it like any other. The
runner owns data, timing, metrics and storage; an adapter only trains and predicts.

Class attributes (read without instantiating, so ``bench list`` stays instant):
    name      registry key, e.g. ``"cnn-small"``
    family    ``"linear" | "kernel" | "trees" | "neural"``
    view      which preprocessed view it eats: ``"flat"`` (N, 784) or ``"image"`` (N, 28, 28, 1)
    devices   devices it can run on: ``("cpu",)`` or ``("cpu", "gpu")``
    tags      free labels, e.g. ``("reference",)``; the default suite is the untagged models
    defaults  hyper-parameters per profile: ``{"full": {...}, "quick": {...}}``. Every key a
              user may override with ``--set MODEL.KEY=VALUE`` must appear here; the type of
              the default is the type a value is converted to.

Instance life cycle: ``Adapter(params)`` with the resolved hyper-parameters, then

    fit(x, y, *, x_val, y_val, seed, device, threads, deterministic, log) -> list[dict]
        Train on float32 ``x`` in the adapter's view and int64 labels ``y``. ``x_val/y_val``
        may be used for monitoring (never for the reported test metrics). Deterministic for
        a given ``seed`` where the framework allows. ``device`` is ``"cpu"`` or ``"gpu"``;
        ``threads`` the CPU thread budget (None: framework default). ``deterministic``
        asks for bit-reproducible training where the framework offers a switch for it
        (TensorFlow op determinism); scikit-learn and XGBoost on CPU already are.
        ``log(str)`` prints progress. Returns the per-epoch history (``epoch, loss, accuracy, val_loss,
        val_accuracy, seconds``), empty for models without epochs.
    predict_proba(x, batch_size) -> np.ndarray
        (N, 10) float class probabilities whose rows sum to 1.
    n_params() -> ParamCount
        Trainable / non-trainable / total numbers the fitted model stores, each family's
        honest analogue (linear: coefficients + intercepts; SVM: PCA + support vectors +
        dual coefficients; trees: split and leaf values; Keras: weights), with a ``detail``.
    flops_per_image() -> float | None
        Analytic forward FLOPs for one image (multiply-add = 2), None where undefined.
    serialized_size() -> int
        Bytes of the fitted model in the framework's own save format.
    threads_used() -> dict
        The thread settings the framework actually applied (e.g. TensorFlow's intra/inter
        op pools, XGBoost's nthread), recorded so ``--threads`` can be checked.
    runtime_info() -> dict
        Framework build and device facts (CUDA/cuDNN versions, visible GPUs) for the record.
    static_param_count(params) -> int | None   (classmethod)
        Parameter count known before training (architecture-defined models), else None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, ClassVar

import numpy as np


@dataclass(frozen=True)
class ParamCount:
    trainable: int
    non_trainable: int
    detail: str

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def quiet(_: str) -> None:
    """Default ``log``: discard progress lines."""


class Adapter:
    """Base class; see the module docstring for the whole contract."""

    name: ClassVar[str]
    family: ClassVar[str]
    view: ClassVar[str]
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    tags: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, dict[str, Any]]]

    def __init__(self, params: dict[str, Any]):
        self.params = dict(params)

    def fit(self, x: np.ndarray, y: np.ndarray, *, x_val=None, y_val=None, seed: int = 0,
            device: str = "cpu", threads: int | None = None, deterministic: bool = False,
            log: Callable[[str], None] = quiet) -> list[dict]:
        raise NotImplementedError

    def predict_proba(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        raise NotImplementedError

    def n_params(self) -> ParamCount:
        raise NotImplementedError

    def flops_per_image(self) -> float | None:
        return None

    def serialized_size(self) -> int:
        raise NotImplementedError

    def threads_used(self) -> dict[str, Any]:
        return {}

    def runtime_info(self) -> dict[str, Any]:
        return {}

    @classmethod
    def static_param_count(cls, params: dict[str, Any]) -> int | None:
        return None


def pickled_size(obj: Any) -> int:
    """Size of a scikit-learn-style model as pickled (their documented save format)."""
    import pickle

    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
