"""``python -m bench``: list, data, run, report, selfcheck.

Every user error (``BenchError``) is printed as one line, ``error: ...``, with exit code 2.
``run`` exits 1 when any job failed or timed out, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.errors import BenchError

DEFAULT_RESULTS = Path("results")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``error:`` line and exit code 2."""

    def error(self, message: str):
        raise BenchError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m bench", description="MNIST-style classifier benchmark harness.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", help="models and datasets")

    data = sub.add_parser("data", help="fetch or describe a dataset")
    data.add_argument("action", choices=["fetch", "info"])
    data.add_argument("name", help="mnist, fashion-mnist, digits, npz:PATH, idx:DIR or csv:PATH")
    data.add_argument("--json", action="store_true", help="print info as JSON")

    run = sub.add_parser("run", help="train and measure models; one record per job")
    run.add_argument("models", nargs="*", help="model names (see `list`)")
    run.add_argument("--all", action="store_true", help="the six default families")
    run.add_argument("--dataset", action="append", help="dataset (repeatable; default mnist)")
    run.add_argument("--profile", default="full", help="full or quick (default full)")
    run.add_argument("--device", default="cpu", help="cpu, gpu or all (default cpu)")
    run.add_argument("--seeds", default="1", help="number of seeds, 0..N-1 (default 1)")
    run.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE",
                     help="override a hyper-parameter, e.g. cnn-small.epochs=3 (repeatable)")
    run.add_argument("--threads", default=None, help="CPU threads for every framework (default: all usable cores)")
    run.add_argument("--timeout", default=None, help="seconds per job (default: full 3600, quick 600)")
    run.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)")
    run.add_argument("--deterministic", action="store_true",
                     help="TensorFlow op determinism: bit-identical Keras runs for a seed (slower)")
    run.add_argument("--infer-batch", default=None, help="large inference batch (default 1000)")
    run.add_argument("--infer-min-repeats", default=None, help="minimum timed inference calls per batch size")
    run.add_argument("--infer-min-seconds", default=None, help="minimum timed seconds per batch size")

    check = sub.add_parser("selfcheck", help="harness vs plain-loop inference timing, in one process")
    check.add_argument("model", nargs="?", default="logreg")
    check.add_argument("--dataset", default="mnist")
    check.add_argument("--profile", default="quick")
    check.add_argument("--rounds", default="5", help="alternating harness/plain rounds (default 5)")
    check.add_argument("--threads", default=None, help="CPU threads (default: all usable cores)")

    report = sub.add_parser("report", help="rebuild LEADERBOARD.md and plots from stored records (no training)")
    report.add_argument("--runs", type=Path, default=None, help="records folder (default <out>/runs)")
    report.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="output folder (default results/)")
    report.add_argument("--format", default="md", help="md (LEADERBOARD.md + plots), csv or json")
    report.add_argument("--no-plots", action="store_true", help="Markdown without figures")
    report.add_argument("--readme", nargs="?", type=Path, const=Path("README.md"), default=None,
                        help="also update the leaderboard section of README.md (or PATH) between its markers")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_list(args) -> int:
    import models
    from bench import data

    from tabulate import tabulate

    rows = []
    for name in models.names():
        cls = models.get(name)
        count = cls.static_param_count(cls.defaults["full"])
        rows.append([name, cls.family, cls.view, ",".join(cls.devices),
                     f"{count:,}" if count is not None else "data-dependent", cls.description])
    print(tabulate(rows, headers=["model", "family", "view", "devices", "params", "description"]))
    print()
    print("datasets: " + ", ".join(data.known_names()))
    return 0


def cmd_data(args) -> int:
    from bench import data

    ds = data.load(args.name)
    for note in ds.notes:
        print(f"note: tried {note}", file=sys.stderr)
    info = ds.info()
    if args.json:
        print(json.dumps(info, indent=1))
    elif args.action == "fetch":
        print(f"{info['name']}: {info['n_train']} train / {info['n_test']} test images from {info['source']}"
              + (f", cached at {info['path']}" if info["path"] else ""))
    else:
        for key in ("name", "n_train", "n_test", "image_shape", "source", "path", "sha256", "digest"):
            print(f"{key:>18}: {info[key]}")
        print(f"{'train per class':>18}: {' '.join(map(str, info['train_class_counts']))}")
        print(f"{'test per class':>18}: {' '.join(map(str, info['test_class_counts']))}")
    return 0


def _positive_int(raw, flag: str, allow_none=False):
    if raw is None and allow_none:
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BenchError(f"{flag} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise BenchError(f"{flag} must be a positive integer, got {raw!r}")
    return value


def _positive_float(raw, flag: str):
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BenchError(f"{flag} must be a positive number, got {raw!r}") from None
    if not value > 0:
        raise BenchError(f"{flag} must be a positive number, got {raw!r}")
    return value


def cmd_run(args) -> int:
    import models
    from bench import data, envinfo, report, runner
    from bench.profiles import PROFILES

    if args.all and args.models:
        raise BenchError("give model names or --all, not both")
    names = list(models.DEFAULT_SUITE) if args.all else args.models
    if not names:
        raise BenchError(f"name models to run or use --all; models: {', '.join(models.names())}")
    for name in names:
        models.get(name)  # unknown name -> one-line error listing the valid ones
    if args.profile not in PROFILES:
        raise BenchError(f"unknown profile {args.profile!r}; choose from: {', '.join(PROFILES)}")
    seeds = list(range(_positive_int(args.seeds, "--seeds")))
    threads = _positive_int(args.threads, "--threads", allow_none=True) or envinfo.usable_cores()
    profile = PROFILES[args.profile]
    timeout = float(_positive_int(args.timeout, "--timeout", allow_none=True) or profile.timeout_s)
    datasets = args.dataset or ["mnist"]
    inference = profile.inference.overridden(
        _positive_int(args.infer_batch, "--infer-batch", allow_none=True),
        _positive_int(args.infer_min_repeats, "--infer-min-repeats", allow_none=True),
        _positive_float(args.infer_min_seconds, "--infer-min-seconds"))
    jobs = runner.plan(names, datasets, args.profile, args.device, seeds, args.set, runner.gpu_available(),
                       deterministic=args.deterministic)
    runs_dir = args.out / "runs"
    runner.check_writable(runs_dir)
    for name in datasets:  # fetch and verify once, before any job starts
        ds = data.load(name)
        print(f"dataset {name}: {len(ds.splits.y_train)} train / {len(ds.splits.y_test)} test ({ds.source})")
    print(f"{len(jobs)} job(s), {threads} thread(s) each, records -> {runs_dir}")
    outcomes = runner.run_suite(jobs, runs_dir, threads, timeout, inference=inference.as_dict())
    board = report.write_leaderboard(args.out)
    print(f"\nleaderboard: {board}")
    bad = [o for o in outcomes if o.status in ("failed", "timeout")]
    for o in bad:
        print(f"  {o.status}: {o.job.title()}: {o.record.get('error') if o.record else ''}")
    print(f"{len(outcomes) - len(bad)} of {len(outcomes)} job(s) without failure")
    return 1 if bad else 0


def cmd_report(args) -> int:
    from bench import records, report

    runs = args.runs or args.out / "runs"
    if not runs.is_dir():
        raise BenchError(f"no run records: {runs} is not a folder (run `python -m bench run` first)")
    if args.format not in ("md", "csv", "json"):
        raise BenchError(f"unknown format {args.format!r}; choose from: md, csv, json")
    if args.readme is not None and not args.readme.is_file():
        raise BenchError(f"--readme: no such file: {args.readme}")
    print(f"leaderboard: {report.publish(runs, args.out, plots=not args.no_plots, fmt=args.format)}")
    if args.readme is not None:
        report.update_readme(args.readme, records.load(runs))
        print(f"updated: {args.readme}")
    return 0


def cmd_selfcheck(args) -> int:
    import models
    from bench import envinfo, selfcheck
    from bench.profiles import PROFILES

    models.get(args.model)
    if args.profile not in PROFILES:
        raise BenchError(f"unknown profile {args.profile!r}; choose from: {', '.join(PROFILES)}")
    rounds = _positive_int(args.rounds, "--rounds")
    threads = _positive_int(args.threads, "--threads", allow_none=True) or envinfo.usable_cores()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))  # before any numerical library loads a pool
    figures = selfcheck.run(args.model, args.dataset, args.profile, rounds, threads)
    table, ok = selfcheck.render(args.model, figures)
    print(table)
    print("harness overhead within band" if ok else "harness and plain loop disagree beyond the band")
    return 0 if ok else 1


COMMANDS = {"list": cmd_list, "data": cmd_data, "run": cmd_run, "report": cmd_report, "selfcheck": cmd_selfcheck}
