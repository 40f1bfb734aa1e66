"""What the runner measures: classification metrics and the timing protocol.

Pure numpy; no framework imports. The timing protocol follows timm's ``benchmark.py`` and
MLPerf: untimed warm-up calls, then timed calls until BOTH a minimum count and a minimum
duration are reached (capped by a maximum duration), reporting the median and spread.
A ``sync`` callable (e.g. a GPU synchronize) runs inside the timed region before the clock
stops; adapters whose calls return host arrays are already synchronous.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

N_CLASSES = 10


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = N_CLASSES) -> np.ndarray:
    """(n, n) counts; row = true class, column = predicted class."""
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """Accuracy, log-loss, macro-F1, per-class precision/recall/F1/support and confusion.

    Predictions are ``argmax(proba)``; log-loss clips probabilities to [1e-15, 1].
    A class never predicted has precision 0 (and F1 0), as scikit-learn's zero_division=0.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (len(y_true), N_CLASSES):
        raise ValueError(f"probabilities must have shape ({len(y_true)}, {N_CLASSES}), got {proba.shape}")
    y_pred = proba.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    p_true = np.clip(proba[np.arange(len(y_true)), y_true], 1e-15, 1.0)
    present = support > 0
    return {
        "accuracy": float(tp.sum() / len(y_true)),
        "log_loss": float(-np.mean(np.log(p_true))),
        "macro_f1": float(f1[present].mean()),
        "per_class": {
            str(c): {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c]),
                     "support": int(support[c])}
            for c in range(N_CLASSES)
        },
        "confusion": cm.tolist(),
    }


def worst_mistakes(y_true: np.ndarray, proba: np.ndarray, limit: int = 64) -> list[list]:
    """The ``limit`` most confident misclassifications as ``[test index, true, predicted,
    probability of the prediction]``, most confident first (ties: lower index first).
    Stored in the record so galleries can be drawn later without the model."""
    y_pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    conf = proba[wrong, y_pred[wrong]]
    order = np.lexsort((wrong, -conf))[:limit]
    return [[int(wrong[i]), int(y_true[wrong[i]]), int(y_pred[wrong[i]]), round(float(conf[i]), 6)] for i in order]


def percentile(samples, q: float) -> float:
    """Linear-interpolated percentile ``q`` in [0, 100] (numpy's default method)."""
    if len(samples) == 0:
        raise ValueError("percentile of no samples")
    return float(np.percentile(np.asarray(samples, dtype=np.float64), q))


@dataclass(frozen=True)
class TimingRule:
    """When to stop timing: after >= ``min_repeats`` calls AND >= ``min_seconds`` of
    timed calls, or as soon as ``max_seconds`` have passed (at least one timed call)."""

    warmup: int = 3
    min_repeats: int = 10
    min_seconds: float = 2.0
    max_seconds: float = 60.0


def time_calls(call: Callable[[int], object], rule: TimingRule, sync: Callable[[], None] | None = None,
               clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds per timed call of ``call(i)`` (``i`` counts calls from 0, warm-up included)."""
    i = 0
    for _ in range(rule.warmup):
        call(i)
        i += 1
    if sync:
        sync()
    times: list[float] = []
    started = clock()
    while True:
        t0 = clock()
        call(i)
        if sync:
            sync()
        times.append(clock() - t0)
        i += 1
        elapsed = clock() - started
        if elapsed >= rule.max_seconds:
            break
        if len(times) >= rule.min_repeats and elapsed >= rule.min_seconds:
            break
    return times


def summarise(times: list[float], batch: int) -> dict:
    """Throughput (images/s: median, min, max over calls) and latency percentiles (ms)."""
    t = np.asarray(times, dtype=np.float64)
    return {
        "batch_size": batch,
        "calls": len(times),
        "images_per_s": float(batch / np.median(t)),
        "images_per_s_min": float(batch / t.max()),
        "images_per_s_max": float(batch / t.min()),
        "latency_ms_p50": percentile(t, 50) * 1e3,
        "latency_ms_p95": percentile(t, 95) * 1e3,
        "latency_ms_p99": percentile(t, 99) * 1e3,
        "total_s": float(t.sum()),
    }


@dataclass(frozen=True)
class InferenceProtocol:
    """The inference measurement a run applies: a large batch and batch 1."""

    large_batch: int = 1000
    large: TimingRule = TimingRule(warmup=1, min_repeats=5, min_seconds=2.0)
    single: TimingRule = TimingRule(warmup=5, min_repeats=50, min_seconds=2.0)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "InferenceProtocol":
        return cls(d["large_batch"], TimingRule(**d["large"]), TimingRule(**d["single"]))

    def overridden(self, batch: int | None = None, min_repeats: int | None = None,
                   min_seconds: float | None = None) -> "InferenceProtocol":
        """This protocol with the user's overrides (``None`` keeps a value); the batch-1
        rule keeps its own larger minimum count."""
        from dataclasses import replace

        def rule(r: TimingRule, floor: int) -> TimingRule:
            return replace(r, min_repeats=max(min_repeats, floor) if min_repeats else r.min_repeats,
                           min_seconds=r.min_seconds if min_seconds is None else min_seconds)

        return InferenceProtocol(batch or self.large_batch, rule(self.large, 1),
                                 rule(self.single, min_repeats or self.single.min_repeats))


def measure_inference(predict: Callable[[np.ndarray, int], np.ndarray], x: np.ndarray,
                      protocol: InferenceProtocol) -> dict:
    """Throughput at ``protocol.large_batch`` and latency at batch 1 on images from ``x``.

    Batch-1 calls cycle through distinct images so no result is cached by accident.
    """
    n = min(protocol.large_batch, len(x))
    big = x[:n]
    large = time_calls(lambda i: predict(big, n), protocol.large)
    single = time_calls(lambda i: predict(x[i % len(x): i % len(x) + 1], 1), protocol.single)
    return {f"batch_{n}": summarise(large, n), "batch_1": summarise(single, 1)}


def training_figures(fit_s: float, n_train: int, history: list[dict]) -> dict:
    """Fit wall time; steady-state images/s from the epochs after the first (median).

    For models without epochs the whole fit is one pass over the data, so images/s is
    ``n_train / fit_s`` and there is no separate first-epoch figure.
    """
    epochs = [row["seconds"] for row in history if "seconds" in row]
    out = {"fit_s": fit_s, "first_epoch_s": None, "epochs": len(epochs) or None}
    if len(epochs) >= 2:
        out["first_epoch_s"] = epochs[0]
        out["train_images_per_s"] = n_train / float(np.median(epochs[1:]))
    elif len(epochs) == 1:
        out["first_epoch_s"] = epochs[0]
        out["train_images_per_s"] = n_train / epochs[0]
    else:
        out["train_images_per_s"] = n_train / fit_s if fit_s > 0 else None
    return out
