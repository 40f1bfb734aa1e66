"""Divergence is a result: a model whose loss becomes NaN/inf gets a complete ``diverged``
record (exit 0), non-finite numbers are stored as null, the tables show it apart, and a job
that ends without a result leaves no model folder and no partial file under ``--out``.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_divergence``."""

from __future__ import annotations

import copy
import math

import pytest

from bench import records
from bench.analysis import rowstats
from bench.gate import check
from tests.conftest import assert_one_line_error, run_cli
from tests.unit.run.test_divergence import (
    QUICK,
    _leftovers,
    _strict_json,
    diverged_run,  # noqa: F401 (fixtures)
)


def test_a_diverging_model_gets_a_complete_diverged_record_and_exit_0(diverged_run):
    out, proc = diverged_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "-> diverged: accuracy 0.00%" in proc.stdout
    assert "1 of 1 job(s) without failure (1 diverged" in proc.stdout
    files = sorted((out / "runs").glob("*.json"))
    assert len(files) == 1
    raw = _strict_json(files[0])  # no NaN/Infinity literal anywhere in the file
    rec = records.read(files[0])
    assert rec == raw and rec["status"] == "diverged"
    assert rec["diverged"] == {
        "first_pass": 1,
        "unit": "epoch",
        "what": "loss nan, val_loss nan",
        "passes_run": 1,
        "no_prediction": 359,
        "model_saved": False,
    }
    assert (
        rec["error"].startswith("training diverged at epoch 1: loss nan")
        and "model not saved" in rec["error"]
    )
    assert (
        len(rec["history"]) == 1
        and rec["history"][0]["loss"] is None
        and rec["history"][0]["val_loss"] is None
    )
    assert rec["history"][0]["train_s"] > 0  # the finite numbers stay
    m = rec["metrics"]
    assert m["accuracy"] == 0.0 and m["val_accuracy"] == 0.0 and m["no_prediction"] == 359
    assert m["log_loss"] == pytest.approx(-math.log(1e-15)) and sum(map(sum, m["confusion"])) == 0
    assert len(rec["outcomes"]["wrong_index"]) == 359
    for section in ("data", "size", "timing", "env", "threads", "extra", "outcomes"):
        assert rec[section], section
    assert rec["timing"]["passes"] == 1 and rec["timing"]["fit_s"] > 0 and rec["size"]["total"] > 0
    assert rec["timing"]["inference"]["batch_1"]["images_per_s"] > 0
    assert "artifact" not in rec and _leftovers(out) == []


def test_the_leaderboard_shows_the_diverged_job_apart(diverged_run):
    out, _ = diverged_run
    board = (out / "LEADERBOARD.md").read_text()
    problems = board.split("Jobs without a result:")[1].split("Environment:")[0]
    line = next(x for x in problems.splitlines() if x.startswith("| mlp"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[:4] == ["mlp", "cpu", "0", "diverged"]
    assert cells[4].startswith("test accuracy 0.00%; training diverged at epoch 1: loss nan")
    assert not [
        x for x in board.split("Jobs without a result:")[0].splitlines() if x.startswith("| mlp")
    ]


def test_a_diverged_seed_is_never_averaged_with_ok_seeds(diverged_run, tmp_path):
    out, _ = diverged_run
    diverged = records.read_all(out / "runs")[0]
    ok = copy.deepcopy(diverged)  # the same configuration, another seed, finished ok
    ok.update(run_id=records.new_run_id(), status="ok", error=None)
    del ok["diverged"]
    ok["job"]["seed"], ok["metrics"]["accuracy"] = 1, 0.5
    records.write(tmp_path, diverged)
    records.write(tmp_path, ok)
    (group,) = rowstats.groups(records.load(tmp_path))
    (row,) = rowstats.row_stats(group)
    assert row.seeds == [1] and row.values["accuracy"] == pytest.approx(50.0)
    bad = group.without_result()
    assert bad["status"].tolist() == ["diverged"] and bad["job.seed"].tolist() == [0]


def test_compare_and_check_treat_diverged_as_no_result(diverged_run, tmp_path):
    out, _ = diverged_run
    diverged = records.read_all(out / "runs")[0]
    ok = copy.deepcopy(diverged)
    ok.update(
        run_id=records.new_run_id(), status="ok", error=None, started_at="2000-01-01T00:00:00+00:00"
    )
    del ok["diverged"]
    ok["metrics"]["accuracy"] = 0.9
    before = tmp_path / "before"
    records.write(before, ok)
    proc = run_cli("compare", str(before), str(out / "runs"))
    assert_one_line_error(
        proc, "nothing to compare"
    )  # the after side has no ok record, and says so

    baseline = check.build_baseline([ok], "digits", "quick")
    (v,) = check.compare(baseline, [ok, diverged])  # the diverged record is the newer one
    assert v.verdict == "diverged" and v.fails and v.now is None
    assert v.note.startswith("seed 0 diverged: training diverged at epoch 1")
    path = tmp_path / "baseline.json"
    check.write_baseline(path, baseline)
    proc = run_cli("check", "--baseline", str(path), "--runs", str(out / "runs"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DIVERGED" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_killed_timed_out_and_failed_jobs_leave_no_model_folder_or_partial_file(tmp_path):
    out = tmp_path / "results"
    proc = run_cli(
        "run",
        "fault-savedie",
        *QUICK,
        "--grid",
        "fault-savedie.stage=saving,saved,raise,hang",
        "--timeout",
        "15",
        "--out",
        str(out),
        env_extra={"BENCH_EXTRA_MODELS": "tests.fault_adapters"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    recs = {r["job"]["params"]["stage"]: r for r in records.read_all(out / "runs")}
    assert {s: r["status"] for s, r in recs.items()} == {
        "saving": "failed",
        "saved": "failed",
        "raise": "failed",
        "hang": "timeout",
    }
    for stage in ("saving", "saved"):
        assert "(signal SIGKILL)" in recs[stage]["error"], recs[stage]["error"]
    assert recs["raise"]["error"] == "RuntimeError: injected failure after saving"
    # the jobs got as far as a saved model (a complete folder, or its hidden .part one)...
    shown = {
        block.split(" ", 1)[0]: block for block in proc.stdout.split("] fault-savedie stage=")[1:]
    }
    assert "dying while saving" in shown["saving"] and "model saved: " not in shown["saving"]
    for stage in ("saved", "raise", "hang"):
        assert f"model saved: {out / 'models'}" in shown[stage], stage
    # ...and none of it is left
    assert _leftovers(out) == []
