"""Robustness: a fitted model on the 15 MNIST-C corruptions of its test set.

``robustness(predict, cset, clean_correct)`` predicts every corrupted copy of the base
images (``bench.data.corrupted.CorruptedSet``: the same images for every model, so any two
records can be compared image by image) and returns the record's ``robustness`` section:

- per corruption: accuracy with its 95% Wilson interval over the base images, and the
  mistakes as ``outcomes`` (the layout of ``metrics.test_outcomes``, whose ``test_digest``
  is ``<set digest>:<corruption>``);
- ``mean_accuracy``: the mean over the corruptions (equal sizes: the accuracy over all
  corrupted images), with a 95% percentile-bootstrap interval that resamples base images
  (the 15 copies of one digit are not independent of each other, so the unit is the base
  image: scipy.stats.bootstrap, 2,000 resamples, seed 0);
- ``clean_accuracy``: the model's clean accuracy on the same base images, for the drop.
"""

from __future__ import annotations

import numpy as np

from bench.measure.metrics import predictions, test_outcomes

BOOTSTRAP_RESAMPLES = 2000


def wilson(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval (statsmodels ``proportion_confint(method="wilson")``)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(correct), int(n), alpha=0.05, method="wilson")
    return float(low), float(high)


def mean_interval(correct: np.ndarray) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean of ``correct`` (corruptions x base
    images, bool), resampling base images (columns); a point when every image scores alike."""
    from scipy.stats import bootstrap

    per_image = correct.mean(axis=0)
    if np.all(per_image == per_image[0]):
        return float(per_image[0]), float(per_image[0])
    res = bootstrap(
        (per_image,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(0),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def robustness(predict, cset, clean_correct: np.ndarray) -> dict:
    """The ``robustness`` section (module docstring). ``predict(images uint8 (n, 28, 28))``
    gives (n, 10) probabilities; ``clean_correct`` is the model's correctness on the whole
    clean test set (``metrics.correct_mask`` of its outcomes)."""
    per, rows = {}, []
    for name in cset.names:
        proba = predict(cset.images[name])
        right = predictions(proba) == cset.labels
        low, high = wilson(int(right.sum()), len(right))
        per[name] = {
            "accuracy": float(right.mean()),
            "low": low,
            "high": high,
            "outcomes": test_outcomes(cset.labels, proba, f"{cset.digest}:{name}"),
        }
        rows.append(right)
    correct = np.vstack(rows)
    low, high = mean_interval(correct)
    return {
        "suite": "mnist-c",
        "digest": cset.digest,
        "n_per_corruption": int(len(cset.labels)),
        "n_corruptions": len(cset.names),
        "corruptions": per,
        "mean_accuracy": float(correct.mean()),
        "mean_low": low,
        "mean_high": high,
        "interval": f"percentile bootstrap over base images, {BOOTSTRAP_RESAMPLES} resamples",
        "clean_accuracy": float(np.asarray(clean_correct)[cset.indices].mean()),
    }
