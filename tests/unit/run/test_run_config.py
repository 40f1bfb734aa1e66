"""The typed entry point: ``bench.run_suite(RunConfig(...))`` runs what ``python -m bench run``
runs, the CLI builds the same ``RunConfig`` from its flags, and a bad field is one error
naming its flag before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli.parser import build_parser, run_config
from bench.core.errors import BenchError
from bench.run.entry import RunConfig, again_hint


def test_the_cli_builds_the_config_a_script_would():
    args = build_parser().parse_args(
        [
            "run",
            "logreg",
            "mlp",
            "--dataset",
            "digits",
            "--profile",
            "quick",
            "--seeds",
            "3",
            "--threads",
            "1",
            "--set",
            "mlp.epochs=2",
            "--precision",
            "bf16",
            "--robustness",
            "off",
            "--no-save-models",
            "--out",
            "x",
        ]
    )
    got = run_config(
        args, ["logreg", "mlp"], args.dataset, args.profile, args.device, args.seeds, args.out
    )
    assert got == RunConfig(
        models=("logreg", "mlp"),
        datasets=("digits",),
        profile="quick",
        seeds=3,
        out=Path("x"),
        threads=1,
        overrides=("mlp.epochs=2",),
        precisions=("bf16",),
        robustness=False,
        save_models=False,
    )


def test_the_cli_checks_flags_in_the_order_it_always_did():
    args = build_parser().parse_args(
        ["run", "logreg", "--profile", "huge", "--timeout", "0", "--robustness", ""]
    )
    with pytest.raises(BenchError, match="unknown profile 'huge'"):
        run_config(args, ["logreg"], ["digits"], args.profile, args.device, args.seeds, args.out)
    args = build_parser().parse_args(["run", "logreg", "--robustness", "", "--target", "99"])
    with pytest.raises(BenchError, match="--robustness must be on or off, got ''"):
        run_config(args, ["logreg"], ["digits"], args.profile, args.device, args.seeds, args.out)
    args = build_parser().parse_args(["run", "logreg", "--target", "99"])
    with pytest.raises(BenchError, match="e.g. 0.99; got '99'"):
        run_config(args, ["logreg"], ["digits"], args.profile, args.device, args.seeds, args.out)


def test_an_interrupted_script_is_told_to_resume_through_its_config():
    assert again_hint(["run", "--all"], None) == "resume with: the same RunConfig with resume=True"
    assert again_hint(["run", "--all"], True) == "resume with: python -m bench run --all --resume"
