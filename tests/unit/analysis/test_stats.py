"""Intervals and paired tests against published worked examples and a seeded simulation."""

import numpy as np
import pytest

from bench.analysis import stats


@pytest.mark.parametrize(
    "k,n,low,high",
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998), Stat Med 17:857, Table I
        (15, 148, 0.0624, 0.1605),
        (0, 10, 0.0, 0.2775),
    ],
)
def test_wilson_matches_newcombe(k, n, low, high):
    lo, hi = stats.wilson(k, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_wilson_for_a_leaderboard_accuracy():
    lo, hi = stats.wilson(9918, 10000)  # the example: 99.18 (98.98-99.34)
    assert (f"{100 * lo:.2f}", f"{100 * hi:.2f}") == ("98.98", "99.34")


def test_mcnemar_matches_mlxtend_worked_example():
    # mlxtend's mcnemar example 2: 11 vs 1 discordant images, exact p = 0.0063
    assert stats.mcnemar_exact(11, 1) == pytest.approx(0.00634765625)
    assert stats.mcnemar_exact(1, 11) == stats.mcnemar_exact(11, 1)
    # mid-p = exact p - Binomial(12, 1/2) pmf at 1 = 26/4096 - 12/4096
    assert stats.mcnemar_midp(11, 1) == pytest.approx(14 / 4096)


def _midp_by_hand(b: int, c: int) -> float:
    """Fagerland et al. (2013): mid-p = 2 * [P(X <= k) - P(X = k) / 2], X ~ Bin(b + c, 1/2),
    k = min(b, c), summed here from the pmf term by term (the code uses the cdf), capped at 1."""
    from scipy.stats import binom

    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    pmf = [binom.pmf(x, n, 0.5) for x in range(k + 1)]
    return min(1.0, 2 * (sum(pmf) - pmf[k] / 2))


@pytest.mark.parametrize(
    "b,c,expected",
    [
        (1, 1, 1.0),
        (3, 3, 1.0),
        (10, 10, 1.0),
        (0, 0, 1.0),  # ties: as many images won as lost
        (5, 7, 2380 / 4096),  # 2 * (1 + 12 + 66 + 220 + 495) / 4096 + 792 / 4096
        (0, 3, 1 / 8),  # 2 * 0 + P(X = 0) = 1/8
        (7, 5, 2380 / 4096),
        (3, 0, 1 / 8),
        (130, 170, None),
        (40, 25, None),
        (1, 11, 14 / 4096),
    ],
)
def test_mcnemar_midp_is_fagerland_midp_and_1_at_ties(b, c, expected):
    from scipy.stats import binom
    from statsmodels.stats.contingency_tables import mcnemar

    hand = _midp_by_hand(b, c)
    if expected is not None:
        assert hand == pytest.approx(expected)  # the hand formula itself, against exact fractions
    assert stats.mcnemar_midp(b, c) == pytest.approx(hand, rel=1e-12, abs=1e-15)
    sm_exact = float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
    assert stats.mcnemar_exact(b, c) == pytest.approx(sm_exact, rel=1e-12)
    if b == c:  # the exact p is capped at 1 there; the mid-p is 1 without any cap
        assert sm_exact == 1.0 and stats.mcnemar_midp(b, c) == 1.0
    else:  # below 1 the exact p is uncapped, so mid-p = exact p - P(X = k)
        assert stats.mcnemar_midp(b, c) == pytest.approx(
            sm_exact - binom.pmf(min(b, c), b + c, 0.5), rel=1e-9
        )
        assert stats.mcnemar_midp(b, c) < sm_exact


def test_holm_is_holm_not_holm_sidak():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([]) == []


def test_seed_interval_is_student_t():
    t = stats.seed_interval([99.1, 99.2, 99.3])
    assert t["mean"] == pytest.approx(99.2) and t["std"] == pytest.approx(0.1)
    assert t["high"] - t["mean"] == pytest.approx(4.302653 * 0.1 / np.sqrt(3), rel=1e-5)
    with pytest.raises(ValueError):
        stats.seed_interval([1.0])


def _simulate(p_a_only: float, p_b_only: float, n_images: int, trials: int, seed: int) -> float:
    """Share of trials in which mid-p McNemar says the two classifiers differ at 5%."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        u = rng.random(n_images)
        a = ~(
            (u >= p_a_only) & (u < p_a_only + p_b_only + 0.01)
        )  # A wrong on B-only images and 1% shared
        b = ~((u < p_a_only) | ((u >= p_a_only + p_b_only) & (u < p_a_only + p_b_only + 0.01)))
        hits += stats.mcnemar_midp(*stats.discordant(a, b)) < 0.05
    return hits / trials


def test_equal_classifiers_are_declared_different_about_5_percent_of_the_time():
    rate = _simulate(0.02, 0.02, 10_000, 1000, seed=0)  # equal accuracy, 4% of images discordant
    assert 0.03 <= rate <= 0.07, rate


def test_a_one_point_gap_on_10000_images_is_found_almost_always():
    rate = _simulate(0.025, 0.015, 10_000, 1000, seed=1)  # A is 1 point better, 4% discordant
    assert rate >= 0.98, rate


def _pair(lost: int, won: int, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Masks of A and B over n images: A alone right on ``lost`` images, B alone on ``won``."""
    a, b = np.ones(n, bool), np.ones(n, bool)
    b[:lost] = False
    a[lost : lost + won] = False
    return a, b


def _seeds(*pairs):
    masks = [_pair(lost, won) for lost, won in pairs]
    return {s: m[0] for s, m in enumerate(masks)}, {s: m[1] for s, m in enumerate(masks)}


def test_paired_takes_the_largest_p_over_matched_seeds():
    a = {0: np.array([True] * 20 + [False] * 0), 1: np.array([True] * 20)}
    b = {
        0: np.array([False] * 12 + [True] * 8),
        1: np.array([False] * 1 + [True] * 19),
        5: np.ones(20, bool),
    }
    t = stats.paired(a, b)
    assert t.seeds == (0, 1) and t.lost == 13 and t.won == 0
    assert [(s.seed, s.won, s.lost) for s in t.per_seed] == [(0, 0, 12), (1, 0, 1)]
    assert t.direction == -1 and not t.seeds_disagree
    assert t.p == pytest.approx(0.5)  # max(P(X=0 | n=12) = 2^-12, P(X=0 | n=1) = 1/2)
    assert t.decided(t.p) == 0
    assert stats.paired({0: a[0]}, {1: b[1]}) is None


def test_seeds_significant_in_opposite_directions_are_no_change():
    a, b = _seeds((40, 0), (0, 25))  # seed 0: B loses 40 images; seed 1: B wins 25
    t = stats.paired(a, b)
    assert [s.p for s in t.per_seed] == pytest.approx([0.5**40, 0.5**25])  # each p < 0.001
    assert (t.won, t.lost) == (25, 40)
    assert t.direction == 0 and t.seeds_disagree and t.p == 1.0
    assert t.decided(0.0) == 0  # whatever a correction does to p, no verdict
    assert "seed 0 +0/-40 p<0.001" in t.seeds_text() and "seed 1 +25/-0 p<0.001" in t.seeds_text()


def test_two_seeds_both_significantly_worse_is_worse():
    a, b = _seeds((12, 0), (9, 1))
    t = stats.paired(a, b)
    by_hand = max(0.5**12, (2 * 1 + 10) / 1024)  # n = 10, k = 1: 2 P(X = 0) + P(X = 1)
    assert t.direction == -1 and not t.seeds_disagree and t.p == pytest.approx(by_hand)
    assert t.decided(t.p) == -1 and t.decided(0.06) == 0
    better = stats.paired(b, a)  # the same evidence read the other way
    assert (
        better.direction == 1
        and better.p == pytest.approx(by_hand)
        and better.decided(better.p) == 1
    )


@pytest.mark.parametrize(
    "other,p_other,direction",
    [
        ((2, 1), 5 / 8, -1),  # leans the same way, not significant: n = 3, k = 1: (2 + 3) / 8
        ((0, 0), 1.0, 0),  # identical predictions: no direction at all
        ((3, 3), 1.0, 0),  # a tie: mid-p 1
    ],
)
def test_one_significant_seed_is_not_enough(other, p_other, direction):
    a, b = _seeds((12, 0), other)
    t = stats.paired(a, b)
    assert t.per_seed[1].p == pytest.approx(p_other)
    assert t.direction == direction and not t.seeds_disagree
    assert t.p == pytest.approx(p_other) and t.decided(t.p) == 0
