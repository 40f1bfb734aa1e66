"""Commands that hold: the hint after an interrupt, ``baseline update MODEL``, ``evaluate`` on
a corrupt record, ``--timeout 1.5``, the README's Keras options, ``check --run``'s temporary
folder and stale plot files."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import records
from bench.core.errors import BenchError
from bench.gate import check
from bench.measure.profiles import PROFILES
from bench.report import leaderboard
from bench.run import suite
from tests.conftest import ROOT, assert_one_line_error, run_cli

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
FAST = ("--infer-min-seconds", "0.05", "--infer-min-repeats", "3")
QUICK = ("--dataset", "digits", "--profile", "quick", *FAST)
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"



# -- c. the hint after an interrupt ------------------------------------------------------

def _parses(command: str) -> list[str]:
    """The arguments of a printed ``python -m bench ...`` command, parsed by the real parser."""
    from bench.cli.parser import build_parser

    argv = shlex.split(command.split("python -m bench ", 1)[1])
    build_parser().parse_args(argv)  # a BenchError (unknown flag) fails the test
    return argv


def test_the_hint_names_resume_only_for_run():
    run_hint = suite.again_hint(["run", "logreg", "--resume", "--out", "r"], resumable=True)
    assert _parses(run_hint)[-1] == "--resume" and run_hint.count("--resume") == 1
    for argv in (["baseline", "update", "logreg", "--out", "r"], ["check", "--run", "--models", "logreg"]):
        hint = suite.again_hint(argv, resumable=False)
        assert _parses(hint) == argv


def _start(args, env_extra):
    env = dict(os.environ, **FAULTS, **env_extra, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "bench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt(proc) -> str:
    """SIGINT once the slow fit has started; returns stderr (exit 130 asserted)."""
    for line in proc.stdout:
        if "slow fit started" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    return err


def _handmade_baseline(path: Path, models: dict, digest: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema": 1, "dataset": "digits", "profile": "quick", "device": "cpu",
                                "data_digest": digest, "floor": 0.005, "k": 3.0, "models": models}))
    return path


ENTRY = {"accuracy": 0.5, "macro_f1": 0.5, "accuracy_std": 0.0, "n": 3, "tolerance": 0.01, "params": {},
         "records": [], "seeds": [0, 1, 2]}


def test_interrupted_baseline_and_check_print_a_command_that_parses(tmp_path):
    slow = ("--set", "fault-slow.seconds=30")
    base = ["baseline", "update", "fault-slow", *QUICK, "--seeds", "1", "--out", str(tmp_path / "b"), *slow]
    err = _interrupt(_start(base, {}))
    hint = next(line for line in err.splitlines() if "python -m bench" in line)
    assert "--resume" not in _parses(hint) and "run it again" in hint
    # check --run: the same, and its temporary results folder is gone (h)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    baseline = _handmade_baseline(tmp_path / "fs.json", {"fault-slow": ENTRY})
    err = _interrupt(_start(["check", "--run", "--baseline", str(baseline), *slow, *FAST], {"TMPDIR": str(tmp)}))
    hint = next(line for line in err.splitlines() if "python -m bench" in line)
    assert "--resume" not in _parses(hint) and "discarded with the temporary results folder" in err
    assert not list(tmp.glob("mnist-bench-check-*"))


# -- d. baseline update MODEL ------------------------------------------------------------

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
    logreg_ids = [r["run_id"] for r in records.read_all(out / "runs") if r["job"]["model"] == "logreg"]
    assert b["models"]["logreg"]["records"] == logreg_ids and b["models"]["logreg"]["n"] == 1
    assert "cnn-small" in proc.stdout and "kept from the existing baseline" in proc.stdout


def test_baseline_merge_refuses_other_data_and_a_corrupt_file_stops_before_training(tmp_path):
    new = {"dataset": "digits", "profile": "quick", "device": "cpu", "data_digest": "a", "floor": 0.005, "k": 3.0,
           "models": {"logreg": ENTRY}}
    merged = check.merge_baseline({**new, "models": {"svm": ENTRY, "logreg": {**ENTRY, "accuracy": 0.1}}}, new)
    assert merged["models"] == {"logreg": ENTRY, "svm": ENTRY}
    with pytest.raises(BenchError, match="data_digest"):
        check.merge_baseline({**new, "data_digest": "b"}, new)
    out = tmp_path / "results"
    (out / "baselines").mkdir(parents=True)
    (out / "baselines" / "digits-quick.json").write_text("{not json")
    assert_one_line_error(run_cli("baseline", "update", "logreg", *QUICK, "--out", str(out)), "corrupt baseline")
    assert not (out / "runs").exists()
    _handmade_baseline(out / "baselines" / "digits-quick.json", {"svm": ENTRY})  # floor 0.005, read as alpha 0.01
    assert_one_line_error(run_cli("baseline", "update", "logreg", *QUICK, "--alpha", "0.05", "--out", str(out)),
                          "cannot keep the other models", "alpha differ")
    assert not (out / "runs").exists()


# -- e. evaluate on a corrupt record -----------------------------------------------------

@pytest.fixture(scope="module")
def saved_logreg(tmp_path_factory):
    """One real logreg run on digits with its saved model: (results folder, run id)."""
    out = tmp_path_factory.mktemp("saved") / "results"
    env = {"BENCH_DATA_DIR": str(out.parent / "data")}
    proc = run_cli("run", "logreg", *QUICK, "--out", str(out), env_extra=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [rec] = records.read_all(out / "runs")
    return out, rec["run_id"]


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
    assert_one_line_error(run_cli("evaluate", str(path), "--out", str(out)), "artifact pointer")


# -- f. --timeout 1.5 --------------------------------------------------------------------

def test_a_fractional_timeout_is_accepted_and_applied(tmp_path):
    out = tmp_path / "t"
    proc = run_cli("run", "fault-sleep", *QUICK, "--timeout", "1.5", "--out", str(out), env_extra=FAULTS)
    assert proc.returncode == 1, proc.stderr
    [rec] = records.read_all(out / "runs")
    assert rec["status"] == "timeout" and rec["error"].startswith("timed out after 1.5s")


@pytest.mark.parametrize("value", ["0", "-2", "soon", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_one_line(tmp_path, value):
    assert_one_line_error(run_cli("run", "logreg", *QUICK, f"--timeout={value}", "--out", str(tmp_path)),
                          "--timeout must be a positive number", repr(value))


# -- g. the README's Keras options -------------------------------------------------------

def test_readme_names_exactly_the_models_with_label_smoothing_and_shift():
    from bench.adapters import registry

    text = " ".join((ROOT / "README.md").read_text().split())
    sentence = re.search(r"Options the Keras models (.*?) have: `label_smoothing`", text)
    assert sentence, "the README sentence on label_smoothing/shift names its models"
    named = set(re.findall(r"`([a-z0-9-]+)`", sentence.group(1)))
    having = {n for n in registry.names()
              if all({"label_smoothing", "shift"} <= set(registry.get(n).defaults.get(p, {})) for p in PROFILES)}
    assert named == having
    assert "reference models" in text and "have neither" in text
    for n in registry.suite("reference"):
        assert "label_smoothing" not in registry.get(n).defaults["quick"]


# -- h. check --run's temporary folder ---------------------------------------------------

def test_check_run_removes_its_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    baseline = _handmade_baseline(tmp_path / "b.json", {"logreg": {**ENTRY, "accuracy": 0.9, "tolerance": 0.2}})
    proc = run_cli("check", "--run", "--baseline", str(baseline), *FAST, env_extra={"TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not list(tmp.glob("mnist-bench-check-*"))
    assert "PASS" in proc.stdout and "leaderboard:" not in proc.stdout  # none drawn for a folder to be removed
    kept = tmp_path / "kept"  # with --out the folder is the user's: kept
    proc = run_cli("check", "--run", "--baseline", str(baseline), "--out", str(kept), *FAST,
                   env_extra={"TMPDIR": str(tmp)})
    assert proc.returncode == 0 and len(records.read_all(kept / "runs")) == 1 and (kept / "LEADERBOARD.md").is_file()


# -- i. stale plot files -----------------------------------------------------------------

def _linked_pngs(results: Path) -> set[str]:
    return {Path(m).name for m in re.findall(r"\((plots/[^)]+\.png)\)", (results / "LEADERBOARD.md").read_text())}


def test_publish_removes_plot_files_it_did_not_draw(tmp_path):
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    for p in [*FIXTURE_RUNS.glob("*-logreg-cpu-*.json"), *FIXTURE_RUNS.glob("*-cnn-small-cpu-*.json")]:
        shutil.copy(p, results / "runs")
    plots = results / "plots"
    plots.mkdir()
    (plots / "digits-quick-cpu-renamed-model-curves.png").write_bytes(b"\x89PNG stale")
    (plots / "notes.txt").write_text("not a figure: left alone")
    leaderboard.write_leaderboard(results)
    first = {p.name for p in plots.glob("*.png")}
    assert first == _linked_pngs(results) and any("cnn-small" in n for n in first)
    for p in (results / "runs").glob("*-cnn-small-*.json"):  # a row disappears: its figures must too
        p.unlink()
    leaderboard.write_leaderboard(results)
    second = {p.name for p in plots.glob("*.png")}
    assert second == _linked_pngs(results) and not any("cnn-small" in n for n in second)
    assert second < first and (plots / "notes.txt").read_text() == "not a figure: left alone"
    leaderboard.publish(results / "runs", results, plots=False)  # --no-plots: the folder stays as it is
    assert {p.name for p in plots.glob("*.png")} == second
