"""Grids and the Dask executor, for real: a LocalCluster, and a scheduler and workers
started with Dask's own CLI on the loopback interface; workers killed mid-job, a scheduler
lost, Ctrl-C, and ``--resume`` after each."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bench import records
from bench.core.errors import BenchError
from bench.run import plan
from tests.conftest import ROOT, alive, assert_one_line_error, run_cli

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
QUICK = ("--dataset", "digits", "--profile", "quick", "--infer-min-seconds", "0.05", "--infer-min-repeats", "3")
DASK_BIN = str(Path(sys.executable).with_name("dask"))


def _keys(runs: Path) -> Counter:
    return Counter(plan.record_key(r) for r in records.read_all(runs))


# -- grids --------------------------------------------------------------------------------

def test_grid_is_the_cartesian_product_with_seeds_and_datasets():
    jobs = plan.plan(["logreg", "mlp"], ["digits", "mnist"], "quick", "cpu", [0, 1], ["mlp.epochs=2"], False,
                       grid=["mlp.learning_rate=1e-3,3e-3", "mlp.batch_size=32,64,128", "logreg.C=0.5,1"])
    assert len(jobs) == 2 * 2 * (2 + 2 * 3)
    mlp = [j for j in jobs if j.model == "mlp" and j.seed == 0 and j.dataset == "digits"]
    assert [(j.params["learning_rate"], j.params["batch_size"]) for j in mlp] == [
        (1e-3, 32), (1e-3, 64), (1e-3, 128), (3e-3, 32), (3e-3, 64), (3e-3, 128)]
    assert all(j.params["epochs"] == 2 for j in mlp)  # --set applies to every grid point
    assert mlp[0].tag == "learning_rate=0.001 batch_size=32" and "mlp learning_rate=0.001 batch_size=32 on digits" in mlp[0].title()
    assert len({j.key() for j in jobs}) == len(jobs)  # every point its own resume key
    assert isinstance(mlp[0].params["batch_size"], int) and isinstance(mlp[0].params["learning_rate"], float)


@pytest.mark.parametrize("grid, fragment", [
    (["mlp.learning_rate"], "expected MODEL.KEY=V1,V2"),
    (["mlp.learning_rate=1e-3,"], "expected MODEL.KEY=V1,V2"),
    (["svm.C=1,2"], "model 'svm' is not in this run"),
    (["mlp.nope=1,2"], "unknown hyper-parameter"),
    (["mlp.learning_rate=1e-3,1e-3"], "a value is repeated"),
    (["mlp.learning_rate=1e-3", "mlp.learning_rate=3e-3"], "swept twice"),
    (["mlp.epochs=3,4"], "given by both --set and --grid"),
    (["mlp.batch_size=three,4"], "expected int"),
])
def test_bad_grids_are_refused(grid, fragment):
    with pytest.raises(BenchError, match=re.escape(fragment)):
        plan.plan(["logreg", "mlp"], ["digits"], "quick", "cpu", [0], ["mlp.epochs=2"], False, grid=grid)


def test_grid_run_gives_a_row_per_point_and_a_sweep_plot(tmp_path):
    out = tmp_path / "g"
    proc = run_cli("run", "logreg", *QUICK, "--grid", "logreg.C=0.01,0.1,1", "--out", str(out), "--no-save-models")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    board = (out / "LEADERBOARD.md").read_text()
    for c in ("0.01", "0.1", "1"):
        assert f"| logreg C={c} " in board.replace("C=1.0", "C=1")
    assert "logreg-C-sweep.png" in board and (out / "plots" / "digits-quick-cpu-logreg-C-sweep.png").stat().st_size
    accs = {r["job"]["params"]["C"]: r["metrics"]["accuracy"] for r in records.read_all(out / "runs")}
    assert len(accs) == 3 and len(set(accs.values())) == 3  # three different models, not one thrice


# -- the local executor's memory bound ----------------------------------------------------

def test_memory_limit_kills_the_job_and_records_it(tmp_path):
    out = tmp_path / "m"
    # 700 MiB: the 1 GiB hog passes it; logreg's job stays under it, with the fresh process its cold start runs
    # in (counted in the job's process tree: about 150 MiB more) on top of its own ~300 MiB
    proc = run_cli("run", "fault-memory", "logreg", *QUICK, "--memory-limit", "700MiB", "--out", str(out),
                   env_extra=FAULTS)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    assert recs["fault-memory"]["status"] == "failed"
    assert recs["fault-memory"]["error"].startswith("out of memory: the job's resident memory passed its limit of 0.68 GiB")
    assert recs["logreg"]["status"] == "ok"


def test_executor_options_are_checked(tmp_path):
    out = ("--out", str(tmp_path / "never"))
    assert_one_line_error(run_cli("run", "logreg", *QUICK, *out, "--executor", "slurm"), "unknown executor 'slurm'")
    assert_one_line_error(run_cli("run", "logreg", *QUICK, *out, "--workers", "2"), "need --executor dask")
    assert_one_line_error(run_cli("run", "logreg", *QUICK, *out, "--memory-limit", "lots"),
                          "--memory-limit must be a size")
    assert_one_line_error(run_cli("run", "logreg", *QUICK, *out, "--executor", "dask", "--scheduler", "nohost"),
                          "not a scheduler address such as tcp://HOST:8786")
    assert_one_line_error(run_cli("run", "logreg", *QUICK, *out, "--executor", "dask", "--scheduler",
                                  f"tcp://127.0.0.1:{_free_port()}"), "cannot connect")
    assert_one_line_error(run_cli("run", "logreg", "--dataset", f"npz:{tmp_path / 'missing.npz'}", *out,
                                  "--executor", "dask"), "no such file")
    assert not (tmp_path / "never").exists()  # a refused request writes nothing


def test_dask_missing_is_one_line_and_the_default_run_needs_none(tmp_path):
    """The default install has no Dask: ``--executor dask`` says how to get it; local runs work."""
    hide = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None; "
            "from bench.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", hide, "run", "logreg", *QUICK, "--executor", "dask",
                           "--out", str(tmp_path / "a")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert_one_line_error(proc, 'needs Dask: pip install -e ".[dask]"')
    proc = subprocess.run([sys.executable, "-c", hide, "run", "logreg", *QUICK, "--out", str(tmp_path / "b"),
                           "--no-save-models"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]


# -- a LocalCluster -----------------------------------------------------------------------

def test_local_cluster_runs_the_grid_with_the_local_executors_accuracies(tmp_path):
    common = ("logreg", "xgboost", *QUICK, "--seeds", "2", "--threads", "1")
    proc = run_cli("run", *common, "--executor", "dask", "--workers", "2", "--out", str(tmp_path / "dask"))
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
    acc = lambda recs: {(r["job"]["model"], r["job"]["seed"]): r["metrics"]["accuracy"] for r in recs}  # noqa: E731
    assert acc(dask_recs) == acc(records.read_all(tmp_path / "local" / "runs"))

    board = (tmp_path / "dask" / "LEADERBOARD.md").read_text()
    assert re.search(r"dask executor, 2 job slots per host \(4 records; measured: (alone|up to 2 jobs at once)\)",
                     board), board  # which of the two: timing (the next test makes it certain)
    assert "--executor dask --workers 2" in board  # the reproduce command says how it was timed

    ev = run_cli("evaluate", dask_recs[0]["run_id"], "--out", str(tmp_path / "dask"))
    assert ev.returncode == 0 and "bit-identical" in ev.stdout, ev.stdout + ev.stderr


def test_jobs_that_overlap_for_certain_both_record_two_sharing_the_host(tmp_path, isolated_host_jobs_dir):
    """``fault-meet`` holds each job until both are registered and both have counted each
    other: two jobs side by side for certain, whatever the timing, so each record says 2."""
    meet = tmp_path / "meet"
    meet.mkdir()
    proc = run_cli("run", "fault-meet", *QUICK, "--seeds", "2", "--threads", "1", "--executor", "dask",
                   "--workers", "2", "--no-save-models", "--out", str(tmp_path / "o"),
                   env_extra={**FAULTS, "FAULT_MEET_DIR": str(meet)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = records.read_all(tmp_path / "o" / "runs")
    assert len(recs) == 2 and all(r["status"] == "ok" for r in recs), [r.get("error") for r in recs]
    assert len({r["where"]["worker"] for r in recs}) == 2
    assert [r["where"]["jobs_sharing_host"] for r in recs] == [2, 2]
    assert len(list(meet.iterdir())) == 2
    assert list(isolated_host_jobs_dir.glob("*.pid")) == []  # both jobs unregistered
    assert "(2 records; measured: up to 2 jobs at once)" in (tmp_path / "o" / "LEADERBOARD.md").read_text()


def test_a_job_that_kills_its_worker_is_retried_once_then_failed(tmp_path):
    out = tmp_path / "k"
    proc = run_cli("run", "fault-killworker", "logreg", *QUICK, "--executor", "dask", "--workers", "2",
                   "--out", str(out), "--no-save-models", env_extra=FAULTS, timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    assert len(records.read_all(out / "runs")) == 2
    assert recs["fault-killworker"]["status"] == "failed"
    assert "died 2 times" in recs["fault-killworker"]["error"] and "retried once" in recs["fault-killworker"]["error"]
    assert recs["logreg"]["status"] == "ok"
    # the client wrote the failed record; its machine is the workers' (here: this one's)
    for key in ("hardware", "cpu", "cores", "memory_gib", "gpus"):
        assert recs["fault-killworker"]["env"][key] == recs["logreg"]["env"][key], key


def test_the_env_of_a_record_the_client_writes_is_the_workers_machine():
    from bench.core import hardware
    from bench.run.executors.dask_cluster import MACHINE, DaskExecutor

    a = {"platform": "Linux-a", "cpu": "CPU A", "hardware": {"id": "hw-a"}, "cores": 8, "memory_gib": 16.0,
         "gpus": []}
    b = {**a, "cpu": "CPU B", "hardware": {"id": "hw-b"}, "gpus": [{"name": "G", "memory": "1", "driver": "1"}]}
    ex = DaskExecutor()
    ex.facts = {"tcp://10.0.0.1:1": {"host": "a", "machine": a}, "tcp://10.0.0.2:1": {"host": "b", "machine": b}}
    env = ex.env_of("tcp://10.0.0.2:1")
    assert {k: env[k] for k in MACHINE} == b and "libraries" in env  # the rest: this client's
    unknown = ex.env_of("tcp://10.0.0.3:1")  # a worker started since: two machines, which one is unknown
    assert unknown["hardware"] is None and unknown["cpu"] is None and unknown["gpus"] == []
    assert unknown["hardware"] != hardware.cached()
    ex.facts = {"tcp://10.0.0.1:1": {"host": "a", "machine": a}, "tcp://10.0.0.1:2": {"host": "a", "machine": a}}
    assert {k: ex.env_of(None)[k] for k in MACHINE} == a  # one machine for all: that one


# -- a cluster started with Dask's own CLI ------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each in its own
    process group (a kill takes the nanny and its worker together)."""

    def __init__(self, tmp: Path, n_workers: int, env: dict):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.scheduler = self._start([DASK_BIN, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--no-dashboard"], "scheduler")
        for i in range(n_workers):
            self._start([DASK_BIN, "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--resources",
                         "slot=1", "--host", "127.0.0.1", "--no-dashboard", "--local-directory",
                         str(tmp / f"w{i}")], f"worker{i}")
        from distributed import Client

        with Client(self.address, timeout=30) as c:
            c.wait_for_workers(n_workers, timeout=60)

    def _start(self, cmd, name):
        log = open(self.tmp / f"{name}.log", "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> pid of the worker process (the nanny's child)."""
        from distributed import Client

        with Client(self.address, timeout=30) as c:
            return c.run(os.getpid)

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


@pytest.fixture
def cluster_factory(tmp_path):
    made = []

    def make(n_workers: int, env: dict | None = None) -> Cluster:
        made.append(Cluster(tmp_path, n_workers, env or {}))
        return made[-1]

    yield make
    for c in made:
        c.stop()


def _slow_suite(cluster: Cluster, seeds: int, seconds: int, out: Path) -> list[str]:
    """``run`` arguments: fault-slow jobs of ``seconds`` each, one per seed, on ``cluster``."""
    return ["run", "fault-slow", *QUICK, "--seeds", str(seeds), "--set", f"fault-slow.seconds={seconds}",
            "--executor", "dask", "--scheduler", cluster.address, "--out", str(out), "--no-save-models"]


def _start_suite(args, env_extra):
    """The suite as on a user's machine (no PYTHONUNBUFFERED): its lines must come as printed."""
    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONUNBUFFERED", None)
    return subprocess.Popen([sys.executable, "-m", "bench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT, start_new_session=True)


def _read_until(proc, lines: list[str], predicate, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if predicate(line):
            return line
    raise AssertionError("suite output never showed what the test waits for:\n" + "".join(lines[-40:]))


def _within(seconds: float, probe):
    """Call ``probe`` until it returns something truthy or ``seconds`` pass; its last value."""
    deadline = time.monotonic() + seconds
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_worker_killed_mid_job_then_ctrl_c_then_resume_runs_each_missing_job_once(tmp_path, cluster_factory):
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
        orphans = _within(10, lambda: [int(p.name) for p in pids.iterdir() if p.read_text() == str(victim_pid)])
        assert orphans, "the victim worker's job left no pid"
        os.kill(victim_pid, signal.SIGKILL)  # the worker dies mid-job; its nanny starts a new one
        deadline = time.monotonic() + 10
        while any(alive(p) for p in orphans) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(p) for p in orphans), "the killed worker's job subprocess outlived it"

        # the killed job comes back (retried) or is given up; either way it ends in one record
        _read_until(suite, lines, lambda s: s.lstrip().startswith("-> [1/4]"))  # its record is stored by then
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

    resumed = subprocess.run([sys.executable, "-m", "bench", *args, "--resume"], capture_output=True, text=True,
                             env={**os.environ, **FAULTS, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)
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
    assert "lost the connection to the Dask scheduler" in err or "connection to the Dask scheduler" in err, err
    assert "resume with: python -m bench" in err
    kept = records.read_all(out / "runs")
    assert [r["job"]["seed"] for r in kept if r["status"] == "ok"] == [0]
    assert max(_keys(out / "runs").values()) == 1
