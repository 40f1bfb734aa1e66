"""Paired comparisons with the writer as the unit (``stats.paired(..., groups=)``), the
sign-flip p behind them, and "vs best" decided in the heatmap's all-pairs Holm family
(``rows.compare_with_best``), checked by hand, against scipy, and by simulation."""

import itertools

import numpy as np
import pytest
from scipy.stats import permutation_test

from bench.analysis import stats
from bench.analysis.rowstats import Row, compare_with_best, pairwise_pvalues


def exact_sign_flip_p(d):
    """By hand: the share of the 2^k sign patterns of the nonzero d with |sum| >= the observed."""
    d = [x for x in d if x]
    sums = [
        abs(sum(s * x for s, x in zip(signs, d)))
        for signs in itertools.product((1, -1), repeat=len(d))
    ]
    return sum(t >= abs(sum(d)) - 1e-12 for t in sums) / len(sums)


def test_writer_unit_by_hand():
    groups = np.array([5, 5, 5, 9, 9, 2, 2, 2, 2, 7])
    a = np.array([1, 0, 0, 1, 1, 0, 1, 1, 1, 0], bool)
    b = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 1], bool)
    # per writer, B's right less A's: writer 2: +1, writer 5: +2, writer 7: +1, writer 9: -1
    t = stats.paired({0: a}, {0: b}, groups=groups)
    sp = t.per_seed[0]
    assert (sp.won, sp.lost) == (4, 1)  # images, for display
    assert sp.gain == pytest.approx((1 + 2 + 1 - 1) / 4)
    assert sp.p == pytest.approx(exact_sign_flip_p([1, 2, 1, -1]))
    assert t.direction == 1 and t.p == sp.p
    assert stats.paired({0: a}, {0: b}).p == pytest.approx(
        stats.mcnemar_midp(1, 4)
    )  # no groups: as before


def test_gains_from_one_writer_are_no_evidence_about_new_writers():
    groups = np.repeat(np.arange(20), 10)
    a = np.ones(200, bool)
    a[:10] = False  # A gets all of writer 0's ten digits wrong, B all right; the rest equal
    b = np.ones(200, bool)
    assert stats.paired({0: a}, {0: b}).p < 0.01  # McNemar: 10 to 0 images
    t = stats.paired({0: a}, {0: b}, groups=groups)
    assert (
        t.p == 1.0 and t.direction == 1
    )  # one writer moved: both of its signs are equally extreme


def test_writer_unit_seeds_that_disagree_and_shape_errors():
    groups = np.repeat(np.arange(12), 5)
    worse, better = np.zeros(60, bool), np.ones(60, bool)
    t = stats.paired({0: worse, 1: better}, {0: better, 1: worse}, groups=groups)
    assert t.seeds_disagree and t.direction == 0 and t.p == 1.0
    same = stats.paired({0: worse, 1: worse}, {0: better, 1: better}, groups=groups)
    assert same.direction == 1 and same.p == pytest.approx(2 / 2**12)  # 12 writers all +5: exact
    with pytest.raises(ValueError):
        stats.paired({0: worse}, {0: better}, groups=np.arange(59))
    assert stats.paired({0: worse}, {1: better}, groups=groups) is None


def test_clustered_copies_grouped_by_writer():
    a = np.zeros((3, 6), bool)
    b = np.zeros((3, 6), bool)
    b[:, 0] = True  # base image 0: +3 copies
    b[:2, 1] = True  # base image 1: +2
    a[0, 4] = True  # base image 4: -1
    groups = np.array([0, 0, 1, 1, 2, 2])  # writer 0: +5, writer 1: 0, writer 2: -1
    t = stats.paired_clustered({0: a}, {0: b}, groups=groups)
    assert (t.won, t.lost) == (2, 1)
    assert t.per_seed[0].gain == pytest.approx(4 / 3)
    assert t.p == pytest.approx(exact_sign_flip_p([5, -1]))
    assert stats.paired_clustered({0: a}, {0: b}).p == pytest.approx(exact_sign_flip_p([3, 2, -1]))


def test_monte_carlo_sign_flip_agrees_with_scipy():
    rng = np.random.default_rng(4)
    for _ in range(3):
        d = rng.integers(-3, 4, 60)
        nz = d[d != 0].astype(float)
        ref = permutation_test(
            (nz,),
            np.mean,
            permutation_type="samples",
            vectorized=True,
            n_resamples=99_999,
            alternative="two-sided",
            rng=np.random.default_rng(1),
        ).pvalue
        assert stats.sign_flip_p(d) == pytest.approx(ref, abs=0.015)


@pytest.mark.parametrize("k", [16, 30, 200])
def test_sign_flip_p_is_not_floored_at_the_resamples_yet_never_below_the_exact_p(k):
    d = np.ones(k)  # every writer +1: the exact p is 2 / 2^k
    p = stats.sign_flip_p(d)
    assert p >= 2 / 2**k
    if k >= 30:
        assert p < 1 / (stats.SIGN_FLIPS + 1)  # Hoeffding's bound takes over


def make_rows(masks: list[np.ndarray]) -> list[Row]:
    """Rows as ``row_stats`` orders them: best observed accuracy first."""
    rows = [
        Row(
            f"k{i}",
            f"m{i}",
            f"m{i}",
            "x",
            [0],
            {"accuracy": 100 * m.mean()},
            {},
            correct={0: m},
            test_digest="d",
        )
        for i, m in enumerate(masks)
    ]
    return sorted(rows, key=lambda r: -r.values["accuracy"])


def test_table_and_heatmap_agree():
    rng = np.random.default_rng(9)
    masks = [rng.random(3000) < p for p in (0.97, 0.965, 0.95, 0.90)]
    rows = make_rows(masks)
    compare_with_best(rows)
    labels, m = pairwise_pvalues(rows)
    assert labels == [r.label for r in rows]
    for i, r in enumerate(rows[1:], start=1):
        assert r.p_vs_best == pytest.approx(m[i, 0])
        assert r.tied == (not (m[i, 0] < 0.05 and r.vs_best.direction == -1))
    assert rows[0].tied and not rows[-1].tied


def test_six_equal_models_one_seed_call_a_row_worse_at_most_5_percent():
    """1,200 tables of six models with the same accuracy (97%, independent mistakes on 2,000
    images), one seed: the share of tables calling some row worse than the best. Holm over
    the five comparisons with the observed best (the old procedure) is shown beside it."""
    rng = np.random.default_rng(31)
    new_calls = old_calls = 0
    tables = 1200
    for _ in range(tables):
        rows = make_rows([rng.random(2000) < 0.97 for _ in range(6)])
        compare_with_best(rows)
        new_calls += any(r.tied is False for r in rows)
        tests = [stats.paired(rows[0].correct, r.correct) for r in rows[1:]]
        adjusted = stats.holm([t.p for t in tests])
        old_calls += any(t.decided(p) == -1 for t, p in zip(tests, adjusted))
    assert new_calls / tables <= 0.05
    assert (
        old_calls > new_calls and old_calls / tables > 0.06
    )  # the old procedure overshoots its 5%


def test_holm_is_statsmodels_holm():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(2)
    for m in (1, 2, 7, 40):
        p = np.round(rng.random(m) ** 3, 3)  # ties included
        assert stats.holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]), abs=1e-12)


def test_mnist_rows_compare_writer_by_writer_in_one_all_pairs_family():
    from bench.analysis.rowstats import pair_test_name
    from bench.data import writers

    rng = np.random.default_rng(12)
    w = writers.mnist_test().writer
    masks = [rng.random(10_000) < p for p in (0.995, 0.99, 0.985)]
    rows = make_rows(masks)
    for r in rows:
        r.test_digest = writers.MNIST_TEST_DIGEST
    compare_with_best(rows)
    by_hand = {
        (i, j): stats.paired(rows[j].correct, rows[i].correct, groups=w).p
        for i in range(3)
        for j in range(i)
    }
    ordered = sorted(by_hand.values())  # Holm over the three pairs, by hand
    holm = {
        k: min(1.0, max((3 - ordered.index(q)) * q for q in ordered[: ordered.index(p) + 1]))
        for k, p in by_hand.items()
    }
    for i in (1, 2):
        assert rows[i].vs_best.per_seed[0].gain is not None  # the writer test, not McNemar
        assert rows[i].p_vs_best == pytest.approx(holm[(i, 0)])
    assert pair_test_name(rows) == "per-writer sign-flip p"
    _, m = pairwise_pvalues(rows)
    assert m[2, 1] == pytest.approx(holm[(2, 1)])


def test_interval_note_names_the_unit_and_the_rows_that_differ():
    from bench.analysis import uncertainty
    from bench.publish import tables

    rows = make_rows([np.ones(50, bool), np.r_[np.zeros(5, bool), np.ones(45, bool)]])
    assert tables.interval_note([]) is None
    rows[0].accuracy_ci = uncertainty.accuracy_interval(
        rows[0].correct, np.repeat(np.arange(10), 5)
    )
    rows[1].accuracy_ci = uncertainty.from_accuracies([0.9, 0.92], 50)
    rows.append(make_rows([np.ones(50, bool)])[0])
    rows[2].accuracy_ci = uncertainty.accuracy_interval(
        rows[2].correct, np.repeat(np.arange(10), 5)
    )
    note = tables.interval_note(rows)
    assert "new writers' digits" in note and "unit: writer (10 writers)" in note
    assert f"Other units: {rows[1].label} (image, 50; no per-image outcomes)." in note
