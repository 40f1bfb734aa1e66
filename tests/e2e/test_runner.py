"""The runner and the ``run``/``report``/``list`` commands, end to end in subprocesses.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_runner``."""

from __future__ import annotations

import json

import pytest

from bench import records
from tests.conftest import run_cli


@pytest.mark.slow
def test_quick_profile_on_mnist_all_six(use_mnist, tmp_path):
    """The CI-sized end-to-end run on real MNIST: every family well above chance."""
    out = tmp_path / "results"
    proc = run_cli("run", "--all", "--profile", "quick", "--out", str(out), timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = records.read_all(out / "runs")
    assert len(recs) == 6 and all(r["status"] == "ok" for r in recs)
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
    print(json.dumps({r["job"]["model"]: round(r["metrics"]["accuracy"], 4) for r in recs}))
