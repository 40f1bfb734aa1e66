"""Grids and the Dask executor, for real: a LocalCluster, and a scheduler and workers
started with Dask's own CLI on the loopback interface; workers killed mid-job, a scheduler
lost, Ctrl-C, and ``--resume`` after each."""

from __future__ import annotations

import contextlib
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
from tests.conftest import DIGITS_QUICK, ROOT

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
QUICK = (
    *DIGITS_QUICK,
    "--robustness",  # the executors are under test here, not the corrupted test sets
    "off",
)
DASK_BIN = str(Path(sys.executable).with_name("dask"))


def _keys(runs: Path) -> Counter:
    return Counter(plan.record_key(r) for r in records.read_all(runs))


# -- grids --------------------------------------------------------------------------------


def test_grid_is_the_cartesian_product_with_seeds_and_datasets():
    jobs = plan.plan(
        ["logreg", "mlp"],
        ["digits", "mnist"],
        "quick",
        "cpu",
        [0, 1],
        ["mlp.epochs=2"],
        False,
        grid=["mlp.learning_rate=1e-3,3e-3", "mlp.batch_size=32,64,128", "logreg.C=0.5,1"],
    )
    assert len(jobs) == 2 * 2 * (2 + 2 * 3)
    mlp = [j for j in jobs if j.model == "mlp" and j.seed == 0 and j.dataset == "digits"]
    assert [(j.params["learning_rate"], j.params["batch_size"]) for j in mlp] == [
        (1e-3, 32),
        (1e-3, 64),
        (1e-3, 128),
        (3e-3, 32),
        (3e-3, 64),
        (3e-3, 128),
    ]
    assert all(j.params["epochs"] == 2 for j in mlp)  # --set applies to every grid point
    assert (
        mlp[0].tag == "learning_rate=0.001 batch_size=32"
        and "mlp learning_rate=0.001 batch_size=32 on digits" in mlp[0].title()
    )
    assert len({j.key() for j in jobs}) == len(jobs)  # every point its own resume key
    assert isinstance(mlp[0].params["batch_size"], int) and isinstance(
        mlp[0].params["learning_rate"], float
    )


@pytest.mark.parametrize(
    "grid, fragment",
    [
        (["mlp.learning_rate"], "expected MODEL.KEY=V1,V2"),
        (["mlp.learning_rate=1e-3,"], "expected MODEL.KEY=V1,V2"),
        (["svm.C=1,2"], "model 'svm' is not in this run"),
        (["mlp.nope=1,2"], "unknown hyper-parameter"),
        (["mlp.learning_rate=1e-3,1e-3"], "a value is repeated"),
        (["mlp.learning_rate=1e-3", "mlp.learning_rate=3e-3"], "swept twice"),
        (["mlp.epochs=3,4"], "given by both --set and --grid"),
        (["mlp.batch_size=three,4"], "expected int"),
    ],
)
def test_bad_grids_are_refused(grid, fragment):
    with pytest.raises(BenchError, match=re.escape(fragment)):
        plan.plan(
            ["logreg", "mlp"], ["digits"], "quick", "cpu", [0], ["mlp.epochs=2"], False, grid=grid
        )


# -- the local executor's memory bound ----------------------------------------------------


# -- a LocalCluster -----------------------------------------------------------------------


def test_the_env_of_a_record_the_client_writes_is_the_workers_machine():
    from bench.core import hardware
    from bench.run.executors.dask_cluster import MACHINE, DaskExecutor

    a = {
        "platform": "Linux-a",
        "cpu": "CPU A",
        "hardware": {"id": "hw-a"},
        "cores": 8,
        "memory_gib": 16.0,
        "gpus": [],
    }
    b = {
        **a,
        "cpu": "CPU B",
        "hardware": {"id": "hw-b"},
        "gpus": [{"name": "G", "memory": "1", "driver": "1"}],
    }
    ex = DaskExecutor()
    ex.facts = {
        "tcp://10.0.0.1:1": {"host": "a", "machine": a},
        "tcp://10.0.0.2:1": {"host": "b", "machine": b},
    }
    env = ex.env_of("tcp://10.0.0.2:1")
    assert {k: env[k] for k in MACHINE} == b and "libraries" in env  # the rest: this client's
    unknown = ex.env_of(
        "tcp://10.0.0.3:1"
    )  # a worker started since: two machines, which one is unknown
    assert unknown["hardware"] is None and unknown["cpu"] is None and unknown["gpus"] == []
    assert unknown["hardware"] != hardware.cached()
    ex.facts = {
        "tcp://10.0.0.1:1": {"host": "a", "machine": a},
        "tcp://10.0.0.1:2": {"host": "a", "machine": a},
    }
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
        self.scheduler = self._start(
            [
                DASK_BIN,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-dashboard",
            ],
            "scheduler",
        )
        for i in range(n_workers):
            self._start(
                [
                    DASK_BIN,
                    "worker",
                    self.address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--resources",
                    "slot=1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--local-directory",
                    str(tmp / f"w{i}"),
                ],
                f"worker{i}",
            )
        from distributed import Client

        with Client(self.address, timeout=30) as c:
            c.wait_for_workers(n_workers, timeout=60)

    def _start(self, cmd, name):
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - the process writes it until stopped
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> pid of the worker process (the nanny's child)."""
        from distributed import Client

        with Client(self.address, timeout=30) as c:
            return c.run(os.getpid)

    def stop(self):
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
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
    return [
        "run",
        "fault-slow",
        *QUICK,
        "--seeds",
        str(seeds),
        "--set",
        f"fault-slow.seconds={seconds}",
        "--executor",
        "dask",
        "--scheduler",
        cluster.address,
        "--out",
        str(out),
        "--no-save-models",
    ]


def _start_suite(args, env_extra):
    """The suite as on a user's machine (no PYTHONUNBUFFERED): its lines must come as printed."""
    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONUNBUFFERED", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def _read_until(proc, lines: list[str], predicate, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if predicate(line):
            return line
    raise AssertionError(
        "suite output never showed what the test waits for:\n" + "".join(lines[-40:])
    )


def _within(seconds: float, probe):
    """Call ``probe`` until it returns something truthy or ``seconds`` pass; its last value."""
    deadline = time.monotonic() + seconds
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value
