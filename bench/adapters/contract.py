"""The adapter contract every model family meets.

An adapter wraps one model so the runner can train and measure it like any other. The
runner owns data, timing, metrics and storage; an adapter only trains and predicts.

Class attributes (read without instantiating, so ``bench list`` stays instant):
    name      registry key, e.g. ``"cnn-small"``
    family    ``"linear" | "kernel" | "trees" | "neural"``
    view      which preprocessed view it eats: ``"flat"`` (N, 784) or ``"image"`` (N, 28, 28, 1)
    devices   devices it can run on: ``("cpu",)`` or ``("cpu", "gpu")``
    precisions  numeric precisions it can train in (``--precision``): ``("fp32",)`` unless it
              declares more (Keras: ``("fp32", "bf16", "fp16")``, its mixed-precision policies)
    tags      free labels, e.g. ``("reference",)``; the default suite is the untagged models
    defaults  hyper-parameters per profile: ``{"full": {...}, "quick": {...}}``. Every key a
              user may override with ``--set MODEL.KEY=VALUE`` must appear here; the type of
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
    fit(x, y, *, x_val, y_val, log) -> TrainingLog                     THE timed region
        Train on float32 ``x`` in the adapter's view and int64 labels ``y``; nothing else
        (the runner's clock is around this call alone). ``x_val/y_val`` may be used for
        monitoring and model selection (never for the reported test metrics); evaluation
        on them is timed by the adapter and reported apart. ``log(str)`` prints progress.
        Returns a ``TrainingLog``: the passes made (epochs, boosting rounds, solver stages)
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

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from bench.core.errors import BenchError


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


def reaches(accuracy, target) -> bool:
    """True when ``accuracy`` reached ``target``. Keras reports accuracies as float32, so 1e-7
    below counts (a validation split of 5,000 images moves in steps of 2e-4); a missing value
    or target (``None``, or a bool passed by mistake) never reaches."""
    if accuracy is None or target is None or isinstance(target, bool):
        return False
    return float(accuracy) >= float(target) - 1e-7


def _non_finite_word(value) -> str:
    """``"nan"``, ``"inf"`` or ``"-inf"`` for a non-finite real number, else ``""``
    (bools, strings and other values are never non-finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return ""
    v = float(value)
    if v != v:
        return "nan"
    return "" if abs(v) != float("inf") else ("inf" if v > 0 else "-inf")


@dataclass
class TrainingLog:
    """What one ``fit`` did, in the units the framework trains in.

    unit              what one pass is: ``"epoch"``, ``"boosting round"``, ``"stage"`` ...
    passes            one dict per pass, in order, each with ``train_s`` (training seconds of
                      that pass, evaluation excluded) and ``eval_s`` (validation evaluation
                      seconds, 0.0 when none) plus whatever the pass measured (``loss``,
                      ``val_accuracy`` ...); ``pass`` numbers them from 1
    setup_s           seconds inside ``fit`` before the first pass (data conversion, the
                      framework building its input pipeline)
    teardown_s        seconds inside ``fit`` after the last pass (the framework shutting its
                      input pipeline down)
    images_processed  training images processed over all passes (counting repeats), or None
                      where the training is not a sequence of passes over the data
    info              other facts worth recording (``converged``, ``iterations`` ...)
    """

    unit: str
    passes: list[dict] = field(default_factory=list)
    setup_s: float = 0.0
    teardown_s: float = 0.0
    images_processed: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def train_s(self) -> float:
        return float(sum(p["train_s"] for p in self.passes))

    @property
    def eval_s(self) -> float:
        return float(sum(p.get("eval_s", 0.0) for p in self.passes))

    def reached(self, target: float | None) -> bool:
        """True when ``target`` is set and the last pass's validation accuracy reached it."""
        return bool(self.passes) and reaches(self.passes[-1].get("val_accuracy"), target)

    def stop_at_target(self, target: float | None, planned: int | None, applies: bool = True) -> None:
        """Record what ``--target`` did: ``info["target"]`` = value, whether it applied,
        whether training stopped early, at which pass, of how many planned."""
        if target is None:
            return
        stopped = applies and bool(self.passes) and self.reached(target) and planned is not None \
            and len(self.passes) < planned
        self.info["target"] = {"value": target, "applies": applies, "stopped_early": stopped,
                               "at_pass": len(self.passes) if stopped else None, "planned_passes": planned}

    def add(self, train_s: float, eval_s: float = 0.0, **measured) -> dict:
        """Append the next pass; returns its row."""
        row = {"pass": len(self.passes) + 1, "train_s": float(train_s), "eval_s": float(eval_s), **measured}
        self.passes.append(row)
        return row

    def first_non_finite(self) -> dict | None:
        """Where training diverged: ``{"first_pass": k, "unit", "what": "loss nan"}`` for the
        first pass (numbered from 1) with a NaN or infinite measured value (``loss``,
        ``val_loss``, ``accuracy`` ... every numeric key but the pass's number and seconds;
        ``what`` names every such key of that pass), None when every value is finite."""
        for i, row in enumerate(self.passes, start=1):
            bad = [f"{k} {_non_finite_word(v)}" for k, v in row.items()
                   if k not in ("pass", "train_s", "eval_s") and _non_finite_word(v)]
            if bad:
                return {"first_pass": int(row.get("pass", i)), "unit": self.unit, "what": ", ".join(bad)}
        return None

    @classmethod
    def single(cls, unit: str, seconds: float, images: int | None, **info) -> "TrainingLog":
        """One pass covering the whole solve, for solvers whose passes cannot be timed."""
        log = cls(unit, images_processed=images, info=info)
        log.add(seconds)
        return log

    @classmethod
    def coerce(cls, result, fit_s: float) -> "TrainingLog":
        """A ``TrainingLog`` from what an adapter's ``fit`` returned. Adapters written before
        this contract (returning a history list or None) count as one untimed-pass fit."""
        if isinstance(result, cls):
            return result
        return cls.single("fit", fit_s, None)


class Stopwatch:
    """``with watch: ...`` adds the block's wall time (perf_counter) to ``watch.seconds``."""

    def __init__(self):
        self.seconds = 0.0

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._t0
        return False

    def take(self) -> float:
        """The seconds so far, then reset to zero."""
        out, self.seconds = self.seconds, 0.0
        return out


class Adapter:
    """Base class; see the module docstring for the whole contract."""

    name: ClassVar[str]
    family: ClassVar[str]
    view: ClassVar[str]
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)
    tags: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, dict[str, Any]]]
    dataset_defaults: ClassVar[dict[str, dict[str, dict[str, Any]]]] = {}

    @classmethod
    def defaults_for(cls, profile: str, dataset: str | None = None) -> tuple[dict[str, Any], str | None]:
        """The hyper-parameters a job of ``profile`` on ``dataset`` starts from, and the
        recipe that applied: ``dataset`` when the adapter declares defaults for it under
        that profile (``dataset_defaults``), else None (the profile's own defaults)."""
        recipe = cls.dataset_defaults.get(dataset or "", {}).get(profile)
        if recipe is None:
            return dict(cls.defaults[profile]), None
        unknown = sorted(set(recipe) - set(cls.defaults[profile]))
        if unknown:  # a recipe may only change declared hyper-parameters (their types come from defaults)
            raise BenchError(f"{cls.name}: its {dataset} recipe sets {', '.join(unknown)}, which its "
                             f"{profile} defaults do not declare; declared: {', '.join(sorted(cls.defaults[profile]))}")
        return {**cls.defaults[profile], **recipe}, dataset

    def __init__(self, params: dict[str, Any]):
        self.params = dict(params)
        self.prepared: dict | None = None

    def prepare(self, *, n_train: int | None = None, seed: int = 0, device: str = "cpu",
                threads: int | None = None, deterministic: bool = False) -> None:
        """Untimed set-up; subclasses extend it (call ``super().prepare(...)`` first)."""
        self.prepared = {"n_train": n_train, "seed": seed, "device": device, "threads": threads,
                         "deterministic": deterministic}

    def ensure_prepared(self, n_train: int | None = None) -> dict:
        """The ``prepare`` settings, preparing with the defaults if nobody did."""
        if self.prepared is None:
            self.prepare(n_train=n_train)
        return self.prepared

    def fit(self, x: np.ndarray, y: np.ndarray, *, x_val=None, y_val=None,
            log: Callable[[str], None] = quiet, target: float | None = None) -> TrainingLog:
        """The timed region: train, and nothing else. With ``target`` (a validation accuracy,
        MLPerf style), stop after the first pass whose validation accuracy reaches it and say
        so with ``TrainingLog.stop_at_target``; models evaluated only at the end train as
        usual (``stop_at_target`` says the target did not apply)."""
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

    def save(self, folder) -> "Path":
        raise NotImplementedError(f"{self.name} cannot save its fitted model")

    @classmethod
    def load(cls, path, params: dict[str, Any], threads: int | None = None) -> "Adapter":
        raise NotImplementedError(f"{cls.name} cannot load a saved model")


def require(params: dict[str, Any], key: str, ok, accepted: str) -> None:
    """``ValueError`` "KEY=VALUE: ACCEPTED" unless ``ok(params[key])`` (absent keys pass)."""
    if key in params and not ok(params[key]):
        raise ValueError(f"{key}={params[key]!r}: {accepted}")


def pickled_size(obj: Any) -> int:
    """Size of a scikit-learn-style model as pickled (their documented save format)."""
    import pickle

    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
