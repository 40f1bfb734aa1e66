"""The gate's tolerance: a prediction interval over the baseline's seeds, with a stated
false-failure rate.

A baseline holds n seeds of a model, mean x̄ and standard deviation s. If the seeds' accuracies
are normal draws, and m new seeds of the unchanged model are fresh draws from the same
distribution, the mean ȳ of the new seeds satisfies

    (ȳ - x̄) / (s · sqrt(1/m + 1/n)) ~ Student t with n - 1 degrees of freedom,

so ȳ falls outside x̄ ± t(1 - α/2, n - 1) · s · sqrt(1/m + 1/n) with probability α, and below
it, where ``check`` fails, with probability α/2. ``ALPHA`` = 1%: an unchanged model leaves the
band 1% of the time and fails 0.5% of the time (``false_failure_rate``). ``check`` compares the
mean of the seeds it is given (``check --run``: one seed, m = 1, the factor sqrt(1 + 1/n)).

The floor (0.5 pp) is the least tolerance: where s says less than that, and the whole
tolerance where there is no measured spread, a baseline of one seed (n < 2) or a
seed-independent model (every seed the same predictions: s = 0 is not stability). The floor
only widens the band, so the false-failure rate is at most α/2.

The rule before (baseline schema 1) was max(floor, k · s), k = 3: with n = 3 seeds (2 degrees of
freedom) a fresh seed falls below x̄ - 3s with probability P(t₂ < -3 / sqrt(4/3)) = 6.1%.
``upgrade`` re-derives such a baseline's tolerances under this rule when it is read.
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.01  # two-sided: 1% of unchanged models leave the band, half of them below it
FLOOR = 0.005
SCHEMA = 2


def false_failure_rate(alpha: float = ALPHA) -> float:
    """How often an unchanged model fails: the lower tail of the two-sided band, alpha / 2."""
    return alpha / 2


def rule_text(alpha: float = ALPHA, floor: float = FLOOR) -> str:
    """The rule in words, as the baseline file and ``check``'s legend state it."""
    return (
        f"{100 * (1 - alpha):g}% prediction interval for the mean of m new seeds: "
        f"t(1-{alpha:g}/2, n-1) x std over the n baseline seeds x sqrt(1/m + 1/n), at least {100 * floor:g} pp "
        f"(the floor alone for one baseline seed or a seed-independent model); an unchanged model fails "
        f"{100 * false_failure_rate(alpha):g}% of the time"
    )


def half_width(std, n: int, m: int = 1, alpha: float = ALPHA):
    """t(1 - alpha/2, n - 1) · std · sqrt(1/m + 1/n): the prediction interval's half-width for
    the mean of ``m`` new seeds from a baseline of ``n`` seeds with standard deviation ``std``
    (a number or an array of them); ``ValueError`` unless n >= 2 and m >= 1."""
    from scipy import stats as st

    if n < 2 or m < 1:
        raise ValueError(
            f"a prediction interval needs n >= 2 baseline seeds and m >= 1 new ones (n={n}, m={m})"
        )
    return (
        float(st.t.ppf(1 - alpha / 2, n - 1))
        * np.asarray(std, dtype=np.float64)
        * math.sqrt(1 / m + 1 / n)
    )


def tolerance(
    std,
    n: int,
    m: int = 1,
    alpha: float = ALPHA,
    floor: float = FLOOR,
    seed_independent: bool = False,
):
    """The tolerance (module docstring): max(floor, ``half_width``), or the floor alone for
    n < 2 or a seed-independent model. Vectorised over ``std``."""
    if seed_independent or n < 2:
        return np.full_like(np.asarray(std, dtype=np.float64), floor)[()]
    return np.maximum(floor, half_width(std, n, m, alpha))[()]


def of_entry(entry: dict, m: int, alpha: float = ALPHA, floor: float = FLOOR) -> float:
    """A baseline entry's tolerance for the mean of ``m`` new seeds; an entry without
    ``accuracy_std`` and ``n`` (a hand-written file) keeps its recorded ``tolerance``."""
    if not isinstance(entry.get("n"), int) or not isinstance(
        entry.get("accuracy_std"), (int, float)
    ):
        return float(entry["tolerance"])
    return float(
        tolerance(
            entry["accuracy_std"], entry["n"], m, alpha, floor, bool(entry.get("seed_independent"))
        )
    )


def upgrade(baseline: dict) -> dict:
    """A schema-1 baseline (tolerance max(floor, k x std)) as schema 2: this rule at ``ALPHA``,
    its own floor, each entry's tolerance (for one new seed) re-derived from its seeds' spread;
    ``upgraded_from`` says so. Schema 2 comes back as it is."""
    if baseline.get("schema") != 1:
        return baseline
    floor = float(baseline.get("floor", FLOOR))
    out = {k: v for k, v in baseline.items() if k != "k"}
    out.update(
        schema=SCHEMA,
        upgraded_from=1,
        alpha=ALPHA,
        floor=floor,
        false_failure_rate=false_failure_rate(ALPHA),
        tolerance_rule=rule_text(ALPHA, floor),
    )
    out["models"] = {
        model: {**e, "tolerance": of_entry(e, 1, ALPHA, floor)}
        for model, e in baseline["models"].items()
    }
    return out
