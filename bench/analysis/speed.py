"""Speed verdicts of ``compare`` and ``check``: did a change make a model slower?

In the spirit of ``asv compare``. Per pair of configurations (``Pair``: the records ``compare``
pairs, ``bench.analysis.compare.speed_pairs``, or those ``check`` judges against the baseline's
own records) and per speed figure (``METRICS``), the ratio of medians over seeds

    ratio = median(after) / median(before)

with a 95% interval from Welch's t-interval on the log values (the exponential of the interval
of mean(log after) - mean(log before), Welch–Satterthwaite degrees of freedom; only when each
side has two or more values). Verdict, where "slow side" means a larger time or a smaller rate:

    slower     the ratio is beyond the noise threshold (``NOISE``) on the slow side, and the
               whole interval lies on the slow side of 1 (or there is no interval)
    faster     the same on the fast side
    inconclusive  beyond the noise threshold, but the interval reaches 1 (or the other side
               of it): the seeds do not agree on the direction
    no change  within the noise threshold
    no speed verdict   the two sides ran on different machines, thread budgets, GPUs or job
               slots, or one side's records mix them, or a side has no value of the figure

Missing, None, NaN and non-positive values are left out, figure by figure. Speed never fails
by default; ``slower_than`` picks the slower figures beyond a percentage (``--fail-on-slower``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.analysis.stats import ALPHA
from bench.core import hardware
from bench.records import identity


@dataclass(frozen=True)
class Metric:
    name: str
    path: tuple[str, ...]  # where the figure sits in a record
    lower_is_better: bool  # True for times, False for rates
    batch: tuple[str, ...] | None = (
        None  # where the batch size it was measured at sits, if it varies
    )

    @property
    def title(self) -> str:
        return f"{self.name} ({'lower' if self.lower_is_better else 'higher'} is faster)"


METRICS = (
    Metric("train s", ("timing", "fit_s"), True),
    Metric("train img/s", ("timing", "train_images_per_s"), False),
    Metric(
        "inference img/s, large batch",
        ("timing", "inference", "large", "images_per_s"),
        False,
        ("timing", "inference", "large", "batch_size"),
    ),
    Metric("p50 latency batch 1 ms", ("timing", "inference", "batch_1", "latency_ms_p50"), True),
)

# Relative change (0.25 = 25%) a figure must exceed, beyond its interval, to be called slower or
# faster: about 1.4x the largest ratio two suites of one commit showed (one pair is a small
# sample of a machine's noise); the measurement is in docs/experiments/speed-noise.md.
NOISE = {
    "train s": 0.25,
    "train img/s": 0.25,
    "inference img/s, large batch": 0.20,
    "p50 latency batch 1 ms": 1.00,
}

NO_VERDICT = "no speed verdict"
VERDICTS = ("slower", "faster", "inconclusive", "no change", NO_VERDICT)


@dataclass
class Pair:
    """One configuration's records on each side (seed -> record), as ``compare`` pairs them."""

    label: str
    where: str
    before: dict[int, dict]
    after: dict[int, dict]


@dataclass
class SpeedChange:
    label: str
    where: str
    metric: Metric
    before: list[float]  # the figure over seeds, A
    after: list[float]  # and B
    ratio: float | None = None  # median(after) / median(before)
    interval: tuple[float, float] | None = None  # 95% interval of the ratio
    verdict: str = NO_VERDICT  # slower | faster | inconclusive | no change | no speed verdict
    note: str = ""

    @property
    def slowdown(self) -> float | None:
        """How many times slower B is than A (above 1: slower), for times and rates alike."""
        if self.ratio is None:
            return None
        return self.ratio if self.metric.lower_is_better else 1 / self.ratio

    @property
    def change_pct(self) -> float | None:
        """The slowdown in percent: positive is slower, negative faster."""
        return None if self.slowdown is None else 100 * (self.slowdown - 1)


def _get(rec: dict, path: tuple[str, ...]):
    value = rec
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def values(by_seed: dict[int, dict], metric: Metric) -> list[float]:
    """The figure of each seed's record, in seed order, leaving out missing, None, NaN,
    infinite and non-positive values (a time or a rate is positive)."""
    out = []
    for seed in sorted(by_seed):
        v = _get(by_seed[seed], metric.path)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0:
            out.append(float(v))
    return out


def ratio_interval(
    before: list[float], after: list[float], alpha: float = ALPHA
) -> tuple[float, float] | None:
    """The ``1 - alpha`` interval of after / before: Welch's t-interval of mean(log after) -
    mean(log before), exponentiated; None unless each side has two or more values. Sides
    without spread give the point itself."""
    if len(before) < 2 or len(after) < 2:
        return None
    from scipy import stats as sps

    lb, la = np.log(before), np.log(after)
    d = float(la.mean() - lb.mean())
    vb, va = lb.var(ddof=1) / len(lb), la.var(ddof=1) / len(la)
    se = math.sqrt(vb + va)
    if se == 0:
        return math.exp(d), math.exp(d)
    df = (vb + va) ** 2 / (vb**2 / (len(lb) - 1) + va**2 / (len(la) - 1))
    half = float(sps.t.ppf(1 - alpha / 2, df)) * se
    return math.exp(d - half), math.exp(d + half)


def verdict(
    ratio: float, interval: tuple[float, float] | None, lower_is_better: bool, noise: float
) -> str:
    """slower, faster, inconclusive or no change (module docstring): beyond ``noise`` (a
    fraction) on one side, with the whole interval (when there is one) on that side of 1;
    beyond ``noise`` with an interval that does not lie wholly on that side: inconclusive."""
    slow = ratio if lower_is_better else 1 / ratio
    lo, hi = (
        (None, None)
        if interval is None
        else (interval if lower_is_better else (1 / interval[1], 1 / interval[0]))
    )
    if slow > 1 + noise:
        return "slower" if lo is None or lo > 1 else "inconclusive"
    if slow < 1 / (1 + noise):
        return "faster" if hi is None or hi < 1 else "inconclusive"
    return "no change"


def _machine(rec: dict) -> dict:
    ident = identity.of_record(rec)
    return {
        "hardware": ident.hardware,
        "gpu": ident.gpu,
        "threads": ident.threads,
        "slots": ident.slots,
    }


SAID = {"gpu": "GPU", "threads": "threads", "slots": "job slots per host"}


def _title(rec: dict) -> str:
    return hardware.of_env(rec.get("env"))["title"]


def where_differs(
    before: list[dict], after: list[dict], names: tuple[str, str] = ("A", "B")
) -> str | None:
    """Why the two sides' speeds are not comparable, in words, or None when every record ran
    on one hardware fingerprint with one GPU, thread budget and number of job slots."""
    for name, recs in zip(names, (before, after)):
        seen: dict[str, dict] = {}
        for r in recs:
            for field, v in _machine(r).items():
                seen.setdefault(field, {}).setdefault(v, r)
        for field, by_value in seen.items():
            if len(by_value) > 1:
                if field == "hardware":
                    return f"{name}'s records ran on {len(by_value)} machines: " + "; ".join(
                        map(_title, by_value.values())
                    )
                return f"{name}'s records mix {SAID[field]} " + ", ".join(
                    sorted(map(str, by_value))
                )
    if not before or not after:
        return None
    mb, ma = _machine(before[0]), _machine(after[0])
    if mb["hardware"] != ma["hardware"]:
        return f"{names[0]} ran on {_title(before[0])}, {names[1]} on {_title(after[0])}"
    return "; ".join(f"{SAID[f]} {mb[f]} vs {ma[f]}" for f in SAID if mb[f] != ma[f]) or None


def _batch_differs(pair: Pair, metric: Metric) -> str | None:
    if metric.batch is None:
        return None
    sizes = [{_get(r, metric.batch) for r in side.values()} for side in (pair.before, pair.after)]
    return (
        None
        if len(sizes[0] | sizes[1]) <= 1
        else "batch sizes " + " vs ".join("/".join(map(str, sorted(s, key=str))) for s in sizes)
    )


def noise_thresholds(noise: dict[str, float] | float | None) -> dict[str, float]:
    """The noise threshold of each metric: ``NOISE``, one value for all, or ``NOISE``
    overridden by name."""
    if noise is None:
        return dict(NOISE)
    if isinstance(noise, (int, float)):
        return {m.name: float(noise) for m in METRICS}
    return {**NOISE, **noise}


def change_of(
    pair: Pair,
    metric: Metric,
    noise: float,
    machine_note: str | None,
    names: tuple[str, str] = ("A", "B"),
) -> SpeedChange | None:
    """The change of one figure of one pair; None when neither side has the figure."""
    before, after = values(pair.before, metric), values(pair.after, metric)
    if not before and not after:
        return None
    change = SpeedChange(pair.label, pair.where, metric, before, after)
    if before and after:
        change.ratio = float(np.median(after) / np.median(before))
        change.interval = ratio_interval(before, after)
    missing = [name for name, side in zip(names, (before, after)) if not side]
    why = (
        machine_note
        or _batch_differs(pair, metric)
        or (f"not measured in {missing[0]}" if missing else None)
    )
    if why:
        change.note = why
    else:
        change.verdict = verdict(change.ratio, change.interval, metric.lower_is_better, noise)
        if change.interval is None:
            change.note = "one seed on a side: no interval, the threshold alone"
    return change


def compare_speed(
    pairs: list[Pair],
    noise: dict[str, float] | float | None = None,
    names: tuple[str, str] = ("A", "B"),
) -> list[SpeedChange]:
    """A ``SpeedChange`` per pair and figure of ``METRICS`` (figures neither side has are left
    out), in the pairs' order. ``noise``: the thresholds (``NOISE``; a number sets every figure's,
    a dict overrides some); ``names``: what the two sides are called in the notes."""
    thresholds = noise_thresholds(noise)
    out = []
    for pair in pairs:
        machine_note = where_differs(list(pair.before.values()), list(pair.after.values()), names)
        for metric in METRICS:
            change = change_of(pair, metric, thresholds[metric.name], machine_note, names)
            if change is not None:
                out.append(change)
    return out


def slower_than(changes: list[SpeedChange], pct: float) -> list[SpeedChange]:
    """The changes with the verdict slower whose slowdown exceeds ``pct`` percent: a time
    ratio above 1 + pct/100, a rate ratio below 1 / (1 + pct/100)."""
    return [c for c in changes if c.verdict == "slower" and c.slowdown > 1 + pct / 100]
