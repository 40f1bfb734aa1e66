"""Measurement you can trust: fast inference paths, threads, determinism, devices, self-check."""

import os
import stat

import pytest

from bench import records
from bench.adapters import registry
from bench.core import envinfo
from bench.prep import preprocess as pp
from bench.run import plan, supervise
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def prepared(digits):
    return pp.prepare(
        digits.x_train, digits.y_train, digits.x_test, digits.y_test, pp.SplitRule(val_fraction=0.1)
    )


def _fit(name, prepared, **overrides):
    cls = registry.get(name)
    adapter = cls({**cls.defaults["quick"], **overrides})
    x_train, x_val, x_test = prepared.views(cls.view)
    adapter.fit(x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val)
    return adapter, x_test


def _run_digits(tmp_path, *args, tag="r"):
    out = tmp_path / tag
    proc = run_cli(
        "run",
        *args,
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--out",
        str(out),
        "--infer-min-seconds",
        "0.2",
        "--infer-min-repeats",
        "3",
        "--no-plots",
        "--no-save-models",  # neither a saved model, its cold start nor robustness is looked at
        "--robustness",
        "off",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {r["job"]["model"]: r for r in records.read_all(out / "runs")}


def _fake_nvidia_smi(tmp_path, monkeypatch, body):
    """Put an ``nvidia-smi`` script first on PATH: GPU detection logic without a GPU."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / "nvidia-smi"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")


def test_gpu_detection_parses_nvidia_smi(tmp_path, monkeypatch):
    _fake_nvidia_smi(tmp_path, monkeypatch, 'echo "NVIDIA H100 80GB HBM3, 81559 MiB, 550.54.15"')
    assert envinfo.gpus() == [
        {"name": "NVIDIA H100 80GB HBM3", "memory": "81559 MiB", "driver": "550.54.15"}
    ]
    assert plan.gpu_available()
    jobs = plan.plan(["logreg", "cnn-small"], ["digits"], "quick", "gpu", [0], [], has_gpu=True)
    assert [(j.model, j.device, j.skip_reason) for j in jobs] == [("cnn-small", "gpu", None)]
    env = supervise.child_env("gpu", 2)
    assert env.get("CUDA_VISIBLE_DEVICES") != "-1"


def test_broken_driver_counts_as_no_gpu(tmp_path, monkeypatch):
    _fake_nvidia_smi(tmp_path, monkeypatch, 'echo "NVIDIA-SMI has failed" >&2; exit 9')
    assert envinfo.gpus() == [] and not plan.gpu_available()


def test_selfcheck_verdict_follows_the_band():
    from bench.run import selfcheck

    inside = {
        "batch_1000": {
            "harness_images_per_s": 980.0,
            "plain_images_per_s": 1000.0,
            "ratio": 0.98,
            "rounds": 3,
        }
    }
    outside = {
        "batch_1": {
            "harness_images_per_s": 800.0,
            "plain_images_per_s": 1000.0,
            "ratio": 0.8,
            "rounds": 3,
        }
    }
    assert selfcheck.render("m", inside)[1] is True
    table, ok = selfcheck.render("m", {**inside, **outside})
    assert ok is False and "OUTSIDE" in table
