"""The accuracy gate: baselines, verdicts, exit codes; for real on digits and MNIST."""

import copy

import pytest

from bench import records
from bench.core.errors import BenchError
from bench.gate import check
from tests.conftest import COMMITTED, ROOT

FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"


@pytest.fixture(scope="module")
def fixture_recs():
    return [
        r for r in records.read_all(FIXTURE_RUNS) if r["job"]["model"] in ("logreg", "cnn-small")
    ]


def test_baseline_mean_and_tolerance_from_seed_spread(fixture_recs):
    from scipy import stats as sps

    b = check.build_baseline(fixture_recs, "digits", "quick", floor=0.005, alpha=0.01)
    cnn = b["models"]["cnn-small"]
    accs = [r["metrics"]["accuracy"] for r in fixture_recs if r["job"]["model"] == "cnn-small"]
    assert cnn["n"] == 2 and cnn["accuracy"] == pytest.approx(sum(accs) / 2)
    # a 99% prediction interval for one new seed, by hand: t(0.995, 1) x std x sqrt(1 + 1/2)
    assert cnn["accuracy_std"] == pytest.approx(abs(accs[0] - accs[1]) / 2**0.5)
    assert cnn["tolerance"] == pytest.approx(
        max(0.005, sps.t.ppf(0.995, 1) * cnn["accuracy_std"] * 1.5**0.5)
    )
    assert b["schema"] == 2 and b["alpha"] == 0.01 and b["false_failure_rate"] == 0.005
    assert b["models"]["logreg"]["tolerance"] == 0.005  # identical seeds: the floor
    assert sorted(cnn["records"]) == sorted(
        r["run_id"] for r in fixture_recs if r["job"]["model"] == "cnn-small"
    )


def test_baseline_refuses_failed_records():
    with pytest.raises(BenchError, match="svm seed 0 is failed"):
        check.build_baseline(records.read_all(FIXTURE_RUNS), "digits", "quick")


def _shifted(recs, model, delta):
    out = copy.deepcopy(recs)
    for r in out:
        if r["job"]["model"] == model:
            r["metrics"]["accuracy"] += delta
    return out


def test_verdicts(fixture_recs):
    b = check.build_baseline(fixture_recs, "digits", "quick", floor=0.005, alpha=0.01)
    assert {v.model: v.verdict for v in check.compare(b, fixture_recs)} == {
        "cnn-small": "ok",
        "logreg": "ok",
    }
    worse = check.compare(b, _shifted(fixture_recs, "logreg", -0.006))
    assert [(v.model, v.verdict, v.fails) for v in worse if v.model == "logreg"] == [
        ("logreg", "regressed", True)
    ]
    within = check.compare(b, _shifted(fixture_recs, "logreg", -0.004))
    assert all(v.verdict == "ok" for v in within)
    better = {v.model: v for v in check.compare(b, _shifted(fixture_recs, "logreg", 0.006))}
    assert better["logreg"].verdict == "improved" and not better["logreg"].fails
    assert "update the baseline" in better["logreg"].note
    gone = check.compare(b, [r for r in fixture_recs if r["job"]["model"] != "cnn-small"])
    assert {v.model: v.verdict for v in gone}["cnn-small"] == "missing"
    failed = copy.deepcopy(fixture_recs)
    failed.append(
        {**failed[-1], "status": "failed", "error": "boom", "run_id": "z", "started_at": "9999"}
    )
    v = {v.model: v for v in check.compare(b, failed)}[failed[-1]["job"]["model"]]
    assert v.verdict == "missing" and "failed: boom" in v.note
    table = check.table(worse)
    assert table.startswith("| model") and "REGRESSED" in table and "-0.60 pp" in table
    with pytest.raises(BenchError, match="not in the baseline: svm"):
        check.compare(b, fixture_recs, only=["svm"])


def test_committed_baseline_is_valid():
    b = check.read_baseline(COMMITTED / "baselines" / "mnist-quick.json")
    assert set(b["models"]) == {"logreg", "svm", "xgboost", "mlp", "cnn-small", "cnn-deep"}
    assert all(m["n"] >= 3 for m in b["models"].values())
    ids = {r["run_id"] for r in records.read_all(COMMITTED / "runs")}
    assert all(set(m["records"]) <= ids for m in b["models"].values())  # its evidence is committed
