"""Accuracy per writer population, their difference, and the disputed labels
(``bench.analysis.populations``, ``measure.writer_metrics``, the leaderboard's "Writers and
labels" section): checked against statsmodels' cluster-robust OLS, scipy's one-sample t, a
brute-force cluster bootstrap, a coverage simulation with known truth, and numpy by hand on
the committed MNIST records' outcomes.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.analysis.test_populations``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st

from bench.analysis import populations
from tests.unit.analysis.test_populations import _clustered, _ols_cluster, _two_populations


def test_cluster_variance_is_statsmodels_cluster_robust_intercept():
    rng = np.random.default_rng(0)
    y, g = _clustered(
        rng, [1, 5, 17, 3, 40, 2], [0.5, 0.9, 0.7, 1.0, 0.95, 0.2]
    )  # a writer with one digit
    _, bse = _ols_cluster(y, np.ones((len(y), 1)), g)
    assert populations.cluster_variance(y, g) == pytest.approx(bse[0] ** 2, rel=1e-10)
    assert (
        populations.cluster_variance(y, np.zeros(len(y))) is None
    )  # one writer: no spread to estimate
    assert populations.cluster_variance(np.ones(9), np.arange(9) % 3) == 0.0  # all correct


def test_one_seed_difference_matches_statsmodels_and_welch_by_hand():
    rng = np.random.default_rng(1)
    y, pop, g = _two_populations(rng)
    d = populations.difference({0: y}, pop, g)
    is_census = (pop == "census").astype(float)
    params, bse_raw = _ols_cluster(
        y, np.column_stack([np.ones(len(y)), is_census]), g, correction=False
    )
    assert d.estimate == pytest.approx(
        params[1], abs=1e-12
    )  # the dummy's coefficient: census less students
    parts = []
    for name in ("census", "students"):
        m = pop == name
        _, bse = _ols_cluster(y[m], np.ones((m.sum(), 1)), g[m])  # CR1, G/(G-1), per population
        n_writers = len(np.unique(g[m]))
        parts.append((bse[0] ** 2, n_writers))
    assert d.se**2 == pytest.approx(sum(v for v, _ in parts), rel=1e-10)
    # the same variance without the small-sample factor is the pooled regression's uncorrected one
    assert bse_raw[1] ** 2 == pytest.approx(sum(v * (k - 1) / k for v, k in parts), rel=1e-10)
    df = sum(v for v, _ in parts) ** 2 / sum(v**2 / (k - 1) for v, k in parts)
    assert d.df == pytest.approx(df, rel=1e-10)
    assert min(k for _, k in parts) - 1 <= d.df <= sum(k - 1 for _, k in parts)
    assert d.p == pytest.approx(2 * st.t.sf(abs(params[1]) / d.se, df), rel=1e-9)
    half = st.t.ppf(0.975, df) * d.se
    assert (d.low, d.high) == pytest.approx((params[1] - half, params[1] + half), abs=1e-12)


def test_edge_cases_all_correct_one_writer_and_empty():
    rng = np.random.default_rng(4)
    y, pop, g = _two_populations(rng)
    y[pop == "census"] = True  # all correct in one population: only the students' writers vary
    d = populations.difference({0: y}, pop, g)
    m = pop == "students"
    _, bse = _ols_cluster(y[m], np.ones((m.sum(), 1)), g[m])
    assert d.estimate == pytest.approx(1 - y[m].mean())
    assert d.se == pytest.approx(bse[0], rel=1e-10)
    assert d.df == pytest.approx(len(np.unique(g[m])) - 1)
    same = populations.difference({0: np.ones(len(y), bool)}, pop, g)  # all correct everywhere
    assert (same.estimate, same.low, same.high, same.se, same.p) == (0.0, 0.0, 0.0, 0.0, 1.0)
    one_writer = g.copy()
    one_writer[pop == "census"] = 0
    lone = populations.difference({0: y}, pop, one_writer)
    assert lone.estimate == pytest.approx(d.estimate)
    assert (lone.low, lone.high, lone.se, lone.p) == (None, None, None, None)
    assert populations.difference({0: y[m]}, pop[m], g[m]) is None  # no census image
    assert populations.difference({}, pop, g) is None
