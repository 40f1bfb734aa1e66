"""Accuracy per writer population and on the undisputed labels, from per-image outcomes.

The MNIST test set was written by two populations (``bench.data.writers``): Census Bureau
employees (NIST series 0 and 1, 48 writers) and high-school students (series 4, 249
writers), about 5,000 digits each, no writer in both. ``split`` gives a row's accuracy on
each, with its 95% interval over writers and seeds (``uncertainty.accuracy_interval``,
writers the clusters), and the difference census less students (``difference``): the two
populations are disjoint sets of writers, so it is a two-sample comparison of cluster means.
Its variance is the cluster-robust (CR1) variance of each population's mean of the
seed-averaged outcomes, summed, plus the seed-to-seed variance of the per-seed difference
(a model is scored on both populations at once: the seeds pair them) less the part the
writer-by-seed interaction already explains, over the number of seeds, as
``uncertainty.accuracy_interval`` builds one accuracy's variance;
the interval and the two-sided p-value use Student's t with Welch-Satterthwaite degrees of
freedom (each population's writers less one, the seeds less one).

``labels`` gives, for MNIST's test set, the model's mistakes on the 15 images whose given
label fewer than 3 of 5 annotators confirmed (``writers.disputed``) and its accuracy on the
other 9,985. Any other test set gets None from both: no writers, no disputed labels.

Pure numpy and scipy: outcomes in (seed -> bool mask over the test images), numbers out
(fractions; the tables print percent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.analysis import uncertainty
from bench.data import writers

ALPHA = 0.05
FIRST, SECOND = "census", "students"  # the difference is FIRST less SECOND


@dataclass(frozen=True)
class Difference:
    """One population's accuracy less another's (fractions): the estimate, its 95% interval,
    standard error, degrees of freedom and two-sided p-value (None where a population has a
    single writer: no spread between writers to estimate)."""

    estimate: float
    low: float | None
    high: float | None
    se: float | None
    df: float | None
    p: float | None


@dataclass(frozen=True)
class Split:
    """A row's accuracy on each population (``uncertainty.Interval``, fractions), the
    difference census less students, and how many images and writers each population has."""

    census: uncertainty.Interval
    students: uncertainty.Interval
    difference: Difference
    images: dict
    writers: dict


@dataclass(frozen=True)
class Labels:
    """A row's mistakes on the disputed images (per seed, ascending seeds), how many images
    are disputed, and its accuracy on the undisputed ones (mean over seeds, a fraction)."""

    disputed: int
    mistakes: tuple[int, ...]
    undisputed_accuracy: float
    undisputed_images: int

    @property
    def mean_mistakes(self) -> float:
        return float(np.mean(self.mistakes))


def cluster_variance(y: np.ndarray, groups: np.ndarray) -> float | None:
    """The cluster-robust (CR1) variance of ``mean(y)`` with clusters ``groups``:
    G/(G-1) * sum over clusters of (their sum of y - mean(y))^2 / N^2, as statsmodels' OLS of
    y on a constant with ``cov_type="cluster"`` gives it; None with fewer than two clusters."""
    y = np.asarray(y, dtype=np.float64)
    _, cluster = np.unique(np.asarray(groups), return_inverse=True)
    g = int(cluster.max()) + 1 if len(cluster) else 0
    if g < 2:
        return None
    scores = np.bincount(cluster, weights=y - y.mean(), minlength=g)
    return float(g / (g - 1) * np.sum(scores**2) / len(y) ** 2)


def difference(
    correct: dict[int, np.ndarray],
    population: np.ndarray,
    groups: np.ndarray,
    first: str = FIRST,
    second: str = SECOND,
    alpha: float = ALPHA,
) -> Difference | None:
    """Accuracy on the images of ``population == first`` less on ``== second`` (mean over
    seeds), with the interval and p of the module docstring; ``correct``: seed -> bool mask
    over the images, ``groups``: each image's writer. None when either population has no
    image or there is no seed. With a standard error of 0 (every writer of each population
    scored alike): the interval is the estimate and p is 1 for an estimate of 0, else 0."""
    from scipy import stats as st

    population, groups = np.asarray(population), np.asarray(groups)
    masks = (population == first, population == second)
    if not correct or not all(m.any() for m in masks):
        return None
    y = np.stack([np.asarray(correct[s], dtype=np.float64) for s in sorted(correct)])
    per_seed = y[:, masks[0]].mean(axis=1) - y[:, masks[1]].mean(axis=1)
    estimate = float(per_seed.mean())
    mean = y.mean(axis=0)
    parts = [(cluster_variance(mean[m], groups[m]), len(np.unique(groups[m])) - 1) for m in masks]
    if any(v is None for v, _ in parts):
        return Difference(estimate, None, None, None, None, None)
    if len(y) > 1:  # seed-to-seed variance of the difference, less what writers x seeds explains
        within = sum(cluster_variance(r[m], groups[m]) for r in y - mean for m in masks) / (
            len(y) - 1
        )
        parts.append((max(0.0, float(np.var(per_seed, ddof=1)) - within) / len(y), len(y) - 1))
    var = sum(v for v, _ in parts)
    if var == 0:
        return Difference(estimate, estimate, estimate, 0.0, None, 1.0 if estimate == 0 else 0.0)
    df = var**2 / sum(v**2 / d for v, d in parts)
    se = var**0.5
    half = float(st.t.ppf(1 - alpha / 2, df)) * se
    p = float(2 * st.t.sf(abs(estimate) / se, df))
    return Difference(estimate, estimate - half, estimate + half, se, float(df), p)


def _mnist_writers(correct: dict, test_digest: str | None):
    """The writers of the test set the masks cover, when it is MNIST's and every mask covers it."""
    if not correct:
        return None
    sizes = {len(m) for m in correct.values()}
    return writers.for_test_set(test_digest, sizes.pop()) if len(sizes) == 1 else None


def split(
    correct: dict[int, np.ndarray], test_digest: str | None, alpha: float = ALPHA
) -> Split | None:
    """The row's accuracy per writer population and their difference (fractions); None
    unless the masks are over MNIST's test set (``writers.for_test_set``)."""
    w = _mnist_writers(correct, test_digest)
    if w is None:
        return None
    population = w.population
    per = {}
    for name in (FIRST, SECOND):
        m = population == name
        per[name] = uncertainty.accuracy_interval(
            {s: np.asarray(c)[m] for s, c in correct.items()}, groups=w.writer[m], alpha=alpha
        )
    return Split(
        per[FIRST],
        per[SECOND],
        difference(correct, population, w.writer, alpha=alpha),
        images={n: int(np.sum(population == n)) for n in (FIRST, SECOND)},
        writers={n: len(np.unique(w.writer[population == n])) for n in (FIRST, SECOND)},
    )


def labels(correct: dict[int, np.ndarray], test_digest: str | None) -> Labels | None:
    """The row's mistakes on MNIST's disputed test images and its accuracy on the rest;
    None unless the masks are over MNIST's test set."""
    if _mnist_writers(correct, test_digest) is None:
        return None
    index = writers.disputed(test_digest)
    seeds = sorted(correct)
    keep = np.ones(len(correct[seeds[0]]), dtype=bool)
    keep[index] = False
    mistakes = tuple(int(np.sum(~np.asarray(correct[s], dtype=bool)[index])) for s in seeds)
    accuracy = float(np.mean([np.mean(np.asarray(correct[s], dtype=bool)[keep]) for s in seeds]))
    return Labels(len(index), mistakes, accuracy, int(keep.sum()))


def of_row(row) -> tuple[Split | None, Labels | None]:
    """``split`` and ``labels`` of a leaderboard row (its ``correct`` masks and ``test_digest``)."""
    correct, digest = getattr(row, "correct", None) or {}, getattr(row, "test_digest", None)
    return split(correct, digest), labels(correct, digest)
