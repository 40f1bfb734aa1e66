"""``baseline`` and ``check``: the CI accuracy gate."""

from __future__ import annotations

from pathlib import Path

from bench.cli.parser import DEFAULT_RESULTS
from bench.cli.train import _model_names
from bench.core.errors import BenchError
from bench.run.suite import execute, positive_float, positive_int


def cmd_baseline(args) -> int:
    from bench import records
    from bench.adapters import registry
    from bench.gate import check

    floor = positive_float(args.floor, "--floor")
    k = positive_float(args.k, "--k")
    if args.runs is None:
        names = _model_names(args) if (args.all or args.models) else list(registry.DEFAULT_SUITE)
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

    from bench import records
    from bench.gate import check

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
