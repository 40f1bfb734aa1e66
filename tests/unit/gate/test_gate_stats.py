"""The gate (issue 31): paired evidence only on the baseline's test set, and a tolerance with
a stated false-failure rate (a prediction interval over the baseline's seeds), checked by
simulation and against statsmodels; on hand-edited copies of committed records."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from bench import records
from bench.gate import check
from bench.gate import tolerance as tol
from tests.conftest import COMMITTED, run_cli

BASELINE = COMMITTED / "baselines" / "mnist-quick.json"


@pytest.fixture(scope="module")
def cnn_small() -> list[dict]:
    """The committed quick cnn-small records the baseline rests on (5 seeds)."""
    ids = set(json.loads(BASELINE.read_text())["models"]["cnn-small"]["records"])
    recs = [r for r in records.read_all(COMMITTED / "runs") if r["run_id"] in ids]
    assert len(recs) == 5
    return sorted(recs, key=lambda r: r["job"]["seed"])


def _gate(tmp_path: Path, base: list[dict], new: list[dict]):
    """``check`` of ``new`` against a baseline of cnn-small built from ``base`` (its own
    records beside it for the paired evidence), through the CLI."""
    for folder, recs in (("base", base), ("new", new)):
        for r in recs:
            records.write(tmp_path / folder, r)
    b = tmp_path / "b.json"
    proc = run_cli(
        "baseline",
        "update",
        "--runs",
        str(tmp_path / "base"),
        "--dataset",
        "mnist",
        "--baseline",
        str(b),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return run_cli(
        "check",
        "--baseline",
        str(b),
        "--runs",
        str(tmp_path / "new"),
        "--baseline-runs",
        str(tmp_path / "base"),
    )


def _other_test_set(rec: dict, n: int, seed: int = 0) -> dict:
    """A copy of ``rec`` measured on another test set of ``n`` images (new data and test
    digests, 5% of the images wrong at random)."""
    out = copy.deepcopy(rec)
    wrong = sorted(np.random.default_rng(seed).choice(n, n // 20, replace=False).tolist())
    out["data"]["digest"] = "f" * 64
    out["outcomes"] = {
        "n": n,
        "test_digest": "e" * 64,
        "wrong_index": wrong,
        "wrong_predicted": [0] * len(wrong),
    }
    out["metrics"]["accuracy"] = 1 - len(wrong) / n
    out["run_id"] = rec["run_id"] + "o"
    out["started_at"] = "2099-01-01T00:00:00+00:00"
    return out


def _row(proc) -> list[str]:
    line = next(x for x in proc.stdout.splitlines() if x.startswith("| cnn-small"))
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_paired_evidence_refuses_mixed_or_missing_test_sets(cnn_small):
    other = _other_test_set(cnn_small[0], 10000)
    assert check.paired_evidence(cnn_small, [other]) is None
    assert check.paired_evidence(cnn_small + [other], [cnn_small[0]]) is None
    bare = {k: v for k, v in cnn_small[0].items() if k != "outcomes"}
    assert check.paired_evidence(cnn_small, [bare]) is None
    assert check.paired_evidence([], [cnn_small[0]]) is None
    assert check.paired_evidence(cnn_small, [cnn_small[0]]).seeds == (0,)


# -- the tolerance ------------------------------------------------------------------------


def test_tolerance_for_the_mean_of_m_seeds_floor_and_edge_cases():
    s, n = 0.003, 3
    for m in (1, 2, 5):  # by hand: t quantile from scipy, the factor sqrt(1/m + 1/n)
        assert tol.tolerance(s, n, m, 0.01, 0.0) == pytest.approx(
            sps.t.ppf(0.995, 2) * s * math.sqrt(1 / m + 1 / 3)
        )
    assert tol.tolerance(0.0001, 3, 1, 0.01, 0.005) == 0.005  # the floor: a spread below it
    assert tol.tolerance(0.003, 3, 1, 0.01, 0.005, seed_independent=True) == 0.005
    assert tol.tolerance(0.0, 1, 1, 0.01, 0.005) == 0.005  # one baseline seed: no spread measured
    with pytest.raises(ValueError):
        tol.half_width(0.003, 1)
    with pytest.raises(ValueError):
        tol.half_width(0.003, 3, 0)
    assert (
        tol.of_entry({"accuracy": 0.9, "tolerance": 0.02}, 3) == 0.02
    )  # a hand-written entry keeps its own


def test_check_widens_the_tolerance_for_the_seeds_it_is_given():
    """The verdict's tolerance is for the mean of the m records checked: m = 1 and m = 3 by hand."""
    template = json.loads(
        min((COMMITTED / "runs").glob("*-mnist-quick-svm-cpu-s0.json")).read_text()
    )
    base = {
        "schema": 2,
        "dataset": "mnist",
        "profile": "quick",
        "device": "cpu",
        "data_digest": None,
        "alpha": 0.01,
        "floor": 0.0,
        "models": {
            "svm": {
                "accuracy": 0.95,
                "accuracy_std": 0.004,
                "n": 3,
                "tolerance": 0.1,
                "params": template["job"]["params"],
            }
        },
    }
    recs = []
    for seed in range(3):
        r = copy.deepcopy(template)
        r["job"]["seed"], r["run_id"], r["metrics"]["accuracy"] = seed, f"x{seed}", 0.95
        recs.append(r)
    t = sps.t.ppf(0.995, 2) * 0.004
    for m in (1, 3):
        (v,) = check.compare(base, recs[:m])
        assert v.seeds == m and v.tolerance == pytest.approx(t * math.sqrt(1 / m + 1 / 3))


def _false_failures(
    n: int, m: int, rule, draws: int = 400_000, seed: int = 1
) -> tuple[float, float]:
    """Simulated rates at which the mean of m fresh seeds of an UNCHANGED model falls below
    (fails) and outside the band of a baseline of n seeds: normal seed noise, sd 0.3 pp."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0.967, 0.003, (draws, n))
    new = rng.normal(0.967, 0.003, (draws, m)).mean(axis=1)
    mean, s = base.mean(axis=1), base.std(axis=1, ddof=1)
    band = rule(s, n, m)
    return float(np.mean(new < mean - band)), float(np.mean(np.abs(new - mean) > band))


def test_simulated_false_failure_rate_is_at_most_one_percent_and_the_old_rule_was_six():
    def new_rule(s, n, m):
        return tol.tolerance(s, n, m, tol.ALPHA, 0.0)

    for n, m in ((3, 1), (3, 2), (3, 3), (5, 1)):
        fails, outside = _false_failures(n, m, new_rule)
        assert 0.003 < fails <= 0.01, (n, m, fails)  # stated: alpha / 2 = 0.5%
        assert fails == pytest.approx(tol.false_failure_rate(), abs=0.001)
        assert outside == pytest.approx(tol.ALPHA, abs=0.0015)
    old_fails, _ = _false_failures(3, 1, lambda s, n, m: 3 * s)
    assert 0.05 < old_fails < 0.075  # max(floor, 3 x std) with 2 df: 6.1% (P(t2 < -3/sqrt(4/3)))
    assert old_fails == pytest.approx(sps.t.cdf(-3 / math.sqrt(4 / 3), 2), abs=0.003)
    # the floor only widens the band: fewer false failures, never more
    floored, _ = _false_failures(3, 1, lambda s, n, m: tol.tolerance(s, n, m, tol.ALPHA, 0.005))
    assert floored <= _false_failures(3, 1, new_rule)[0]


def test_a_schema_1_baseline_is_upgraded_when_read(tmp_path):
    entry = {
        "accuracy": 0.967,
        "accuracy_std": 0.0031,
        "n": 3,
        "tolerance": 0.0093,
        "seed_independent": False,
    }
    old = {
        "schema": 1,
        "dataset": "mnist",
        "profile": "quick",
        "device": "cpu",
        "floor": 0.005,
        "k": 3.0,
        "models": {
            "cnn-small": entry,
            "logreg": {**entry, "accuracy_std": 0.0, "seed_independent": True},
            "hand": {"accuracy": 0.9, "tolerance": 0.02},
        },
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    b = check.read_baseline(path)
    assert b["schema"] == 2 and b["upgraded_from"] == 1 and b["alpha"] == 0.01 and "k" not in b
    assert b["models"]["cnn-small"]["tolerance"] == pytest.approx(
        sps.t.ppf(0.995, 2) * 0.0031 * math.sqrt(4 / 3)
    )
    assert b["models"]["logreg"]["tolerance"] == 0.005 and b["models"]["hand"]["tolerance"] == 0.02
    assert "99% prediction interval" in b["tolerance_rule"]


def test_committed_baseline_states_its_rule_and_its_tolerances_follow_it():
    raw = json.loads(BASELINE.read_text())
    assert raw["schema"] == 2 and raw["alpha"] == 0.01 and raw["false_failure_rate"] == 0.005
    assert "fails 0.5% of the time" in raw["tolerance_rule"]
    for model, e in raw["models"].items():
        by_hand = (
            0.005
            if e["seed_independent"] or e["n"] < 2
            else max(
                0.005, sps.t.ppf(0.995, e["n"] - 1) * e["accuracy_std"] * math.sqrt(1 + 1 / e["n"])
            )
        )
        assert e["tolerance"] == pytest.approx(by_hand), model
