"""THE configuration identity and the hardware fingerprint, as every view uses them:
resume, leaderboard tables and rows, compare, check and the baseline. Real digits runs.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.records.test_identity``."""

from __future__ import annotations

import copy

import pytest

from bench import records
from bench.analysis import compare, rowstats
from bench.core import hardware
from bench.gate import check
from bench.records import identity
from bench.run import plan
from tests.conftest import run_cli
from tests.unit.records.test_identity import grid_runs  # noqa: F401 (fixtures)


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
    speed_rows = [
        line for line in speed.splitlines() if line.startswith("| logreg")
    ]  # a row per point and figure
    assert {"C=0.01" in r for r in speed_rows} == {True, False} and len(speed_rows) % 2 == 0, speed
    # leaderboard: the same two rows
    (group,) = rowstats.groups(records.load(None, recs))
    assert sorted(r.label for r in rowstats.row_stats(group)) == ["logreg C=0.01", "logreg C=1"]
    # check: the model's newest configuration only, its two seeds
    chosen = check.newest(recs, "digits", "quick", "cpu")["logreg"]
    assert len(chosen) == 2 and len({r["job"]["params"]["C"] for r in chosen}) == 1


def test_resume_uses_the_identity_of_this_machine(grid_runs):
    recs = records.read_all(grid_runs / "runs")
    done = {plan.record_key(r) for r in recs}
    jobs = plan.plan(
        ["logreg"],
        ["digits"],
        "quick",
        "cpu",
        [0, 1],
        [],
        has_gpu=False,
        grid=["logreg.C=0.01,1.0"],
        digests={"digits": recs[0]["data"]["digest"]},
        threads=recs[0]["job"]["threads"],
        inference=recs[0]["job"]["inference"],
    )
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
    groups = rowstats.groups(records.load(None, recs + other))
    assert len(groups) == 2
    titles = [g.title for g in groups]
    assert len(set(titles)) == 2 and any("[25/1/1]" in t for t in titles), titles
    # compare still pairs them for accuracy (hardware changes speed, not what is learned)
    changes, only_a, only_b = compare.compare(recs, other)
    assert len(changes) == 2 and not only_a and not only_b


def test_every_new_record_carries_the_fingerprint(grid_runs):
    for r in records.read_all(grid_runs / "runs"):
        assert r["env"]["hardware"]["id"] == hardware.cached()["id"]


def test_check_judges_the_baselines_own_configuration_not_the_newest(grid_runs):
    recs = records.read_all(grid_runs / "runs")
    low = [r for r in recs if r["job"]["params"]["C"] == 0.01]
    baseline = check.build_baseline(low, "digits", "quick", "cpu")
    assert baseline["models"]["logreg"]["identity"]["params_hash"] == identity.params_hash(
        low[0]["job"]["params"]
    )
    (verdict,) = check.compare(
        baseline, recs
    )  # C=1 records are newer, and not what the baseline holds
    assert verdict.verdict == "ok" and verdict.now == pytest.approx(
        baseline["models"]["logreg"]["accuracy"]
    )
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
    (group,) = rowstats.groups(records.load(None, recs + recs + shared))
    labels = sorted(r.label for r in rowstats.row_stats(group))
    assert labels == [
        "logreg C=1",
        "logreg C=1 [2 job slots/host]",
    ]  # the slots, not what was shared
