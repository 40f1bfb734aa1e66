"""Classification metrics of one model's test probabilities, and its mistakes as stored;
for MNIST's test set, its accuracy per writer population and on the undisputed labels.

Pure numpy; no framework imports.
"""

from __future__ import annotations

import numpy as np

from bench.data import writers

N_CLASSES = 10


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = N_CLASSES) -> np.ndarray:
    """(n, n) counts; row = true class, column = predicted class."""
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


NO_PREDICTION = -1  # the predicted class of an image whose probabilities are not all finite


def predictions(proba: np.ndarray) -> np.ndarray:
    """``argmax(proba)`` per row, and ``NO_PREDICTION`` for a row holding a NaN or an
    infinity (a diverged model's output). Such a row predicts nothing, so it is wrong
    whatever the label: numpy's argmax would otherwise put the first NaN's class there and
    credit a broken model with that class's share of the test set."""
    proba = np.asarray(proba, dtype=np.float64)
    finite = np.isfinite(proba).all(axis=1)
    return np.where(finite, np.where(finite[:, None], proba, 0.0).argmax(axis=1), NO_PREDICTION)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """Accuracy, log-loss, macro-F1, per-class precision/recall/F1/support and confusion.

    Predictions are ``predictions(proba)``; log-loss clips probabilities to [1e-15, 1].
    A class never predicted has precision 0 (and F1 0), as scikit-learn's zero_division=0.
    Rows with non-finite probabilities count as wrong everywhere (accuracy, recall, F1),
    have probability 1e-15 of their label in the log-loss, and are left out of the confusion
    matrix (whose rows then sum to less than the support); ``no_prediction`` counts them
    (present only when there are any).
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (len(y_true), N_CLASSES):
        raise ValueError(
            f"probabilities must have shape ({len(y_true)}, {N_CLASSES}), got {proba.shape}"
        )
    y_pred = predictions(proba)
    has = y_pred != NO_PREDICTION
    cm = confusion_matrix(y_true[has], y_pred[has])
    tp = np.diag(cm).astype(np.float64)
    support = np.bincount(y_true, minlength=N_CLASSES)
    predicted = cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    p_true = np.clip(np.where(has, proba[np.arange(len(y_true)), y_true], 0.0), 1e-15, 1.0)
    present = support > 0
    out = {
        "accuracy": float(tp.sum() / len(y_true)),
        "log_loss": float(-np.mean(np.log(p_true))),
        "macro_f1": float(f1[present].mean()),
        "per_class": {
            str(c): {
                "precision": float(precision[c]),
                "recall": float(recall[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
            }
            for c in range(N_CLASSES)
        },
        "confusion": cm.tolist(),
    }
    if not has.all():
        out["no_prediction"] = int((~has).sum())
    return out


def worst_mistakes(y_true: np.ndarray, proba: np.ndarray, limit: int = 64) -> list[list]:
    """The ``limit`` most confident misclassifications as ``[test index, true, predicted,
    probability of the prediction]``, most confident first (ties: lower index first).
    Stored in the record so galleries can be drawn later without the model. Rows without
    a prediction (non-finite probabilities) have no confidence and are not listed."""
    y_pred = predictions(proba)
    wrong = np.flatnonzero((y_pred != y_true) & (y_pred != NO_PREDICTION))
    conf = proba[wrong, y_pred[wrong]]
    order = np.lexsort((wrong, -conf))[:limit]
    return [
        [int(wrong[i]), int(y_true[wrong[i]]), int(y_pred[wrong[i]]), round(float(conf[i]), 6)]
        for i in order
    ]


def test_outcomes(y_true: np.ndarray, proba: np.ndarray, test_digest: str) -> dict:
    """Every test mistake, compactly: which images (ascending indices) and what was predicted
    for each, with the digest of the test set they refer to. Enough to compare any two
    records on the same test set image by image (paired tests) without the models. An image
    without a prediction (non-finite probabilities) is wrong, predicted ``NO_PREDICTION``."""
    y_pred = predictions(proba)
    wrong = np.flatnonzero(y_pred != np.asarray(y_true))
    return {
        "test_digest": test_digest,
        "n": int(len(y_true)),
        "wrong_index": wrong.tolist(),
        "wrong_predicted": y_pred[wrong].tolist(),
    }


def correct_mask(outcomes: dict) -> np.ndarray:
    """Boolean (n,) vector, True where the record's model got the test image right."""
    mask = np.ones(int(outcomes["n"]), dtype=bool)
    mask[np.asarray(outcomes["wrong_index"], dtype=np.int64)] = False
    return mask


def writer_metrics(outcomes: dict) -> dict:
    """What a record's ``outcomes`` say once the MNIST test set's writers and annotators are
    known (``bench.data.writers``): ``populations``, the accuracy on the Census Bureau
    employees' digits and on the high-school students' (``census``, ``students``), with each
    population's ``images`` and ``writers`` counted; ``disputed_mistakes``, the mistakes on
    the test images whose given label fewer than 3 of 5 annotators confirmed; and
    ``undisputed_accuracy``, the accuracy on the other images. ``{}`` for any other test set
    (those keys are then absent from the record)."""
    digest = outcomes.get("test_digest")
    w = writers.for_test_set(digest, outcomes.get("n"))
    if w is None:
        return {}
    correct, population = correct_mask(outcomes), w.population
    names = sorted(set(writers.POPULATIONS.values()))
    disputed = writers.disputed(digest)
    undisputed = np.ones(len(correct), dtype=bool)
    undisputed[disputed] = False
    return {
        "populations": {
            **{p: float(correct[population == p].mean()) for p in names},
            "images": {p: int(np.sum(population == p)) for p in names},
            "writers": {p: len(np.unique(w.writer[population == p])) for p in names},
        },
        "disputed_mistakes": int(np.sum(~correct[disputed])),
        "undisputed_accuracy": float(correct[undisputed].mean()),
    }
