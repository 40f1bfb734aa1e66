"""Classification metrics of one model's test probabilities, and its mistakes as stored.

Pure numpy; no framework imports.
"""

from __future__ import annotations

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
