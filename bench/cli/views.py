"""``report`` and ``compare``: views of stored records."""

from __future__ import annotations

from bench.core.errors import BenchError
from bench.run.suite import positive_float


def cmd_report(args) -> int:
    from bench import records
    from bench.report import leaderboard as report

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
    from bench import records
    from bench.report import compare

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
            print(f"\n{label}:\n" + "\n".join(f"  {k}" for k in keys))
    worse = [c.model for c in changes if c.verdict == "worse"]
    better = [c.model for c in changes if c.verdict == "better"]
    print(f"\n{len(worse)} worse, {len(better)} better, {len(changes) - len(worse) - len(better)} without a "
          f"significant change (McNemar mid-p, Holm over {len(changes)} models, 5%)")
    worse += _corrupted(compare, before, after)
    return 1 if worse and args.fail_on_worse else 0


def _corrupted(compare, before: list[dict], after: list[dict]) -> list[str]:
    """Print the same comparison for the mean accuracy over the MNIST-C corruptions when
    either side has robustness records; the models whose corrupted accuracy got worse."""
    if not any(isinstance(r.get("robustness"), dict) for r in before + after):
        return []
    changes, _, _ = compare.compare(before, after, what="corrupted")
    print("\n### corrupted test sets: mean accuracy over the 15 MNIST-C corruptions\n")
    print(compare.table(changes, what="corrupted"))
    worse = [c.model for c in changes if c.verdict == "worse"]
    better = [c.model for c in changes if c.verdict == "better"]
    print(f"\n{len(worse)} worse, {len(better)} better on the corrupted sets (sign-flip test of the mean gain "
          f"per base image, seed paired with seed, Holm over {len(changes)} models, 5%)")
    return worse
