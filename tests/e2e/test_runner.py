"""The runner and the ``run``/``report``/``list`` commands, end to end in subprocesses.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_runner``."""

from __future__ import annotations

import json

import pytest

from bench import records
from tests.conftest import run_cli


@pytest.mark.slow
def test_the_gate_on_mnist_trains_all_six_well_above_chance_and_passes(use_mnist, tmp_path):
    """The CI-sized end-to-end run on real MNIST, run as a team's CI gate runs it: ``check
    --run`` trains the committed baseline's six families (quick profile, seed 0) and checks
    them against it. Every family is well above chance, on MNIST's split by writers, and the
    gate passes (exit 0, no model regressed). ``.ci/run`` has no gate step of its own: this is
    it."""
    out = tmp_path / "results"
    proc = run_cli("check", "--run", "--out", str(out), timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the accuracy table's rows (a tolerance in pp each; the speed table below has none)
    verdicts = [
        line for line in proc.stdout.splitlines() if line.startswith("| ") and " pp " in line
    ]
    assert len(verdicts) == 6 and not any("REGRESSED" in v for v in verdicts), proc.stdout
    recs = records.read_all(out / "runs")
    assert sorted(r["job"]["model"] for r in recs) == [
        "cnn-deep",
        "cnn-small",
        "logreg",
        "mlp",
        "svm",
        "xgboost",
    ]
    assert all(r["status"] == "ok" and r["job"]["profile"] == "quick" for r in recs)
    for r in recs:
        assert (
            r["data"]["n_train"] == 6000
            and r["data"]["n_test"] == 10000
            and r["data"]["n_val"] == 1000
        )
        assert (
            r["data"]["val_split"] == r["job"]["val_split"] == "writers"
        )  # MNIST: whole writers held out
        assert r["metrics"]["accuracy"] > 0.85, (r["job"]["model"], r["metrics"]["accuracy"])
    print(proc.stdout)
    print(json.dumps({r["job"]["model"]: round(r["metrics"]["accuracy"], 4) for r in recs}))
