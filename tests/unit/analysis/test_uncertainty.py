"""The accuracy interval (``bench.analysis.uncertainty``) against independent computations:
statsmodels' cluster-robust OLS, a brute-force cluster bootstrap, hand values, and coverage
simulations with known expected accuracy, writer effects and seed noise."""

import numpy as np
import pytest
from scipy import stats as st
from scipy.special import expit

from bench.analysis import stats
from bench.analysis.uncertainty import accuracy_interval
from bench.data import writers

Z = st.norm.ppf(0.975)


def wilson_by_hand(p, n):
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def ols_cluster_se(y, groups):
    """statsmodels: intercept-only OLS with cluster-robust (CR1) standard errors."""
    import statsmodels.api as sm

    fit = sm.OLS(np.asarray(y, float), np.ones((len(y), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    return float(fit.bse[0])


def mnist_writers():
    return writers.mnist_test().writer


def writer_table(rng, m, su, sv, sb, seeds, groups):
    """seed -> bool mask: logit P(correct) = m + writer effect + image effect + seed effect."""
    codes = np.unique(groups, return_inverse=True)[1]
    eta = m + rng.normal(0, su, codes.max() + 1)[codes] + rng.normal(0, sv, len(codes))
    shift = rng.normal(0, sb, seeds)
    return {s: rng.random(len(codes)) < expit(eta + shift[s]) for s in range(seeds)}


def expected_accuracy(m, sd):
    """E[expit(m + sd Z)], Z standard normal, by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(200)
    return float(np.sum(w * expit(m + sd * x)) / np.sqrt(2 * np.pi))


def test_one_seed_without_groups_is_the_wilson_interval():
    mask = np.zeros(1000, bool)
    mask[:973] = True
    iv = accuracy_interval({0: mask})
    low, high = stats.wilson(973, 1000)
    assert iv.estimate == pytest.approx(0.973)
    assert (iv.low, iv.high) == pytest.approx(
        (low, high), abs=2e-4
    )  # t(999) vs z and n-1 vs n only
    assert iv.unit == "image" and iv.n_units == 1000 and iv.n_seeds == 1
    assert "seeds not varied" in iv.text()


def test_matches_a_brute_force_writer_bootstrap():
    rng = np.random.default_rng(11)
    groups = mnist_writers()
    mask = writer_table(rng, 5.5, 1.0, 2.0, 0.0, 1, groups)[0]
    iv = accuracy_interval({0: mask}, groups)
    ids, codes = np.unique(groups, return_inverse=True)
    right, size = np.bincount(codes, mask), np.bincount(codes)
    pick = rng.integers(0, len(ids), (4000, len(ids)))  # resample whole writers
    boot = right[pick].sum(1) / size[pick].sum(1)
    assert iv.se == pytest.approx(boot.std(ddof=1), rel=0.08)
    b_low, b_high = np.percentile(boot, [2.5, 97.5])
    assert iv.high - iv.low == pytest.approx(b_high - b_low, rel=0.1)
    assert iv.low == pytest.approx(b_low, abs=0.1 * (b_high - b_low))
    # wider than the interval that treats the digits as independent
    lo, hi = stats.wilson(int(mask.sum()), len(mask))
    assert iv.high - iv.low > 1.1 * (hi - lo)


def test_seeds_that_agree_closely_do_not_make_the_interval_narrower_than_one_seed():
    # the old t over seeds: 99.17/99.18/99.19 gave a 0.05 pp interval, 7x narrower than Wilson
    rng = np.random.default_rng(5)
    groups = mnist_writers()
    base = writer_table(rng, 7.0, 1.0, 2.5, 0.0, 1, groups)[0]
    seeds = {}
    for s in range(3):
        m = base.copy()
        m[rng.choice(10_000, 20, replace=False)] ^= True  # a few images flip between seeds
        seeds[s] = m
    iv = accuracy_interval(seeds, groups)
    one = accuracy_interval({0: seeds[0]}, groups)
    acc = [m.mean() for m in seeds.values()]
    t_low, t_high = st.t.interval(0.95, 2, np.mean(acc), st.sem(acc))
    assert iv.high - iv.low > 0.9 * (one.high - one.low)
    assert iv.high - iv.low > 3 * (t_high - t_low)
    assert (
        iv.estimate == pytest.approx(np.mean(acc))
        and iv.n_seeds == 3
        and "3 training seeds" in iv.text()
    )


def test_seeds_that_disagree_widen_it_to_at_least_the_seed_t_interval():
    rng = np.random.default_rng(8)
    seeds = {s: rng.random(5000) < p for s, p in enumerate((0.90, 0.95, 0.99))}
    iv = accuracy_interval(seeds)
    acc = [m.mean() for m in seeds.values()]
    t_low, t_high = st.t.interval(0.95, 2, np.mean(acc), st.sem(acc))
    assert iv.high - iv.low >= 0.95 * (t_high - t_low)
    assert iv.low <= 0.90 and iv.high >= 0.99


def test_all_correct_is_never_a_zero_width_interval():
    groups = mnist_writers()
    iv = accuracy_interval({0: np.ones(10_000, bool), 1: np.ones(10_000, bool)}, groups)
    low, _ = stats.wilson(10_000, 10_000)
    assert (
        iv.estimate == 1.0
        and iv.high == pytest.approx(1.0)
        and iv.low == pytest.approx(low, abs=1e-9)
    )
    assert iv.low < 1.0 and "no variation" in iv.method
    wrong = accuracy_interval({0: np.zeros(50, bool)})
    assert wrong.low == 0.0 and wrong.high == pytest.approx(stats.wilson(0, 50)[1], abs=1e-9)


def test_writers_that_all_score_alike_fall_back_to_wilson_over_the_images():
    mask = np.tile([True, True, True, False], 25)  # 25 writers of 4 digits, each 3 right
    iv = accuracy_interval({0: mask}, np.repeat(np.arange(25), 4))
    assert iv.high > iv.low and (iv.low, iv.high) == pytest.approx(stats.wilson(75, 100), abs=1e-9)


def test_one_writer_makes_the_images_the_unit():
    mask = np.array([1, 1, 0, 1, 1, 1, 0, 1], bool)
    iv = accuracy_interval({0: mask}, np.full(8, 42))
    no_groups = accuracy_interval({0: mask})
    assert iv.unit == "image" and iv.n_units == 8 and "one writer" in iv.method
    assert (iv.low, iv.high) == pytest.approx((no_groups.low, no_groups.high))


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {0: np.array([], bool)},
        {0: np.ones(5, bool), 1: np.ones(6, bool)},
        {0: np.array([1.0, np.nan, 0.0])},
        {0: np.array([0, 2, 1])},
    ],
)
def test_bad_outcomes_are_value_errors(bad):
    with pytest.raises(ValueError):
        accuracy_interval(bad)


def test_bad_groups_are_value_errors():
    with pytest.raises(ValueError):
        accuracy_interval({0: np.ones(5, bool)}, np.arange(4))
    with pytest.raises(ValueError):
        accuracy_interval({0: np.ones(3, bool)}, np.array([1.0, np.nan, 2.0]))


@pytest.mark.parametrize(
    "m, su, sv, sb, seeds",
    [
        (
            8.0,
            1.0,
            2.5,
            0.1,
            3,
        ),  # about 99.2% like cnn-small, writer effects, seeds that differ a little
        (5.5, 1.0, 2.0, 0.2, 3),  # about 97%, seeds that differ more
        (
            10.0,
            1.0,
            2.5,
            0.0,
            1,
        ),  # about 99.86% and one seed: where a symmetric interval undercovers
    ],
)
def test_coverage_of_expected_accuracy_by_simulation(m, su, sv, sb, seeds):
    """2,000 tables on MNIST's 297 writers (8 to 130 digits each): each table draws new
    writers, images and seeds; the truth is the expected accuracy over all three."""
    groups = mnist_writers()
    truth = expected_accuracy(m, np.sqrt(su**2 + sv**2 + sb**2))
    rng = np.random.default_rng(20261203)
    hits = []
    for _ in range(2000):
        iv = accuracy_interval(writer_table(rng, m, su, sv, sb, seeds, groups), groups)
        hits.append(iv.low <= truth <= iv.high)
    assert 0.93 <= np.mean(hits) <= 0.97, np.mean(hits)


def test_without_outcomes_the_interval_comes_from_the_seeds_accuracies():
    from bench.analysis.uncertainty import from_accuracies

    iv = from_accuracies([0.90, 0.92], 1000)
    p = 0.91  # V_test = p(1-p)/(n-1) (at most); V_seed = var / S, nothing taken off
    h = np.sqrt(
        st.t.ppf(0.975, 999) ** 2 * p * (1 - p) / 999 + st.t.ppf(0.975, 1) ** 2 * 0.0002 / 2
    )
    assert (iv.low, iv.high) == pytest.approx(wilson_by_hand(p, p * (1 - p) * (Z / h) ** 2))
    assert iv.unit == "image" and iv.n_seeds == 2 and "no per-image outcomes" in iv.method
    one = from_accuracies([0.973], 1000)
    assert (one.low, one.high) == pytest.approx(stats.wilson(973, 1000), abs=2e-4)
    for bad in ([], [float("nan")], [1.2]):
        with pytest.raises(ValueError):
            from_accuracies(bad, 100)
