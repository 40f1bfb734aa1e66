"""Grids and the Dask executor, for real: a LocalCluster, and a scheduler and workers
started with Dask's own CLI on the loopback interface; workers killed mid-job, a scheduler
lost, Ctrl-C, and ``--resume`` after each.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_cluster``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from bench import records
from bench.run import plan
from tests.conftest import ROOT, alive, assert_one_line_error, run_cli
from tests.unit.run.test_cluster import (
    FAULTS,
    QUICK,
    _free_port,
    _keys,
    _read_until,
    _slow_suite,
    _start_suite,
    _within,
    cluster_factory,  # noqa: F401 (fixtures)
)


def test_grid_run_gives_a_row_per_point_and_a_sweep_plot(tmp_path):
    out = tmp_path / "g"
    proc = run_cli(
        "run",
        "logreg",
        *QUICK,
        "--grid",
        "logreg.C=0.01,0.1,1",
        "--out",
        str(out),
        "--no-save-models",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    board = (out / "LEADERBOARD.md").read_text()
    for c in ("0.01", "0.1", "1"):
        assert f"| logreg C={c} " in board.replace("C=1.0", "C=1")
    assert (
        "logreg-C-sweep.png" in board
        and (out / "plots" / "digits-quick-cpu-logreg-C-sweep.png").stat().st_size
    )
    accs = {
        r["job"]["params"]["C"]: r["metrics"]["accuracy"] for r in records.read_all(out / "runs")
    }
    assert len(accs) == 3 and len(set(accs.values())) == 3  # three different models, not one thrice


def test_memory_limit_kills_the_job_and_records_it(tmp_path):
    out = tmp_path / "m"
    # 700 MiB: the 1 GiB hog passes it; logreg's job stays under it, with the fresh process its cold start runs
    # in (counted in the job's process tree: about 150 MiB more) on top of its own ~300 MiB
    proc = run_cli(
        "run",
        "fault-memory",
        "logreg",
        *QUICK,
        "--memory-limit",
        "700MiB",
        "--out",
        str(out),
        env_extra=FAULTS,
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    assert recs["fault-memory"]["status"] == "failed"
    assert recs["fault-memory"]["error"].startswith(
        "out of memory: the job's resident memory passed its limit of 0.68 GiB"
    )
    assert recs["logreg"]["status"] == "ok"


def test_executor_options_are_checked(tmp_path):
    out = ("--out", str(tmp_path / "never"))
    assert_one_line_error(
        run_cli("run", "logreg", *QUICK, *out, "--executor", "slurm"), "unknown executor 'slurm'"
    )
    assert_one_line_error(
        run_cli("run", "logreg", *QUICK, *out, "--workers", "2"), "need --executor dask"
    )
    assert_one_line_error(
        run_cli("run", "logreg", *QUICK, *out, "--memory-limit", "lots"),
        "--memory-limit must be a size",
    )
    assert_one_line_error(
        run_cli("run", "logreg", *QUICK, *out, "--executor", "dask", "--scheduler", "nohost"),
        "not a scheduler address such as tcp://HOST:8786",
    )
    assert_one_line_error(
        run_cli(
            "run",
            "logreg",
            *QUICK,
            *out,
            "--executor",
            "dask",
            "--scheduler",
            f"tcp://127.0.0.1:{_free_port()}",
        ),
        "cannot connect",
    )
    assert_one_line_error(
        run_cli(
            "run",
            "logreg",
            "--dataset",
            f"npz:{tmp_path / 'missing.npz'}",
            *out,
            "--executor",
            "dask",
        ),
        "no such file",
    )
    assert not (tmp_path / "never").exists()  # a refused request writes nothing


def test_dask_missing_is_one_line_and_the_default_run_needs_none(tmp_path):
    """The default install has no Dask: ``--executor dask`` says how to get it; local runs work."""
    hide = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None; "
        "from bench.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            hide,
            "run",
            "logreg",
            *QUICK,
            "--executor",
            "dask",
            "--out",
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert_one_line_error(proc, 'needs Dask: pip install -e ".[dask]"')
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            hide,
            "run",
            "logreg",
            *QUICK,
            "--out",
            str(tmp_path / "b"),
            "--no-save-models",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_local_cluster_runs_the_grid_with_the_local_executors_accuracies(tmp_path):
    common = ("logreg", "xgboost", *QUICK, "--seeds", "2", "--threads", "1")
    proc = run_cli(
        "run", *common, "--executor", "dask", "--workers", "2", "--out", str(tmp_path / "dask")
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "dask executor: LocalCluster of 2 worker(s)" in proc.stdout
    dask_recs = records.read_all(tmp_path / "dask" / "runs")
    assert len(dask_recs) == 4 and all(r["status"] == "ok" for r in dask_recs)
    assert {r["where"]["executor"] for r in dask_recs} == {"dask"}
    assert len({r["where"]["worker"] for r in dask_recs}) == 2  # both workers took jobs
    assert {r["where"]["slots_per_host"] for r in dask_recs} == {2}
    # measured, not assumed: whether these jobs overlapped depends on timing (that they do is
    # the next test's), but none saw more than the cluster's two
    assert {r["where"]["jobs_sharing_host"] for r in dask_recs} <= {1, 2}
    for r in dask_recs:  # the model files travelled back and are whole
        folder = tmp_path / "dask" / r["artifact"]["path"]
        assert json.loads((folder / "model.json").read_text())["run_id"] == r["run_id"]

    local = run_cli("run", *common, "--out", str(tmp_path / "local"), "--no-save-models")
    assert local.returncode == 0, local.stderr[-2000:]

    def acc(recs):
        return {(r["job"]["model"], r["job"]["seed"]): r["metrics"]["accuracy"] for r in recs}

    assert acc(dask_recs) == acc(records.read_all(tmp_path / "local" / "runs"))

    board = (tmp_path / "dask" / "LEADERBOARD.md").read_text()
    assert re.search(
        r"dask executor, 2 job slots per host \(4 records; measured: (alone|up to 2 jobs at once)\)",
        board,
    ), board  # which of the two: timing (the next test makes it certain)
    assert "--executor dask --workers 2" in board  # the reproduce command says how it was timed

    ev = run_cli("evaluate", dask_recs[0]["run_id"], "--out", str(tmp_path / "dask"))
    assert ev.returncode == 0 and "bit-identical" in ev.stdout, ev.stdout + ev.stderr


def test_jobs_that_overlap_for_certain_both_record_two_sharing_the_host(
    tmp_path, isolated_host_jobs_dir
):
    """``fault-meet`` holds each job until both are registered and both have counted each
    other: two jobs side by side for certain, whatever the timing, so each record says 2."""
    meet = tmp_path / "meet"
    meet.mkdir()
    proc = run_cli(
        "run",
        "fault-meet",
        *QUICK,
        "--seeds",
        "2",
        "--threads",
        "1",
        "--executor",
        "dask",
        "--workers",
        "2",
        "--no-save-models",
        "--out",
        str(tmp_path / "o"),
        env_extra={**FAULTS, "FAULT_MEET_DIR": str(meet)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = records.read_all(tmp_path / "o" / "runs")
    assert len(recs) == 2 and all(r["status"] == "ok" for r in recs), [r.get("error") for r in recs]
    assert len({r["where"]["worker"] for r in recs}) == 2
    assert [r["where"]["jobs_sharing_host"] for r in recs] == [2, 2]
    assert len(list(meet.iterdir())) == 2
    assert list(isolated_host_jobs_dir.glob("*.pid")) == []  # both jobs unregistered
    assert (
        "(2 records; measured: up to 2 jobs at once)"
        in (tmp_path / "o" / "LEADERBOARD.md").read_text()
    )


def test_a_job_that_kills_its_worker_is_retried_once_then_failed(tmp_path):
    out = tmp_path / "k"
    proc = run_cli(
        "run",
        "fault-killworker",
        "logreg",
        *QUICK,
        "--executor",
        "dask",
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-save-models",
        env_extra=FAULTS,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    assert len(records.read_all(out / "runs")) == 2
    assert recs["fault-killworker"]["status"] == "failed"
    assert (
        "died 2 times" in recs["fault-killworker"]["error"]
        and "retried once" in recs["fault-killworker"]["error"]
    )
    assert recs["logreg"]["status"] == "ok"
    # the client wrote the failed record; its machine is the workers' (here: this one's)
    for key in ("hardware", "cpu", "cores", "memory_gib", "gpus"):
        assert recs["fault-killworker"]["env"][key] == recs["logreg"]["env"][key], key


def test_worker_killed_mid_job_then_ctrl_c_then_resume_runs_each_missing_job_once(
    tmp_path, cluster_factory
):
    pids = tmp_path / "pids"
    pids.mkdir()
    cluster = cluster_factory(2, {**FAULTS, "FAULT_PID_DIR": str(pids)})
    out = tmp_path / "c"
    args = _slow_suite(cluster, seeds=4, seconds=6, out=out)
    suite = _start_suite(args, FAULTS)
    lines: list[str] = []
    try:
        started = _read_until(suite, lines, lambda s: "seed 0)" in s and " on tcp://" in s)
        victim_address = started.rsplit(" on ", 1)[1].strip()
        _read_until(suite, lines, lambda s: "#1 " in s and "slow fit started" in s)
        victim_pid = cluster.worker_pids()[victim_address]
        # the job writes its pid file before it prints that line; no fixed wait needed, only a deadline
        orphans = _within(
            10, lambda: [int(p.name) for p in pids.iterdir() if p.read_text() == str(victim_pid)]
        )
        assert orphans, "the victim worker's job left no pid"
        os.kill(victim_pid, signal.SIGKILL)  # the worker dies mid-job; its nanny starts a new one
        deadline = time.monotonic() + 10
        while any(alive(p) for p in orphans) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(p) for p in orphans), "the killed worker's job subprocess outlived it"

        # the killed job comes back (retried) or is given up; either way it ends in one record
        _read_until(
            suite, lines, lambda s: s.lstrip().startswith("-> [1/4]")
        )  # its record is stored by then
        suite.send_signal(signal.SIGINT)
        _, err = suite.communicate(timeout=60)
    finally:
        if suite.poll() is None:
            os.killpg(suite.pid, signal.SIGKILL)
    assert suite.returncode == 130, "".join(lines[-30:]) + err
    assert "resume with: python -m bench" in err
    first = records.read_all(out / "runs")
    by_seed = {r["job"]["seed"]: r for r in first}
    assert by_seed[0]["status"] in ("ok", "failed")
    assert by_seed[0]["where"].get("worker") != victim_address  # not the dead worker's result
    assert len(first) < 4 and max(_keys(out / "runs").values()) == 1

    resumed = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--resume"],
        capture_output=True,
        text=True,
        env={**os.environ, **FAULTS, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=300,
    )
    assert resumed.returncode in (0, 1), resumed.stdout[-3000:] + resumed.stderr[-3000:]
    after = records.read_all(out / "runs")
    ok_before = {plan.record_key(r) for r in first if r["status"] == "ok"}
    new = [r for r in after if r["run_id"] not in {f["run_id"] for f in first}]
    assert len(new) == 4 - len(ok_before)  # each missing job ran exactly once
    assert not ok_before & {plan.record_key(r) for r in new}  # nothing done ran again
    assert {r["job"]["seed"] for r in after if r["status"] == "ok"} == {0, 1, 2, 3}
    assert resumed.stdout.count("skipped by --resume") == len(ok_before)


def test_a_lost_scheduler_stops_the_suite_and_keeps_what_finished(tmp_path, cluster_factory):
    cluster = cluster_factory(1, FAULTS)
    out = tmp_path / "s"
    args = _slow_suite(cluster, seeds=3, seconds=3, out=out)
    suite = _start_suite(args, FAULTS)
    lines: list[str] = []
    try:
        _read_until(suite, lines, lambda s: s.lstrip().startswith("-> [1/3]"))
        os.killpg(cluster.scheduler.pid, signal.SIGKILL)
        rest, err = suite.communicate(timeout=120)
    finally:
        if suite.poll() is None:
            os.killpg(suite.pid, signal.SIGKILL)
    assert suite.returncode == 1, "".join(lines) + err
    assert (
        "lost the connection to the Dask scheduler" in err
        or "connection to the Dask scheduler" in err
    ), err
    assert "resume with: python -m bench" in err
    kept = records.read_all(out / "runs")
    assert [r["job"]["seed"] for r in kept if r["status"] == "ok"] == [0]
    assert max(_keys(out / "runs").values()) == 1
