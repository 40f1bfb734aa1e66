"""The suite's own overhead: what a suite spent besides training, per job and in total.

Per job: its wall time as the suite saw it (process start to exit), its ``fit_s`` (THE
training clock) and the rest, with the stages the worker timed (``timing.stages``: start-up
and imports, data and model build, the validation passes inside the fit that the training
clock leaves out, evaluation, inference timing, robustness, saving, cold start, environment). In total: the suite's wall time from the command's start to the
leaderboard written, the sum of ``fit_s``, and the rest, split into the jobs' own overhead
and the time outside every job (planning, data checks, the leaderboard).
"""

from __future__ import annotations

import math

STAGE_NAMES = {
    "startup": "start-up",
    "data_and_build": "data+build",
    "validation": "validation (in fit)",
    "evaluate": "evaluate",
    "size": "size",
    "inference": "inference timing",
    "robustness": "robustness",
    "save": "save",
    "cold_start": "cold start",
    "environment": "environment",
}


def _fit_s(outcome) -> float | None:
    rec = outcome.record or {}
    value = (rec.get("timing") or {}).get("fit_s") if outcome.status in ("ok", "diverged") else None
    return float(value) if isinstance(value, (int, float)) and not math.isnan(value) else None


def job_line(outcome) -> str:
    """One job: wall, fit, the rest and its three largest stages."""
    wall, fit = float(outcome.seconds), _fit_s(outcome)
    if fit is None:
        return (
            f"  {outcome.job.title():58s} wall {wall:7.1f}s  ({outcome.status}: no training clock)"
        )
    rest = wall - fit
    stages = ((outcome.record or {}).get("timing") or {}).get("stages") or {}
    top = sorted(((v, k) for k, v in stages.items() if isinstance(v, (int, float))), reverse=True)[
        :3
    ]
    detail = ", ".join(f"{STAGE_NAMES.get(k, k)} {v:.1f}s" for v, k in top)
    return (
        f"  {outcome.job.title():58s} wall {wall:7.1f}s  fit {fit:7.1f}s  rest {rest:6.1f}s "
        f"({100 * rest / wall if wall > 0 else 0:4.1f}%)" + (f": {detail}" if detail else "")
    )


def summary(outcomes: list, suite_wall_s: float) -> list[str]:
    """The overhead section of the end-of-suite summary (no lines for no jobs)."""
    if not outcomes:
        return []
    fit = sum(f for f in map(_fit_s, outcomes) if f is not None)
    jobs_wall = sum(float(o.seconds) for o in outcomes)
    rest = suite_wall_s - fit
    share = 100 * rest / suite_wall_s if suite_wall_s > 0 else 0.0
    lines = ["overhead (wall time besides training):", *map(job_line, outcomes)]
    if (
        jobs_wall > suite_wall_s
    ):  # jobs ran side by side (a cluster): sums of job times exceed the wall
        return [
            *lines,
            (
                f"  total: wall {suite_wall_s:.1f}s for {jobs_wall:.1f}s of job time side by side "
                f"({fit:.1f}s of it training, {jobs_wall - fit:.1f}s the jobs' own overhead)"
            ),
        ]
    return [
        *lines,
        (
            f"  total: wall {suite_wall_s:.1f}s, training (sum of fit_s) {fit:.1f}s, rest {rest:.1f}s "
            f"({share:.1f}% of the wall): {jobs_wall - fit:.1f}s inside the jobs, "
            f"{suite_wall_s - jobs_wall:.1f}s outside them (planning, data checks, leaderboard)"
        ),
    ]
