"""Issue 31, item 8, the smaller measurement fixes: latency percentiles only from the calls
each needs, cold start labelled with its warm file cache, a noise threshold for the card's
over/under-confidence words, and inference memory measured from what inference adds.
Every expected figure is worked out here (numpy's percentile, the binomial standard error by
hand, simulated models of known calibration, arrays of known size)."""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from bench.analysis import rowstats
from bench.measure import calibration as calmod
from bench.measure import memory, timing
from bench.measure.calibration import calibration
from bench.measure.profiles import PROFILES
from bench.measure.timing import InferenceProtocol, TimingRule
from bench.publish import leaderboard, tables
from bench.use import card
from tests.unit.publish.test_report import FIXTURES

MIB = 1024 * 1024


# --- 1. latency percentiles need the calls -------------------------------------------------


def test_each_percentile_needs_ten_calls_beyond_it():
    assert [timing.min_calls(q) for q in (50, 95, 99)] == [20, 200, 1000]  # 10 / (1 - q/100)
    assert timing.min_calls(99.9) == 10_000 and timing.min_calls(90) == 100
    for q in (0, 100, -1):
        with pytest.raises(ValueError):
            timing.min_calls(q)


@pytest.mark.parametrize(
    "n, present",
    [(19, ()), (20, (50,)), (199, (50,)), (200, (50, 95)), (999, (50, 95)), (1000, (50, 95, 99))],
)
def test_summarise_reports_a_percentile_only_from_enough_calls(n, present):
    times = np.random.default_rng(n).exponential(0.002, n)
    s = timing.summarise(list(times), batch=1)
    assert s["calls"] == n
    for q in (50, 95, 99):
        got = s[f"latency_ms_p{q}"]
        if q in present:
            assert got == pytest.approx(np.percentile(times, q) * 1e3, rel=1e-12)
        else:
            assert got is None
    assert s["images_per_s"] == pytest.approx(
        1 / np.median(times)
    )  # throughput is kept at any count


def instant(x, batch):
    return np.zeros((len(x), 10))


def test_the_full_profile_makes_the_calls_p99_needs_even_with_min_seconds_lowered():
    """The issue's case: ``--infer-min-seconds 0.01`` used to stop batch 1 at 50 calls, whose
    "p99" was little more than their maximum."""
    assert PROFILES["full"].inference.single.min_repeats >= 1000
    protocol = PROFILES["full"].inference.overridden(batch=10, min_repeats=3, min_seconds=0.001)
    out = timing.measure_inference(instant, np.zeros((40, 4)), protocol)
    b1 = out["batch_1"]
    assert b1["calls"] >= 1000 and all(b1[f"latency_ms_p{q}"] is not None for q in (50, 95, 99))


def test_the_quick_profile_keeps_its_count_and_shows_no_p99_it_cannot_support():
    protocol = PROFILES["quick"].inference.overridden(batch=10, min_seconds=0.0)
    assert protocol.single.min_repeats == 30
    out = timing.measure_inference(instant, np.zeros((40, 4)), protocol)
    b1 = out["batch_1"]
    assert b1["calls"] == 30 and b1["latency_ms_p50"] is not None
    assert b1["latency_ms_p95"] is None and b1["latency_ms_p99"] is None


@pytest.mark.parametrize(
    "batch_1, q, want",
    [
        (
            {"calls": 46, "latency_ms_p50": 1.1, "latency_ms_p99": 3.0},
            99,
            None,
        ),  # an old record's 46-call "p99"
        ({"calls": 46, "latency_ms_p50": 1.1, "latency_ms_p99": 3.0}, 50, 1.1),
        ({"calls": 1000, "latency_ms_p99": 3.0}, 99, 3.0),
        ({"calls": 999, "latency_ms_p99": 3.0}, 99, None),
        ({"calls": 5000, "latency_ms_p99": None}, 99, None),
        ({"calls": 5000, "latency_ms_p99": float("nan")}, 99, None),
        ({"calls": float("nan"), "latency_ms_p50": 1.0}, 50, None),
        ({"calls": True, "latency_ms_p50": 1.0}, 50, None),
        ({"latency_ms_p50": 1.0}, 50, None),
        (None, 50, None),
        ({"calls": np.int64(20), "latency_ms_p50": np.float64(2.5)}, 50, 2.5),
    ],
)
def test_a_records_percentile_is_read_only_with_its_calls(batch_1, q, want):
    assert timing.latency_ms(batch_1, q) == want


def cpu_group(runs: Path):
    [group] = [g for g in rowstats.groups(leaderboard.load_frame(runs)) if g.device == "cpu"]
    return group


def test_the_table_shows_a_percentile_only_when_every_seeds_record_supports_it(tmp_path):
    """Fixture records: logreg made 523 and 463 batch-1 calls, cnn-small 70 and 46: all of
    them p50, none p99. Give both logreg seeds 1,000+ calls and hand-set p99s: their mean."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for path in sorted((FIXTURES / "runs").glob("*.json")):
        rec = json.loads(path.read_text())
        b1 = ((rec.get("timing") or {}).get("inference") or {}).get("batch_1")
        if b1 and rec["job"]["model"] == "logreg":
            b1.update(
                calls=1000 + 200 * rec["job"]["seed"], latency_ms_p99=2.0 + rec["job"]["seed"]
            )
        (runs / path.name).write_text(json.dumps(rec))
    group = cpu_group(runs)
    rows = {r.model: r for r in rowstats.row_stats(group)}
    logreg, cnn = rows["logreg"], rows["cnn-small"]
    assert logreg.values["p99_ms"] == pytest.approx(2.5) and cnn.values["p99_ms"] is None
    cnn_p50 = [
        json.loads(p.read_text())["timing"]["inference"]["batch_1"]["latency_ms_p50"]
        for p in sorted((FIXTURES / "runs").glob("*cnn-small*.json"))
    ]
    assert cnn.values["p50_ms"] == pytest.approx(np.mean(cnn_p50))
    # one seed short of the calls: the row shows "-", not the other seed's figure alone
    rec = json.loads(next(runs.glob("*logreg-cpu-s1.json")).read_text())
    rec["timing"]["inference"]["batch_1"]["calls"] = 999
    next(runs.glob("*logreg-cpu-s1.json")).write_text(json.dumps(rec))
    assert {r.model: r for r in rowstats.row_stats(cpu_group(runs))}["logreg"].values[
        "p99_ms"
    ] is None
    assert "p99: 1,000" in tables.LEGEND


# --- 2. cold start: a fresh process with a warm file cache, and said so ----------------------


# --- 3. the card names over/under-confidence only beyond noise ----------------------------


def one_bin(n: int, confidence: float, accuracy: float) -> dict:
    return {
        "ece": abs(confidence - accuracy),
        "bins": {"count": [n], "confidence": [confidence], "accuracy": [accuracy]},
    }


def test_a_gap_within_the_noise_is_not_called_over_confident():
    # 10,000 images at confidence 0.99: a calibrated model's gap has standard error
    # sqrt(10000 * 0.99 * 0.01) / 10000 = 0.0995 pp; 1.96 of them = 0.195 pp
    se = np.sqrt(10_000 * 0.99 * 0.01) / 10_000
    small = one_bin(10_000, 0.99, 0.9895)  # +0.05 pp
    g = calmod.confidence_gap(small)
    assert g["gap"] == pytest.approx(0.0005) and g["noise"] == pytest.approx(se)
    assert (
        g["threshold"] == pytest.approx(1.959964 * se)
        and g["lean"] == "no clear over- or under-confidence"
    )
    note = card._calibration_note({"calibration": small})
    assert (
        "over-confident" not in note
        and "no clear over- or under-confidence" in note
        and "±0.20 pp" in note
    )
    assert (
        calmod.confidence_gap(one_bin(10_000, 0.99, 0.985))["lean"] == "over-confident"
    )  # +0.5 pp: 5 standard errors
    assert calmod.confidence_gap(one_bin(10_000, 0.98, 0.99))["lean"] == "under-confident"
    assert "it is over-confident" in card._calibration_note(
        {"calibration": one_bin(10_000, 0.99, 0.985)}
    )


def test_edge_cases_of_the_gap():
    assert (
        calmod.confidence_gap(
            {"bins": {"count": [0, 0], "confidence": [None, None], "accuracy": [None, None]}}
        )
        is None
    )
    assert calmod.confidence_gap({}) is None
    sure = calmod.confidence_gap(
        one_bin(100, 1.0, 1.0)
    )  # certain and always right: no noise, no gap
    assert sure["noise"] == 0 and sure["lean"] == "no clear over- or under-confidence"
    assert (
        calmod.confidence_gap(one_bin(100, 1.0, 0.99))["lean"] == "over-confident"
    )  # certain and once wrong
    nan = {"bins": {"count": [5, 10], "confidence": [float("nan"), 0.9], "accuracy": [0.5, 0.9]}}
    assert calmod.confidence_gap(nan)["gap"] == pytest.approx(0.0)  # the non-finite bin is left out
    assert card._calibration_note({"calibration": {"ece": 0.01}}).endswith("accuracy).")


def synthetic(rng, n: int, shift: float):
    """n images whose top-label confidence c is right with probability c - shift."""
    c = np.clip(rng.beta(6, 1, n), 0.15, 1.0)
    top = rng.integers(0, 10, n)
    proba = np.repeat(((1 - c) / 9)[:, None], 10, axis=1)
    proba[np.arange(n), top] = c
    right = rng.random(n) < c - shift
    other = (top + rng.integers(1, 10, n)) % 10
    return np.where(right, top, other), proba


def test_calibrated_models_are_rarely_called_over_or_under_confident_and_miscalibrated_ones_are():
    rng = np.random.default_rng(31)
    calls, caught, ratio = 0, 0, []
    for _ in range(400):
        y, proba = synthetic(rng, 2000, 0.0)
        g = calmod.confidence_gap(calibration(y, proba))
        calls += g["lean"] != "no clear over- or under-confidence"
        c = proba.max(axis=1)
        ratio.append(
            g["noise"] / (np.sqrt(np.sum(c * (1 - c))) / len(c))
        )  # bins vs per image, by hand
        y, proba = synthetic(rng, 2000, 0.03)
        caught += calmod.confidence_gap(calibration(y, proba))["lean"] == "over-confident"
    assert (
        calls / 400 <= 0.065
    )  # a 5% test whose noise is an upper bound: at most 5% (+ Monte Carlo slack)
    assert caught / 400 >= 0.95  # 3 pp over-confident on 2,000 images: about 4.5 standard errors
    assert min(ratio) >= 1.0 - 1e-12 and max(ratio) < 1.1  # conservative, and barely


# --- 4. inference memory: what inference adds ---------------------------------------------


def test_inference_memory_counts_what_inference_adds_not_what_was_already_resident():
    held = np.ones(300 * MIB // 8)  # what training left behind: resident before inference starts

    def predict(x, batch):
        if batch > 1:  # the large batch allocates 200 MiB of activations, touched, held 50 ms
            work = np.ones(200 * MIB // 8)
            time.sleep(0.05)
            del work
        return np.zeros((len(x), 10))

    protocol = InferenceProtocol(
        10,
        TimingRule(warmup=0, min_repeats=1, min_seconds=0.0),
        TimingRule(warmup=0, min_repeats=1, min_seconds=0.0),
    )
    with memory.PeakMemory() as peak:
        timing.measure_inference(predict, np.zeros((10, 4)), protocol)
    fields = memory.inference_fields(peak)
    assert set(fields) == {"before_inference_mb", "inference_added_mb", "inference_peak_mb"}
    assert 195 <= fields["inference_added_mb"] <= 215, fields
    assert (
        fields["before_inference_mb"] >= 300
        and fields["inference_peak_mb"] >= fields["before_inference_mb"] + 195
    )
    assert fields["inference_peak_mb"] - fields["inference_added_mb"] == pytest.approx(
        fields["before_inference_mb"]
    )
    assert held[0] == 1.0
    with memory.PeakMemory() as quiet:
        pass
    assert quiet.added_mb < 5  # nothing allocated: nothing added, however much is resident


def test_the_worker_records_what_inference_adds_and_the_card_says_which_figure_it_shows():
    source = Path("bench/run/worker.py").read_text()
    assert "inference_fields(peak)" in source
    new = card._resources(
        {"memory": {"train_peak_mb": 900.0, "inference_added_mb": 12.4, "inference_peak_mb": 905.0}}
    )
    assert "12 MB added by predicting" in new and "905" not in new
    old = card._resources({"memory": {"train_peak_mb": 900.0, "inference_peak_mb": 905.0}})
    assert "905 MB predicting (everything resident included, training's too)" in old
    assert rowstats.COLUMNS["inference_added_mb"][3] == "memory.inference_added_mb"
    assert "incl. training" in rowstats.COLUMNS["inference_peak_mb"][0]
