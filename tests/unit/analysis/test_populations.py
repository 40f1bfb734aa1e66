"""Accuracy per writer population, their difference, and the disputed labels
(``bench.analysis.populations``, ``measure.writer_metrics``, the leaderboard's "Writers and
labels" section): checked against statsmodels' cluster-robust OLS, scipy's one-sample t, a
brute-force cluster bootstrap, a coverage simulation with known truth, and numpy by hand on
the committed MNIST records' outcomes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats as st

from bench import measure
from bench.analysis import populations, rowstats
from bench.data import writers
from bench.publish import leaderboard, sections
from bench.publish.site import group_tables
from tests.conftest import COMMITTED, ROOT

RUNS = COMMITTED / "runs"
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"


def _clustered(rng, sizes, accuracy):
    """Outcomes of writers with ``sizes`` digits each and per-writer accuracies ``accuracy``."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    return rng.random(len(groups)) < np.asarray(accuracy)[groups], groups


def _two_populations(rng, gc=12, gs=30):
    census, gcen = _clustered(rng, rng.integers(1, 40, gc), rng.uniform(0.85, 1.0, gc))
    students, gstu = _clustered(rng, rng.integers(1, 12, gs), rng.uniform(0.6, 1.0, gs))
    y = np.concatenate([census, students])
    pop = np.array(["census"] * len(census) + ["students"] * len(students))
    return y, pop, np.concatenate([gcen, gstu + gc])


def _ols_cluster(y, x, groups, correction=True):
    import statsmodels.api as sm

    fit = sm.OLS(np.asarray(y, dtype=float), x).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": correction}
    )
    return fit.params, fit.bse


def test_standard_error_agrees_with_a_brute_force_cluster_bootstrap():
    rng = np.random.default_rng(2)
    y, pop, g = _two_populations(rng, gc=40, gs=120)
    d = populations.difference({0: y}, pop, g)
    means = []
    for name in ("census", "students"):  # resample writers within each population
        m = pop == name
        ids, codes = np.unique(g[m], return_inverse=True)
        sums, counts = np.bincount(codes, weights=y[m]), np.bincount(codes)
        pick = rng.integers(0, len(ids), (4000, len(ids)))
        means.append(sums[pick].sum(axis=1) / counts[pick].sum(axis=1))
    boot_se = np.std(means[0] - means[1], ddof=1)
    # the bootstrap has no G/(G-1) factor: its SE is a little smaller than CR1's
    assert 0.9 < d.se / boot_se < 1.12


def test_identical_seeds_give_the_one_seed_interval():
    rng = np.random.default_rng(3)
    y, pop, g = _two_populations(rng)
    one = populations.difference({0: y}, pop, g)
    three = populations.difference({0: y, 1: y.copy(), 2: y.copy()}, pop, g)
    assert (three.estimate, three.low, three.high, three.p) == pytest.approx(
        (one.estimate, one.low, one.high, one.p)
    )


def test_seeds_that_disagree_with_no_writer_spread_are_a_one_sample_t_over_seeds():
    pop = np.array(["census"] * 6 + ["students"] * 6)
    g = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    seeds = {
        0: np.ones(12, bool),
        1: np.r_[np.ones(6), np.zeros(6)].astype(bool),
        2: np.zeros(12, bool),
        3: np.r_[np.ones(6), np.zeros(6)].astype(bool),
    }  # differences per seed: 0, 1, 0, 1
    d = populations.difference(seeds, pop, g)
    t = st.ttest_1samp([0.0, 1.0, 0.0, 1.0], 0.0)
    ci = t.confidence_interval(0.95)
    assert d.estimate == pytest.approx(0.5)
    assert d.df == pytest.approx(3)
    assert d.p == pytest.approx(t.pvalue, rel=1e-9)
    assert (d.low, d.high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def _simulated_table(rng, seeds, seed_sd):
    """297 writers as MNIST's test set has them (48 census, ~105 digits; 249 students, ~20),
    writer accuracies from known betas, and a per-seed shift per population."""
    sizes = np.r_[rng.poisson(100, 48) + 5, rng.poisson(20, 249) + 3]
    accuracy = np.r_[rng.beta(40, 1.2, 48), rng.beta(30, 1.5, 249)]
    groups = np.repeat(np.arange(297), sizes)
    pop = np.repeat(np.array(["census"] * 48 + ["students"] * 249), sizes)
    correct = {}
    for s in range(seeds):
        shift = np.where(pop == "census", *rng.normal(0, seed_sd, 2))
        correct[s] = rng.random(len(groups)) < np.clip(accuracy[groups] + shift, 0, 1)
    return correct, pop, groups


@pytest.mark.parametrize("seeds, seed_sd", [(1, 0.0), (3, 0.004)])
def test_difference_interval_covers_the_true_difference_95_percent(seeds, seed_sd):
    rng = np.random.default_rng(31)
    truth = 40 / 41.2 - 30 / 31.5  # the betas' means: expected accuracy on new writers
    hits = 0
    for _ in range(2000):
        d = populations.difference(*_simulated_table(rng, seeds, seed_sd))
        hits += d.low <= truth <= d.high
    assert 0.93 <= hits / 2000 <= 0.97


def _mnist_correct(rng, error_rate=0.02):
    return rng.random(writers.N_MNIST_TEST) >= error_rate


def test_split_and_labels_on_mnist_by_hand():
    rng = np.random.default_rng(5)
    correct = {0: _mnist_correct(rng), 1: _mnist_correct(rng)}
    w = writers.mnist_test()
    sp = populations.split(correct, writers.MNIST_TEST_DIGEST)
    for name in ("census", "students"):
        m = w.series == 4 if name == "students" else w.series != 4
        assert getattr(sp, name).estimate == pytest.approx(
            np.mean([c[m].mean() for c in correct.values()])
        )
        assert sp.images[name] == m.sum() and sp.writers[name] == len(np.unique(w.writer[m]))
        assert getattr(sp, name).unit == "writer"
    assert sp.difference.estimate == pytest.approx(sp.census.estimate - sp.students.estimate)
    lb = populations.labels(correct, writers.MNIST_TEST_DIGEST)
    disputed = writers.disputed()
    assert lb.disputed == 15 and lb.undisputed_images == 9_985
    assert lb.mistakes == tuple(int((~c[disputed]).sum()) for c in correct.values())
    keep = np.setdiff1d(np.arange(writers.N_MNIST_TEST), disputed)
    assert lb.undisputed_accuracy == pytest.approx(
        np.mean([c[keep].mean() for c in correct.values()])
    )


def test_no_writers_no_populations():
    rng = np.random.default_rng(6)
    correct = {0: _mnist_correct(rng)}
    assert populations.split(correct, "another digest") is None
    assert populations.labels(correct, "another digest") is None
    assert (
        populations.split({0: correct[0][:9_000]}, writers.MNIST_TEST_DIGEST) is None
    )  # not the whole set
    assert populations.split({}, writers.MNIST_TEST_DIGEST) is None
    assert populations.of_row(SimpleNamespace(correct={}, test_digest=None)) == (None, None)


def _committed_mnist_full() -> list[dict]:
    recs = [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]
    return [
        r
        for r in recs
        if r["job"]["dataset"] == "mnist"
        and r["job"]["profile"] == "full"
        and r["status"] == "ok"
        and isinstance(r.get("outcomes"), dict)
    ]


def _hand(recs: list[dict]) -> dict:
    """Census, students, undisputed accuracy (%) and disputed mistakes, mean over the records."""
    w, disputed = writers.mnist_test(), writers.disputed()
    out = {"census": [], "students": [], "undisputed": [], "mistakes": []}
    for r in recs:
        wrong = np.zeros(writers.N_MNIST_TEST, bool)
        wrong[r["outcomes"]["wrong_index"]] = True
        out["census"].append(100 * (1 - wrong[w.series != 4].mean()))
        out["students"].append(100 * (1 - wrong[w.series == 4].mean()))
        out["undisputed"].append(100 * (1 - np.delete(wrong, disputed).mean()))
        out["mistakes"].append(wrong[disputed].sum())
    return {k: float(np.mean(v)) for k, v in out.items()}


def test_leaderboard_section_of_committed_mnist_records_by_hand():
    recs = _committed_mnist_full()
    assert recs, "the committed MNIST full-profile records"
    small = [r for r in recs if r["job"]["model"] == "cnn-small"]
    hero = copy.deepcopy(
        small[0]
    )  # a synthetic row: cnn-small's seed 0 with every census digit right
    census = set(np.flatnonzero(writers.mnist_test().series != 4).tolist())
    hero["outcomes"]["wrong_index"] = [
        i for i in hero["outcomes"]["wrong_index"] if i not in census
    ]
    hero["job"] = {
        **hero["job"],
        "params": {**hero["job"]["params"], "seed_note": "census-perfect"},
    }
    hero["run_id"] += "-hero"
    df = leaderboard.load_frame(RUNS, recs=[*recs, hero])
    md = leaderboard.render(df, COMMITTED, None)
    section = md[md.index("Writers and labels") :].split("\n\n")
    assert "4,999 digits of 48 Census" in section[0] and "249 high-school" in section[0]
    assert "bench/data/thirdparty/NOTICE" in section[0] and "9,985" in section[0]
    lines = {
        ln.split("|")[1].strip(): [c.strip() for c in ln.split("|")[2:-1]]
        for ln in section[1].splitlines()[2:]
    }
    h = _hand(small)
    cells = lines["cnn-small"]
    assert cells[0].startswith(f"{h['census']:.2f} (") and cells[1].startswith(
        f"{h['students']:.2f} ("
    )
    assert cells[2].startswith(f"{h['census'] - h['students']:+.2f} (")
    assert cells[5] == f"{h['undisputed']:.2f}" and float(cells[6]) == pytest.approx(
        h["mistakes"], abs=0.05
    )
    hero_cells = next(v for k, v in lines.items() if "seed_note" in k)
    assert hero_cells[0].startswith("100.00 (")
    students = _hand([hero])["students"]
    assert hero_cells[2].startswith(f"{100 - students:+.2f} (")
    group = next(g for g in rowstats.groups(df) if g.dataset == "mnist")
    intro, html = group_tables.writers(rowstats.row_stats(group))  # the site shows the same cells
    assert intro == section[0] and f">{cells[0]}</td>" in html and f">{hero_cells[2]}</td>" in html
    frame = leaderboard.summary_frame(df).set_index("label")
    assert frame.loc["cnn-small", "census_accuracy"] == pytest.approx(h["census"])
    assert frame.loc["cnn-small", "undisputed_accuracy"] == pytest.approx(h["undisputed"])
    assert (
        frame.loc["cnn-small", "census_low"] < h["census"] < frame.loc["cnn-small", "census_high"]
    )
    assert 0 <= frame.loc["cnn-small", "census_minus_students_p"] < 0.05


def test_a_digits_table_has_no_writers_section():
    df = leaderboard.load_frame(FIXTURE_RUNS)
    md = leaderboard.render(df, Path("."), None)
    assert "Writers and labels" not in md and "undisputed" not in md
    for g in rowstats.groups(df):
        assert sections.writers_cells(rowstats.row_stats(g)) is None
    frame = leaderboard.summary_frame(df)
    assert frame["census_accuracy"].isna().all() and frame["undisputed_accuracy"].isna().all()


def test_another_test_set_digest_drops_the_section():
    recs = _committed_mnist_full()[:3]
    for r in recs:
        r["outcomes"]["test_digest"] = "0" * 64
    md = leaderboard.render(leaderboard.load_frame(RUNS, recs=recs), COMMITTED, None)
    assert "Writers and labels" not in md


class _Fixed:
    """A fitted model stand-in that predicts ``pred`` with probability 0.9."""

    def __init__(self, pred):
        self.pred = pred

    def predict_proba(self, x, batch_size=None):
        proba = np.full((len(x), 10), 0.1 / 9)
        proba[np.arange(len(x)), self.pred[: len(x)]] = 0.9
        return proba


def _evaluated(y_test, pred, digest) -> dict:
    from bench.run import worker

    t = SimpleNamespace(
        adapter=_Fixed(pred),
        prep=SimpleNamespace(y_test=y_test, y_val=np.array([], int)),
        x_test=np.zeros((len(y_test), 1)),
        x_val=np.zeros((0, 1)),
        dataset=SimpleNamespace(splits=SimpleNamespace(g_test=None)),
    )
    rec = {"data": {"test_digest": digest}}
    worker._evaluate(rec, t, SimpleNamespace(large_batch=256))
    return rec


def test_worker_records_populations_and_disputed_mistakes_for_mnist_only():
    w = writers.mnist_test()
    y = w.label.copy()
    pred = y.copy()
    census, students = np.flatnonzero(w.series != 4), np.flatnonzero(w.series == 4)
    wrong = np.unique(np.r_[writers.disputed()[:4], students[:50], census[:5]])
    pred[wrong] = (y[wrong] + 1) % 10
    m = _evaluated(y, pred, writers.MNIST_TEST_DIGEST)["metrics"]
    assert m["disputed_mistakes"] == 4
    assert m["undisputed_accuracy"] == pytest.approx(1 - (len(wrong) - 4) / 9_985)
    n_census, n_students = len(census), len(students)
    assert m["populations"]["census"] == pytest.approx(1 - np.isin(census, wrong).sum() / n_census)
    assert m["populations"]["students"] == pytest.approx(
        1 - np.isin(students, wrong).sum() / n_students
    )
    assert m["populations"]["images"] == {"census": n_census, "students": n_students}
    assert m["populations"]["writers"] == {"census": 48, "students": 249}
    digits = _evaluated(y[:300], pred[:300], "a digits digest")["metrics"]
    assert not {"populations", "disputed_mistakes", "undisputed_accuracy"} & set(digits)
    assert (
        measure.writer_metrics(
            {"test_digest": writers.MNIST_TEST_DIGEST, "n": 9_000, "wrong_index": []}
        )
        == {}
    )
