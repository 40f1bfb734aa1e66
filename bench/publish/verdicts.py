"""The verdicts of ``compare`` and ``check`` as text: the paired accuracy table
(``bench.analysis.compare``) and the speed table with its legend and summary
(``bench.analysis.speed``). The analysis modules decide; this one only writes."""

from __future__ import annotations

import math

import numpy as np

from bench.analysis import speed, stats
from bench.analysis.compare import Change
from bench.analysis.speed import NO_VERDICT, VERDICTS, SpeedChange, noise_thresholds


def compare_table(changes: list[Change], what: str = "accuracy") -> str:
    """GitHub-Markdown table of the changes in ``what`` (``compare.MEASURES``)."""
    from tabulate import tabulate

    def pct(v: float, sign: str = "") -> str:  # NaN: a side without the figure
        return "-" if math.isnan(v) else format(100 * v, f"{sign}.2f")

    rows = []
    for c in changes:
        rows.append(
            [
                c.label,
                c.where,
                pct(c.before),
                pct(c.after),
                pct(c.after - c.before, "+"),
                "-" if c.won is None else f"+{c.won} / -{c.lost}",
                "-" if c.p_holm is None else stats.format_p(c.p_holm),
                ",".join(map(str, c.seeds)) or "-",
                (c.verdict.upper() if c.verdict == "worse" else c.verdict)
                + (f" ({c.note})" if c.note else ""),
            ]
        )
    won = "images won / lost" if what == "accuracy" else "base images won / lost"
    return tabulate(
        rows,
        headers=[
            "model",
            "data",
            "before %",
            "after %",
            "change pp",
            won,
            "p (Holm)",
            "seeds",
            "verdict",
        ],
        tablefmt="github",
        disable_numparse=True,
    )


def _num(v: float) -> str:
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def _median(xs: list[float]) -> str:
    return _num(float(np.median(xs))) + (f" (n={len(xs)})" if len(xs) != 1 else "") if xs else "-"


def speed_table(changes: list[SpeedChange]) -> str:
    """GitHub-Markdown table of the changes: medians over seeds, the ratio and its interval,
    the slowdown in percent (positive: slower) and the verdict."""
    from tabulate import tabulate

    rows = []
    for c in changes:
        ratio = (
            "-"
            if c.ratio is None
            else f"{c.ratio:.3f}"
            + ("" if c.interval is None else f" ({c.interval[0]:.3f}–{c.interval[1]:.3f})")
        )
        slower = "-" if c.change_pct is None else f"{c.change_pct:+.1f}%"
        verdict_text = (c.verdict.upper() if c.verdict == "slower" else c.verdict) + (
            f" ({c.note})" if c.note else ""
        )
        rows.append(
            [
                c.label,
                c.where,
                c.metric.title,
                _median(c.before),
                _median(c.after),
                ratio,
                slower,
                verdict_text.replace("|", "\\|"),
            ]
        )
    return tabulate(
        rows,
        headers=[
            "model",
            "data",
            "metric",
            "before (median)",
            "after (median)",
            "ratio (95% CI)",
            "slower by",
            "verdict",
        ],
        tablefmt="github",
        disable_numparse=True,
    )


def speed_legend(noise: dict[str, float] | float | None = None) -> str:
    """One line saying what the table's columns mean and the noise thresholds."""
    thresholds = noise_thresholds(noise)
    shown = {f"{100 * v:g}%" for v in thresholds.values()}
    said = (
        shown.pop() + " for every figure"
        if len(shown) == 1
        else ", ".join(f"{name} {100 * v:g}%" for name, v in thresholds.items())
    )
    return (
        "ratio = median after / median before over seeds; its 95% interval is Welch's t on the logs (the "
        "ratio of geometric means, two or more seeds a side), so with skewed seeds the two may part; "
        f"slower by: positive = slower; noise threshold (same commit run twice, x1.4): {said}"
    )


def speed_section(
    changes: list[SpeedChange],
    fail_pct: float | None = None,
    noise: dict[str, float] | float | None = None,
) -> tuple[str, list[SpeedChange]]:
    """The text ``compare`` and ``check`` print (table, legend, counts, and with ``fail_pct``
    the figures that fail it), and the failing changes (empty without ``fail_pct``)."""
    if not changes:
        return "no speed figures to compare", []
    counts = {v: sum(c.verdict == v for c in changes) for v in VERDICTS}
    lines = [
        speed_table(changes),
        "",
        speed_legend(noise),
        "",
        ", ".join(f"{n} {v}" for v, n in counts.items()) + f" ({len(changes)} figures)",
    ]
    failing = [] if fail_pct is None else speed.slower_than(changes, fail_pct)
    for c in failing:
        lines.append(
            f"SLOWER by more than {fail_pct:g}%: {c.label} ({c.where}) {c.metric.name}: "
            f"{c.change_pct:+.1f}%"
        )
    if fail_pct is not None and not failing:
        unjudged = (
            f" ({counts[NO_VERDICT]} without a speed verdict, which never fail)"
            if counts[NO_VERDICT]
            else ""
        )
        lines.append(f"no figure slower by more than {fail_pct:g}%{unjudged}")
    return "\n".join(lines), failing
