"""Intervals and paired tests against published worked examples and a seeded simulation."""

import numpy as np
import pytest

from bench.report import stats


@pytest.mark.parametrize("k,n,low,high", [
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998), Stat Med 17:857, Table I
    (15, 148, 0.0624, 0.1605),
    (0, 10, 0.0, 0.2775),
])
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
    assert stats.mcnemar_midp(0, 0) == 1.0 and stats.mcnemar_midp(3, 3) < 1.0


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
        a = ~((u >= p_a_only) & (u < p_a_only + p_b_only + 0.01))  # A wrong on B-only images and 1% shared
        b = ~((u < p_a_only) | ((u >= p_a_only + p_b_only) & (u < p_a_only + p_b_only + 0.01)))
        hits += stats.mcnemar_midp(*stats.discordant(a, b)) < 0.05
    return hits / trials


def test_equal_classifiers_are_declared_different_about_5_percent_of_the_time():
    rate = _simulate(0.02, 0.02, 10_000, 1000, seed=0)  # equal accuracy, 4% of images discordant
    assert 0.03 <= rate <= 0.07, rate


def test_a_one_point_gap_on_10000_images_is_found_almost_always():
    rate = _simulate(0.025, 0.015, 10_000, 1000, seed=1)  # A is 1 point better, 4% discordant
    assert rate >= 0.98, rate


def test_paired_takes_the_largest_p_over_matched_seeds():
    a = {0: np.array([True] * 20 + [False] * 0), 1: np.array([True] * 20)}
    b = {0: np.array([False] * 12 + [True] * 8), 1: np.array([False] * 1 + [True] * 19), 5: np.ones(20, bool)}
    t = stats.paired(a, b)
    assert t.seeds == (0, 1) and t.lost == 13 and t.won == 0
    assert t.p == pytest.approx(max(stats.mcnemar_midp(12, 0), stats.mcnemar_midp(1, 0)))
    assert stats.paired({0: a[0]}, {1: b[1]}) is None
