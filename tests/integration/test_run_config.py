"""The typed entry point: ``bench.run_suite(RunConfig(...))`` runs what ``python -m bench run``
runs, the CLI builds the same ``RunConfig`` from its flags, and a bad field is one error
naming its flag before anything is written.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_run_config``."""

from __future__ import annotations

import json

import pytest

import bench
from bench.core.errors import BenchError
from bench.run.entry import RunConfig


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"models": ("no-such-model",)}, "no-such-model"),
        ({"models": ()}, "name models to run"),
        ({"seeds": 0}, "--seeds must be a positive integer"),
        ({"profile": "huge"}, "unknown profile 'huge'; choose from: full, quick"),
        ({"target": 1.5}, "--target is a validation accuracy"),
        ({"threads": -2}, "--threads must be a positive integer"),
        ({"overrides": ("logreg.nope=1",)}, "nope"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"seeds": 1.5}, "--seeds must be a positive integer, got 1.5"),
        ({"seeds": True}, "--seeds must be a positive integer, got True"),
        (
            {"models": "logreg"},
            "RunConfig.models (model names) must be a tuple of strings, got 'logreg'",
        ),
        ({"precisions": "bf16"}, "RunConfig.precisions (--precision) must be a tuple of strings"),
        (
            {"robustness": "off"},
            "RunConfig.robustness (--robustness) must be True or False, got 'off'",
        ),
    ],
)
def test_a_bad_field_is_one_error_naming_it_and_nothing_is_written(tmp_path, change, fragment):
    out = tmp_path / "out"
    config = RunConfig(
        **{"models": ("logreg",), "datasets": ("digits",), "profile": "quick", "out": out, **change}
    )
    with pytest.raises(BenchError) as err:
        bench.run_suite(config)
    assert fragment in str(err.value) and "\n" not in str(err.value)
    assert not out.exists()


def test_run_suite_trains_records_and_publishes_like_the_command(tmp_path, capsys):
    out = tmp_path / "res"
    outcomes = bench.run_suite(
        bench.RunConfig(
            models=("logreg",),
            datasets=("digits",),
            profile="quick",
            seeds=2,
            out=out,
            robustness=False,
            save_models=False,
            threads=1,
        )
    )
    assert [o.status for o in outcomes] == ["ok", "ok"]
    recs = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]
    assert sorted(r["job"]["seed"] for r in recs) == [0, 1]
    assert {r["job"]["threads"] for r in recs} == {1} and {
        r["job"]["robustness"] for r in recs
    } == {False}
    assert not any("robustness" in r for r in recs)
    assert {o.record["run_id"] for o in outcomes} == {r["run_id"] for r in recs}
    assert (out / "LEADERBOARD.md").is_file() and "logreg" in (out / "LEADERBOARD.md").read_text()
    assert "2 of 2 job(s) without failure" in capsys.readouterr().out


def test_a_dry_run_lists_the_jobs_of_plugins_and_grids_and_writes_nothing(tmp_path):
    """``run --dry-run``: a plugin file's model and a ``--with`` name planned beside a grid
    over datasets and seeds, the datasets fetched, no results folder made."""
    from tests.conftest import ROOT, run_cli

    out = tmp_path / "new" / "results"
    proc = run_cli(
        "run",
        "logreg",
        "--with",
        "resnet-small",
        "--plugin",
        str(ROOT / "examples" / "plugins" / "keras_resnet.py"),
        "--grid",
        "logreg.C=0.5,2",
        "--dataset",
        "digits",
        "--profile",
        "quick",
        "--seeds",
        "2",
        "--out",
        str(out),
        "--dry-run",
    )
    assert proc.returncode == 0, proc.stderr
    jobs = [line.split(" ", 3)[3] for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert jobs == [
        f"{model} on digits (quick, cpu, seed {seed})"
        for seed in (0, 1)
        for model in ("logreg C=0.5", "logreg C=2", "resnet-small")
    ]
    assert "dry run: 6 job(s)" in proc.stdout and "nothing was trained or written" in proc.stdout
    assert not (tmp_path / "new").exists()


def test_a_dry_run_refuses_bad_input_in_one_line(tmp_path):
    from tests.conftest import assert_one_line_error, run_cli

    proc = run_cli("run", "logreg", "--seeds", "0", "--out", str(tmp_path / "r"), "--dry-run")
    assert_one_line_error(proc, "--seeds must be a positive integer")
    assert not (tmp_path / "r").exists()


def test_a_dry_run_on_a_dask_cluster_plans_with_its_workers_thread_budget(tmp_path):
    """The cluster is connected for the plan: two worker processes on this machine's cores
    give each job its share of them, as the run itself would (threads are in a job's identity)."""
    import os

    from tests.conftest import run_cli

    out = tmp_path / "r"
    args = ("run", "logreg", "--dataset", "digits", "--profile", "quick", "--out", str(out))
    proc = run_cli(*args, "--executor", "dask", "--workers", "2", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    assert f"dry run: 1 job(s), {share} thread(s) each" in proc.stdout
    assert not out.exists()
