"""What the runner measures: classification metrics and the timing protocol.

Pure numpy; no framework imports. The timing protocol follows timm's ``benchmark.py`` and
MLPerf: untimed warm-up calls, then timed calls until BOTH a minimum count and a minimum
duration are reached (capped by a maximum duration), reporting the median and spread.
Every adapter's ``predict_proba`` returns host (NumPy) arrays, so a timed call has finished
its device work when it returns: no separate synchronize is needed, on a GPU either.
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


def test_outcomes(y_true: np.ndarray, proba: np.ndarray, test_digest: str) -> dict:
    """Every test mistake, compactly: which images (ascending indices) and what was predicted
    for each, with the digest of the test set they refer to. Enough to compare any two
    records on the same test set image by image (paired tests) without the models."""
    y_pred = np.asarray(proba).argmax(axis=1)
    wrong = np.flatnonzero(y_pred != np.asarray(y_true))
    return {"test_digest": test_digest, "n": int(len(y_true)), "wrong_index": wrong.tolist(),
            "wrong_predicted": y_pred[wrong].tolist()}


def correct_mask(outcomes: dict) -> np.ndarray:
    """Boolean (n,) vector, True where the record's model got the test image right."""
    mask = np.ones(int(outcomes["n"]), dtype=bool)
    mask[np.asarray(outcomes["wrong_index"], dtype=np.int64)] = False
    return mask


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


def time_calls(call: Callable[[int], object], rule: TimingRule,
               clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds per timed call of ``call(i)`` (``i`` counts calls from 0, warm-up included)."""
    i = 0
    for _ in range(rule.warmup):
        call(i)
        i += 1
    times: list[float] = []
    started = clock()
    while True:
        t0 = clock()
        call(i)
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
        """This protocol with the user's overrides (``None`` keeps a value). ``min_repeats``
        sets the large batch's minimum count; at batch 1 it can only raise the minimum,
        never lower it below the protocol's own (latency percentiles need the samples)."""
        from dataclasses import replace

        large = replace(self.large, min_repeats=min_repeats or self.large.min_repeats)
        single = replace(self.single, min_repeats=max(min_repeats or 0, self.single.min_repeats))
        if min_seconds is not None:
            large, single = replace(large, min_seconds=min_seconds), replace(single, min_seconds=min_seconds)
        return InferenceProtocol(batch or self.large_batch, large, single)


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


def training_figures(fit_wall_s: float, training, n_train: int, flops_per_image: float | None) -> dict:
    """The record's training figures from the timed region and the adapter's ``TrainingLog``.

    fit_s               the training clock: the timed region (``adapter.fit``) less the
                        validation evaluation the adapter reported (``eval_s``)
    pass_train_s        the per-pass training seconds summed; ``fit_s - setup_s -
                        pass_train_s - teardown_s`` is ``unaccounted_s``, which stays near
                        zero when the clock times nothing but training (tested for every
                        family)
    train_images_per_s  training images processed over ALL passes / ``fit_s`` (None where
                        the training is not passes over the data, e.g. the SVM's solve)
    train_gflops_per_s  3 x forward FLOPs (forward + backward ~ 2 x forward) x the same
                        images / ``fit_s``: one definition for every model that has FLOPs
    first_pass_s / steady_pass_s  the first pass and the median of the later ones
    """
    passes = [p["train_s"] for p in training.passes]
    fit_s = fit_wall_s - training.eval_s
    images = training.images_processed
    ips = images / fit_s if images and fit_s > 0 else None
    return {
        "fit_s": fit_s,
        "fit_wall_s": fit_wall_s,
        "eval_s": training.eval_s,
        "setup_s": training.setup_s,
        "teardown_s": training.teardown_s,
        "pass_train_s": training.train_s,
        "unaccounted_s": fit_s - training.setup_s - training.train_s - training.teardown_s,
        "pass_unit": training.unit,
        "passes": len(passes),
        "data_passes": images / n_train if images else None,
        "images_processed": images,
        "first_pass_s": passes[0] if passes else None,
        "steady_pass_s": float(np.median(passes[1:])) if len(passes) > 1 else None,
        "train_images_per_s": ips,
        "train_gflops_per_s": 3 * flops_per_image * ips / 1e9 if flops_per_image and ips else None,
    }


TTA_TARGETS = (0.97, 0.98, 0.99, 0.995)  # the validation-accuracy ladder every record carries


def accuracy_curve(history, images_processed, final_val_accuracy=None) -> list[dict]:
    """Validation accuracy against the training clock: one point per pass that was
    evaluated, ``{"train_s", "images", "pass", "val_accuracy"}``, where ``train_s`` sums the
    per-pass training seconds so far (evaluation excluded) and ``images`` the training images
    processed so far. A model evaluated only once at the end (logreg, SVM) gives one point:
    its whole training time and its final validation accuracy."""
    rows = [h for h in (history or []) if isinstance(h, dict)]
    per_pass = images_processed / len(rows) if images_processed and rows else None
    curve, clock = [], 0.0
    for i, h in enumerate(rows, start=1):
        clock += float(h.get("train_s") or 0.0)
        if h.get("val_accuracy") is not None:
            curve.append({"train_s": clock, "images": per_pass * i if per_pass else None,
                          "pass": int(h.get("pass", i)), "val_accuracy": float(h["val_accuracy"])})
    if not curve and rows and final_val_accuracy is not None and final_val_accuracy == final_val_accuracy:
        curve.append({"train_s": clock, "images": images_processed, "pass": len(rows),
                      "val_accuracy": float(final_val_accuracy)})
    return curve


def record_curve(rec) -> list[dict]:
    """``accuracy_curve`` of a stored record (a dict, or a flattened leaderboard row whose
    missing numbers are NaN)."""
    def value(key):
        v = rec.get(key)
        return None if v is None or v != v else v

    return accuracy_curve(rec.get("history"), value("timing.images_processed"), value("metrics.val_accuracy"))


def time_to_accuracy(history, images_processed, final_val_accuracy=None, targets=TTA_TARGETS) -> dict:
    """For each target (keyed ``"0.99"``): the first point of ``accuracy_curve`` whose
    validation accuracy reached it (``models.base.reaches``), or ``None`` when training
    never did."""
    curve = accuracy_curve(history, images_processed, final_val_accuracy)
    return {f"{t:g}": first_reaching(curve, t) for t in targets}


def first_reaching(curve: list[dict], target: float) -> dict | None:
    from models.base import reaches

    return next((dict(c) for c in curve if reaches(c["val_accuracy"], target)), None)
