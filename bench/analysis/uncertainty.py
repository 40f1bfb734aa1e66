"""One accuracy interval with one meaning: pure numpy/scipy, no I/O.

``accuracy_interval`` is a 95% interval for a model's *expected* accuracy on new test data
of the same kind -- new writers' digits where writers are known -- taking training-seed
variation and test sampling into account together. With one seed it covers test sampling
only (the model of that seed), and its ``Interval.text`` says that seeds were not varied.

The construction, over a table y[s, i] (seed s, image or base image i, the fraction of its
copies correct) with clusters g (writers; each image its own cluster when none are known):

1. estimate p = mean over seeds of each seed's accuracy = mean of ybar_i (ybar_i: the mean
   over seeds of image i).
2. test sampling: the cluster-robust (CR1) variance of the mean of ybar,
   V_test = G/(G-1) * sum_g e_g^2 / N^2, e_g = sum over cluster g of (ybar_i - p): what
   statsmodels' intercept-only OLS with ``cov_type="cluster"`` gives. It already holds the
   writer-by-seed noise W/S (W: one seed's variance of accuracy from which images it gets
   right), so
3. seeds: V_seed = max(0, var_s(acc_s) - W) / S, with W estimated by the CR1 variance of each
   seed's residuals y[s, i] - ybar_i - (acc_s - p), summed over seeds, over S - 1 (a seed's
   accuracy varies by W even when seeds shift nothing overall: it is not counted twice).
4. half-width h = sqrt(t(G-1)^2 V_test + t(S-1)^2 V_seed), t(d) the two-sided Student-t
   quantile: Banerjee's (1960) conservative combination, which keeps the level where
   Welch-Satterthwaite degrees of freedom do not when the seed part, with its 2 degrees of
   freedom for 3 seeds, is not small (simulated: 90% coverage for Welch, 93-95% for this).
5. the interval is the Wilson score interval at p with the effective sample size
   n_eff = p(1-p) (z/h)^2 (Korn and Graubard 1998's design-effect Wilson interval): the
   symmetric p +- h undercovers near 100% (simulated, one seed at 99.86%: 92%; this: 95%).
   For one seed and no groups n_eff = N - 1 (t and z aside): the plain Wilson interval.

Checked (tests/unit/analysis/test_uncertainty.py): the standard error against statsmodels, one seed's
interval against a brute-force writer bootstrap, coverage of the expected accuracy in
simulated tables on MNIST's 297 writers (writer, image and seed effects): 94-96%. Averaging
seeds removes part of the writer-by-seed noise W, so several seeds that agree give a slightly
narrower interval than one seed's (committed cnn-small: 0.43 pp over 3 seeds, 0.45-0.46 pp
for each seed alone, 0.45 pp for a writer bootstrap of seed 0); adding W back would cover
98-99.6% in the same simulations. ``from_accuracies`` is the conservative variant for
records without per-image outcomes.

Edge cases: h = 0 (every cluster alike, all correct, all wrong): Wilson over the images of one
seed, design effect 1 as Korn and Graubard do, never a zero-width interval. One writer (or one
image): writer-to-writer variation cannot be estimated from one writer; the images are the
unit and ``method`` says so. Empty, NaN or non-0/1 outcomes, seeds of different shapes,
groups of another length or with NaN: ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
UNIT_WRITER, UNIT_IMAGE, UNIT_BASE = "writer", "image", "base image"


@dataclass(frozen=True)
class Interval:
    """A 95% interval for expected accuracy (fractions in [0, 1]).

    estimate: mean over seeds of each seed's accuracy; low / high: the interval; unit: what
    was resampled, the cluster ("writer", "image" or "base image"); n_units: how many;
    n_seeds: the training seeds averaged (1: seeds not varied, test sampling only); method:
    short text for legends; se: the standard error sqrt(V_test + V_seed) (0 where a fallback
    gave the interval); n_eff: the effective sample size of the Wilson score interval."""

    estimate: float
    low: float
    high: float
    unit: str
    n_units: int
    n_seeds: int
    method: str
    se: float = 0.0
    n_eff: float = 0.0

    def text(self) -> str:
        """What the interval covers, for a legend, e.g. ``95% CI for expected accuracy on new
        writers' digits, over 3 training seeds and test sampling (unit: writer, 297 resampled)``."""
        data = {UNIT_WRITER: "new writers' digits", UNIT_BASE: "new images"}.get(
            self.unit, "new images"
        )
        seeds = (
            f"over {self.n_seeds} training seeds and test sampling"
            if self.n_seeds > 1
            else "test sampling only (one seed: seeds not varied)"
        )
        return f"95% CI for expected accuracy on {data}, {seeds} (unit: {self.unit}, {self.n_units:,} resampled)"


def accuracy_interval(
    correct: dict[int, np.ndarray], groups: np.ndarray | None = None, alpha: float = ALPHA
) -> Interval:
    """The interval of the module docstring from per-seed outcomes.

    ``correct``: seed -> bool mask over the test images, shape (n,), or (copies, n) for
    corrupted sets whose columns are base images (every seed the same shape). ``groups``: one
    cluster id per column (writer ids); None: each image (base image) is its own unit.
    """
    y, columns, per_seed_n = _outcomes(correct)
    codes, unit, note = _units(groups, y.shape[1], columns)
    return _interval(y, codes, unit, alpha, per_seed_n, note)


def _outcomes(correct: dict) -> tuple[np.ndarray, str, int]:
    """(seeds, columns) per-column fraction correct, the column unit, and images per seed."""
    if not correct:
        raise ValueError("an accuracy interval needs the outcomes of at least one seed")
    arrays = [np.asarray(correct[s]) for s in sorted(correct)]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"seeds' outcomes have different shapes: {sorted(shapes)}")
    shape = shapes.pop()
    if len(shape) not in (1, 2) or 0 in shape:
        raise ValueError(
            f"outcomes must be a non-empty (n,) or (copies, n) array, got shape {shape}"
        )
    a = np.stack(arrays).astype(np.float64)
    if not np.isin(a, (0.0, 1.0)).all():  # NaN included
        raise ValueError("outcomes must be 0/1 (correct or not), without NaN")
    if a.ndim == 3:
        return a.mean(axis=1), UNIT_BASE, int(np.prod(shape))
    return a, UNIT_IMAGE, int(shape[0])


def _units(groups, n: int, columns: str) -> tuple[np.ndarray, str, str]:
    """Cluster codes 0..G-1 per column, the unit's name, and a note for ``method``."""
    if groups is None:
        return np.arange(n), columns, ""
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups has shape {g.shape}; the outcomes have {n} columns")
    if g.dtype.kind == "f" and not np.isfinite(g).all():
        raise ValueError("groups contain NaN")
    codes = np.unique(g, return_inverse=True)[1].reshape(-1)
    if codes.max() == 0:  # one writer is no sample of writers
        return np.arange(n), columns, f"one writer: {columns}s as the unit; "
    return codes, UNIT_WRITER, ""


def from_accuracies(accuracies, n: int, alpha: float = ALPHA, unit: str = UNIT_IMAGE) -> Interval:
    """The same interval for records without per-image outcomes, from each seed's accuracy
    (fractions) over ``n`` images (or base images: ``unit``), each its own unit. Which images each seed got right is
    unknown, so V_test = p(1-p)/(n-1) (an image's mean over seeds varies by at most
    p(1-p)) and V_seed = var(accuracies)/S with nothing taken off: conservative both ways."""
    acc = np.asarray(accuracies, dtype=np.float64)
    if acc.size == 0 or n < 1 or not np.all((acc >= 0) & (acc <= 1)):  # NaN fails the bounds
        raise ValueError("an accuracy interval needs accuracies in [0, 1] over n >= 1 images")
    p, s = float(acc.mean()), len(acc)
    v_test = p * (1 - p) / (n - 1) if n > 1 else 0.0
    v_seed = float(acc.var(ddof=1)) / s if s > 1 else 0.0
    return _finish(p, v_test, n, v_seed, s, unit, n, alpha, "no per-image outcomes: ")


def _interval(
    y: np.ndarray, codes: np.ndarray, unit: str, alpha: float, per_seed_n: int, note: str
) -> Interval:
    """The interval from (seeds, columns) fractions and cluster codes (module docstring)."""
    n_seeds, n = y.shape
    g = int(codes.max()) + 1
    per_seed = y.mean(axis=1)
    p = float(per_seed.mean())
    v_test = v_seed = 0.0
    if g >= 2:
        v_test = _cr1(y.mean(axis=0) - p, codes, g, n)
        if n_seeds >= 2:
            resid = y - y.mean(axis=0) - (per_seed - p)[:, None]
            w = sum(_cr1(r, codes, g, n) for r in resid) / (n_seeds - 1)
            v_seed = max(0.0, float(per_seed.var(ddof=1)) - w) / n_seeds
    return _finish(p, v_test, g, v_seed, n_seeds, unit, per_seed_n, alpha, note)


def _finish(
    p: float,
    v_test: float,
    g: int,
    v_seed: float,
    n_seeds: int,
    unit: str,
    per_seed_n: int,
    alpha: float,
    note: str,
) -> Interval:
    """Steps 4 and 5 of the module docstring (and the fallback) from the two variances."""
    from scipy import stats as st

    t_test = float(st.t.ppf(1 - alpha / 2, g - 1)) if g >= 2 else 0.0
    t_seed = float(st.t.ppf(1 - alpha / 2, n_seeds - 1)) if n_seeds >= 2 else 0.0
    h = float(np.sqrt(t_test**2 * v_test + t_seed**2 * v_seed))
    seeds = f"{n_seeds} seeds" if n_seeds > 1 else "1 seed"
    if h == 0 or p in (0.0, 1.0):
        low, high = _wilson(p, per_seed_n, alpha)
        return Interval(
            p,
            low,
            high,
            unit,
            g,
            n_seeds,
            f"{note}no variation between {unit}s: Wilson over {per_seed_n:,} images, {seeds}",
            0.0,
            float(per_seed_n),
        )
    z = float(st.norm.ppf(1 - alpha / 2))
    n_eff = p * (1 - p) * (z / h) ** 2
    low, high = _wilson(p, n_eff, alpha)
    method = (
        f"{note}{'cluster-robust ' if unit == UNIT_WRITER else ''}Wilson with effective n, {seeds}"
    )
    return Interval(
        p, low, high, unit, g, n_seeds, method, float(np.sqrt(v_test + v_seed)), float(n_eff)
    )


def _cr1(e: np.ndarray, codes: np.ndarray, g: int, n: int) -> float:
    """CR1 variance of a mean of n values with residuals ``e``, clustered by ``codes``:
    G/(G-1) * sum_g (sum of e over cluster g)^2 / n^2."""
    totals = np.bincount(codes, weights=e, minlength=g)
    return float(g / (g - 1) * np.sum(totals**2) / n**2)


def _wilson(p: float, n: float, alpha: float) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` observed over ``n`` (possibly effective) units."""
    from scipy import stats as st

    z = float(st.norm.ppf(1 - alpha / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
