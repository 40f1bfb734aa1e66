"""``baseline`` and ``check``: the CI accuracy gate."""

from __future__ import annotations

from pathlib import Path

from bench.cli.parser import DEFAULT_RESULTS, run_config
from bench.cli.train import _model_names
from bench.core.errors import BenchError
from bench.run.entry import execute, positive_float


def cmd_baseline(args) -> int:
    from bench import records
    from bench.adapters import registry
    from bench.gate import check

    floor = positive_float(args.floor, "--floor")
    alpha = positive_float(args.alpha, "--alpha")
    if not 0 < alpha < 1:
        raise BenchError(f"--alpha is a fraction in (0, 1), e.g. 0.01; got {args.alpha!r}")
    if args.runs is not None and (args.all or args.models):
        raise BenchError(
            "--runs builds the baseline from every model in the records; name no models with it"
        )
    names = _model_names(args) if (args.all or args.models) else registry.default_suite()
    # named models refresh their own entries; the file's other models are kept
    only = [registry.get(n).name for n in names] if args.models else None
    path = args.baseline or check.baseline_path(args.out, args.dataset, args.profile)
    old = check.read_baseline(path) if only and Path(path).is_file() else None
    if old is not None:  # a corrupt or incompatible file: refused before training
        check.check_mergeable(
            old,
            {
                "dataset": args.dataset,
                "profile": args.profile,
                "device": "cpu",
                "floor": floor,
                "alpha": alpha,
            },
        )
    if args.runs is None:
        execute(
            run_config(args, names, [args.dataset], args.profile, "cpu", args.seeds, args.out),
            resumable=False,
        )
    recs = records.require(args.runs or args.out / "runs", "--runs")
    baseline = check.build_baseline(
        recs, args.dataset, args.profile, "cpu", floor=floor, alpha=alpha, only=only
    )
    if old is not None:
        baseline = check.merge_baseline(old, baseline)
    check.write_baseline(path, baseline)
    for model, m in sorted(baseline["models"].items()):
        print(_entry_line(model, m, kept=bool(only) and model not in only))
    print(f"tolerance (for one new seed): {baseline['tolerance_rule']}")
    print(f"baseline: {path}")
    return 0


def _entry_line(model: str, m: dict, kept: bool) -> str:
    """One baseline entry for people; a kept entry may come from an older file with fewer fields."""
    spread = f"n={m.get('n', '?')}" + (
        f", std {100 * m['accuracy_std']:.3f} pp" if "accuracy_std" in m else ""
    )
    return (
        f"  {model:10s} accuracy {100 * m['accuracy']:.2f}% ({spread}) tolerance ±{100 * m['tolerance']:.2f} pp"
        + ("  (kept from the existing baseline)" if kept else "")
    )


def cmd_check(args) -> int:
    """The gate. ``--run`` without ``--out`` trains into a temporary folder that is removed
    when the check ends, however it ends (a failure, Ctrl-C); with ``--out`` it is kept."""
    import shutil
    import tempfile

    from bench.gate import check

    slower_pct = positive_float(args.fail_on_slower, "--fail-on-slower PCT (a percentage, e.g. 10)")
    baseline_file = args.baseline or check.baseline_path(DEFAULT_RESULTS, "mnist", "quick")
    baseline = check.read_baseline(baseline_file)
    only = args.models or None
    if only:
        unknown = [m for m in only if m not in baseline["models"]]
        if unknown:
            raise BenchError(
                f"--models: not in the baseline: {', '.join(unknown)}; "
                f"it has: {', '.join(sorted(baseline['models']))}"
            )
    if args.run and args.runs:
        raise BenchError("give --run or --runs, not both")
    if args.set and not args.run:
        raise BenchError("--set needs --run (it changes what is trained)")
    scratch = (
        Path(tempfile.mkdtemp(prefix="mnist-bench-check-"))
        if args.run and args.out is None
        else None
    )
    try:
        runs = args.runs or DEFAULT_RESULTS / "runs"
        if args.run:
            out = args.out or scratch
            execute(
                run_config(
                    args,
                    only or sorted(baseline["models"]),
                    [baseline["dataset"]],
                    baseline["profile"],
                    baseline["device"],
                    1,
                    out,
                ),
                scratch=scratch is not None,
                resumable=False,
            )
            runs = out / "runs"
        return _verdicts(args, baseline, baseline_file, runs, only, slower_pct)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _verdicts(
    args,
    baseline: dict,
    baseline_file: Path,
    runs: Path,
    only: list[str] | None,
    slower_pct: float | None = None,
) -> int:
    """Print the check's tables and verdict for the records in ``runs``; 1 when a model fails,
    or with ``slower_pct`` when a speed figure is slower by more than that many percent."""
    from bench import records
    from bench.gate import check

    recs = records.require(runs, "--runs")
    if not check.newest(recs, baseline["dataset"], baseline["profile"], baseline["device"]):
        raise BenchError(
            f"no records for {baseline['dataset']}/{baseline['profile']}/{baseline['device']} in {runs}"
        )
    baseline_recs = (
        records.read_all(args.baseline_runs, warn=False) if args.baseline_runs.is_dir() else []
    )
    verdicts = check.compare(baseline, recs, only, baseline_recs)
    print(f"\n### Accuracy check against `{baseline_file}`\n")
    print(check.table(verdicts))
    print("\n" + check.legend(baseline, verdicts))
    failing = [v.model for v in verdicts if v.fails]
    print(
        f"\n{'FAIL: ' + ', '.join(failing) if failing else 'PASS'}: {len(verdicts) - len(failing)} of "
        f"{len(verdicts)} model(s) hold their accuracy"
    )
    slower = _speed(args, baseline, recs, only, baseline_recs, slower_pct)
    if slower:
        print(
            f"FAIL: {len(slower)} speed figure(s) slower than the baseline's records by more than {slower_pct:g}%"
        )
    return 1 if failing or slower else 0


def _speed(
    args,
    baseline: dict,
    recs: list[dict],
    only: list[str] | None,
    baseline_recs: list[dict],
    slower_pct: float | None,
) -> list:
    """Print the speed of the checked records against the baseline's own records; the
    figures slower by more than ``slower_pct`` percent (none without it)."""
    from bench.analysis import speed
    from bench.gate import check
    from bench.publish import verdicts

    print("\n### Speed against the baseline's own records\n")
    pairs = check.speed_pairs(baseline, recs, only, baseline_recs)
    if not pairs:
        print(
            f"no speed comparison: the baseline's own records are not in {args.baseline_runs} (--baseline-runs)"
        )
        return []
    text, slower = verdicts.speed_section(
        speed.compare_speed(pairs, names=("the baseline", "this check")), slower_pct
    )
    print(text)
    return slower
