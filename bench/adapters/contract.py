"""The adapter contract every model family meets.

An adapter wraps one model so the runner can train and measure it like any other. The
runner owns data, timing, metrics and storage; an adapter only trains and predicts.

The contract is code: ``fit``, ``predict_proba``, ``n_params`` and ``serialized_size`` are
abstract (a class missing one cannot be registered: ``check_class`` names the method), and
the attributes below are checked when the class is registered. Plugin authors check the
behaviour too: ``python -m bench check-adapter NAME`` (``bench.adapters.conformance``).

Class attributes (read without instantiating, so ``bench list`` stays instant). Required:
    name      registry key, e.g. ``"cnn-small"``
    family    a word for the kind of model: ``"linear" | "kernel" | "trees" | "neural"`` for
              the built-ins; plugins may use their own
    view      which preprocessed view it eats: ``"flat"`` (N, 784) or ``"image"`` (N, 28, 28, 1)
    defaults  hyper-parameters per profile: ``{"full": {...}, "quick": {...}}`` (see below)
Optional (declared here with their defaults; the harness reads every one of them):
    description  one line for ``bench list`` and the model card
    library   the library the fitted model is saved with, as model cards name it
              (Hugging Face names: ``"scikit-learn"``, ``"keras"``, ``"xgboost"``, ``"onnx"``...; "" unknown)
    default_suite  True: the model is one of the default suite (``run --all``)
    published the figures a published source reports for this recipe (``{"accuracy": 0.992,
              "params": ..., "recipe": "..."}``), shown beside the measured ones; None: none
    trains    False for an already-trained model (a file): inference only, the runner never
              calls ``fit`` and the record's training figures are absent ("-"), never 0
    origin    set by the registry, not by the author: where the class came from
              (``{"kind": "builtin" | "entry-point" | "plugin-file" | "env" | "file", ...}``),
              carried in every job so a worker process (a Dask worker too) finds it again
    devices   devices it can run on: ``("cpu",)`` or ``("cpu", "gpu")``
    precisions  numeric precisions it can train in (``--precision``): ``("fp32",)`` unless it
              declares more (Keras: ``("fp32", "bf16", "fp16")``, its mixed-precision policies)
    tags      free labels, e.g. ``("reference",)`` (the models of ``--suite reference``)
    defaults (required, above): every key a user may override with ``--set MODEL.KEY=VALUE`` must appear here; the type of
              the default is the type a value is converted to.
    dataset_defaults  optional recipes per dataset: ``{"fashion-mnist": {"full": {...}}}``,
              changes on top of ``defaults[profile]`` that apply when the job's dataset is that
              one (chosen on that dataset's validation split, never its test set); the job
              and its record say which applied (``job.recipe``), and so does the row label.

Instance life cycle: ``Adapter(params)`` with the resolved hyper-parameters, then

    prepare(*, n_train, seed, device, threads, deterministic[, precision]) -> None   NOT timed
        Everything that is not training: import and configure the framework (device
        visibility, thread pools, determinism), seed it, build and compile the model (a
        learning-rate schedule needs ``n_train``, the number of training images).
        ``device`` is ``"cpu"`` or ``"gpu"``; ``threads`` the CPU thread budget (None:
        framework default). ``deterministic`` asks for bit-reproducible training where the
        framework offers a switch for it (TensorFlow op determinism); scikit-learn and
        XGBoost on CPU already are. ``precision`` (one of ``precisions``; passed only when it
        is not ``"fp32"``, so adapters with fp32 alone need not take it) selects the numeric
        policy before the model is built.
    fit(x, y, *, x_val, y_val, log, target) -> TrainingLog             THE timed region
        Train on float32 ``x`` in the adapter's view and int64 labels ``y``; nothing else
        (the runner's clock is around this call alone); it never reads the test set.
        ``target`` (a validation accuracy or None): stop at the first pass reaching it and
        say so with ``TrainingLog.stop_at_target``. ``x_val/y_val`` may be used for
        monitoring and model selection (never for the reported test metrics); evaluation
        on them is timed by the adapter and reported apart. ``log(str)`` prints progress.
        Returns a ``TrainingLog`` (required: anything else fails the job): the passes made (epochs, boosting rounds, solver stages)
        with per-pass training seconds that EXCLUDE evaluation, evaluation seconds apart,
        time spent converting data before the first pass, and the number of training images
        processed over all passes (None where "a pass over the data" has no meaning).
        A pass whose measured loss is NaN/inf may end training early: the harness records
        the run as ``diverged`` (``TrainingLog.first_non_finite``), with its metrics.
        ``fit`` calls ``prepare`` itself if the caller did not, so library users may skip it.

        THE CLOCK (one, for every figure derived from training time):
            fit_s  = the timed region (``fit``) less the validation evaluation it reported
                   = setup_s + sum of the passes' train_s + teardown_s (+ unaccounted_s,
                     whatever the adapter did not attribute; kept near zero, tested)
            time to accuracy X = setup_s + unaccounted_s + train_s of passes 1..k, where k
                     is the first pass whose validation accuracy reaches X; so the time to
                     the last pass's accuracy is ``fit_s - teardown_s`` exactly
        ``setup_s`` is everything inside ``fit`` before the first pass: converting or
        copying the arrays (Keras: into the tf.data pipeline; XGBoost: the shifted copy and
        the quantile sketch), building the framework's input pipeline.
    predict_proba(x, batch_size) -> np.ndarray
        (N, 10) float class probabilities whose rows sum to 1.
    n_params() -> ParamCount
        Trainable / non-trainable / total numbers the fitted model stores, each family's
        honest analogue (linear: coefficients + intercepts; SVM: PCA + support vectors +
        dual coefficients; trees: split and leaf values; Keras: weights), with a ``detail``;
        ``ParamCount.unknown(why)`` where the model does not expose them (shown "-").
    flops_per_image() -> float | None
        Analytic forward FLOPs for one image (multiply-add = 2), None where undefined.
    train_flops_per_image() -> float | None
        Analytic FLOPs of training on one image (forward and backward, ``bench.adapters.arch``'s
        convention); None where they cannot be counted honestly (then no training GFLOP/s).
    serialized_size() -> int
        Bytes of the fitted model in the framework's own save format.
    threads_used() -> dict
        The thread settings the framework actually applied (e.g. TensorFlow's intra/inter
        op pools, XGBoost's nthread), recorded so ``--threads`` can be checked.
    runtime_info() -> dict
        Framework build and device facts (CUDA/cuDNN versions, visible GPUs) for the record.
    static_param_count(params) -> int | None   (classmethod)
        Parameter count known before training (architecture-defined models), else None.
    save(folder) -> Path
        Write the fitted model into ``folder`` in the framework's own data-only format
        (Keras ``.keras``, XGBoost UBJSON, scikit-learn through skops; never pickle) and
        return the file. The harness (``bench.use.artifacts``) adds the manifest and hashes.
    load(path, params, threads) -> Adapter   (classmethod)
        An adapter that can ``predict_proba`` from a file ``save`` wrote, loading only
        what the format marks safe (Keras ``safe_mode``, skops' trusted types). Its
        predictions are bit-identical to the saved model's on the same machine.
    check_params(params) -> None   (classmethod)
        Raise ``ValueError`` naming the bad hyper-parameter and what is accepted; the
        harness calls it when it plans a job, so a wrong ``--set`` fails before training.
    uses_seed(params) -> bool   (classmethod)
        False when the trained model cannot depend on the seed (a convex problem solved
        deterministically, trees without sampling): reports then say "seed-independent"
        instead of showing a spread of zero as if it were measured stability.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bench.adapters.training_log import Stopwatch, TrainingLog, quiet, reaches
from bench.core.errors import BenchError

# the contract's names; Stopwatch and reaches live in training_log and are named here too,
# for adapters written when they were defined in this module
__all__ = [
    "ABSTRACT",
    "VIEWS",
    "Adapter",
    "ParamCount",
    "Stopwatch",
    "TrainingLog",
    "check_class",
    "pickled_size",
    "quiet",
    "reaches",
    "require",
]


@dataclass(frozen=True)
class ParamCount:
    """The numbers a fitted model stores. ``trainable`` and ``non_trainable`` are None when the
    model does not expose them (``unknown``): the record then holds None and reports show
    "-", never 0 and never a guess; ``detail`` says why."""

    trainable: int | None
    non_trainable: int | None
    detail: str

    @property
    def total(self) -> int | None:
        if self.trainable is None or self.non_trainable is None:
            return None
        return self.trainable + self.non_trainable

    @classmethod
    def unknown(cls, detail: str) -> ParamCount:
        """A count the model does not expose; ``detail`` says why (e.g. "not exposed by X")."""
        return cls(None, None, detail)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


class Adapter(abc.ABC):
    """Base class; see the module docstring for the whole contract."""

    name: ClassVar[str]
    family: ClassVar[str]
    view: ClassVar[str]
    defaults: ClassVar[dict[str, dict[str, Any]]]
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)
    tags: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    library: ClassVar[str] = ""
    default_suite: ClassVar[bool] = False
    published: ClassVar[dict[str, Any] | None] = None
    trains: ClassVar[bool] = True
    origin: ClassVar[dict[str, Any]] = {"kind": "builtin"}
    dataset_defaults: ClassVar[dict[str, dict[str, dict[str, Any]]]] = {}

    @classmethod
    def defaults_for(
        cls, profile: str, dataset: str | None = None
    ) -> tuple[dict[str, Any], str | None]:
        """The hyper-parameters a job of ``profile`` on ``dataset`` starts from, and the
        recipe that applied: ``dataset`` when the adapter declares defaults for it under
        that profile (``dataset_defaults``), else None (the profile's own defaults)."""
        recipe = cls.dataset_defaults.get(dataset or "", {}).get(profile)
        if recipe is None:
            return dict(cls.defaults[profile]), None
        unknown = sorted(set(recipe) - set(cls.defaults[profile]))
        if (
            unknown
        ):  # a recipe may only change declared hyper-parameters (their types come from defaults)
            raise BenchError(
                f"{cls.name}: its {dataset} recipe sets {', '.join(unknown)}, which its "
                f"{profile} defaults do not declare; declared: {', '.join(sorted(cls.defaults[profile]))}"
            )
        return {**cls.defaults[profile], **recipe}, dataset

    def __init__(self, params: dict[str, Any]):
        self.params = dict(params)
        self.prepared: dict | None = None

    def prepare(
        self,
        *,
        n_train: int | None = None,
        seed: int = 0,
        device: str = "cpu",
        threads: int | None = None,
        deterministic: bool = False,
    ) -> None:
        """Untimed set-up; subclasses extend it (call ``super().prepare(...)`` first)."""
        self.prepared = {
            "n_train": n_train,
            "seed": seed,
            "device": device,
            "threads": threads,
            "deterministic": deterministic,
        }

    def ensure_prepared(self, n_train: int | None = None) -> dict:
        """The ``prepare`` settings, preparing with the defaults if nobody did."""
        if self.prepared is None:
            self.prepare(n_train=n_train)
        return self.prepared

    @abc.abstractmethod
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        x_val=None,
        y_val=None,
        log: Callable[[str], None] = quiet,
        target: float | None = None,
    ) -> TrainingLog:
        """The timed region: train, and nothing else. With ``target`` (a validation accuracy,
        MLPerf style), stop after the first pass whose validation accuracy reaches it and say
        so with ``TrainingLog.stop_at_target``; models evaluated only at the end train as
        usual (``stop_at_target`` says the target did not apply)."""

    @abc.abstractmethod
    def predict_proba(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """(N, 10) float class probabilities, rows summing to 1, for ``x`` in the adapter's view."""

    @abc.abstractmethod
    def n_params(self) -> ParamCount:
        """The numbers the fitted model stores (see the module docstring)."""

    def flops_per_image(self) -> float | None:
        return None

    def train_flops_per_image(self) -> float | None:
        """FLOPs of one image's forward and backward pass; None: not counted (the default)."""
        return None

    @abc.abstractmethod
    def serialized_size(self) -> int:
        """Bytes of the fitted model in its framework's own save format."""

    def threads_used(self) -> dict[str, Any]:
        return {}

    def runtime_info(self) -> dict[str, Any]:
        return {}

    def to_onnx(self):
        """The fitted model as ONNX (``bench.adapters.onnx_export.Exported``), for
        ``--runtime onnxruntime``: same view in, class scores out. The default has no export;
        the built-in families and the generic adapters convert with their library's
        converter (``bench.adapters.onnx_export``)."""
        from bench.adapters.onnx_export import NotConvertible

        raise NotConvertible(f"{self.name}: no ONNX export (its adapter has no to_onnx)")

    @classmethod
    def static_param_count(cls, params: dict[str, Any]) -> int | None:
        return None

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        return None

    @classmethod
    def uses_seed(cls, params: dict[str, Any]) -> bool:
        return True

    @classmethod
    def can_save(cls) -> bool:
        """Whether this adapter implements ``save`` and ``load`` (models of your own may not)."""
        return cls.save is not Adapter.save and cls.load.__func__ is not Adapter.load.__func__

    def save(self, folder) -> Path:
        raise NotImplementedError(f"{self.name} cannot save its fitted model")

    @classmethod
    def load(cls, path, params: dict[str, Any], threads: int | None = None) -> Adapter:
        raise NotImplementedError(f"{cls.name} cannot load a saved model")


VIEWS = ("flat", "image")
ABSTRACT = ("fit", "predict_proba", "n_params", "serialized_size")


def check_class(cls) -> list[str]:
    """Every way ``cls`` breaks the declared contract, one short sentence each (empty: none):
    not an ``Adapter``, an abstract method not implemented, a required attribute missing or
    of the wrong kind. The registry refuses a class with any."""
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        return [f"{getattr(cls, '__name__', cls)!r} is not a subclass of bench.adapters.Adapter"]
    problems = [
        f"method {m}() not implemented" for m in sorted(getattr(cls, "__abstractmethods__", ()))
    ]
    for attr, ok, what in (
        ("name", lambda v: isinstance(v, str) and v.strip() and v == v.strip(), "a non-empty name"),
        ("family", lambda v: isinstance(v, str) and v, "a non-empty string"),
        ("view", lambda v: v in VIEWS, f"one of {', '.join(VIEWS)}"),
        ("defaults", _profiles_declared, "a dict with 'full' and 'quick' parameter dicts"),
        ("description", lambda v: isinstance(v, str), "a string"),
        ("library", lambda v: isinstance(v, str), "a string"),
        ("default_suite", lambda v: isinstance(v, bool), "True or False"),
        ("published", lambda v: v is None or isinstance(v, dict), "None or a dict"),
        ("trains", lambda v: isinstance(v, bool), "True or False"),
    ):
        if not hasattr(cls, attr):
            problems.append(f"attribute {attr} missing (expected {what})")
        elif not ok(getattr(cls, attr)):
            problems.append(f"attribute {attr}={getattr(cls, attr)!r}: expected {what}")
    return problems


def _profiles_declared(defaults) -> bool:
    return isinstance(defaults, dict) and all(
        isinstance(defaults.get(p), dict) for p in ("full", "quick")
    )


def require(params: dict[str, Any], key: str, ok, accepted: str) -> None:
    """``ValueError`` "KEY=VALUE: ACCEPTED" unless ``ok(params[key])`` (absent keys pass)."""
    if key in params and not ok(params[key]):
        raise ValueError(f"{key}={params[key]!r}: {accepted}")


def pickled_size(obj: Any) -> int:
    """Size of a scikit-learn-style model as pickled (their documented save format)."""
    import pickle

    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
