"""Calibration of a model's test probabilities: can its confidence be trusted?

- ``ece``: the expected calibration error of the top label (Guo et al. 2017, "On Calibration
  of Modern Neural Networks"; torchmetrics' default ``norm="l1"``): the confidence of an image
  is its largest probability; images fall into ``N_BINS`` equal-width bins of [0, 1], each
  bin ``[lo, hi)`` except the last, which holds 1.0; ECE = sum over bins of
  (images in the bin / images) x |accuracy in the bin - mean confidence in the bin|.
- ``brier``: the multiclass Brier score, mean over images of sum_k (p_k - [k = label])^2,
  from 0 (certain and right) to 2 (certain and wrong).
- the per-bin counts, mean confidences and accuracies, so that a reliability diagram can
  be drawn from the record alone (an empty bin has ``None`` for both).

Images whose probabilities are not all finite (a diverged model) have no confidence: they
are left out and counted in ``excluded``. Pure numpy.
"""

from __future__ import annotations

import numpy as np

from bench.measure.metrics import NO_PREDICTION, predictions

N_BINS = 15
Z95 = 1.959964  # two-sided 5% normal quantile: the card's over/under-confidence threshold


def bin_index(confidence: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """The bin of each confidence in [0, 1]: ``floor(c * n_bins)``, 1.0 in the last bin
    (bins are ``[k/n, (k+1)/n)``, as torchmetrics' and numpy's ``histogram``; scikit-learn's
    ``calibration_curve`` puts a confidence on an edge into the bin below)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges[1:-1], confidence, side="right"), 0, n_bins - 1)


def calibration(y_true, proba, n_bins: int = N_BINS) -> dict:
    """``{"ece", "brier", "n_bins", "n", "excluded", "bins": {"count", "confidence",
    "accuracy"}}`` of ``proba`` (N, K) against the labels ``y_true`` (N,); ``ece`` and
    ``brier`` are fractions, ``None`` when no image has finite probabilities (or N = 0)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise ValueError(f"probabilities must have shape ({len(y_true)}, K), got {proba.shape}")
    pred = predictions(proba) if len(y_true) else np.zeros(0, dtype=np.int64)
    has = pred != NO_PREDICTION
    y, p, pred = y_true[has], proba[has], pred[has]
    out = {
        "n_bins": int(n_bins),
        "n": int(len(y)),
        "excluded": int((~has).sum()),
        "ece": None,
        "brier": None,
        "bins": {"count": [0] * n_bins, "confidence": [None] * n_bins, "accuracy": [None] * n_bins},
    }
    if not len(y):
        return out
    confidence = p.max(axis=1)
    correct = (pred == y).astype(np.float64)
    which = bin_index(confidence, n_bins)
    count = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(which, weights=correct, minlength=n_bins)
    filled = count > 0
    mean_conf = np.divide(conf_sum, count, out=np.zeros(n_bins), where=filled)
    mean_acc = np.divide(acc_sum, count, out=np.zeros(n_bins), where=filled)
    out["ece"] = float(np.sum(count / len(y) * np.abs(mean_acc - mean_conf)))
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    out["brier"] = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    out["bins"] = {
        "count": count.tolist(),
        "confidence": [float(c) if f else None for c, f in zip(mean_conf, filled)],
        "accuracy": [float(a) if f else None for a, f in zip(mean_acc, filled)],
    }
    return out


def confidence_gap(cal: dict) -> dict | None:
    """Mean top-label confidence minus accuracy over the binned images of a ``calibration``
    section, and whether it is beyond noise: ``{"gap", "noise", "threshold", "lean"}``.

    ``noise`` is the gap's standard error for a calibrated model, each image right with
    probability its bin's mean confidence c_b: sqrt(sum_b n_b c_b (1 - c_b)) / n, an upper
    bound of the per-image sqrt(sum_i c_i (1 - c_i)) / n since c (1 - c) is concave.
    ``lean`` is "over-confident" / "under-confident" only when |gap| exceeds ``threshold``
    = ``Z95`` x noise (a two-sided test at 5% at most of "calibrated on average"), else
    "no clear over- or under-confidence". None without a binned image."""
    bins = cal.get("bins") or {}
    rows = [
        (n, c, a)
        for n, c, a in zip(
            bins.get("count", []), bins.get("confidence", []), bins.get("accuracy", [])
        )
        if n
        and isinstance(c, (int, float))
        and isinstance(a, (int, float))
        and np.isfinite([c, a]).all()
    ]
    total = sum(n for n, _, _ in rows)
    if not total:
        return None
    gap = sum(n * (c - a) for n, c, a in rows) / total
    noise = float(np.sqrt(sum(n * c * (1 - c) for n, c, _ in rows))) / total
    threshold = Z95 * noise
    lean = (
        "over-confident"
        if gap > threshold
        else "under-confident"
        if gap < -threshold
        else "no clear over- or under-confidence"
    )
    return {"gap": float(gap), "noise": noise, "threshold": threshold, "lean": lean}
