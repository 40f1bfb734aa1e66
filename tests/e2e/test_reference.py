"""The reference suite: exact tutorial architectures, and a Kaggle-layout CSV through it.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_reference``."""

from __future__ import annotations

import pytest

from bench import records
from bench.adapters import registry
from tests.conftest import run_cli
from tests.helpers import write_csv
from tests.unit.adapters.test_reference import TABLE


@pytest.mark.slow
def test_kaggle_csv_runs_through_the_reference_suite(use_mnist, tmp_path):
    s = use_mnist.splits
    path = write_csv(tmp_path / "train.csv", s.x_train[:3000], s.y_train[:3000])
    out = tmp_path / "results"
    sets = [arg for name in TABLE for arg in ("--set", f"{name}.epochs=1")]
    proc = run_cli(
        "run",
        "--suite",
        "reference",
        "--dataset",
        f"csv:{path}",
        "--profile",
        "quick",
        *sets,
        "--out",
        str(out),
        "--infer-min-seconds",
        "0.1",
        "--infer-min-repeats",
        "3",
        "--no-save-models",  # what is looked at: the records and the leaderboard's table
        "--robustness",
        "off",
        "--no-plots",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recs = records.read_all(out / "runs")
    assert sorted(r["job"]["model"] for r in recs) == sorted(TABLE)
    for r in recs:
        assert (
            r["status"] == "ok" and r["data"]["n_test"] == 600
        )  # the documented 20% of 3,000 rows
        assert r["size"]["total"] == TABLE[r["job"]["model"]]
        assert r["reference"]["accuracy"] == registry.get(r["job"]["model"]).published["accuracy"]
        assert r["metrics"]["accuracy"] > 0.5
    board = (out / "LEADERBOARD.md").read_text()
    assert (
        "published %" in board
        and "| ref-conv32-dense128 epochs=1 (ref) " in board
        and "98.26" in board
    )
