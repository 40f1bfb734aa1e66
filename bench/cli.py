"""``python -m bench``: list, data, run, report, compare, predict, evaluate, selfcheck, baseline, check.

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
from bench.suite import execute, positive_float, positive_int

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
    run.add_argument("--grid", action="append", default=[], metavar="MODEL.KEY=V1,V2,...",
                     help="sweep a hyper-parameter: every combination of the --grid values (repeatable) x seeds "
                          "x datasets is one job")
    run.add_argument("--target", default=None, metavar="ACC",
                     help="stop each model once its validation accuracy reaches ACC (e.g. 0.99), MLPerf style; "
                          "models evaluated only at the end train as usual")
    run.add_argument("--executor", default="local",
                     help="local (one job at a time here, the default) or dask (a Dask cluster)")
    run.add_argument("--workers", default=None,
                     help="with --executor dask and no --scheduler: LocalCluster worker processes (default 1)")
    run.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="with --executor dask: an existing scheduler (workers need --nthreads 1)")
    run.add_argument("--memory-limit", default=None, metavar="SIZE",
                     help="resident memory bound per job, e.g. 4GiB (over it: killed, failed record); with dask "
                          "the default is each worker's own memory limit")
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
    gate.add_argument("--baseline-runs", type=Path, default=DEFAULT_RESULTS / "runs",
                      help="where the baseline's own records are, for the paired evidence (default results/runs)")
    _add_job_options(gate)

    comp = sub.add_parser("compare", help="per model, before (A) vs after (B): paired test on the test images")
    comp.add_argument("before", type=Path, help="records folder A (before a change)")
    comp.add_argument("after", type=Path, help="records folder B (after it)")
    comp.add_argument("--models", nargs="+", default=None, help="compare only these models")
    comp.add_argument("--fail-on-worse", action="store_true", help="exit 1 when any model is significantly worse")

    pred = sub.add_parser("predict", help="classify your own digit images with a saved model")
    pred.add_argument("model", help="a run id, a record or artifact path, or 'best'")
    pred.add_argument("images", nargs="+", help="PNG/JPEG/BMP/GIF files or folders of them")
    pred.add_argument("--dataset", default="mnist", help="with 'best': the dataset the model was trained on")
    pred.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)")
    pred.add_argument("--json", action="store_true", help="print JSON for scripts")
    pred.add_argument("--gallery", type=Path, default=None, help="also draw each input as the model saw it (PNG)")

    ev = sub.add_parser("evaluate", help="reload a saved model and recompute its test metrics")
    ev.add_argument("model", help="a run id, a record or artifact path, or 'best'")
    ev.add_argument("--dataset", default=None, help="default: the dataset it was trained on")
    ev.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="results folder (default results/)")
    ev.add_argument("--json", action="store_true", help="print JSON for scripts")

    selfcheck = sub.add_parser("selfcheck", help="harness vs plain-loop inference timing, in one process")
    selfcheck.add_argument("model", nargs="?", default="logreg")
    selfcheck.add_argument("--dataset", default="mnist")
    selfcheck.add_argument("--profile", default="quick")
    selfcheck.add_argument("--rounds", default="5", help="alternating harness/plain rounds (default 5)")
    selfcheck.add_argument("--threads", default=None, help="CPU threads (default: all usable cores)")

    report = sub.add_parser("report", help="rebuild LEADERBOARD.md and plots from stored records (no training)")
    report.add_argument("--runs", type=Path, default=None, help="records folder (default <out>/runs)")
    report.add_argument("--out", type=Path, default=DEFAULT_RESULTS, help="output folder (default results/)")
    report.add_argument("--format", default="md", help="md (LEADERBOARD.md + plots), csv, json or latex (booktabs)")
    report.add_argument("--no-plots", action="store_true", help="Markdown without figures")
    report.add_argument("--tta-target", default="0.99",
                        help="validation accuracy of the 'time to X (val)' column, as a fraction (default 0.99)")
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
    p.add_argument("--no-save-models", action="store_true",
                   help="do not keep the fitted models (default: saved under <out>/models/<run id>/)")


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


def cmd_run(args) -> int:
    names = _model_names(args)
    seeds = positive_int(args.seeds, "--seeds")
    outcomes = execute(args, names, args.dataset or ["mnist"], args.profile, args.device, seeds, args.out,
                       resume=args.resume)
    return 1 if any(o.status in ("failed", "timeout") for o in outcomes) else 0


def cmd_baseline(args) -> int:
    import models
    from bench import check, records

    floor = positive_float(args.floor, "--floor")
    k = positive_float(args.k, "--k")
    if args.runs is None:
        names = _model_names(args) if (args.all or args.models) else list(models.DEFAULT_SUITE)
        execute(args, names, [args.dataset], args.profile, "cpu", positive_int(args.seeds, "--seeds"), args.out)
    elif args.all or args.models:
        raise BenchError("--runs builds the baseline from every model in the records; name no models with it")
    runs = args.runs or args.out / "runs"
    recs = records.require(runs, "--runs")
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
    if only:
        unknown = [m for m in only if m not in baseline["models"]]
        if unknown:
            raise BenchError(f"--models: not in the baseline: {', '.join(unknown)}; "
                             f"it has: {', '.join(sorted(baseline['models']))}")
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
    recs = records.require(runs, "--runs")
    if not check.newest(recs, baseline["dataset"], baseline["profile"], baseline["device"]):
        raise BenchError(f"no records for {baseline['dataset']}/{baseline['profile']}/{baseline['device']} in {runs}")
    baseline_recs = records.read_all(args.baseline_runs, warn=False) if args.baseline_runs.is_dir() else []
    verdicts = check.compare(baseline, recs, only, baseline_recs)
    print(f"\n### Accuracy check against `{baseline_file}`\n")
    print(check.table(verdicts))
    failing = [v.model for v in verdicts if v.fails]
    print(f"\n{'FAIL: ' + ', '.join(failing) if failing else 'PASS'}: {len(verdicts) - len(failing)} of "
          f"{len(verdicts)} model(s) hold")
    return 1 if failing else 0


def cmd_report(args) -> int:
    from bench import records, report

    runs = args.runs or args.out / "runs"
    if args.format not in report.FORMATS:
        raise BenchError(f"unknown format {args.format!r}; choose from: {', '.join(report.FORMATS)}")
    if args.readme is not None and not args.readme.is_file():
        raise BenchError(f"--readme: no such file: {args.readme}")
    target = positive_float(args.tta_target, "--tta-target")
    if not 0 < target <= 1:
        raise BenchError(f"--tta-target is a fraction in (0, 1], e.g. 0.99; got {args.tta_target!r}")
    recs = records.require(runs, "--runs")  # never rewrite a published leaderboard from nothing
    print(f"leaderboard: {report.publish(runs, args.out, plots=not args.no_plots, fmt=args.format, tta_target=target)}")
    if args.readme is not None:
        df = records.load(runs, recs)
        df.attrs["tta_target"] = target
        report.update_readme(args.readme, df)
        print(f"updated: {args.readme}")
    return 0


def cmd_compare(args) -> int:
    from bench import compare, records

    before = records.require(args.before, "compare: before (A)")
    after = records.require(args.after, "compare: after (B)")
    if args.models:
        present = {r["job"]["model"] for r in before + after}
        unknown = [m for m in args.models if m not in present]
        if unknown:
            raise BenchError(f"--models: no records of {', '.join(unknown)}; the folders have: "
                             f"{', '.join(sorted(present))}")
        before = [r for r in before if r["job"]["model"] in args.models]
        after = [r for r in after if r["job"]["model"] in args.models]
    changes, only_before, only_after = compare.compare(before, after)
    if not changes:
        raise BenchError(f"nothing to compare: no model has ok records in both {args.before} and {args.after}")
    print(f"### {args.before} → {args.after}\n")
    print(compare.table(changes))
    for label, keys in (("only in A", only_before), ("only in B", only_after)):
        if keys:
            print(f"\n{label}: " + ", ".join("/".join(k) for k in keys))
    worse = [c.model for c in changes if c.verdict == "worse"]
    better = [c.model for c in changes if c.verdict == "better"]
    print(f"\n{len(worse)} worse, {len(better)} better, {len(changes) - len(worse) - len(better)} without a "
          f"significant change (McNemar mid-p, Holm over {len(changes)} models, 5%)")
    return 1 if worse and args.fail_on_worse else 0


def cmd_predict(args) -> int:
    from bench import use

    if args.gallery is not None and args.gallery.suffix.lower() != ".png":
        raise BenchError(f"--gallery {args.gallery}: give a .png file name")
    manifest, predictions, images, timing = use.predict(args.model, args.out, args.dataset, args.images)
    if args.json:
        print(json.dumps({"model": manifest["model"], "run_id": manifest["run_id"], "timing": timing,
                          "predictions": [{"image": p.image, "top": [{"digit": c, "probability": q} for c, q in p.top]}
                                          for p in predictions]}, indent=1))
    else:
        print(f"model: {manifest['model']} (run {manifest['run_id']}, trained on {manifest['dataset']})\n")
        print(use.table(predictions))
        print(f"\nloaded in {timing['load_s']:.2f}s; {len(predictions)} image(s) predicted in "
              f"{1e3 * timing['predict_s']:.1f} ms")
    if args.gallery is not None:
        print(f"gallery: {use.gallery(predictions, images, manifest, args.gallery)}",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_evaluate(args) -> int:
    from tabulate import tabulate

    from bench import artifacts, use

    folder = artifacts.resolve(args.model, args.out, args.dataset or "mnist")
    result = use.evaluate(folder, args.dataset, args.out)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "metrics"} |
                         {"metrics": {k: result["metrics"][k] for k in ("accuracy", "log_loss", "macro_f1")}},
                         indent=1))
        return 0
    rec = result["record"]
    rows = [[k, f"{result['metrics'][k]:.6f}", "-" if rec is None else f"{rec[k]:.6f}",
             "-" if rec is None else ("equal" if rec[k] == result["metrics"][k] else "DIFFERENT")]
            for k in ("accuracy", "log_loss", "macro_f1")]
    print(f"{result['model']} (run {result['run_id']}) on {result['dataset']} test set\n")
    print(tabulate(rows, headers=["metric", "now", "record", ""], tablefmt="github", disable_numparse=True))
    if result["probe_identical"] is not None:
        print(f"\nprobabilities on the probe images: {'bit-identical' if result['probe_identical'] else 'DIFFERENT'}"
              " to the live model's when it was saved")
    return 0


def cmd_selfcheck(args) -> int:
    import models
    from bench import envinfo, selfcheck
    from bench.profiles import PROFILES

    models.get(args.model)
    if args.profile not in PROFILES:
        raise BenchError(f"unknown profile {args.profile!r}; choose from: {', '.join(PROFILES)}")
    rounds = positive_int(args.rounds, "--rounds")
    threads = positive_int(args.threads, "--threads", allow_none=True) or envinfo.usable_cores()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))  # before any numerical library loads a pool
    figures = selfcheck.run(args.model, args.dataset, args.profile, rounds, threads)
    table, ok = selfcheck.render(args.model, figures)
    print(table)
    print("harness overhead within band" if ok else "harness and plain loop disagree beyond the band")
    return 0 if ok else 1


COMMANDS = {"list": cmd_list, "data": cmd_data, "run": cmd_run, "report": cmd_report, "compare": cmd_compare,
            "predict": cmd_predict, "evaluate": cmd_evaluate, "selfcheck": cmd_selfcheck, "baseline": cmd_baseline,
            "check": cmd_check}
