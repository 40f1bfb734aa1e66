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
- ``holm``: Holm's step-down correction (as ``multipletests`` with ``method="holm"`` gives
  it, its default being Holm-Sidak; written out, since statsmodels collects garbage per call).
- ``paired``: McNemar over matched seeds, combined as an intersection-union test: a
  difference only when every seed pair shows it, in the same direction;
  ``paired_clustered`` the same over images that each come in several copies (corruptions),
  with a sign-flip permutation test of the mean per-image gain in place of McNemar's. Both
  take ``groups`` (e.g. each image's writer) to make the group the unit: the sign-flip test
  of the mean per-group gain, per seed.

The accuracy interval itself (writers and seeds together) is ``bench.analysis.uncertainty``.
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
    return {"mean": mean, "std": std, "low": mean - half, "high": mean + half, "n": len(v)}


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
    """Holm-adjusted p-values in the input order (empty in, empty out): sorted ascending,
    p_(i) * (m - i + 1), running maximum, capped at 1. What statsmodels' ``multipletests``
    with ``method="holm"`` gives (the tests check it), without its ``gc.collect()`` per call,
    which cost 55 ms each in a report that adjusts many families."""
    p = np.asarray(list(pvalues), dtype=np.float64)
    if not len(p):
        return []
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)))
    out = np.empty_like(p)
    out[order] = adjusted
    return [float(x) for x in out]


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


def paired(
    correct_a: dict[int, np.ndarray],
    correct_b: dict[int, np.ndarray],
    groups: np.ndarray | None = None,
) -> Paired | None:
    """A and B per seed both have (seed -> correctness vector over the test images), combined
    as an IUT (see ``Paired``); None when no seed matches. ``groups`` None: McNemar's mid-p
    per seed (images the unit). ``groups`` (one cluster id per image, e.g. its writer): the
    unit is the group: per seed d_g = B's correct images of group g less A's and the
    two-sided sign-flip test of mean(d_g) = 0 (``sign_flip_p``), ``gain`` = mean(d_g);
    ``won`` / ``lost`` still count images (for display)."""
    seeds = sorted(set(correct_a) & set(correct_b))
    if groups is None:
        return _combine({s: discordant(correct_a[s], correct_b[s]) for s in seeds})
    codes = _codes(groups, len(np.asarray(correct_a[seeds[0]]))) if seeds else None
    per_seed = []
    for s in seeds:
        lost, won = discordant(correct_a[s], correct_b[s])
        d = _group_sums(
            np.asarray(correct_b[s], np.int64) - np.asarray(correct_a[s], np.int64), codes
        )
        per_seed.append(SeedPair(s, won, lost, sign_flip_p(d), float(d.mean())))
    return _iut(per_seed)


def _codes(groups, n: int) -> np.ndarray:
    """Cluster codes 0..G-1 of ``groups`` (one per column); ValueError for another length."""
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups has shape {g.shape}; the outcomes have {n} columns")
    return np.unique(g, return_inverse=True)[1].reshape(-1)


def _group_sums(d: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """``d`` summed within each group (``codes``), or ``d`` itself without groups."""
    return d if codes is None else np.bincount(codes, weights=d, minlength=int(codes.max()) + 1)


SIGN_FLIPS = 9999  # resamples of the sign-flip test; exact enumeration when few images differ


def paired_clustered(
    correct_a: dict[int, np.ndarray],
    correct_b: dict[int, np.ndarray],
    groups: np.ndarray | None = None,
) -> Paired | None:
    """Like ``paired``, for outcomes that come in clusters: seed -> bool (copies, images),
    e.g. the 15 corrupted copies of each base test image. The copies of one image are not
    independent, so the unit is the image: d_i = B's correct copies of image i less A's, and
    per seed a two-sided sign-flip permutation test of mean(d) = 0 (``sign_flip_p``), whose
    sign is the direction. With ``groups`` (one cluster id per base image, e.g. its writer)
    the unit is the group: d_g = the sum of d_i over group g. ``won`` / ``lost`` count the
    images B gets more / fewer copies of right (for display: the test weighs each unit by
    how many copies it moved)."""
    per_seed, codes = [], None
    for s in sorted(set(correct_a) & set(correct_b)):
        a, b = np.asarray(correct_a[s], bool), np.asarray(correct_b[s], bool)
        if a.shape != b.shape:
            raise ValueError(f"outcomes of different test sets: {a.shape} vs {b.shape}")
        d = b.sum(axis=0).astype(np.int64) - a.sum(axis=0)
        if groups is not None and codes is None:
            codes = _codes(groups, len(d))
        du = _group_sums(d, codes)
        per_seed.append(
            SeedPair(s, int(np.sum(d > 0)), int(np.sum(d < 0)), sign_flip_p(du), float(du.mean()))
        )
    return _iut(per_seed)


def sign_flip_p(d: np.ndarray) -> float:
    """Two-sided p of mean(d) = 0 against the sign flips of the paired differences ``d``.
    Zeros cannot flip, so they are dropped; with 2^k <= ``SIGN_FLIPS`` nonzero differences
    every flip is enumerated (exact: the share of patterns with |sum| at least the
    observed); beyond that ``SIGN_FLIPS`` random patterns (seed 0), p = (as extreme + 1) /
    (``SIGN_FLIPS`` + 1), as scipy.stats ``permutation_test`` counts them (the null is
    symmetric, so its 2·min(one-sided p) is this), or Hoeffding's bound on the exact p,
    2·exp(-S²/(2·sum d²)), where that is smaller: without it no p could fall below 1e-4,
    and a Holm family of hundreds of pairs compares its smallest p with 0.05/m. Vectorized
    by hand: a report makes hundreds of these, too many for scipy's general routine. 1
    when fewer than two differences are nonzero (one: its two sign patterns are equally
    extreme)."""
    d = np.asarray(d, dtype=np.float64)
    d = d[d != 0]
    k, observed = len(d), abs(d.sum()) * (1 - 1e-12)  # tolerance: sums equal up to rounding tie
    d = np.abs(d)
    if k < 2:
        return 1.0
    if 2**k <= SIGN_FLIPS:
        bits = (np.arange(2**k)[:, None] >> np.arange(k)) & 1
        sums = np.abs((2 * bits - 1) @ d)
        return float(min(1.0, np.mean(sums >= observed)))
    rng = np.random.default_rng(0)
    bits = np.unpackbits(
        rng.integers(0, 256, size=(SIGN_FLIPS, (k + 7) // 8), dtype=np.uint8), axis=1, count=k
    )
    sums = np.abs(2 * (bits.astype(np.float64) @ d) - d.sum())
    monte_carlo = (np.sum(sums >= observed) + 1) / (SIGN_FLIPS + 1)
    hoeffding = 2 * np.exp(-(observed**2) / (2 * np.sum(d**2)))  # bounds the exact p from above
    return float(min(1.0, monte_carlo, hoeffding))


def _combine(discordant_by_seed: dict[int, tuple[int, int]]) -> Paired | None:
    """The IUT over seeds from each seed's (A-only wins, B-only wins); None without seeds."""
    return _iut(
        [
            SeedPair(s, won, lost, mcnemar_midp(lost, won))
            for s, (lost, won) in sorted(discordant_by_seed.items())
        ]
    )


def _iut(per_seed: list[SeedPair]) -> Paired | None:
    """``Paired`` over the seeds' evidence: a direction only when every seed has it."""
    if not per_seed:
        return None
    signs = {sp.direction for sp in per_seed}
    direction = signs.pop() if len(signs) == 1 else 0
    return Paired(
        tuple(sp.seed for sp in per_seed),
        sum(sp.won for sp in per_seed),
        sum(sp.lost for sp in per_seed),
        max(sp.p for sp in per_seed) if direction else 1.0,
        tuple(per_seed),
        direction,
        {1, -1} <= {sp.direction for sp in per_seed},
    )
