"""The statistics behind every comparison the harness prints: pure functions, no I/O.

Built on maintained implementations (statsmodels, scipy), with their defaults named:

- ``wilson``: the Wilson score interval for one run's test accuracy (``proportion_confint``
  with ``method="wilson"``; its default would be the normal approximation).
- ``seed_interval``: mean, standard deviation and Student-t interval over seeds.
- ``mcnemar_midp``: McNemar's test on the discordant test images of two classifiers, in the
  mid-p version (exact conditional p minus the binomial pmf at min(b, c)), which Fagerland,
  Lydersen and Laake (2013, BMC Med Res Methodol 13:91) found closer to the nominal level
  than the exact test; the exact p comes from statsmodels' ``mcnemar(exact=True)``.
- ``holm``: Holm's step-down correction (``multipletests`` with ``method="holm"``; its
  default would be Holm-Sidak).
- ``paired``: McNemar over matched seeds, combined as an intersection-union test.

What they do not measure: every interval and test here is over ONE test set; seeds measure
the noise of training, not of the data a model will meet next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 0.05


def wilson(correct: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """(low, high) Wilson score interval for ``correct`` successes out of ``n``."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    low, high = proportion_confint(int(correct), int(n), alpha=alpha, method="wilson")
    return float(low), float(high)


def seed_interval(values, alpha: float = ALPHA) -> dict:
    """Mean, sample std (ddof 1) and the two-sided Student-t interval of the mean."""
    from scipy import stats as st

    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        raise ValueError("a t-interval needs at least 2 values")
    mean, std = float(v.mean()), float(v.std(ddof=1))
    half = float(st.t.ppf(1 - alpha / 2, len(v) - 1)) * std / np.sqrt(len(v))
    return {"mean": mean, "std": std, "low": mean - half, "high": mean + half, "n": int(len(v))}


def discordant(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[int, int]:
    """(b, c): images only A gets right, images only B gets right."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"outcomes of different test sets: {a.shape} vs {b.shape}")
    return int(np.sum(a & ~b)), int(np.sum(~a & b))


def mcnemar_exact(b: int, c: int) -> float:
    """Exact (conditional, two-sided binomial) McNemar p-value, from statsmodels."""
    from statsmodels.stats.contingency_tables import mcnemar

    if b + c == 0:
        return 1.0
    return float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)


def mcnemar_midp(b: int, c: int) -> float:
    """Mid-p McNemar: exact p minus the Binomial(b + c, 1/2) pmf at min(b, c)."""
    from scipy.stats import binom

    if b + c == 0:
        return 1.0
    return float(max(0.0, mcnemar_exact(b, c) - binom.pmf(min(b, c), b + c, 0.5)))


def format_p(p: float) -> str:
    """``p<0.001`` or ``p=0.042``: how every table prints a p-value."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def holm(pvalues) -> list[float]:
    """Holm-adjusted p-values in the input order (empty in, empty out)."""
    from statsmodels.stats.multitest import multipletests

    p = list(pvalues)
    if not p:
        return []
    return [float(x) for x in multipletests(p, alpha=ALPHA, method="holm")[1]]


@dataclass(frozen=True)
class Paired:
    """A and B compared on the same test images, seed matched with seed.

    won / lost: images B gets right and A wrong / A right and B wrong, summed over the
    matched seeds; p: the largest mid-p over the matched seeds. Declaring a difference only
    when every seed pair shows it (an intersection-union test) keeps the level at alpha
    without assuming seeds independent: they share one test set.
    """

    seeds: tuple[int, ...]
    won: int
    lost: int
    p: float


def paired(correct_a: dict[int, np.ndarray], correct_b: dict[int, np.ndarray]) -> Paired | None:
    """McNemar per seed both have (seed -> correctness vector); None when none matches."""
    seeds = tuple(sorted(set(correct_a) & set(correct_b)))
    if not seeds:
        return None
    won = lost = 0
    ps = []
    for s in seeds:
        b, c = discordant(correct_a[s], correct_b[s])
        lost, won = lost + b, won + c
        ps.append(mcnemar_midp(b, c))
    return Paired(seeds, won, lost, max(ps))
