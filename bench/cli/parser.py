"""The command line: one parser for every command, and the options that training commands share."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.core.errors import BenchError

DEFAULT_RESULTS = Path("results")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``error:`` line and exit code 2."""

    def error(self, message: str):
        raise BenchError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one sub-parser per command, each built by its ``_add_*``."""
    p = _Parser(prog="python -m bench", description="MNIST-style classifier benchmark harness.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_list(sub)
    _add_data(sub)
    _add_run(sub)
    _add_baseline(sub)
    _add_check(sub)
    _add_compare(sub)
    _add_predict(sub)
    _add_evaluate(sub)
    _add_card(sub)
    _add_machine(sub)
    _add_selfcheck(sub)
    _add_report(sub)
    _add_check_adapter(sub)
    for command in sub.choices.values():  # every command may name models: each takes --plugin
        command.add_argument(
            "--plugin",
            action="append",
            default=[],
            metavar="FILE.py",
            help="a Python file registering models of your own (repeatable): @register on an "
            "Adapter subclass, or sklearn_model / keras_model from bench.adapters",
        )
    return p


def _add_list(sub) -> None:
    """The ``list`` command: models and datasets."""
    sub.add_parser("list", help="models and datasets")


def _add_data(sub) -> None:
    """The ``data`` command: fetch or describe a dataset."""
    data = sub.add_parser(
        "data", help="fetch or describe a dataset, or build its corrupted test set"
    )
    data.add_argument(
        "action",
        choices=["fetch", "info", "corrupt"],
        help="corrupt: build (or load) the 15 MNIST-C corruptions of its test set and time it",
    )
    data.add_argument("name", help="mnist, fashion-mnist, digits, npz:PATH, idx:DIR or csv:PATH")
    data.add_argument("--json", action="store_true", help="print info as JSON")
    data.add_argument(
        "--rebuild", action="store_true", help="corrupt: remove the cached corrupted set first"
    )


def _add_run(sub) -> None:
    """The ``run`` command: train and measure models, one record per job."""
    run = sub.add_parser("run", help="train and measure models; one record per job")
    run.add_argument("models", nargs="*", help="model names (see `list`)")
    run.add_argument("--all", action="store_true", help="the six default families")
    run.add_argument(
        "--with",
        dest="with_models",
        action="append",
        default=[],
        metavar="NAME|FILE",
        help="one more model for the run (repeatable), beside the names, --all or --suite: a model "
        "name, or an already-trained file (.keras, .onnx, .skops, XGBoost .ubj/.json), "
        "evaluated only, never trained here",
    )
    run.add_argument("--suite", default=None, help="a named suite: default (= --all) or reference")
    run.add_argument("--dataset", action="append", help="dataset (repeatable; default mnist)")
    run.add_argument("--profile", default="full", help="full or quick (default full)")
    run.add_argument("--device", default="cpu", help="cpu, gpu or all (default cpu)")
    run.add_argument("--seeds", default="1", help="number of seeds, 0..N-1 (default 1)")
    run.add_argument(
        "--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)"
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="skip jobs that already have a result (ok or diverged) of the same configuration "
        "and seed in --out",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the jobs the run would do (and which --resume skips) after every check and "
        "the datasets' fetch, then stop: nothing trained or written",
    )
    run.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="MODEL.KEY=V1,V2,...",
        help="sweep a hyper-parameter: every combination of the --grid values (repeatable) x seeds "
        "x datasets is one job",
    )
    run.add_argument(
        "--target",
        default=None,
        metavar="ACC",
        help="stop each model once its validation accuracy reaches ACC (e.g. 0.99), MLPerf style; "
        "models evaluated only at the end train as usual",
    )
    run.add_argument(
        "--executor",
        default="local",
        help="local (one job at a time here, the default) or dask (a Dask cluster)",
    )
    run.add_argument(
        "--workers",
        default=None,
        help="with --executor dask and no --scheduler: LocalCluster worker processes (default 1)",
    )
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="with --executor dask: an existing scheduler (workers need --nthreads 1)",
    )
    run.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="resident memory bound per job, e.g. 4GiB (over it: killed, failed record); with dask "
        "the default is each worker's own memory limit",
    )
    _add_job_options(run)
    _add_file_options(run)


def _add_file_options(p) -> None:
    """How an already-trained file (``--with FILE``, ``evaluate FILE``) takes the images."""
    p.add_argument(
        "--input-scale",
        default=None,
        metavar="1|255",
        help="trained files: the pixel scale the model was trained on, 1 ([0, 1], the harness's own, "
        "default) or 255 ([0, 255])",
    )
    p.add_argument(
        "--input-layout",
        default=None,
        metavar="auto|flat|nhwc|nchw",
        help="trained files: how the model takes an image, (N, 784) flat, (N, 28, 28, 1) nhwc or "
        "(N, 1, 28, 28) nchw (default auto: read from the model's input shape)",
    )


def file_options(args) -> dict:
    """The input convention of trained files from ``--input-scale`` / ``--input-layout``
    (absent ones left to ``bench.adapters.trained``'s defaults)."""
    given = {
        "input_scale": getattr(args, "input_scale", None),
        "input_layout": getattr(args, "input_layout", None),
    }
    return {k: v for k, v in given.items() if v is not None}


def _add_baseline(sub) -> None:
    """The ``baseline`` command: write the accuracy baseline ``check`` compares against."""
    base = sub.add_parser("baseline", help="write the accuracy baseline the check compares against")
    base.add_argument("action", choices=["update"])
    base.add_argument(
        "models",
        nargs="*",
        help="models to refresh: their entries are rebuilt and the other models of an existing "
        "baseline file are kept (default: the six families, the file written afresh)",
    )
    base.add_argument(
        "--all", action="store_true", help="the six default families, the file written afresh"
    )
    base.add_argument("--dataset", default="mnist")
    base.add_argument("--profile", default="quick")
    base.add_argument(
        "--seeds",
        default="5",
        help="seeds to run, 0..N-1 (default 5: the prediction interval of 3 seeds is over twice as wide)",
    )
    base.add_argument(
        "--runs", type=Path, default=None, help="build from these records instead of running"
    )
    base.add_argument(
        "--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)"
    )
    base.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="file to write (default results/baselines/DATASET-PROFILE.json)",
    )
    base.add_argument(
        "--floor",
        default="0.005",
        help="smallest tolerance, as a fraction (default 0.005 = 0.5 pp)",
    )
    base.add_argument(
        "--alpha",
        default="0.01",
        help="tolerance = max(floor, prediction interval over the seeds at 1 - alpha); an unchanged "
        "model fails alpha/2 of the time (default 0.01: 0.5%%)",
    )
    _add_job_options(base)


_SPEED_HELP = (
    "exit 1 when a speed figure (train s, train img/s, inference img/s, p50 latency) got slower by "
    "more than PCT percent with the verdict 'slower' (records of one hardware fingerprint only)"
)


def _add_check(sub) -> None:
    """The ``check`` command: exit 1 when a model's accuracy regresses against the baseline."""
    gate = sub.add_parser(
        "check", help="fail (exit 1) when a model's accuracy regresses against the baseline"
    )
    gate.add_argument(
        "--baseline", type=Path, default=None, help="default results/baselines/mnist-quick.json"
    )
    gate.add_argument(
        "--runs", type=Path, default=None, help="records to check (default results/runs)"
    )
    gate.add_argument(
        "--run", action="store_true", help="run the baseline's profile first (seed 0)"
    )
    gate.add_argument(
        "--out", type=Path, default=None, help="with --run: results folder (default: a temp folder)"
    )
    gate.add_argument("--models", nargs="+", default=None, help="check only these models")
    gate.add_argument("--fail-on-slower", default=None, metavar="PCT", help=_SPEED_HELP)
    gate.add_argument(
        "--baseline-runs",
        type=Path,
        default=DEFAULT_RESULTS / "runs",
        help="where the baseline's own records are, for the paired evidence (default results/runs)",
    )
    _add_job_options(gate)


def _add_compare(sub) -> None:
    """The ``compare`` command: records A vs B, per model, paired on the test images."""
    comp = sub.add_parser(
        "compare", help="per model, before (A) vs after (B): paired test on the test images"
    )
    comp.add_argument("before", type=Path, help="records folder A (before a change)")
    comp.add_argument("after", type=Path, help="records folder B (after it)")
    comp.add_argument("--models", nargs="+", default=None, help="compare only these models")
    comp.add_argument(
        "--fail-on-worse",
        action="store_true",
        help="exit 1 when any model is significantly worse (clean or corrupted accuracy, "
        "one Holm family over both)",
    )
    comp.add_argument("--fail-on-slower", default=None, metavar="PCT", help=_SPEED_HELP)


def _add_predict(sub) -> None:
    """The ``predict`` command: classify image files with a saved model."""
    pred = sub.add_parser("predict", help="classify your own digit images with a saved model")
    pred.add_argument("model", help="a run id, a record or artifact path, or 'best'")
    pred.add_argument("images", nargs="+", help="PNG/JPEG/BMP/GIF files or folders of them")
    pred.add_argument(
        "--dataset", default="mnist", help="with 'best': the dataset the model was trained on"
    )
    pred.add_argument(
        "--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)"
    )
    pred.add_argument(
        "--runtime",
        default="native",
        metavar="native|onnxruntime",
        help="native (default): the model's own framework; onnxruntime: the model.onnx a "
        "--runtime onnxruntime job saved beside it",
    )
    pred.add_argument("--json", action="store_true", help="print JSON for scripts")
    pred.add_argument(
        "--gallery", type=Path, default=None, help="also draw each input as the model saw it (PNG)"
    )


def _add_evaluate(sub) -> None:
    """The ``evaluate`` command: reload a saved model and recompute its test metrics."""
    ev = sub.add_parser(
        "evaluate",
        help="reload a saved model and recompute its test metrics, or measure an "
        "already-trained model file (a full record, without training)",
    )
    ev.add_argument(
        "model",
        help="a run id, a record or artifact path, 'best', or a trained model file (.keras, "
        ".onnx, .skops, XGBoost .ubj/.json) to measure like a job: a record in --out",
    )
    ev.add_argument(
        "--dataset",
        default=None,
        help="default: the dataset it was trained on (a trained model file: mnist)",
    )
    ev.add_argument(
        "--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)"
    )
    ev.add_argument("--json", action="store_true", help="print JSON for scripts")
    ev.add_argument(
        "--profile",
        default=None,
        help="a trained model file: the profile of its job (default quick)",
    )
    _add_job_options(ev)
    _add_file_options(ev)


def _add_card(sub) -> None:
    """The ``card`` command: (re)write the model card (README.md) of every saved model."""
    card = sub.add_parser(
        "card", help="(re)write the model card (README.md) beside every saved model"
    )
    card.add_argument(
        "--results",
        "--out",
        dest="results",
        type=Path,
        default=DEFAULT_RESULTS,
        help="results folder holding runs/ and models/ (default results/)",
    )


def _add_machine(sub) -> None:
    """The ``machine`` command: this host's measured peaks (GEMM, matmul, memory bandwidth)."""
    machine = sub.add_parser(
        "machine", help="measure (once per hardware fingerprint) and print this host's peaks"
    )
    machine.add_argument(
        "--threads", default=None, help="CPU threads (default: all usable cores, as jobs get)"
    )
    machine.add_argument(
        "--remeasure", action="store_true", help="measure again, replacing the cached figures"
    )
    machine.add_argument(
        "--save",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the figures to DIR/<fingerprint>.json (e.g. results/machines, which "
        "the report reads for records made before records carried them)",
    )
    machine.add_argument("--json", action="store_true", help="print JSON for scripts")


def _add_selfcheck(sub) -> None:
    """The ``selfcheck`` command: the harness's inference timing against a plain loop."""
    selfcheck = sub.add_parser(
        "selfcheck", help="harness vs plain-loop inference timing, in one process"
    )
    selfcheck.add_argument("model", nargs="?", default="logreg")
    selfcheck.add_argument("--dataset", default="mnist")
    selfcheck.add_argument("--profile", default="quick")
    selfcheck.add_argument(
        "--rounds", default="5", help="alternating harness/plain rounds (default 5)"
    )
    selfcheck.add_argument(
        "--threads", default=None, help="CPU threads (default: all usable cores)"
    )


def _add_report(sub) -> None:
    """The ``report`` command: rebuild LEADERBOARD.md and plots from stored records."""
    report = sub.add_parser(
        "report", help="rebuild LEADERBOARD.md and plots from stored records (no training)"
    )
    report.add_argument(
        "--runs", type=Path, default=None, help="records folder (default <out>/runs)"
    )
    report.add_argument(
        "--out", type=Path, default=DEFAULT_RESULTS, help="output folder (default results/)"
    )
    report.add_argument(
        "--format",
        default="md",
        help="md (LEADERBOARD.md + plots), csv, json, latex (booktabs) or html: a static offline "
        "site (sortable tables, interactive figures, a page per model) written to "
        "results/site/, or to --out DIR as the site folder (records from --runs, default "
        "results/runs)",
    )
    report.add_argument("--no-plots", action="store_true", help="Markdown without figures")
    report.add_argument(
        "--tta-target",
        default="0.99",
        help="validation accuracy of the 'time to X (val)' column, as a fraction (default 0.99)",
    )
    report.add_argument(
        "--readme",
        nargs="?",
        type=Path,
        const=Path("README.md"),
        default=None,
        help="also update the leaderboard section of README.md (or PATH) between its markers",
    )
    report.add_argument(
        "--check",
        action="store_true",
        help="write nothing: regenerate into a temporary folder and list every published output "
        "(LEADERBOARD.md and its figures, <out>/site/ when present, the README section with "
        "--readme) that differs from what the records make; exit 1 when any does",
    )


def _add_check_adapter(sub) -> None:
    """The ``check-adapter`` command: the adapter contract's rules, checked on a digits slice."""
    check = sub.add_parser(
        "check-adapter",
        help="check that a model's adapter keeps the contract (for plugin "
        "authors): a few hundred digits images, one line per rule",
    )
    check.add_argument("model", help="model name (see `list`; with --plugin, one of yours)")
    check.add_argument("--seed", type=int, default=0, help="seed of the fits (default 0)")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")


def _add_job_options(p) -> None:
    """Options every command that trains shares."""
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="override a hyper-parameter, e.g. cnn-small.epochs=3 (repeatable)",
    )
    p.add_argument(
        "--threads",
        default=None,
        help="CPU threads for every framework (default: all usable cores)",
    )
    p.add_argument(
        "--timeout",
        default=None,
        help="seconds per job, e.g. 90 or 1.5 (default: full 3600, quick 600)",
    )
    p.add_argument(
        "--precision",
        action="append",
        default=None,
        metavar="fp32|bf16|fp16",
        help="numeric precision of the Keras models (repeatable: one job per value; default fp32): "
        "bf16 = Keras mixed_bfloat16 (a CPU with AVX-512 BF16 or AMX, or a GPU), fp16 = "
        "mixed_float16 (GPU only)",
    )
    p.add_argument(
        "--runtime",
        action="append",
        default=None,
        metavar="native|onnxruntime",
        help="what serves the trained model's predictions (repeatable: one job per value; "
        "default native): native = its own framework; onnxruntime = its ONNX export "
        "(skl2onnx, onnxmltools, tf2onnx) in ONNX Runtime on the CPU, after a parity check "
        "against the native predictions",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="TensorFlow op determinism: bit-identical Keras runs for a seed (slower)",
    )
    p.add_argument("--infer-batch", default=None, help="large inference batch (default 1000)")
    p.add_argument(
        "--infer-min-repeats", default=None, help="minimum timed inference calls per batch size"
    )
    p.add_argument("--infer-min-seconds", default=None, help="minimum timed seconds per batch size")
    p.add_argument(
        "--robustness",
        default="on",
        metavar="on|off",
        help="accuracy on the 15 MNIST-C corruptions of the test set (default on)",
    )
    p.add_argument(
        "--no-save-models",
        action="store_true",
        help="do not keep the fitted models (default: saved under <out>/models/<run id>/)",
    )
    p.add_argument(
        "--no-plots",
        action="store_true",
        help="after the suite, the leaderboard without its figures (quicker; `bench report` draws "
        "them later)",
    )


def run_config(
    args,
    models: list[str],
    datasets: list[str],
    profile: str,
    device: str,
    seeds,
    out,
    resume: bool = False,
):
    """The ``RunConfig`` (``bench.run.entry``) of a training command's flags, numbers typed
    here (``BenchError`` naming the flag, in the order the flags were always checked:
    seeds, profile, threads, timeout, inference, robustness, target, workers);
    ``suite.validate`` checks the rest."""
    from bench.measure.profiles import PROFILES
    from bench.run.entry import RunConfig, positive_float, positive_int

    n_seeds = positive_int(seeds, "--seeds")
    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; choose from: {', '.join(PROFILES)}")
    numbers = {
        "threads": positive_int(args.threads, "--threads", allow_none=True),
        "timeout_s": positive_float(args.timeout, "--timeout"),
        "infer_batch": positive_int(args.infer_batch, "--infer-batch", allow_none=True),
        "infer_min_repeats": positive_int(
            args.infer_min_repeats, "--infer-min-repeats", allow_none=True
        ),
        "infer_min_seconds": positive_float(args.infer_min_seconds, "--infer-min-seconds"),
    }
    robust = getattr(args, "robustness", None)
    robust = "on" if robust is None else robust  # commands without the option measure it
    if robust not in ("on", "off"):
        raise BenchError(f"--robustness must be on or off, got {robust!r}")
    target = getattr(args, "target", None)
    if target is not None and (positive_float(target, "--target") or 0) > 1:
        raise BenchError(
            f"--target is a validation accuracy as a fraction in (0, 1], e.g. 0.99; got {target!r}"
        )
    return RunConfig(
        models=tuple(models),
        datasets=tuple(datasets),
        profile=profile,
        device=device,
        seeds=n_seeds,
        out=Path(out),
        resume=bool(resume),
        **numbers,
        overrides=tuple(args.set or ()),
        grid=tuple(getattr(args, "grid", None) or ()),
        target=positive_float(target, "--target"),
        deterministic=bool(args.deterministic),
        precisions=tuple(getattr(args, "precision", None) or ("fp32",)),
        runtimes=tuple(getattr(args, "runtime", None) or ("native",)),
        robustness=robust == "on",
        save_models=not getattr(args, "no_save_models", False),
        plots=not getattr(args, "no_plots", False),
        executor=getattr(args, "executor", None) or "local",
        workers=positive_int(getattr(args, "workers", None) or 1, "--workers"),
        scheduler=getattr(args, "scheduler", None),
        memory_limit=getattr(args, "memory_limit", None),
    )
