"""``report`` and ``compare``: views of stored records."""

from __future__ import annotations

from bench.core.errors import BenchError
from bench.run.entry import positive_float


def cmd_report(args) -> int:
    """Write the leaderboard of the stored records (Markdown and figures by default; the
    numbers as CSV, JSON or LaTeX; ``html``: the static site, ``_site_paths``), and with
    ``--readme`` the README's leaderboard section."""
    from bench import records
    from bench.publish import leaderboard as report

    if args.format not in (*report.FORMATS, "html"):
        raise BenchError(
            f"unknown format {args.format!r}; choose from: {', '.join((*report.FORMATS, 'html'))}"
        )
    runs, site = (
        _site_paths(args) if args.format == "html" else (args.runs or args.out / "runs", None)
    )
    if args.readme is not None and not args.readme.is_file():
        raise BenchError(f"--readme: no such file: {args.readme}")
    target = positive_float(args.tta_target, "--tta-target")
    if not 0 < target <= 1:
        raise BenchError(
            f"--tta-target is a fraction in (0, 1], e.g. 0.99; got {args.tta_target!r}"
        )
    recs = records.require(runs, "--runs")  # never rewrite a published leaderboard from nothing
    if args.check:
        return _check_published(args, runs)
    if site is not None:
        from bench.publish.site import build

        print(f"site: {build.publish_site(runs, site, tta_target=target)}")
    else:
        path = report.publish(
            runs, args.out, plots=not args.no_plots, fmt=args.format, tta_target=target
        )
        print(f"leaderboard: {path}")
    if args.readme is not None:
        report.update_readme(args.readme, report.load_frame(runs, target, recs))
        print(f"updated: {args.readme}")
    return 0


def _check_published(args, runs) -> int:
    """``report --check``: print each published output that differs from what ``runs`` make;
    0 when none does, else 1. Only the Markdown leaderboard's folder (``--out``) is checked,
    its ``site/`` too when it has one, and the README section with ``--readme``."""
    from bench.publish import published

    if args.format != "md":
        raise BenchError(
            "--check checks the Markdown leaderboard, its figures, <out>/site/ and the README section; "
            f"drop --format {args.format}"
        )
    site = args.out / "site" if (args.out / "site" / "index.html").is_file() else None
    problems = published.check(runs, args.out, site=site, readme=args.readme)
    for line in problems:
        print(line)
    checked = _and(
        [
            "LEADERBOARD.md and its figures",
            *(["the site"] if site else []),
            *([f"{args.readme}'s leaderboard section"] if args.readme else []),
        ]
    )
    if problems:
        print(
            f"error: {len(problems)} published output(s) differ from what {runs} makes; regenerate with "
            "`python -m bench report` (and `--format html`, `--readme`)"
        )
        return 1
    print(f"ok: {checked} in {args.out} match {runs}")
    return 0


def _and(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _site_paths(args) -> tuple:
    """(records folder, site folder) of ``report --format html``: without ``--out`` (the
    default results folder) the site is ``results/site/`` beside ``results/runs``; ``--out
    DIR`` is the site folder itself, and the records then default to ``results/runs`` (a
    site folder is replaced whole, so the records never live in it)."""
    from bench.cli.parser import DEFAULT_RESULTS

    site = DEFAULT_RESULTS / "site" if args.out == DEFAULT_RESULTS else args.out
    return args.runs or DEFAULT_RESULTS / "runs", site


def cmd_compare(args) -> int:
    """Accuracy (clean, then corrupted) and speed of A vs B per configuration; exit 1 with
    ``--fail-on-worse`` when a model got worse, with ``--fail-on-slower PCT`` when a speed
    figure is slower by more than PCT percent."""
    from bench import records
    from bench.analysis import compare, speed
    from bench.publish import verdicts

    slower_pct = positive_float(args.fail_on_slower, "--fail-on-slower PCT (a percentage, e.g. 10)")
    before = records.require(args.before, "compare: before (A)")
    after = records.require(args.after, "compare: after (B)")
    if args.models:
        present = {r["job"]["model"] for r in before + after}
        unknown = [m for m in args.models if m not in present]
        if unknown:
            raise BenchError(
                f"--models: no records of {', '.join(unknown)}; the folders have: "
                f"{', '.join(sorted(present))}"
            )
        before = [r for r in before if r["job"]["model"] in args.models]
        after = [r for r in after if r["job"]["model"] in args.models]
    changes, only_before, only_after = compare.compare(before, after)
    if not changes:
        raise BenchError(
            f"nothing to compare: no model has ok records in both {args.before} and {args.after}"
        )
    corrupted = (
        compare.compare(before, after, what="corrupted")[0]
        if any(isinstance(r.get("robustness"), dict) for r in before + after)
        else []
    )
    family = compare.decide(
        changes, corrupted
    )  # one Holm family: --fail-on-worse fails on either table
    print(f"### {args.before} → {args.after}\n")
    print(verdicts.compare_table(changes))
    for label, keys in (("only in A", only_before), ("only in B", only_after)):
        if keys:
            print(f"\n{label}:\n" + "\n".join(f"  {k}" for k in keys))
    holm = f"Holm over the {family} comparison(s) tested" + (
        ", clean and corrupted together" if corrupted else ""
    )
    worse = _counts(changes, f"without a significant change (McNemar mid-p, {holm}, 5%)")
    if corrupted:
        print("\n### corrupted test sets: mean accuracy over the 15 MNIST-C corruptions\n")
        print(verdicts.compare_table(corrupted, what="corrupted"))
        worse += _counts(
            corrupted,
            f"without a significant change on the corrupted sets (sign-flip test of the mean gain per base image, seed "
            f"paired with seed, {holm}, 5%)",
        )
    text, slower = verdicts.speed_section(
        speed.compare_speed(compare.speed_pairs(before, after)), slower_pct
    )
    print("\n### speed: train s, train img/s, inference img/s, p50 latency (A → B)\n")
    print(text)
    return 1 if (worse and args.fail_on_worse) or slower else 0


def _counts(changes: list, how: str) -> list[str]:
    """Print how many of ``changes`` got worse, better, neither (``how`` ends the line); the
    models that got worse."""
    worse = [c.model for c in changes if c.verdict == "worse"]
    better = [c.model for c in changes if c.verdict == "better"]
    print(
        f"\n{len(worse)} worse, {len(better)} better, {len(changes) - len(worse) - len(better)} {how}"
    )
    return worse
