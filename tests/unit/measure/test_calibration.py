"""Calibration (ECE, Brier, reliability bins), peak memory and the robustness statistics,
checked against hand-worked examples and independent implementations."""

import threading

import numpy as np
import pytest

from bench.analysis import stats
from bench.measure import memory
from bench.measure.calibration import bin_index, calibration
from bench.measure.robustness import mean_interval, robustness


def independent_ece(y, proba, n_bins=15):
    """ECE from scikit-learn's reliability curve (its own binning) and numpy's histogram."""
    from sklearn.calibration import calibration_curve

    conf, pred = proba.max(axis=1), proba.argmax(axis=1)
    correct = (pred == y).astype(int)
    if len(set(correct)) < 2:  # calibration_curve needs both outcomes; one bin pass by hand then
        edges = np.linspace(0, 1, n_bins + 1)
        counts = np.histogram(conf, bins=edges)[0]
        which = np.minimum((conf * n_bins).astype(int), n_bins - 1)
        return sum(
            counts[b] / len(y) * abs(correct[which == b].mean() - conf[which == b].mean())
            for b in range(n_bins)
            if counts[b]
        )
    acc, mean_conf = calibration_curve(correct, conf, n_bins=n_bins, strategy="uniform")
    counts = np.histogram(conf, bins=np.linspace(0, 1, n_bins + 1))[0]  # numpy's bins, not ours
    counts = counts[counts > 0]  # (scikit-learn's put a value on an edge one bin lower: none here)
    return float(np.sum(counts / len(y) * np.abs(acc - mean_conf)))


def test_ece_worked_by_hand():
    # 4 images, 2 classes. Confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.55 (right).
    proba = np.array([[0.9, 0.1], [0.1, 0.9], [0.6, 0.4], [0.45, 0.55]])
    y = np.array([0, 0, 0, 1])
    out = calibration(y, proba)
    # bins of width 1/15: 0.9 -> bin 13 ([0.8667, 0.9333)); 0.6 -> bin 9 ([0.6, 0.6667)); 0.55 -> bin 8
    # bin 13: 2 images, accuracy 1/2, confidence 0.9 -> |0.5 - 0.9| = 0.4, weight 2/4
    # bin 9: 1 image, accuracy 1, confidence 0.6 -> 0.4, weight 1/4; bin 8: 1, 0.55 -> 0.45, weight 1/4
    assert out["ece"] == pytest.approx(0.5 * 0.4 + 0.25 * 0.4 + 0.25 * 0.45)
    assert (
        out["bins"]["count"][13] == 2
        and out["bins"]["count"][9] == 1
        and out["bins"]["count"][8] == 1
    )
    assert out["bins"]["accuracy"][13] == pytest.approx(0.5) and out["bins"]["confidence"][
        13
    ] == pytest.approx(0.9)
    assert out["bins"]["confidence"][0] is None and sum(out["bins"]["count"]) == 4
    # Brier by hand: (0.1^2 + 0.1^2) + (0.9^2 + 0.9^2) + (0.4^2 + 0.4^2) + (0.45^2 + 0.45^2), over 4
    assert out["brier"] == pytest.approx((0.02 + 1.62 + 0.32 + 0.405) / 4)


def test_bin_edges_follow_torchmetrics_and_numpy_histogram():
    edges = np.arange(16) / 15
    assert list(bin_index(edges)) == [
        *range(15),
        14,
    ]  # [k/15, (k+1)/15): an edge opens the bin; 1.0 in the last
    # numpy's histogram bins the same way (its last bin closed)
    assert list(np.histogram(edges, bins=np.linspace(0, 1, 16))[0]) == [1] * 14 + [2]
    assert list(bin_index(np.array([0.0, 1e-9, 1 / 15 - 1e-9]))) == [0, 0, 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ece_and_brier_match_independent_implementations(seed):
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(500, 10)) * (seed + 1)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 10, 500)
    out = calibration(y, proba)
    assert out["ece"] == pytest.approx(independent_ece(y, proba), abs=1e-12)
    assert out["brier"] == pytest.approx(
        brier_score_loss(y, proba, labels=list(range(10))), abs=1e-12
    )


def test_calibration_edge_cases():
    empty = calibration(np.zeros(0, dtype=int), np.zeros((0, 10)))
    assert (
        empty["ece"] is None
        and empty["brier"] is None
        and empty["n"] == 0
        and sum(empty["bins"]["count"]) == 0
    )
    sure = calibration(np.array([1, 1]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert (
        sure["ece"] == 0 and sure["brier"] == 0 and sure["bins"]["count"][14] == 2
    )  # confidence 1.0: last bin
    wrong = calibration(np.array([0, 0]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert wrong["ece"] == 1 and wrong["brier"] == 2
    nan = calibration(np.array([0, 1, 1]), np.array([[np.nan, 0.5], [0.2, 0.8], [np.inf, 0.0]]))
    assert nan["excluded"] == 2 and nan["n"] == 1 and nan["ece"] == pytest.approx(0.2)
    assert calibration(np.array([0]), np.array([[np.nan, np.nan]]))["ece"] is None


def test_peak_memory_sees_a_spike_and_the_reset_forgets_older_ones():
    big = np.ones(
        150 * 1024 * 1024 // 8
    )  # 150 MiB touched before the block: the reset must forget it
    del big
    with memory.PeakMemory() as quiet:
        pass
    with memory.PeakMemory() as spike:
        block = np.ones(120 * 1024 * 1024 // 8)
        if spike.method == memory.SAMPLED:  # a kernel that refuses the reset: hold it until sampled
            seen = threading.Event()
            for _ in range(20000):
                if spike.peak_mb - spike.before_mb >= 110 or seen.wait(0.001):
                    break
        del block
    assert (
        spike.method == quiet.method == (memory.KERNEL if memory._reset_peak() else memory.SAMPLED)
    )
    assert spike.peak_mb - spike.before_mb >= 110
    assert (
        quiet.peak_mb - quiet.before_mb < 50
    )  # the 150 MiB before the block is not this block's peak


def test_peak_memory_falls_back_to_sampling(monkeypatch, tmp_path):
    monkeypatch.setattr(
        memory, "CLEAR_REFS", tmp_path / "missing" / "clear_refs"
    )  # reset not allowed
    with memory.PeakMemory(every_s=0.001) as m:
        block = np.ones(100 * 1024 * 1024 // 8)
        seen = threading.Event()
        for _ in range(20000):  # hold the block until the sampler has seen it (no fixed sleep)
            if m.peak_mb - m.before_mb >= 90:
                seen.set()
                break
            seen.wait(0.001)
        del block
    assert m.method == memory.SAMPLED and seen.is_set()


def test_bootstrap_interval_resamples_base_images():
    correct = np.zeros((3, 100), dtype=bool)
    correct[:, :80] = True  # 80 images right under every corruption, 20 wrong under every one
    low, high = mean_interval(correct)
    assert low < 0.8 < high
    # per-image means are 0/1 here: the bootstrap interval must match a binomial's spread over 100 images,
    # not over 300 copies (which would be sqrt(3) times narrower)
    se = np.sqrt(0.8 * 0.2 / 100)
    assert (high - low) == pytest.approx(2 * 1.96 * se, rel=0.2)
    assert mean_interval(np.ones((15, 10), dtype=bool)) == (1.0, 1.0)


def exact_sign_flip_p(d):
    """By hand: every one of the 2^k sign patterns of the nonzero differences."""
    import itertools

    d = [x for x in d if x]
    sums = [
        abs(sum(s * x for s, x in zip(signs, d)))
        for signs in itertools.product((1, -1), repeat=len(d))
    ]
    return sum(t >= abs(sum(d)) - 1e-12 for t in sums) / len(sums)


def test_clustered_test_counts_images_not_copies():
    a = {
        0: np.array([[1, 1, 0, 0], [1, 0, 0, 1], [1, 1, 1, 0]], dtype=bool)
    }  # per image: 3, 2, 1, 1
    b = {
        0: np.array([[1, 1, 1, 0], [0, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
    }  # per image: 2, 3, 2, 0
    t = stats.paired_clustered(a, b)
    assert (
        (t.won, t.lost) == (2, 2) and t.p == 1.0 and t.direction == 0
    )  # d = -1, +1, +1, -1: mean 0
    assert stats.paired_clustered(a, {1: b[0]}) is None


@pytest.mark.parametrize(
    "d", [[2, 1, 1], [3, -1, 0, 0, 2, 1], [1, 1, 1, 1, 1, -5, 2], [0, 0, 0], [4]]
)
def test_sign_flip_p_is_the_exact_enumeration_when_few_images_differ(d):
    assert stats.sign_flip_p(np.array(d)) == pytest.approx(exact_sign_flip_p(d) if any(d) else 1.0)


def test_clustered_direction_follows_the_mean_not_the_count_of_images():
    # B gains one copy on 60 images and loses 14 on 20: more images won, yet fewer copies right
    a = np.zeros((15, 80), dtype=bool)
    a[:14, 60:] = True
    b = np.zeros((15, 80), dtype=bool)
    b[0, :60] = True
    t = stats.paired_clustered({0: a}, {0: b})
    assert (t.won, t.lost) == (60, 20) and b.mean() < a.mean()
    assert t.direction == -1 and t.p < 0.01  # worse, as the mean says


def test_clustered_seeds_that_disagree_are_no_change():
    none, full = np.zeros((15, 30), dtype=bool), np.ones((15, 30), dtype=bool)
    t = stats.paired_clustered({0: none, 1: none}, {0: full, 1: full})
    assert t.direction == 1 and (t.won, t.lost) == (60, 0)
    assert (
        t.p <= 2 / (stats.SIGN_FLIPS + 1) + 1e-12
    )  # every flip but the observed one is less extreme
    disagree = stats.paired_clustered({0: none, 1: full}, {0: full, 1: none})
    assert disagree.seeds_disagree and disagree.p == 1.0 and disagree.direction == 0


def test_robustness_section_from_known_predictions():
    from types import SimpleNamespace

    labels = np.array([0, 1, 2, 3])
    images = {"a": np.zeros((4, 28, 28), np.uint8), "b": np.ones((4, 28, 28), np.uint8)}
    cset = SimpleNamespace(
        names=("a", "b"), images=images, labels=labels, digest="d", indices=np.array([0, 2, 4, 6])
    )

    def predict(x):  # "a": every image right; "b": predicts class 0 for all (right once)
        return np.eye(10)[labels] if x[0, 0, 0] == 0 else np.eye(10)[np.zeros(4, int)]

    clean = np.array([1, 0, 1, 0, 0, 0, 1, 1], dtype=bool)
    out = robustness(predict, cset, clean)
    assert out["corruptions"]["a"]["accuracy"] == 1 and out["corruptions"]["b"]["accuracy"] == 0.25
    assert out["corruptions"]["b"]["outcomes"] == {
        "test_digest": "d:b",
        "n": 4,
        "wrong_index": [1, 2, 3],
        "wrong_predicted": [0, 0, 0],
    }
    assert out["mean_accuracy"] == pytest.approx(0.625) and out["clean_accuracy"] == pytest.approx(
        0.75
    )  # images 0 2 4 6
    from statsmodels.stats.proportion import proportion_confint

    assert (out["corruptions"]["b"]["low"], out["corruptions"]["b"]["high"]) == pytest.approx(
        proportion_confint(1, 4, method="wilson")
    )
    assert out["mean_low"] <= 0.625 <= out["mean_high"] and out["n_per_corruption"] == 4
