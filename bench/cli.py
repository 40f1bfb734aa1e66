"""``python -m bench``: list, data, run, report, selfcheck, baseline, check.

Every user error (``BenchError``) is printed as one line, ``error: ...``, with exit code 2.
``run`` exits 1 when any job failed or timed out, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
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
    run.add_argument("--suite", default=None, help="a named suite: default (= --all) or reference")
    run.add_argument("--dataset", action="append", help="dataset (repeatable; default mnist)")
    run.add_argument("--profile", default="full", help="full or quick (default full)")
    run.add_argument("--device", default="cpu", help="cpu, gpu or all (default cpu)")
    run.add_argument("--seeds", default="1", help="number of seeds, 0..N-1 (default 1)")
    run.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)")
    run.add_argument("--resume", action="store_true",
                     help="skip jobs that already have an ok record with the same key in --out")
    _add_job_options(run)

    base = sub.add_parser("baseline", help="write the accuracy baseline the check compares against")
    base.add_argument("action", choices=["update"])
    base.add_argument("models", nargs="*", help="models (default: the six families)")
    base.add_argument("--all", action="store_true", help="the six default families")
    base.add_argument("--dataset", default="mnist")
    base.add_argument("--profile", default="quick")
    base.add_argument("--seeds", default="3", help="seeds to run, 0..N-1 (default 3)")
    base.add_argument("--runs", type=Path, default=None, help="build from these records instead of running")
    base.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)")
    base.add_argument("--baseline", type=Path, default=None, help="file to write (default results/baselines/DATASET-PROFILE.json)")
    base.add_argument("--floor", default="0.005", help="smallest tolerance, as a fraction (default 0.005 = 0.5 pp)")
    base.add_argument("--k", default="3", help="tolerance = max(floor, k x std over seeds) (default 3)")
    _add_job_options(base)

    gate = sub.add_parser("check", help="fail (exit 1) when a model's accuracy regresses against the baseline")
    gate.add_argument("--baseline", type=Path, default=None, help="default results/baselines/mnist-quick.json")
    gate.add_argument("--runs", type=Path, default=None, help="records to check (default results/runs)")
    gate.add_argument("--run", action="store_true", help="run the baseline's profile first (seed 0)")
    gate.add_argument("--out", type=Path, default=None, help="with --run: results folder (default: a temp folder)")
    gate.add_argument("--models", nargs="+", default=None, help="check only these models")
    _add_job_options(gate)

    selfcheck = sub.add_parser("selfcheck", help="harness vs plain-loop inference timing, in one process")
    selfcheck.add_argument("model", nargs="?", default="logreg")
    selfcheck.add_argument("--dataset", default="mnist")
    selfcheck.add_argument("--profile", default="quick")
    selfcheck.add_argument("--rounds", default="5", help="alternating harness/plain rounds (default 5)")
    selfcheck.add_argument("--threads", default=None, help="CPU threads (default: all usable cores)")

    report = sub.add_parser("report", help="rebuild LEADERBOARD.md and plots from stored records (no training)")
    report.add_argument("--runs", type=Path, default=None, help="records folder (default <out>/runs)")
    report.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="output folder (default results/)")
    report.add_argument("--format", default="md", help="md (LEADERBOARD.md + plots), csv or json")
    report.add_argument("--no-plots", action="store_true", help="Markdown without figures")
    report.add_argument("--readme", nargs="?", type=Path, const=Path("README.md"), default=None,
                        help="also update the leaderboard section of README.md (or PATH) between its markers")
    return p


def _add_job_options(p) -> None:
    """Options every command that trains shares."""
    p.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE",
                   help="override a hyper-parameter, e.g. cnn-small.epochs=3 (repeatable)")
    p.add_argument("--threads", default=None, help="CPU threads for every framework (default: all usable cores)")
    p.add_argument("--timeout", default=None, help="seconds per job (default: full 3600, quick 600)")
    p.add_argument("--deterministic", action="store_true",
                   help="TensorFlow op determinism: bit-identical Keras runs for a seed (slower)")
    p.add_argument("--infer-batch", default=None, help="large inference batch (default 1000)")
    p.add_argument("--infer-min-repeats", default=None, help="minimum timed inference calls per batch size")
    p.add_argument("--infer-min-seconds", default=None, help="minimum timed seconds per batch size")


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


def _model_names(args) -> list[str]:
    import models

    chosen = [flag for flag, on in (("model names", bool(args.models)), ("--all", args.all),
                                    ("--suite", getattr(args, "suite", None) is not None)) if on]
    if len(chosen) > 1:
        raise BenchError(f"give one of model names, --all or --suite, not {' and '.join(chosen)}")
    if getattr(args, "suite", None) is not None:
        return models.suite(args.suite)
    names = list(models.DEFAULT_SUITE) if args.all else args.models
    if not names:
        raise BenchError(f"name models to run or use --all or --suite; models: {', '.join(models.names())}")
    for name in names:
        models.get(name)  # unknown name -> one-line error listing the valid ones
    return names


def execute(args, names: list[str], datasets: list[str], profile_name: str, device: str, n_seeds: int,
            out: Path, resume: bool = False) -> list:
    """Plan and run jobs with the shared run options in ``args``; writes the leaderboard of
    ``out``. Returns the outcomes; exits 130 (after keeping what finished) when interrupted."""
    from bench import data, envinfo, report, runner
    from bench.preprocess import missing_classes, prepare
    from bench.profiles import PROFILES

    if profile_name not in PROFILES:
        raise BenchError(f"unknown profile {profile_name!r}; choose from: {', '.join(PROFILES)}")
    profile = PROFILES[profile_name]
    threads = _positive_int(args.threads, "--threads", allow_none=True) or envinfo.usable_cores()
    timeout = float(_positive_int(args.timeout, "--timeout", allow_none=True) or profile.timeout_s)
    inference = profile.inference.overridden(
        _positive_int(args.infer_batch, "--infer-batch", allow_none=True),
        _positive_int(args.infer_min_repeats, "--infer-min-repeats", allow_none=True),
        _positive_float(args.infer_min_seconds, "--infer-min-seconds"))
    has_gpu = runner.gpu_available()
    runner.plan(names, datasets, profile_name, device, [0], args.set, has_gpu)  # bad names, --set, device: fail now
    runs_dir = out / "runs"
    runner.check_writable(runs_dir)
    digests = {}
    for name in datasets:  # fetch and verify once, before any job starts
        ds = data.load(name)
        s = ds.splits
        prep = prepare(s.x_train, s.y_train, s.x_test, s.y_test, profile.split)
        for split, y in (("train", prep.y_train), ("validation", prep.y_val)):
            if missing_classes(y):
                raise BenchError(f"dataset {name} ({profile_name} profile): the {split} split has no images of "
                                 f"class(es) {', '.join(map(str, missing_classes(y)))}; every class 0..9 is needed")
        digests[name] = s.digest()
        print(f"dataset {name}: {len(s.y_train)} train / {len(s.y_test)} test ({ds.source})")
    jobs = runner.plan(names, datasets, profile_name, device, list(range(n_seeds)), args.set,
                       has_gpu, deterministic=args.deterministic, digests=digests)
    print(f"{len(jobs)} job(s), {threads} thread(s) each, records -> {runs_dir}")
    try:
        outcomes = runner.run_suite(jobs, runs_dir, threads, timeout, inference=inference.as_dict(), resume=resume)
    except runner.Interrupted as stop:
        report.write_leaderboard(out)
        again = " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "--resume")
        print(f"\ninterrupted: {len(stop.outcomes)} finished job(s) kept in {runs_dir}, no record written for the "
              f"interrupted one; {stop.pending} job(s) not done.\nresume with: python -m bench {again} --resume",
              file=sys.stderr)
        raise SystemExit(130) from None
    print(f"\nleaderboard: {report.write_leaderboard(out)}")
    bad = [o for o in outcomes if o.status in ("failed", "timeout")]
    for o in bad:
        print(f"  {o.status}: {o.job.title()}: {o.record.get('error') if o.record else ''}")
    print(f"{len(outcomes) - len(bad)} of {len(outcomes)} job(s) without failure")
    return outcomes


def cmd_run(args) -> int:
    names = _model_names(args)
    seeds = _positive_int(args.seeds, "--seeds")
    outcomes = execute(args, names, args.dataset or ["mnist"], args.profile, args.device, seeds, args.out,
                       resume=args.resume)
    return 1 if any(o.status in ("failed", "timeout") for o in outcomes) else 0


def cmd_baseline(args) -> int:
    import models
    from bench import check, records

    floor = _positive_float(args.floor, "--floor")
    k = _positive_float(args.k, "--k")
    if args.runs is None:
        names = _model_names(args) if (args.all or args.models) else list(models.DEFAULT_SUITE)
        execute(args, names, [args.dataset], args.profile, "cpu", _positive_int(args.seeds, "--seeds"), args.out)
    runs = args.runs or args.out / "runs"
    recs = records.read_all(runs)
    baseline = check.build_baseline(recs, args.dataset, args.profile, "cpu", floor=floor, k=k)
    path = args.baseline or check.baseline_path(args.out, args.dataset, args.profile)
    check.write_baseline(path, baseline)
    for model, m in sorted(baseline["models"].items()):
        print(f"  {model:10s} accuracy {100 * m['accuracy']:.2f}% (n={m['n']}, std {100 * m['accuracy_std']:.3f} pp)"
              f" tolerance ±{100 * m['tolerance']:.2f} pp")
    print(f"baseline: {path}")
    return 0


def cmd_check(args) -> int:
    import tempfile

    from bench import check, records

    baseline_file = args.baseline or check.baseline_path(DEFAULT_RESULTS, "mnist", "quick")
    baseline = check.read_baseline(baseline_file)
    only = args.models or None
    if args.run and args.runs:
        raise BenchError("give --run or --runs, not both")
    if args.run:
        names = only or sorted(baseline["models"])
        out = args.out or Path(tempfile.mkdtemp(prefix="mnist-bench-check-"))
        execute(args, names, [baseline["dataset"]], baseline["profile"], baseline["device"], 1, out)
        runs = out / "runs"
    else:
        if args.set:
            raise BenchError("--set needs --run (it changes what is trained)")
        runs = args.runs or DEFAULT_RESULTS / "runs"
    if not Path(runs).is_dir():
        raise BenchError(f"no run records: {runs} is not a folder")
    recs = records.read_all(runs)
    if not check.newest(recs, baseline["dataset"], baseline["profile"], baseline["device"]):
        raise BenchError(f"no records for {baseline['dataset']}/{baseline['profile']}/{baseline['device']} in {runs}")
    verdicts = check.compare(baseline, recs, only)
    print(f"\n### Accuracy check against `{baseline_file}`\n")
    print(check.table(verdicts))
    failing = [v.model for v in verdicts if v.fails]
    print(f"\n{'FAIL: ' + ', '.join(failing) if failing else 'PASS'}: {len(verdicts) - len(failing)} of "
          f"{len(verdicts)} model(s) hold")
    return 1 if failing else 0


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


COMMANDS = {"list": cmd_list, "data": cmd_data, "run": cmd_run, "report": cmd_report, "selfcheck": cmd_selfcheck,
            "baseline": cmd_baseline, "check": cmd_check}
