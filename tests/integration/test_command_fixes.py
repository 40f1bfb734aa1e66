"""Commands that hold: the hint after an interrupt, ``baseline update MODEL``, ``evaluate`` on
a corrupt record, ``--timeout 1.5``, the README's Keras options, ``check --run``'s temporary
folder and stale plot files.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.cli.test_command_fixes``."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from bench import records
from bench.core.errors import BenchError
from bench.gate import check
from tests.conftest import assert_one_line_error, run_cli
from tests.unit.cli.test_command_fixes import (
    ENTRY,
    FAST,
    FAULTS,
    FIXTURE_RUNS,
    QUICK,
    _handmade_baseline,
    _interrupt,
    _parses,
    _start,
    saved_logreg,  # noqa: F401 (fixtures)
)


def test_interrupted_baseline_and_check_print_a_command_that_parses(tmp_path):
    slow = ("--set", "fault-slow.seconds=30")
    base = [
        "baseline",
        "update",
        "fault-slow",
        *QUICK,
        "--seeds",
        "1",
        "--out",
        str(tmp_path / "b"),
        *slow,
    ]
    err = _interrupt(_start(base, {}))
    hint = next(line for line in err.splitlines() if "python -m bench" in line)
    assert "--resume" not in _parses(hint) and "run it again" in hint
    # check --run: the same, and its temporary results folder is gone (h)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    baseline = _handmade_baseline(tmp_path / "fs.json", {"fault-slow": ENTRY})
    err = _interrupt(
        _start(["check", "--run", "--baseline", str(baseline), *slow, *FAST], {"TMPDIR": str(tmp)})
    )
    hint = next(line for line in err.splitlines() if "python -m bench" in line)
    assert "--resume" not in _parses(hint) and "discarded with the temporary results folder" in err
    assert not list(tmp.glob("mnist-bench-check-*"))


def test_baseline_update_of_one_model_refreshes_it_and_keeps_the_others(tmp_path):
    from bench import data

    out = tmp_path / "results"
    (out / "runs").mkdir(parents=True)
    for p in FIXTURE_RUNS.glob("*-cnn-small-cpu-*.json"):  # records of another model in the folder
        shutil.copy(p, out / "runs")
    digest = data.load("digits").splits.digest()
    path = _handmade_baseline(out / "baselines" / "digits-quick.json", {"cnn-small": ENTRY}, digest)
    proc = run_cli("baseline", "update", "logreg", *QUICK, "--seeds", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    b = json.loads(path.read_text())
    assert sorted(b["models"]) == ["cnn-small", "logreg"]
    # kept, not rebuilt from the records: the schema-1 file's entry under the new tolerance rule
    # (no spread: the floor)
    assert b["models"]["cnn-small"] == {**ENTRY, "tolerance": 0.005} and b["schema"] == 2
    logreg_ids = [
        r["run_id"] for r in records.read_all(out / "runs") if r["job"]["model"] == "logreg"
    ]
    assert b["models"]["logreg"]["records"] == logreg_ids and b["models"]["logreg"]["n"] == 1
    assert "cnn-small" in proc.stdout and "kept from the existing baseline" in proc.stdout


def test_baseline_merge_refuses_other_data_and_a_corrupt_file_stops_before_training(tmp_path):
    new = {
        "dataset": "digits",
        "profile": "quick",
        "device": "cpu",
        "data_digest": "a",
        "floor": 0.005,
        "k": 3.0,
        "models": {"logreg": ENTRY},
    }
    merged = check.merge_baseline(
        {**new, "models": {"svm": ENTRY, "logreg": {**ENTRY, "accuracy": 0.1}}}, new
    )
    assert merged["models"] == {"logreg": ENTRY, "svm": ENTRY}
    with pytest.raises(BenchError, match="data_digest"):
        check.merge_baseline({**new, "data_digest": "b"}, new)
    out = tmp_path / "results"
    (out / "baselines").mkdir(parents=True)
    (out / "baselines" / "digits-quick.json").write_text("{not json")
    assert_one_line_error(
        run_cli("baseline", "update", "logreg", *QUICK, "--out", str(out)), "corrupt baseline"
    )
    assert not (out / "runs").exists()
    _handmade_baseline(
        out / "baselines" / "digits-quick.json", {"svm": ENTRY}
    )  # floor 0.005, read as alpha 0.01
    assert_one_line_error(
        run_cli("baseline", "update", "logreg", *QUICK, "--alpha", "0.05", "--out", str(out)),
        "cannot keep the other models",
        "alpha differ",
    )
    assert not (out / "runs").exists()


@pytest.mark.parametrize("corrupt", ["{not json", json.dumps({"schema": 1}), "metrics-null"])
def test_evaluate_skips_a_corrupt_record_with_one_warning(saved_logreg, tmp_path, corrupt):
    out = tmp_path / "results"
    shutil.copytree(saved_logreg[0], out)
    [path] = (out / "runs").glob("*.json")
    if corrupt == "metrics-null":
        corrupt = json.dumps({**json.loads(path.read_text()), "metrics": None})
    path.write_text(corrupt)
    proc = run_cli("evaluate", saved_logreg[1], "--out", str(out))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: skipping {path}"), proc.stderr
    assert re.search(r"\| accuracy +\| [0-9.]+ +\| - ", proc.stdout), proc.stdout


def test_evaluate_on_a_record_with_a_broken_model_pointer_is_one_line(saved_logreg, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(saved_logreg[0], out)
    [path] = (out / "runs").glob("*.json")
    path.write_text(json.dumps({**json.loads(path.read_text()), "artifact": "models/x"}))
    assert_one_line_error(  # the declared shape (records.shape) refuses it as it is read
        run_cli("evaluate", str(path), "--out", str(out)),
        "not a run record",
        "artifact is str, expected a JSON object",
    )


def test_a_fractional_timeout_is_accepted_and_applied(tmp_path):
    out = tmp_path / "t"
    proc = run_cli(
        "run", "fault-sleep", *QUICK, "--timeout", "1.5", "--out", str(out), env_extra=FAULTS
    )
    assert proc.returncode == 1, proc.stderr
    [rec] = records.read_all(out / "runs")
    assert rec["status"] == "timeout" and rec["error"].startswith("timed out after 1.5s")


@pytest.mark.parametrize("value", ["0", "-2", "soon", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_one_line(tmp_path, value):
    assert_one_line_error(
        run_cli("run", "logreg", *QUICK, f"--timeout={value}", "--out", str(tmp_path)),
        "--timeout must be a positive number",
        repr(value),
    )


def test_check_run_removes_its_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    baseline = _handmade_baseline(
        tmp_path / "b.json", {"logreg": {**ENTRY, "accuracy": 0.9, "tolerance": 0.2}}
    )
    proc = run_cli(
        "check", "--run", "--baseline", str(baseline), *FAST, env_extra={"TMPDIR": str(tmp)}
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not list(tmp.glob("mnist-bench-check-*"))
    assert (
        "PASS" in proc.stdout and "leaderboard:" not in proc.stdout
    )  # none drawn for a folder to be removed
    kept = tmp_path / "kept"  # with --out the folder is the user's: kept
    proc = run_cli(
        "check",
        "--run",
        "--baseline",
        str(baseline),
        "--out",
        str(kept),
        *FAST,
        env_extra={"TMPDIR": str(tmp)},
    )
    assert (
        proc.returncode == 0
        and len(records.read_all(kept / "runs")) == 1
        and (kept / "LEADERBOARD.md").is_file()
    )
