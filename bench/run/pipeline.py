"""One job's training, the same code path for the runner's worker and for ``selfcheck``.

``train(job, threads, log)`` loads the dataset, applies the shared preprocessing, builds the
adapter, calls its untimed ``prepare`` and then its ``fit`` inside the one timed region of
the job. Everything the record says about training comes from what this returns.

An already-trained model (``Adapter.trains`` False: a file, ``bench.adapters.trained``) is
loaded instead (``cls.load``, the file at its origin, untimed): no ``prepare``, no ``fit``,
no training clock; ``Trained.training`` and ``fit_wall_s`` are None, and the record's
training figures are absent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from bench.core.errors import BenchError
from bench.data import Dataset
from bench.data import load as load_dataset
from bench.measure.profiles import PROFILES
from bench.prep.preprocess import Prepared, prepare_splits


@dataclass
class Trained:
    """A fitted adapter with the data it saw and the clock's readings."""

    adapter: object
    dataset: Dataset
    prep: Prepared
    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    prepare_s: float  # the untimed set-up (imports, build, compile; a trained file: loading it), for information only
    fit_wall_s: (
        float | None
    )  # the timed region: adapter.fit, validation passes included (None: not trained here)
    training: object  # bench.adapters.contract.TrainingLog (None: an already-trained file, not trained here)
    memory: dict  # resident MiB before the fit and its peak during it (``bench.measure.memory``)


def train(job: dict, threads: int | None, log=print) -> Trained:
    """Fit ``job`` (a ``runner.Job.as_dict()``); the clock runs around ``adapter.fit`` alone,
    and the peak resident memory is taken over the same call (entered just outside the clock)."""
    from bench.adapters import registry
    from bench.adapters.training_log import TrainingLog
    from bench.measure.memory import PeakMemory

    registry.restore(
        job.get("origin")
    )  # a plugin file or trained file, registered in this process too
    cls = registry.get(job["model"])
    if not cls.trains:
        return _loaded(cls, job, threads, log)
    adapter = cls(job["params"])
    dataset, prep = _data(job)
    x_train, x_val, x_test = prep.views(adapter.view)
    sizes = prep.sizes()
    log(
        f"data: {sizes['n_train']} train / {sizes['n_val']} val / {sizes['n_test']} test ({adapter.view} view)"
    )

    precision = job.get("precision") or "fp32"
    extra = (
        {"precision": precision} if precision != "fp32" else {}
    )  # adapters of fp32 alone need not take it
    t0 = time.perf_counter()
    adapter.prepare(
        n_train=len(x_train),
        seed=job["seed"],
        device=job["device"],
        threads=threads,
        deterministic=bool(job.get("deterministic")),
        **extra,
    )
    prepare_s = time.perf_counter() - t0
    log(f"prepared in {prepare_s:.1f}s (not timed: imports, build, compile)")

    stop_at = (
        {"target": job["target"]} if job.get("target") is not None else {}
    )  # older adapters lack it
    with PeakMemory() as peak:
        t0 = time.perf_counter()
        result = adapter.fit(
            x_train, prep.y_train, x_val=x_val, y_val=prep.y_val, log=log, **stop_at
        )
        fit_wall_s = time.perf_counter() - t0
    training = TrainingLog.require(result, f"{job['model']}: fit()")
    log(f"fit: {fit_wall_s - training.eval_s:.1f}s training + {training.eval_s:.1f}s validation")
    memory = {
        "before_train_mb": peak.before_mb,
        "train_peak_mb": peak.peak_mb,
        "method": peak.method,
    }
    return Trained(
        adapter, dataset, prep, x_train, x_val, x_test, prepare_s, fit_wall_s, training, memory
    )


def _data(job: dict) -> tuple[Dataset, Prepared]:
    """The job's dataset (checked against the digest it was planned with) and its profile's
    split, validation carved as the job's ``val_split`` says (by writers on MNIST)."""
    dataset = load_dataset(job["dataset"])
    s = dataset.splits
    if (
        job.get("data_digest") and s.digest() != job["data_digest"]
    ):  # e.g. another file on a cluster worker
        raise BenchError(
            f"dataset {job['dataset']} here has content digest {s.digest()[:12]}, the suite planned "
            f"{job['data_digest'][:12]}: not the same data"
        )
    try:
        return dataset, prepare_splits(s, PROFILES[job["profile"]].split, job.get("val_split"))
    except ValueError as e:
        raise BenchError(f"dataset {job['dataset']}: {e}") from None


def _loaded(cls, job: dict, threads: int | None, log) -> Trained:
    """An already-trained model ready to measure: the same data and split as a trained job,
    the model loaded from its file (``cls.load``) outside every clock; nothing trained."""
    dataset, prep = _data(job)
    x_train, x_val, x_test = prep.views(cls.view)
    sizes = prep.sizes()
    log(
        f"data: {sizes['n_val']} val / {sizes['n_test']} test ({cls.view} view); {job['model']} is already "
        "trained: evaluated only"
    )
    t0 = time.perf_counter()
    adapter = cls.load(cls.origin["path"], job["params"], threads=threads)
    load_s = time.perf_counter() - t0
    log(f"loaded in {load_s:.1f}s (not trained here)")
    return Trained(adapter, dataset, prep, x_train, x_val, x_test, load_s, None, None, {})
