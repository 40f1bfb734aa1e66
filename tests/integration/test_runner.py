"""The runner and the ``run``/``report``/``list`` commands, end to end in subprocesses.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_runner``."""

from __future__ import annotations

import sys
import time

import pytest

from bench import records
from bench.run import plan, supervise
from tests.conftest import assert_one_line_error, run_cli

# what these tests do not look at, measured briefly or not at all: inference timed for 0.05 s,
# no saved model (so no cold start in a fresh process)
LEAN = (
    "--infer-min-seconds",
    "0.05",
    "--infer-min-repeats",
    "3",
    "--no-save-models",
    "--robustness",
    "off",
)


def test_run_writes_one_record_per_job_and_a_leaderboard(tmp_path):
    out = tmp_path / "results"
    proc = run_cli(
        "run",
        "logreg",
        "svm",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--seeds",
        "2",
        "--set",
        "logreg.max_iter=50",
        *LEAN,
        "--no-plots",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[4/4] svm on digits (quick, cpu, seed 1)" in proc.stdout
    assert "test accuracy" in proc.stdout  # progress is streamed
    recs = records.read_all(out / "runs")
    assert sorted((r["job"]["model"], r["job"]["seed"]) for r in recs) == [
        ("logreg", 0),
        ("logreg", 1),
        ("svm", 0),
        ("svm", 1),
    ]
    for r in recs:
        assert r["status"] == "ok"
        assert r["metrics"]["accuracy"] > 0.9
        assert r["data"] == {**r["data"], "n_train": 1318, "n_val": 120, "n_test": 359}
        assert r["size"]["total"] > 0 and r["size"]["bytes"] > 0
        assert r["timing"]["fit_s"] > 0
        if r["job"]["model"] == "logreg":  # L-BFGS: passes known; the SVM's solve has none to count
            assert r["timing"]["train_images_per_s"] > 0
        else:
            assert r["timing"]["train_images_per_s"] is None
        assert r["timing"]["inference"]["batch_1"]["images_per_s"] > 0
        assert r["env"]["libraries"]["scikit-learn"] and r["env"]["cores"] >= 1
        assert sum(map(sum, r["metrics"]["confusion"])) == 359
    logreg = [r for r in recs if r["job"]["model"] == "logreg"]
    assert all(r["job"]["params"]["max_iter"] == 50 for r in logreg)
    board = (out / "LEADERBOARD.md").read_text()
    assert "| svm " in board and "| logreg " in board and "± " in board  # 2 seeds -> mean ± std
    # --no-plots: the leaderboard without figures, nothing drawn
    assert "![" not in board and "plots/" not in board and not (out / "plots").exists()


def test_report_rebuilds_the_same_bytes(tmp_path):
    out = tmp_path / "results"
    assert (
        run_cli(
            "run", "logreg", "--dataset", "digits", "--profile", "quick", *LEAN, "--out", str(out)
        ).returncode
        == 0
    )
    first = (out / "LEADERBOARD.md").read_bytes()
    (out / "LEADERBOARD.md").unlink()
    proc = run_cli("report", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "LEADERBOARD.md").read_bytes() == first


def test_crashing_worker_leaves_a_failed_record(tmp_path, monkeypatch):
    """A job whose process dies without writing a record gets one written by the runner."""
    job = plan.Job(
        "logreg",
        "linear",
        "digits",
        "quick",
        "cpu",
        0,
        {"C": 1.0, "max_iter": 10, "tol": 1e-4},
        threads=1,
    )
    monkeypatch.setattr(
        sys, "executable", "/bin/false"
    )  # the worker's interpreter (bench.core.pychild)
    out = supervise.run_job(job, tmp_path, timeout_s=60, on_line=None)
    assert out.status == "failed" and "exited with code 1 without a record" in out.record["error"]
    assert records.read(out.path)["status"] == "failed"


def test_job_past_its_timeout_is_killed_and_recorded(tmp_path):
    job = plan.Job(
        "mlp",
        "neural",
        "digits",
        "quick",
        "cpu",
        0,
        {
            "epochs": 500,
            "batch_size": 32,
            "learning_rate": 1e-3,
            "schedule": "constant",
            "hidden": 512,
            "dropout": 0.2,
        },
        threads=1,
    )
    t0 = time.monotonic()
    out = supervise.run_job(job, tmp_path, timeout_s=15, on_line=None)
    assert out.status == "timeout" and time.monotonic() - t0 < 40
    assert records.read(out.path)["error"].startswith("timed out after 15s")


def test_exception_in_adapter_is_a_failed_record_and_exit_1(tmp_path):
    out = tmp_path / "results"
    proc = run_cli(
        "run",
        "fault-raise",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--out",
        str(out),
        env_extra={"BENCH_EXTRA_MODELS": "tests.fault_adapters"},
    )
    assert proc.returncode == 1
    (rec,) = records.read_all(out / "runs")
    assert rec["status"] == "failed" and "injected failure in fit" in rec["error"]
    assert "failed" in (out / "LEADERBOARD.md").read_text()


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["run", "resnet"], ["unknown model 'resnet'", "logreg"]),
        (
            ["run", "logreg", "--set", "logreg.depth=3"],
            ["unknown hyper-parameter", "C, max_iter, tol"],
        ),
        (["run", "logreg", "--set", "logreg.max_iter=many"], ["expected int", "'many'"]),
        (["run", "logreg", "--set", "cnn-small.epochs=3"], ["not in this run"]),
        (["run", "logreg", "--set", "epochs"], ["MODEL.KEY=VALUE"]),
        (["run", "logreg", "--profile", "huge"], ["unknown profile 'huge'", "full, quick"]),
        (["run", "logreg", "--device", "tpu"], ["unknown device 'tpu'", "cpu, gpu, all"]),
        (["run", "logreg", "--seeds", "-1"], ["--seeds must be a positive integer"]),
        (["run", "logreg", "--seeds", "1.5"], ["--seeds must be a positive integer"]),
        (["run", "logreg", "--dataset", "npz:/no/such.npz"], ["no such file"]),
        (["run"], ["name models to run or use --all"]),
        (["run", "--all", "svm"], ["not model names and --all"]),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, fragments, tmp_path):
    assert_one_line_error(
        run_cli(*args, "--out", str(tmp_path)) if args[0] == "run" else run_cli(*args), *fragments
    )


def test_unwritable_output_fails_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(
        run_cli("run", "logreg", "--dataset", "digits", "--out", str(blocker)),
        "cannot write records",
    )


def test_gpu_request_without_gpu_fails_fast():
    if plan.gpu_available():
        pytest.skip("this machine has a GPU; the CPU-only path is what is tested here")
    assert_one_line_error(run_cli("run", "cnn-small", "--device", "gpu"), "no GPU found")


def test_device_all_records_gpu_jobs_as_skipped_without_gpu(tmp_path):
    jobs = plan.plan(["logreg", "xgboost"], ["digits"], "quick", "all", [0], [], has_gpu=False)
    assert [(j.model, j.device, j.skip_reason is not None) for j in jobs] == [
        ("logreg", "cpu", False),
        ("xgboost", "cpu", False),
        ("xgboost", "gpu", True),
    ]
    out = supervise.run_job(jobs[2], tmp_path, timeout_s=60, on_line=None)
    assert out.status == "skipped" and "no GPU" in records.read(out.path)["error"]


def test_list_imports_no_framework():
    """``list`` stays quick because neither it nor any module of ``bench`` imports a framework
    at module level (how quick is not timed here: a loaded machine would make that flaky)."""
    proc = run_cli("list")
    assert proc.returncode == 0, proc.stderr
    for name in ("logreg", "svm", "xgboost", "mlp", "cnn-small", "cnn-deep", "mnist", "csv:PATH"):
        assert name in proc.stdout
    probe = (
        "import sys, pkgutil, importlib, bench; "
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(bench.__path__, 'bench.') if m.name != 'bench.__main__']; "
        "from bench.adapters import registry; registry.names(); "
        "bad = [m for m in ('tensorflow', 'keras', 'xgboost', 'sklearn', 'matplotlib', 'dask', 'distributed', "
        "'rich') if m in sys.modules]; "
        "print(bad)"
    )
    import subprocess
    import sys

    from tests.conftest import ROOT

    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr
