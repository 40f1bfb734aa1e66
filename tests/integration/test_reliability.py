"""Faults injected for real: each leaves the right record, the suite goes on, nothing is lost."""

import os
import signal
import subprocess
import sys
import time

import numpy as np

from bench import records
from tests.conftest import DIGITS_QUICK, ROOT, alive, assert_one_line_error, run_cli

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
QUICK = (  # no saved models (nor their cold start), no robustness: not what these tests look at
    *DIGITS_QUICK,
    "--no-save-models",
    "--robustness",
    "off",
    "--no-plots",
)


def _by_model(runs):
    return {r["job"]["model"]: r for r in records.read_all(runs)}


def test_raise_and_hard_exit_are_isolated_and_recorded(tmp_path):
    out = tmp_path / "r"
    proc = run_cli(
        "run", "fault-raise", "fault-exit", "logreg", *QUICK, "--out", str(out), env_extra=FAULTS
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    recs = _by_model(out / "runs")
    assert recs["fault-raise"]["status"] == "failed"
    assert recs["fault-raise"]["error"] == "RuntimeError: injected failure in fit"
    assert any("injected failure" in line for line in recs["fault-raise"]["error_detail"])
    assert recs["fault-exit"]["status"] == "failed"
    assert "exited with code 3 without a record" in recs["fault-exit"]["error"]
    assert "about to die" in recs["fault-exit"]["error_detail"]
    assert recs["logreg"]["status"] == "ok"  # the suite went on
    assert "failed: fault-raise" in proc.stdout and "failed: fault-exit" in proc.stdout
    assert "1 of 3 job(s) without failure" in proc.stdout
    board = (out / "LEADERBOARD.md").read_text()
    assert "fault-raise" in board.split("Jobs without a result")[1]


def test_timeout_kills_the_whole_process_group_and_records_it(tmp_path):
    out = tmp_path / "t"
    pid_file = tmp_path / "grandchild.pid"
    t0 = time.monotonic()
    proc = run_cli(
        "run",
        "fault-sleep",
        *QUICK,
        "--timeout",
        "5",
        "--out",
        str(out),
        env_extra={**FAULTS, "FAULT_PID_FILE": str(pid_file)},
    )
    assert proc.returncode == 1 and time.monotonic() - t0 < 60
    rec = _by_model(out / "runs")["fault-sleep"]
    assert rec["status"] == "timeout" and rec["error"].startswith("timed out after 5s")
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(grandchild), "the job's own child process survived the timeout"


def _start(args, out, extra=(), sigint=signal.SIG_DFL):
    """Start a suite with SIGINT's disposition set explicitly, as the test's own starting
    conditions (pytest itself may run as a background job, where SIGINT is ignored), and
    without PYTHONUNBUFFERED, as on a user's machine: the lines waited for must come as printed."""
    env = dict(os.environ, **FAULTS, PYTHONPATH=str(ROOT))
    env.pop("PYTHONUNBUFFERED", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "run", *args, *QUICK, "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )


def _wait_for(proc, needle, limit=120):
    """Read the suite's stdout until ``needle`` appears."""
    seen = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} never appeared:\n{''.join(seen)}")


def test_interrupt_keeps_finished_work_and_resume_runs_each_job_once(tmp_path):
    out = tmp_path / "i"
    jobs = ("logreg", "fault-slow", "svm")
    proc = _start(jobs, out, ("--set", "fault-slow.seconds=30"))
    _wait_for(proc, "slow fit started")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert (
        "resume with: python -m bench run logreg fault-slow svm" in err
        and err.rstrip().endswith("--resume")
    )
    recs = records.read_all(out / "runs")
    assert [(r["job"]["model"], r["status"]) for r in recs] == [("logreg", "ok")]
    assert not [
        p for p in (out / "runs").iterdir() if not p.name.endswith(".json")
    ]  # no half-written file

    def files():
        return sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file())

    before = files()
    plan = run_cli(
        "run", *jobs, *QUICK, "--out", str(out), "--resume", "--dry-run", env_extra=FAULTS
    )
    assert plan.returncode == 0, plan.stderr
    assert "  1/3 logreg on digits (quick, cpu, seed 0)  [has a result: " in plan.stdout
    assert "  2/3 fault-slow on digits (quick, cpu, seed 0)\n" in plan.stdout
    assert "1 of 3 already have a result" in plan.stdout and "--resume skips them" in plan.stdout
    assert files() == before  # nothing written or rewritten
    again = _start(
        jobs, out, ("--set", "fault-slow.seconds=30", "--resume", "--set", "fault-slow.seconds=1")
    )
    stdout, err = again.communicate(timeout=300)
    assert again.returncode == 0, stdout + err
    assert "[1/3] logreg on digits (quick, cpu, seed 0)  already done" in stdout
    final = records.read_all(out / "runs")
    assert sorted(r["job"]["model"] for r in final) == ["fault-slow", "logreg", "svm"]
    assert all(r["status"] == "ok" for r in final)
    # a changed hyper-parameter is a different job: --resume runs it again
    third = run_cli(
        "run",
        "logreg",
        *QUICK,
        "--out",
        str(out),
        "--resume",
        "--set",
        "logreg.max_iter=50",
        env_extra=FAULTS,
    )
    assert third.returncode == 0 and "already done" not in third.stdout
    assert len(records.read_all(out / "runs")) == 4


def test_ctrl_c_works_when_started_with_sigint_ignored(tmp_path):
    """A shell's background job (``cmd &``) starts with SIGINT ignored; Ctrl-C, or a SIGINT
    sent later, must still stop the suite cleanly."""
    out = tmp_path / "bg"
    proc = _start(
        ("logreg", "fault-slow"), out, ("--set", "fault-slow.seconds=30"), sigint=signal.SIG_IGN
    )
    _wait_for(proc, "slow fit started")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert [(r["job"]["model"], r["status"]) for r in records.read_all(out / "runs")] == [
        ("logreg", "ok")
    ]


def test_sigterm_stops_the_suite_like_ctrl_c(tmp_path):
    out = tmp_path / "s"
    proc = _start(("fault-slow", "logreg"), out, ("--set", "fault-slow.seconds=30"))
    _wait_for(proc, "slow fit started")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "--resume" in err
    assert records.read_all(out / "runs") == []


def test_two_suites_into_one_folder_lose_nothing(tmp_path):
    out = tmp_path / "c"
    a = _start(("logreg",), out, ("--seeds", "2"))
    b = _start(("fault-slow", "svm"), out, ("--set", "fault-slow.seconds=1"))
    for p in (a, b):
        stdout, err = p.communicate(timeout=300)
        assert p.returncode == 0, stdout + err
    recs = records.read_all(out / "runs")
    assert sorted((r["job"]["model"], r["job"]["seed"]) for r in recs) == [
        ("fault-slow", 0),
        ("logreg", 0),
        ("logreg", 1),
        ("svm", 0),
    ]
    assert len({r["run_id"] for r in recs}) == 4
    board = (out / "LEADERBOARD.md").read_text()
    assert "| logreg " in board and "| svm " in board


def test_class_missing_from_training_split_is_refused_before_training(tmp_path, digits):
    keep = digits.y_train != 7
    path = tmp_path / "no7.npz"
    np.savez(
        path,
        x_train=digits.x_train[keep],
        y_train=digits.y_train[keep],
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    proc = run_cli(
        "run",
        "logreg",
        "--dataset",
        f"npz:{path}",
        "--profile",
        "quick",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line_error(proc, "train split has no images of class(es) 7")
    assert not list((tmp_path / "o" / "runs").glob("*.json"))


def test_unknown_extra_model_module_is_one_line(tmp_path):
    proc = run_cli("list", env_extra={"BENCH_EXTRA_MODELS": "no.such.module"})
    assert_one_line_error(proc, "BENCH_EXTRA_MODELS", "no.such.module")
