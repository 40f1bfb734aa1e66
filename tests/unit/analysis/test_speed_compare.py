"""Speed verdicts of ``compare`` and ``check`` (``bench.analysis.speed``), on copies of a
committed record whose timing figures are set by hand."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from bench import cli, records
from bench.analysis import compare, speed
from bench.publish import verdicts
from tests.conftest import COMMITTED

SOURCE = min(
    p
    for p in (COMMITTED / "runs").glob("*-mnist-full-logreg-cpu-s0.json")
    if "-fashion-mnist-" not in p.name
)
TRAIN_S, TRAIN_RATE, INFER_RATE, LATENCY = speed.METRICS


@pytest.fixture(autouse=True)
def ten_percent(monkeypatch):
    """The verdict logic at a round 10% threshold for every figure (in-process calls; the
    measured thresholds, ``speed.NOISE``, are what the commands use)."""
    monkeypatch.setattr(speed, "NOISE", {m.name: 0.10 for m in speed.METRICS})


@pytest.fixture(scope="module")
def template() -> dict:
    rec = json.loads(SOURCE.read_text())
    rec.pop("robustness", None)  # keeps the copies small; compare then skips the corrupted section
    return rec


def make(
    template: dict,
    seed: int,
    n: int,
    *,
    fit_s=10.0,
    train_rate=1000.0,
    infer_rate=5000.0,
    p50=0.5,
    hardware: str | None = None,
    threads: int | None = None,
) -> dict:
    """A copy of the template: its own run id, seed and start time, and the timing given."""
    rec = copy.deepcopy(template)
    rec["run_id"] = f"20270101T0000{n:02d}Z-{seed:04d}{n:04d}"
    rec["started_at"] = f"2027-01-01T00:00:{n:02d}+00:00"
    rec["job"]["seed"] = seed
    t = rec["timing"]
    t["fit_s"], t["train_images_per_s"] = fit_s, train_rate
    t["inference"]["large"]["images_per_s"], t["inference"]["batch_1"]["latency_ms_p50"] = (
        infer_rate,
        p50,
    )
    if hardware is not None:
        rec["env"]["hardware"] = {
            **rec["env"]["hardware"],
            "id": hardware,
            "title": f"Machine {hardware}",
        }
    if threads is not None:
        rec["job"]["threads"] = threads
    return rec


def side(template: dict, start: int, n: int = 3, **figures) -> list[dict]:
    """Seeds 0..n-1; each keyword a list over seeds, or one value for every seed."""
    return [
        make(
            template,
            s,
            start + s,
            **{k: v[s] if isinstance(v, list) else v for k, v in figures.items()},
        )
        for s in range(n)
    ]


def changes_of(before: list[dict], after: list[dict], **kw) -> dict[str, speed.SpeedChange]:
    (pair,) = compare.speed_pairs(before, after)
    return {c.metric.name: c for c in speed.compare_speed([pair], **kw)}


def welch_ratio_interval(before, after):
    """By scipy: the Welch t-interval of mean(log after) - mean(log before), exponentiated."""
    ci = sps.ttest_ind(np.log(after), np.log(before), equal_var=False).confidence_interval(0.95)
    return math.exp(ci.low), math.exp(ci.high)


def test_ratio_and_interval_match_welch_and_a_halved_rate_is_slower(template):
    fits_b, fits_a = [10.0, 11.0, 12.5], [20.0, 23.0, 21.0]
    rates_b, rates_a = [1000.0, 1040.0, 980.0], [500.0, 530.0, 470.0]
    c = changes_of(
        side(template, 0, fit_s=fits_b, train_rate=rates_b),
        side(template, 10, fit_s=fits_a, train_rate=rates_a),
    )
    t = c[TRAIN_S.name]
    assert t.ratio == pytest.approx(21.0 / 11.0)
    assert t.interval == pytest.approx(welch_ratio_interval(fits_b, fits_a))
    # the Welch–Satterthwaite degrees of freedom by hand give the same interval
    lb, la = np.log(fits_b), np.log(fits_a)
    vb, va = lb.var(ddof=1) / 3, la.var(ddof=1) / 3
    df = (vb + va) ** 2 / (vb**2 / 2 + va**2 / 2)
    half = sps.t.ppf(0.975, df) * math.sqrt(vb + va)
    d = la.mean() - lb.mean()
    assert t.interval == pytest.approx((math.exp(d - half), math.exp(d + half)))
    assert t.verdict == "slower" and t.change_pct == pytest.approx(100 * (21 / 11 - 1))
    r = c[TRAIN_RATE.name]
    assert (
        r.ratio == pytest.approx(0.5) and r.slowdown == pytest.approx(2.0) and r.verdict == "slower"
    )
    assert r.interval[1] < 1 and r.change_pct == pytest.approx(100.0)
    # figures left as they were: ratio 1, no spread on either side: the interval is the point
    assert c[LATENCY.name].ratio == 1 and c[LATENCY.name].interval == (1.0, 1.0)
    assert c[LATENCY.name].verdict == "no change"
    assert [x.verdict for x in speed.slower_than(list(c.values()), 10)] == ["slower", "slower"]
    assert speed.slower_than(list(c.values()), 95) == [
        c[TRAIN_RATE.name]
    ]  # 2x rate is +100%, time +91%
    assert speed.slower_than(list(c.values()), 100) == []


def test_faster_is_symmetric():
    assert speed.verdict(0.5, (0.4, 0.6), True, 0.1) == "faster"  # half the time
    assert speed.verdict(2.0, (1.8, 2.2), False, 0.1) == "faster"  # twice the rate
    assert speed.verdict(2.0, (1.8, 2.2), True, 0.1) == "slower"
    assert speed.verdict(0.5, (0.4, 0.6), False, 0.1) == "slower"


def test_one_seed_a_side_has_no_interval_and_the_threshold_alone_decides(template):
    for after, expected in (
        (12.0, "slower"),
        (10.5, "no change"),
        (11.0, "no change"),
        (8.0, "faster"),
    ):
        c = changes_of([make(template, 0, 1, fit_s=10.0)], [make(template, 0, 2, fit_s=after)])[
            TRAIN_S.name
        ]
        assert c.interval is None and c.verdict == expected, (after, c)
        assert "no interval" in c.note
    # 10% exactly is noise, not a slowdown; a bigger threshold silences 20%
    assert speed.verdict(1.1, None, True, 0.1) == "no change"
    c = changes_of(
        [make(template, 0, 1, fit_s=10.0)], [make(template, 0, 2, fit_s=12.0)], noise=0.5
    )
    assert c[TRAIN_S.name].verdict == "no change"
    c = changes_of(
        [make(template, 0, 1, fit_s=10.0)],
        [make(template, 0, 2, fit_s=12.0)],
        noise={"train s": 0.3},
    )
    assert c[TRAIN_S.name].verdict == "no change"


def test_a_ratio_beyond_the_threshold_whose_interval_spans_1_is_inconclusive(template):
    """Issue 31: seeds that disagree give a ratio beyond the noise threshold with an interval
    spanning 1: neither a slowdown nor "no change" (which says the figure held)."""
    fits_b, fits_a = [10.0, 10.5, 11.0], [5.0, 12.0, 30.0]
    c = changes_of(side(template, 0, fit_s=fits_b), side(template, 10, fit_s=fits_a))[TRAIN_S.name]
    assert c.ratio == pytest.approx(12.0 / 10.5) and c.ratio > 1 + speed.NOISE["train s"]
    lo, hi = welch_ratio_interval(fits_b, fits_a)
    assert c.interval == pytest.approx((lo, hi)) and lo < 1 < hi
    assert c.verdict == "inconclusive"
    # the case: a 1.66x slowdown with interval 0.20-13.35, as a time and as a rate
    assert speed.verdict(1.66, (0.20, 13.35), True, 0.25) == "inconclusive"
    assert speed.verdict(1 / 1.66, (1 / 13.35, 1 / 0.20), False, 0.25) == "inconclusive"
    assert (
        speed.verdict(1 / 1.66, (0.20, 13.35), True, 0.25) == "inconclusive"
    )  # faster side, spanning 1
    # within the threshold stays "no change" whatever the interval; beyond it, all on one side: a verdict
    assert speed.verdict(1.05, (0.20, 13.35), True, 0.25) == "no change"
    assert speed.verdict(1.66, (1.01, 2.5), True, 0.25) == "slower"
    assert (
        speed.verdict(1.66, (1.0, 2.5), True, 0.25) == "inconclusive"
    )  # reaching 1 exactly: not "all above"
    text, _ = verdicts.speed_section([c])
    assert "1 inconclusive" in text and "| inconclusive" in text


def test_missing_none_and_nan_values_are_left_out(template):
    after = side(template, 10, fit_s=[20.0, float("nan"), None], infer_rate=[5000.0, 0.0, -1.0])
    before = side(template, 0, fit_s=10.0)
    for r in before + after:
        del r["timing"]["train_images_per_s"]  # neither side has it: no row
    del before[0]["timing"]["inference"]["batch_1"]
    for r in before[1:]:
        r["timing"]["inference"]["batch_1"]["latency_ms_p50"] = None
    c = changes_of(before, after)
    assert set(c) == {TRAIN_S.name, INFER_RATE.name, LATENCY.name}
    assert (
        c[TRAIN_S.name].after == [20.0]
        and c[TRAIN_S.name].ratio == 2.0
        and c[TRAIN_S.name].verdict == "slower"
    )
    assert c[INFER_RATE.name].after == [5000.0] and c[INFER_RATE.name].verdict == "no change"
    assert c[LATENCY.name].before == [] and c[LATENCY.name].ratio is None
    assert (
        c[LATENCY.name].verdict == speed.NO_VERDICT and c[LATENCY.name].note == "not measured in A"
    )
    assert speed.values({}, TRAIN_S) == []


def test_empty_input():
    assert speed.compare_speed([]) == []
    assert speed.slower_than([], 10) == []
    assert verdicts.speed_section([], 10) == ("no speed figures to compare", [])
    assert compare.speed_pairs([], []) == []


def test_no_verdict_across_machines_threads_or_a_mixed_side(template):
    before, after = (
        side(template, 0, fit_s=10.0),
        side(template, 10, fit_s=30.0, hardware="otherbox"),
    )
    c = changes_of(before, after)
    assert {x.verdict for x in c.values()} == {speed.NO_VERDICT}
    assert (
        c[TRAIN_S.name].note
        == f"A ran on {before[0]['env']['hardware']['title']}, B on Machine otherbox"
    )
    assert speed.slower_than(list(c.values()), 10) == []
    c = changes_of(before, side(template, 10, fit_s=30.0, threads=1))
    assert c[TRAIN_S.name].verdict == speed.NO_VERDICT and c[TRAIN_S.name].note == "threads 2 vs 1"
    mixed = side(template, 10, fit_s=30.0)
    mixed[1] = make(template, 1, 11, fit_s=30.0, hardware="otherbox")
    note = changes_of(before, mixed)[TRAIN_S.name].note
    assert note.startswith("B's records ran on 2 machines:") and "Machine otherbox" in note
    # a changed large batch says so for that figure only
    after = side(template, 10, fit_s=30.0)
    for r in after:
        r["timing"]["inference"]["large"]["batch_size"] = 500
    c = changes_of(before, after)
    assert (
        c[INFER_RATE.name].verdict == speed.NO_VERDICT
        and c[INFER_RATE.name].note == "batch sizes 1000 vs 500"
    )
    assert c[TRAIN_S.name].verdict == "slower"


def test_table_says_which_way_is_slower(template):
    changes = speed.compare_speed(
        compare.speed_pairs(side(template, 0), side(template, 10, train_rate=[500.0, 520.0, 480.0]))
    )
    text, failing = verdicts.speed_section(changes, 10)
    assert [c.metric.name for c in failing] == ["train img/s"]
    line = next(x for x in text.splitlines() if "train img/s" in x and x.startswith("|"))
    assert (
        "higher is faster" in line and "SLOWER" in line and "+100.0%" in line and "0.500 (" in line
    )
    assert "ratio = median after / median before" in text and "10% for every figure" in text
    assert "SLOWER by more than 10%: logreg (mnist/full/cpu) train img/s: +100.0%" in text


def write(folder, recs):
    for r in recs:
        records.write(folder, r)
    return folder


@pytest.fixture
def folders(template, tmp_path):
    a = write(tmp_path / "a", side(template, 0, train_rate=[1000.0, 1030.0, 970.0]))
    slow = write(tmp_path / "slow", side(template, 10, train_rate=[500.0, 515.0, 485.0]))
    same = write(tmp_path / "same", side(template, 20, train_rate=[1010.0, 990.0, 1000.0]))
    other = write(
        tmp_path / "other",
        side(template, 30, train_rate=[500.0, 515.0, 485.0], hardware="otherbox"),
    )
    return a, slow, same, other


def test_compare_fails_on_slower_only_when_asked(folders, capsys):
    a, slow, same, other = folders
    assert cli.main(["compare", str(a), str(slow)]) == 0  # speed never fails by default
    out = capsys.readouterr().out
    assert "### speed" in out and "SLOWER" in out
    assert out.index("### speed") > out.index("| logreg")  # after the accuracy table
    assert cli.main(["compare", str(a), str(slow), "--fail-on-slower", "10"]) == 1
    assert "SLOWER by more than 10%: logreg (mnist/full/cpu) train img/s" in capsys.readouterr().out
    assert cli.main(["compare", str(a), str(slow), "--fail-on-slower", "150"]) == 0
    assert cli.main(["compare", str(a), str(same), "--fail-on-slower", "10"]) == 0
    assert "no figure slower by more than 10%" in capsys.readouterr().out
    assert cli.main(["compare", str(a), str(other), "--fail-on-slower", "10"]) == 0
    assert "no speed verdict (A ran on" in capsys.readouterr().out
