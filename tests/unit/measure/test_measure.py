import numpy as np
import pytest

from bench import measure
from bench.measure import TimingRule


def test_metrics_match_scikit_learn():
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        log_loss,
        precision_recall_fscore_support,
    )

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    logits = rng.normal(size=(500, 10))
    logits[np.arange(500), y] += 1.5
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    m = measure.classification_metrics(y, proba)
    pred = proba.argmax(1)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["log_loss"] == pytest.approx(log_loss(y, proba, labels=range(10)))
    assert m["confusion"] == confusion_matrix(y, pred, labels=range(10)).tolist()
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    for c in range(10):
        assert m["per_class"][str(c)]["precision"] == pytest.approx(p[c])
        assert m["per_class"][str(c)]["recall"] == pytest.approx(r[c])
        assert m["per_class"][str(c)]["f1"] == pytest.approx(f[c])
        assert m["per_class"][str(c)]["support"] == s[c]


def test_never_predicted_class_scores_zero_not_nan():
    y = np.array([0, 1, 2, 3])
    proba = np.full((4, 10), 0.01)
    proba[:, 0] = 0.91
    m = measure.classification_metrics(y, proba)
    assert m["per_class"]["1"]["precision"] == 0.0 and m["per_class"]["1"]["f1"] == 0.0
    assert m["accuracy"] == 0.25


def test_metrics_refuse_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        measure.classification_metrics(np.zeros(3, int), np.zeros((3, 9)))


def test_percentiles():
    samples = list(range(1, 101))
    assert measure.percentile(samples, 50) == pytest.approx(50.5)
    assert measure.percentile(samples, 99) == pytest.approx(99.01)
    assert measure.percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        measure.percentile([], 50)


class FakeClock:
    """Each call() advances time by ``step``; reading the clock costs nothing."""

    def __init__(self, step):
        self.t, self.step = 0.0, step

    def __call__(self):
        return self.t

    def work(self, i):
        self.t += self.step


def test_stopping_rule_needs_both_count_and_duration():
    clock = FakeClock(0.1)
    times = measure.time_calls(
        clock.work, TimingRule(warmup=2, min_repeats=5, min_seconds=2.0), clock=clock
    )
    assert len(times) == 20  # 5 calls would be too short; 2.0 s of 0.1 s calls is 20
    clock = FakeClock(1.0)
    times = measure.time_calls(
        clock.work, TimingRule(warmup=0, min_repeats=5, min_seconds=2.0), clock=clock
    )
    assert len(times) == 5  # duration reached early, count not yet


def test_stopping_rule_caps_at_max_seconds_and_warms_up():
    calls = []
    clock = FakeClock(10.0)

    def work(i):
        calls.append(i)
        clock.work(i)

    times = measure.time_calls(
        work, TimingRule(warmup=3, min_repeats=100, min_seconds=1, max_seconds=25), clock=clock
    )
    assert len(times) == 3 and calls[:3] == [0, 1, 2] and len(calls) == 6


def test_summarise_throughput_from_median():
    s = measure.summarise([0.1, 0.2, 0.4], batch=100)
    assert s["images_per_s"] == pytest.approx(500.0)
    assert s["images_per_s_min"] == pytest.approx(250.0) and s["images_per_s_max"] == pytest.approx(
        1000.0
    )
    assert (
        s["latency_ms_p50"] is None
    )  # 3 calls: a percentile needs 10 beyond it (tests/unit/measure/test_small_fixes.py)
    times = [0.001 * (i + 1) for i in range(20)]  # 1..20 ms: the median is 10.5 ms
    assert measure.summarise(times, batch=1)["latency_ms_p50"] == pytest.approx(10.5)


def test_training_figures_count_every_pass_and_take_evaluation_off_the_clock():
    from bench.adapters.training_log import TrainingLog

    log = TrainingLog("epoch", images_processed=4 * 600)
    for train_s, eval_s in ((10.0, 1.0), (2.0, 1.0), (4.0, 1.0), (3.0, 1.0)):
        log.add(train_s, eval_s)
    log.setup_s = 0.5
    t = measure.training_figures(24.0, log, 600, train_flops_per_image=3.2e6)
    assert t["fit_s"] == 20.0 and t["eval_s"] == 4.0 and t["fit_wall_s"] == 24.0
    assert t["pass_train_s"] == 19.0 and t["unaccounted_s"] == pytest.approx(0.5)
    assert t["train_images_per_s"] == pytest.approx(2400 / 20.0)  # all passes, the first included
    assert t["train_gflops_per_s"] == pytest.approx(
        3.2e6 * 120 / 1e9
    )  # the training FLOPs, as given
    assert t["first_pass_s"] == 10.0 and t["steady_pass_s"] == 3.0 and t["data_passes"] == 4
    svm = TrainingLog("stage")
    svm.add(1.0)
    t = measure.training_figures(1.0, svm, 600, train_flops_per_image=None)
    assert (
        t["train_images_per_s"] is None
        and t["data_passes"] is None
        and t["train_gflops_per_s"] is None
    )


def test_overrides_never_lower_the_batch_1_minimum_count():
    p = measure.InferenceProtocol(single=TimingRule(warmup=5, min_repeats=30, min_seconds=1.0))
    low = p.overridden(min_repeats=7, min_seconds=0.001)
    assert low.large.min_repeats == 7 and low.single.min_repeats == 30
    assert low.large.min_seconds == low.single.min_seconds == 0.001
    assert p.overridden(min_repeats=100).single.min_repeats == 100
    assert p.overridden() == p


def test_batch_1_calls_respect_the_floor_for_real():
    import time

    def predict(x, batch):  # each call outlasts --infer-min-seconds: only the counts decide
        time.sleep(0.002)
        return np.zeros((len(x), 10))

    protocol = measure.InferenceProtocol(
        single=TimingRule(warmup=0, min_repeats=30, min_seconds=1.0)
    ).overridden(batch=10, min_repeats=7, min_seconds=0.001)
    out = measure.measure_inference(predict, np.zeros((50, 4)), protocol)
    assert out["batch_1"]["calls"] == 30 and out["batch_10"]["calls"] == 7


def test_test_outcomes_round_trip():
    y = np.array([0, 1, 2, 3, 4])
    proba = np.eye(10)[[0, 7, 2, 3, 9]]
    o = measure.test_outcomes(y, proba, "abc")
    assert o == {"test_digest": "abc", "n": 5, "wrong_index": [1, 4], "wrong_predicted": [7, 9]}
    assert measure.correct_mask(o).tolist() == [True, False, True, True, False]
