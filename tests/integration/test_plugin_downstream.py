"""A model from a ``--plugin`` file goes everywhere a built-in goes: its own leaderboard row
(marked ``[plugin]``), ``vs best``, ``compare`` pairing it across two folders, ``--resume``,
a grid over its parameter, the saved model's card and ``predict``, and a Dask worker.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_plugin_downstream``."""

from __future__ import annotations

import json

import pytest

from bench import records
from bench.records import identity
from tests.conftest import ROOT, assert_one_line_error, run_cli
from tests.unit.adapters.test_plugin_downstream import (
    FAST,
    PLUGIN,
    _centroid_accuracy,
    two_runs,  # noqa: F401 (fixtures)
)


def test_plugin_row_is_measured_like_a_builtin(two_runs, digits):
    recs = {r["job"]["model"]: r for r in records.read_all(two_runs / "a" / "runs")}
    rec = recs["centroid"]
    assert rec["status"] == "ok"
    assert rec["metrics"]["accuracy"] == pytest.approx(_centroid_accuracy(digits), abs=1e-12)
    assert rec["job"]["origin"]["kind"] == "plugin-file" and rec["job"]["library"] == "numpy"
    assert identity.of_record(rec).source.startswith("sha256:")
    assert identity.of_record(recs["logreg"]).source is None  # a built-in family
    board = (two_runs / "a" / "LEADERBOARD.md").read_text()
    row = next(line for line in board.splitlines() if line.startswith("| centroid"))
    assert "[plugin]" in row and ("worse" in row or "best" in row or "tied" in row)
    assert f"--plugin {PLUGIN}" in board  # the reproduce command loads the plugin again


def test_compare_pairs_the_plugin_model(two_runs):
    proc = run_cli(
        "compare", str(two_runs / "a" / "runs"), str(two_runs / "b" / "runs"), "--plugin", PLUGIN
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("| centroid"))
    assert (
        "+0 / -0" in line
    )  # the same deterministic model on the same test images: paired, no change


def test_resume_and_a_grid_over_the_plugin_parameter(two_runs):
    out = two_runs / "a"
    again = run_cli("run", "centroid", "--plugin", PLUGIN, *FAST, "--out", str(out), "--resume")
    assert again.returncode == 0 and "already done" in again.stdout
    grid = run_cli(
        "run",
        "centroid",
        "--plugin",
        PLUGIN,
        *FAST,
        "--out",
        str(out),
        "--resume",
        "--grid",
        "centroid.temperature=10,1",
    )
    assert grid.returncode == 0, grid.stderr
    assert grid.stdout.count("already done") == 1  # temperature=10 is the default: done; 1 is new
    bad = run_cli(
        "run",
        "centroid",
        "--plugin",
        PLUGIN,
        *FAST,
        "--out",
        str(out),
        "--set",
        "centroid.temperature=-1",
    )
    assert_one_line_error(bad, "centroid", "temperature=-1")


def test_saved_plugin_model_has_its_card_and_predicts(two_runs):
    rec = next(
        r for r in records.read_all(two_runs / "a" / "runs") if r["job"]["model"] == "centroid"
    )
    folder = two_runs / "a" / rec["artifact"]["path"]
    card = (folder / "README.md").read_text()
    assert "library_name: numpy" in card and "--plugin" in card
    proc = run_cli(
        "predict", str(folder), str(ROOT / "examples" / "digits" / "three-on-paper.png"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["predictions"]) == 1
    assert rec["cold_start"].get("load_s", 0) > 0


def test_a_dask_worker_loads_the_plugin_file(tmp_path):
    out = tmp_path / "dask"
    proc = run_cli(
        "run", "centroid", "--plugin", PLUGIN, *FAST, "--out", str(out), "--executor", "dask"
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (rec,) = records.read_all(out / "runs")
    assert rec["status"] == "ok" and rec["job"]["origin"]["path"] == PLUGIN
