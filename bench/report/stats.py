"""The statistics behind every comparison the harness prints: pure functions, no I/O.

Built on maintained implementations (statsmodels, scipy), with their defaults named:

- ``wilson``: the Wilson score interval for one run's test accuracy (``proportion_confint``
  with ``method="wilson"``; its default would be the normal approximation).
- ``seed_interval``: mean, standard deviation and Student-t interval over seeds.
- ``mcnemar_midp``: McNemar's test on the discordant test images of two classifiers, in the
  mid-p version 2·P(X < k) + P(X = k), X ~ Binomial(b + c, 1/2), k = min(b, c), which is 1
  at b == c; Fagerland, Lydersen and Laake (2013, BMC Med Res Methodol 13:91) found it
  closer to the nominal level than the exact test (``mcnemar_exact``, from statsmodels'
  ``mcnemar(exact=True)``).
- ``holm``: Holm's step-down correction (``multipletests`` with ``method="holm"``; its
  default would be Holm-Sidak).
- ``paired``: McNemar over matched seeds, combined as an intersection-union test: a
  difference only when every seed pair shows it, in the same direction;
  ``paired_clustered`` the same over images that each come in several copies (corruptions),
  with a sign-flip permutation test of the mean per-image gain in place of McNemar's.

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
    """Two-sided mid-p McNemar (Fagerland, Lydersen and Laake 2013): with n = b + c,
    k = min(b, c) and X ~ Binomial(n, 1/2), mid-p = 2·P(X <= k - 1) + P(X = k), i.e. the
    uncapped exact p 2·P(X <= k) less P(X = k). It is 1 at b == c (n = 0 included); below
    that the exact p needs no cap, so mid-p = ``mcnemar_exact`` - P(X = k) there."""
    from scipy.stats import binom

    n, k = int(b) + int(c), min(int(b), int(c))
    if b == c:  # the formula gives 1 here too, up to rounding
        return 1.0
    return float(min(1.0, 2 * binom.cdf(k - 1, n, 0.5) + binom.pmf(k, n, 0.5)))


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
class SeedPair:
    """One matched seed: ``won`` images B gets right and A wrong, ``lost`` the reverse, and
    their p (McNemar's mid-p; for clustered outcomes the sign-flip test of ``gain``)."""

    seed: int
    won: int
    lost: int
    p: float
    gain: float | None = None  # clustered outcomes: B's mean gain in correct copies per image

    @property
    def direction(self) -> int:
        """+1: B ahead, -1: B behind, 0: neither. For plain outcomes: B won more images / lost
        more; for clustered ones the sign of ``gain``, which is what the p tests."""
        if self.gain is not None:
            return (self.gain > 0) - (self.gain < 0)
        return (self.won > self.lost) - (self.won < self.lost)

    def text(self) -> str:
        """``"seed S +WON/-LOST p"`` (p as ``format_p`` writes it), as the verdict notes show a seed."""
        return f"seed {self.seed} +{self.won}/-{self.lost} {format_p(self.p)}"


@dataclass(frozen=True)
class Paired:
    """A and B compared on the same test images, seed matched with seed, as an
    intersection-union test (IUT): "B better" is claimed only when every seed pair is
    significant with B ahead, "B worse" only when every one is with B behind. The IUT keeps
    the level at alpha without assuming seeds independent (they share one test set).

    won / lost: summed over the matched seeds (for display; the test is per seed);
    per_seed: each seed's ``SeedPair``; direction: +1 when every seed pair has B ahead, -1
    when every one has B behind, 0 otherwise; seeds_disagree: some seed pair has B ahead and
    another B behind; p: the IUT p-value, the largest per-seed mid-p when ``direction`` is
    not 0, else 1 (no common direction: never significant).
    """

    seeds: tuple[int, ...]
    won: int
    lost: int
    p: float
    per_seed: tuple[SeedPair, ...]
    direction: int
    seeds_disagree: bool

    def decided(self, p_adjusted: float, alpha: float = ALPHA) -> int:
        """+1 (B better) / -1 (B worse) when ``p_adjusted`` (this test's p after a
        multiplicity correction) is below ``alpha``, else 0."""
        return self.direction if self.direction and p_adjusted < alpha else 0

    def seeds_text(self) -> str:
        """Per-seed evidence, e.g. ``seed 0 +0/-40 p<0.001, seed 1 +25/-0 p<0.001``."""
        return ", ".join(s.text() for s in self.per_seed)


def paired(correct_a: dict[int, np.ndarray], correct_b: dict[int, np.ndarray]) -> Paired | None:
    """McNemar per seed both have (seed -> correctness vector), combined as an IUT (see
    ``Paired``); None when no seed matches."""
    seeds = sorted(set(correct_a) & set(correct_b))
    return _combine({s: discordant(correct_a[s], correct_b[s]) for s in seeds})


SIGN_FLIPS = 9999  # resamples of the sign-flip test; exact enumeration when few images differ


def paired_clustered(correct_a: dict[int, np.ndarray], correct_b: dict[int, np.ndarray]) -> Paired | None:
    """Like ``paired``, for outcomes that come in clusters: seed -> bool (copies, images),
    e.g. the 15 corrupted copies of each base test image. The copies of one image are not
    independent, so the unit is the image: d_i = B's correct copies of image i less A's, and
    per seed a two-sided sign-flip permutation test of mean(d) = 0 (``sign_flip_p``), whose
    sign is the direction. ``won`` / ``lost`` count the images B gets more / fewer copies of
    right (for display: the test weighs each image by how many copies it moved)."""
    per_seed = []
    for s in sorted(set(correct_a) & set(correct_b)):
        a, b = np.asarray(correct_a[s], bool), np.asarray(correct_b[s], bool)
        if a.shape != b.shape:
            raise ValueError(f"outcomes of different test sets: {a.shape} vs {b.shape}")
        d = b.sum(axis=0).astype(np.int64) - a.sum(axis=0)
        per_seed.append(SeedPair(s, int(np.sum(d > 0)), int(np.sum(d < 0)), sign_flip_p(d), float(d.mean())))
    return _iut(per_seed)


def sign_flip_p(d: np.ndarray) -> float:
    """Two-sided p of mean(d) = 0 against the paired differences' sign flips (scipy.stats
    ``permutation_test``, ``permutation_type="samples"``, seed 0). Zeros cannot flip, so
    they are dropped; with 2^k <= ``SIGN_FLIPS`` nonzero differences scipy enumerates every
    flip (exact). 1 when fewer than two differences are nonzero."""
    from scipy.stats import permutation_test

    d = np.asarray(d, dtype=np.float64)
    d = d[d != 0]
    if len(d) < 2:  # no difference, or one: its two sign patterns are equally extreme
        return 1.0
    res = permutation_test((d,), np.mean, permutation_type="samples", vectorized=True, n_resamples=SIGN_FLIPS,
                           alternative="two-sided", rng=np.random.default_rng(0))
    return float(min(1.0, res.pvalue))


def _combine(discordant_by_seed: dict[int, tuple[int, int]]) -> Paired | None:
    """The IUT over seeds from each seed's (A-only wins, B-only wins); None without seeds."""
    return _iut([SeedPair(s, won, lost, mcnemar_midp(lost, won))
                 for s, (lost, won) in sorted(discordant_by_seed.items())])


def _iut(per_seed: list[SeedPair]) -> Paired | None:
    """``Paired`` over the seeds' evidence: a direction only when every seed has it."""
    if not per_seed:
        return None
    signs = {sp.direction for sp in per_seed}
    direction = signs.pop() if len(signs) == 1 else 0
    return Paired(tuple(sp.seed for sp in per_seed), sum(sp.won for sp in per_seed),
                  sum(sp.lost for sp in per_seed), max(sp.p for sp in per_seed) if direction else 1.0,
                  tuple(per_seed), direction, {1, -1} <= {sp.direction for sp in per_seed})
