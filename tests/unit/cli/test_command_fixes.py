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
from bench.measure.profiles import PROFILES
from bench.publish import leaderboard
from bench.run import entry
from tests.conftest import ROOT, run_cli

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
    run_hint = entry.again_hint(["run", "logreg", "--resume", "--out", "r"], resumable=True)
    assert _parses(run_hint)[-1] == "--resume" and run_hint.count("--resume") == 1
    for argv in (
        ["baseline", "update", "logreg", "--out", "r"],
        ["check", "--run", "--models", "logreg"],
    ):
        hint = entry.again_hint(argv, resumable=False)
        assert _parses(hint) == argv


def _start(args, env_extra):
    env = dict(os.environ, **FAULTS, **env_extra, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


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
    path.write_text(
        json.dumps(
            {
                "schema": 1,
                "dataset": "digits",
                "profile": "quick",
                "device": "cpu",
                "data_digest": digest,
                "floor": 0.005,
                "k": 3.0,
                "models": models,
            }
        )
    )
    return path


ENTRY = {
    "accuracy": 0.5,
    "macro_f1": 0.5,
    "accuracy_std": 0.0,
    "n": 3,
    "tolerance": 0.01,
    "params": {},
    "records": [],
    "seeds": [0, 1, 2],
}


# -- d. baseline update MODEL ------------------------------------------------------------


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


# -- f. --timeout 1.5 --------------------------------------------------------------------


# -- g. the models page's Keras options -------------------------------------------------------


def test_the_models_page_names_exactly_the_models_with_label_smoothing_and_shift():
    from bench.adapters import registry

    text = " ".join((ROOT / "docs" / "guide" / "models.md").read_text().split())
    sentence = re.search(r"Options the Keras models (.*?) have: `label_smoothing`", text)
    assert sentence, "the models page's sentence on label_smoothing/shift names its models"
    named = set(re.findall(r"`([a-z0-9-]+)`", sentence.group(1)))
    having = {
        n
        for n in registry.names()
        if all(
            {"label_smoothing", "shift"} <= set(registry.get(n).defaults.get(p, {}))
            for p in PROFILES
        )
    }
    assert named == having
    assert "reference models" in text and "have neither" in text
    for n in registry.suite("reference"):
        assert "label_smoothing" not in registry.get(n).defaults["quick"]


# -- h. check --run's temporary folder ---------------------------------------------------


# -- i. stale plot files -----------------------------------------------------------------


def _linked_pngs(results: Path) -> set[str]:
    return {
        Path(m).name
        for m in re.findall(r"\((plots/[^)]+\.png)\)", (results / "LEADERBOARD.md").read_text())
    }


def test_publish_removes_plot_files_it_did_not_draw(tmp_path):
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    for p in [
        *FIXTURE_RUNS.glob("*-logreg-cpu-*.json"),
        *FIXTURE_RUNS.glob("*-cnn-small-cpu-*.json"),
    ]:
        shutil.copy(p, results / "runs")
    plots = results / "plots"
    plots.mkdir()
    (plots / "digits-quick-cpu-renamed-model-curves.png").write_bytes(b"\x89PNG stale")
    (plots / "notes.txt").write_text("not a figure: left alone")
    leaderboard.write_leaderboard(results)
    first = {p.name for p in plots.glob("*.png")}
    assert first == _linked_pngs(results) and any("cnn-small" in n for n in first)
    for p in (results / "runs").glob(
        "*-cnn-small-*.json"
    ):  # a row disappears: its figures must too
        p.unlink()
    leaderboard.write_leaderboard(results)
    second = {p.name for p in plots.glob("*.png")}
    assert second == _linked_pngs(results) and not any("cnn-small" in n for n in second)
    assert second < first and (plots / "notes.txt").read_text() == "not a figure: left alone"
    leaderboard.publish(
        results / "runs", results, plots=False
    )  # --no-plots: the folder stays as it is
    assert {p.name for p in plots.glob("*.png")} == second
