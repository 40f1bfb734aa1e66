"""THE configuration identity and the hardware fingerprint, as every view uses them:
resume, leaderboard tables and rows, compare, check and the baseline. Real digits runs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from bench import records
from bench.core import hardware
from bench.gate import check
from bench.records import identity
from bench.report import compare, tables
from bench.run import plan
from tests.conftest import run_cli

FAST = ("--dataset", "digits", "--profile", "quick", "--infer-min-seconds", "0.05", "--infer-min-repeats", "3",
        "--no-save-models")


@pytest.fixture(scope="module")
def grid_runs(tmp_path_factory):
    """A 2-point logreg grid, 2 seeds, run for real."""
    out = tmp_path_factory.mktemp("grid")
    proc = run_cli("run", "logreg", "--grid", "logreg.C=0.01,1.0", "--seeds", "2", *FAST, "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_two_grid_points_are_two_configurations_in_every_view(grid_runs, tmp_path):
    recs = records.read_all(grid_runs / "runs")
    assert len(recs) == 4
    keys = {identity.of_record(r).key() for r in recs}
    assert len(keys) == 2  # two points; seeds share a configuration
    # compare: two rows, not one grid point overwriting the other
    proc = run_cli("compare", str(grid_runs / "runs"), str(grid_runs / "runs"))
    assert proc.returncode == 0, proc.stderr
    clean, rest = proc.stdout.split("### corrupted test sets")
    corrupted, speed = rest.split("### speed")
    for section in (clean, corrupted):  # clean accuracy, then the MNIST-C mean: two rows each
        rows = [line for line in section.splitlines() if line.startswith("| logreg")]
        assert len(rows) == 2 and any("C=0.01" in r for r in rows), proc.stdout
    speed_rows = [line for line in speed.splitlines() if line.startswith("| logreg")]  # a row per point and figure
    assert {"C=0.01" in r for r in speed_rows} == {True, False} and len(speed_rows) % 2 == 0, speed
    # leaderboard: the same two rows
    (group,) = tables.groups(records.load(None, recs))
    assert sorted(r.label for r in tables.row_stats(group)) == ["logreg C=0.01", "logreg C=1"]
    # check: the model's newest configuration only, its two seeds
    chosen = check.newest(recs, "digits", "quick", "cpu")["logreg"]
    assert len(chosen) == 2 and len({r["job"]["params"]["C"] for r in chosen}) == 1


def test_resume_uses_the_identity_of_this_machine(grid_runs):
    recs = records.read_all(grid_runs / "runs")
    done = {plan.record_key(r) for r in recs}
    jobs = plan.plan(["logreg"], ["digits"], "quick", "cpu", [0, 1], [], has_gpu=False,
                     grid=["logreg.C=0.01,1.0"], digests={"digits": recs[0]["data"]["digest"]},
                     threads=recs[0]["job"]["threads"], inference=recs[0]["job"]["inference"])
    assert {j.key() for j in jobs} == done  # every planned job is already done here
    moved = copy.deepcopy(recs[0])
    moved["env"]["hardware"] = hardware.finish({**moved["env"]["hardware"], "cores": 64})
    assert plan.record_key(moved) not in done  # measured elsewhere: not the same configuration
    assert plan.record_key(moved, identity.WHERE) == plan.record_key(recs[0], identity.WHERE)


def test_records_from_two_processors_never_share_a_table(grid_runs):
    recs = records.read_all(grid_runs / "runs")
    other = copy.deepcopy(recs)
    for r in other:
        r["run_id"] = "X" + r["run_id"]
        fp = dict(r["env"]["hardware"], model_name="AMD EPYC", family=25, model=1, stepping=1)
        r["env"]["hardware"] = hardware.finish(fp)
    groups = tables.groups(records.load(None, recs + other))
    assert len(groups) == 2
    titles = [g.title for g in groups]
    assert len(set(titles)) == 2 and any("[25/1/1]" in t for t in titles), titles
    # compare still pairs them for accuracy (hardware changes speed, not what is learned)
    changes, only_a, only_b = compare.compare(recs, other)
    assert len(changes) == 2 and not only_a and not only_b


def test_a_legacy_record_gets_a_fingerprint_that_never_equals_a_measured_one():
    measured = hardware.fingerprint()
    same_name = {"cpu": measured["model_name"], "cores": measured["cores"], "memory_gib": measured["memory_gib"]}
    legacy = hardware.of_env(same_name)  # what a record made here before fingerprints would say
    assert legacy["id"] != measured["id"]
    assert "before hardware fingerprints" in legacy["title"] and measured["model_name"] in legacy["title"]
    assert hardware.of_env({"hardware": measured})["id"] == measured["id"]
    assert hardware.of_env({"hardware": {"id": "abc"}})["title"]  # a stored fingerprint without a title


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
    other = hardware.finish({**fp, "flags": [f for f in fp["flags"] if f != "avx512f"] + ["amx_bf16"]})
    assert other["id"] != fp["id"]  # another ISA: another machine for speed
    assert hardware.finish({**fp, "memory_gib": 1.0})["id"] == fp["id"]  # memory is shown, not hashed


def test_every_new_record_carries_the_fingerprint(grid_runs):
    for r in records.read_all(grid_runs / "runs"):
        assert r["env"]["hardware"]["id"] == hardware.cached()["id"]


def test_a_gpu_job_is_keyed_by_its_gpu_model():
    rec = {"job": {"model": "cnn-small", "params": {}, "dataset": "mnist", "profile": "quick", "device": "gpu",
                   "seed": 0}, "data": {"digest": "d"}, "env": {"gpus": [{"name": "NVIDIA H200"}]}}
    a = identity.of_record(rec)
    b = identity.of_record(json.loads(json.dumps(rec).replace("H200", "A100")))
    assert a.gpu == "GPU NVIDIA H200" and identity.differences(a, b) == ["gpu"]
    cpu = json.loads(json.dumps(rec).replace('"gpu"', '"cpu"'))
    assert identity.of_record(cpu).gpu is None


def test_check_judges_the_baselines_own_configuration_not_the_newest(grid_runs):
    recs = records.read_all(grid_runs / "runs")
    low = [r for r in recs if r["job"]["params"]["C"] == 0.01]
    baseline = check.build_baseline(low, "digits", "quick", "cpu")
    assert baseline["models"]["logreg"]["identity"]["params_hash"] == identity.params_hash(low[0]["job"]["params"])
    (verdict,) = check.compare(baseline, recs)  # C=1 records are newer, and not what the baseline holds
    assert verdict.verdict == "ok" and verdict.now == pytest.approx(baseline["models"]["logreg"]["accuracy"])
    assert "hyper-parameters differ" not in verdict.note
    high = [r for r in recs if r["job"]["params"]["C"] == 1.0]
    (other,) = check.compare(baseline, high)  # only another configuration: judged, and said so
    assert "hyper-parameters differ: C" in other.note


def test_job_slots_are_part_of_the_identity_and_the_label(grid_runs):
    recs = [r for r in records.read_all(grid_runs / "runs") if r["job"]["params"]["C"] == 1.0]
    shared = copy.deepcopy(recs)
    for r in shared:
        r["run_id"] = "S" + r["run_id"]
        r["where"] = {**r["where"], "executor": "dask", "slots_per_host": 2, "jobs_sharing_host": 1}
    assert identity.of_record(shared[0]).slots == 2 and identity.of_record(recs[0]).slots == 1
    (group,) = tables.groups(records.load(None, recs + recs + shared))
    labels = sorted(r.label for r in tables.row_stats(group))
    assert labels == ["logreg C=1", "logreg C=1 [2 job slots/host]"]  # the slots, not what was shared
