"""The accuracy interval (``bench.analysis.uncertainty``) against independent computations:
statsmodels' cluster-robust OLS, a brute-force cluster bootstrap, hand values, and coverage
simulations with known expected accuracy, writer effects and seed noise.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.analysis.test_uncertainty``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st

from bench.analysis.uncertainty import accuracy_interval
from tests.unit.analysis.test_uncertainty import (
    Z,
    mnist_writers,
    ols_cluster_se,
    wilson_by_hand,
    writer_table,
)


def test_one_seed_standard_error_is_statsmodels_cluster_robust_ols():
    rng = np.random.default_rng(3)
    groups = mnist_writers()
    mask = writer_table(rng, 5.0, 1.0, 1.5, 0.0, 1, groups)[0]
    iv = accuracy_interval({0: mask}, groups)
    assert iv.se == pytest.approx(ols_cluster_se(mask, groups), rel=1e-9)
    assert iv.unit == "writer" and iv.n_units == 297
    # and the interval is the Wilson score shape at the effective n the t half-width implies
    h = st.t.ppf(0.975, 296) * iv.se
    p = mask.mean()
    assert (iv.low, iv.high) == pytest.approx(
        wilson_by_hand(p, p * (1 - p) * (Z / h) ** 2), abs=1e-12
    )


def test_hand_values_three_writers_one_of_them_with_one_digit():
    groups = np.array(["a", "a", "b", "b", "b", "c"])  # writer c wrote one digit
    mask = np.array([1, 0, 1, 1, 1, 1], bool)
    iv = accuracy_interval({7: mask}, groups)
    # e_a = (1 - 5/6) + (0 - 5/6) = -4/6, e_b = 3/6, e_c = 1/6; V = 3/2 * (16 + 9 + 1)/36 / 36
    se = np.sqrt(1.5 * 26 / 36 / 36)
    assert iv.se == pytest.approx(se) and iv.se == pytest.approx(ols_cluster_se(mask, groups))
    h = st.t.ppf(0.975, 2) * se
    assert (iv.low, iv.high) == pytest.approx(wilson_by_hand(5 / 6, 5 / 36 * (Z / h) ** 2))
    assert iv.n_units == 3 and iv.estimate == pytest.approx(5 / 6)


def test_corrupted_copies_cluster_by_base_image():
    rng = np.random.default_rng(2)
    hard = rng.random(400) < 0.2  # base images that most corruptions get wrong
    copies = rng.random((15, 400)) < np.where(hard, 0.3, 0.95)
    iv = accuracy_interval({0: copies})
    long_y = copies.ravel()  # one row per copy, clustered by its base image
    assert iv.se == pytest.approx(ols_cluster_se(long_y, np.tile(np.arange(400), 15)), rel=1e-9)
    assert iv.unit == "base image" and iv.n_units == 400
    by_writer = accuracy_interval({0: copies}, np.arange(400) // 8)
    assert by_writer.unit == "writer" and by_writer.n_units == 50
