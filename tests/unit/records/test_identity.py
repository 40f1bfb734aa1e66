"""THE configuration identity and the hardware fingerprint, as every view uses them:
resume, leaderboard tables and rows, compare, check and the baseline. Real digits runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.core import hardware
from bench.records import identity
from tests.conftest import DIGITS_QUICK, run_cli

FAST = (
    *DIGITS_QUICK,
    "--no-save-models",
    "--no-plots",
)


@pytest.fixture(scope="module")
def grid_runs(tmp_path_factory):
    """A 2-point logreg grid, 2 seeds, run for real."""
    out = tmp_path_factory.mktemp("grid")
    proc = run_cli(
        "run", "logreg", "--grid", "logreg.C=0.01,1.0", "--seeds", "2", *FAST, "--out", str(out)
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_a_legacy_record_gets_a_fingerprint_that_never_equals_a_measured_one():
    measured = hardware.fingerprint()
    same_name = {
        "cpu": measured["model_name"],
        "cores": measured["cores"],
        "memory_gib": measured["memory_gib"],
    }
    legacy = hardware.of_env(same_name)  # what a record made here before fingerprints would say
    assert legacy["id"] != measured["id"]
    assert (
        "before hardware fingerprints" in legacy["title"]
        and measured["model_name"] in legacy["title"]
    )
    assert hardware.of_env({"hardware": measured})["id"] == measured["id"]
    assert hardware.of_env({"hardware": {"id": "abc"}})[
        "title"
    ]  # a stored fingerprint without a title


def test_the_fingerprint_reads_what_the_kernel_says():
    """Against /proc/cpuinfo parsed here (absent lines, as on ARM, give None / no flags)."""
    fp = hardware.fingerprint()
    block = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    model = re.search(r"^model\s*:\s*(\d+)$", block, re.M)
    assert fp["model"] == (int(model.group(1)) if model else None)
    flags = re.search(r"^flags\s*:\s*(.*)$", block, re.M)
    flags = set(flags.group(1).split()) if flags else set()
    assert set(fp["flags"]) == {f for f in hardware.SPEED_FLAGS if f in flags}
    assert fp["id"] == hardware.fingerprint()["id"]  # stable
    assert re.fullmatch(r"[0-9a-f]{12}", fp["id"])
    assert f"{fp['cores']} cores" in fp["title"]
    other = hardware.finish(
        {**fp, "flags": [f for f in fp["flags"] if f != "avx512f"] + ["amx_bf16"]}
    )
    assert other["id"] != fp["id"]  # another ISA: another machine for speed
    assert (
        hardware.finish({**fp, "memory_gib": 1.0})["id"] == fp["id"]
    )  # memory is shown, not hashed


def test_a_gpu_job_is_keyed_by_its_gpu_model():
    rec = {
        "job": {
            "model": "cnn-small",
            "params": {},
            "dataset": "mnist",
            "profile": "quick",
            "device": "gpu",
            "seed": 0,
        },
        "data": {"digest": "d"},
        "env": {"gpus": [{"name": "NVIDIA H200"}]},
    }
    a = identity.of_record(rec)
    b = identity.of_record(json.loads(json.dumps(rec).replace("H200", "A100")))
    assert a.gpu == "GPU NVIDIA H200" and identity.differences(a, b) == ["gpu"]
    cpu = json.loads(json.dumps(rec).replace('"gpu"', '"cpu"'))
    assert identity.of_record(cpu).gpu is None
