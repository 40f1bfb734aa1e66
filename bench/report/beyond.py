"""Beyond test accuracy, per leaderboard row: accuracy under the MNIST-C corruptions and the
calibration of the predicted probabilities, from the flat columns of the row's records
(``robustness.*``, ``calibration.*``; ``robustness.corruptions`` and ``calibration.bins``
stay whole dicts).

- ``robustness``: the corrupted accuracy's 95% interval (Student-t over seeds when their
  mean corrupted accuracies differ, else the record's own bootstrap over base images), each
  corruption's accuracy and the clean accuracy on the same base images, means over seeds.
- ``reliability``: the reliability-diagram bins summed over seeds (counts added, confidence
  and accuracy weighted by the counts).

Pure numpy/statistics; records without the sections give None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.report import stats

# MNIST-C's order (Mu and Gilmer 2019); names a record adds beyond these follow, sorted
MNIST_C = ("shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate", "brightness",
           "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges")


@dataclass
class Robustness:
    """A row's corrupted accuracy beyond its mean and std (which the row's ``values`` hold):
    the interval (percent), the set it was measured on, per-corruption and clean accuracies
    (percent, means over the seeds that have them)."""

    low: float | None
    high: float | None
    interval: str  # "t" (over seeds) | "bootstrap" (one run's, over base images)
    seeds: int
    n_per_corruption: int
    n_corruptions: int
    digest: str
    per_corruption: dict[str, float] = field(default_factory=dict)
    clean: float | None = None
    clean_low: float | None = None
    clean_high: float | None = None


def column(g, col: str) -> list:
    """The values of ``col`` in the frame ``g`` (Nones where the column is absent)."""
    return list(g[col]) if col in g.columns else [None] * len(g)


def _number(v) -> float | None:
    """``v`` as a float when it is a number and not NaN, else None."""
    number = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
    return float(v) if number and not np.isnan(v) else None  # pandas gives numpy scalars


def ordered(names) -> list[str]:
    """Corruption names in MNIST-C order, any others after them, sorted."""
    names = set(names)
    return [n for n in MNIST_C if n in names] + sorted(names - set(MNIST_C))


def spread(values, fallback: tuple) -> tuple:
    """(low, high, "t") the Student-t interval of the mean of ``values`` (percent, clipped to
    [0, 100]) when there are two or more and they differ; else ``fallback``."""
    v = [float(x) for x in values]
    if len(v) >= 2 and len(set(v)) > 1:
        t = stats.seed_interval(v)
        return max(t["low"], 0.0), min(t["high"], 100.0), "t"
    return fallback


def robustness(g) -> Robustness | None:
    """The corrupted-accuracy facts of one row's records ``g`` (sorted by seed), over the
    records that have a ``robustness`` section; None when none has."""
    have = [i for i, v in enumerate(column(g, "robustness.mean_accuracy")) if _number(v) is not None]
    if not have:
        return None
    sub = g.iloc[have]
    last = sub.iloc[-1]
    mean = [100 * float(v) for v in sub["robustness.mean_accuracy"]]
    own = [_number(last.get(c)) for c in ("robustness.mean_low", "robustness.mean_high")]
    low, high, kind = spread(mean, (None if own[0] is None else 100 * own[0],
                                    None if own[1] is None else 100 * own[1], "bootstrap"))
    n = int(_number(last.get("robustness.n_per_corruption")) or 0)
    per: dict[str, list[float]] = {}
    for entry in column(sub, "robustness.corruptions"):
        for name, c in (entry or {}).items():
            if isinstance(c, dict) and _number(c.get("accuracy")) is not None:
                per.setdefault(name, []).append(100 * float(c["accuracy"]))
    out = Robustness(low, high, kind, len(sub), n, int(_number(last.get("robustness.n_corruptions")) or len(per)),
                     str(last.get("robustness.digest")),
                     {name: float(np.mean(per[name])) for name in ordered(per)})
    clean = [100 * v for v in map(_number, column(sub, "robustness.clean_accuracy")) if v is not None]
    if clean and n > 0:
        wl, wh = stats.wilson(round(clean[-1] / 100 * n), n)
        out.clean = float(np.mean(clean))
        out.clean_low, out.clean_high, _ = spread(clean, (100 * wl, 100 * wh, "wilson"))
    return out


def reliability(g) -> dict | None:
    """The reliability bins of the records ``g`` summed over seeds: ``count`` (added),
    ``confidence`` and ``accuracy`` (count-weighted means; None for a bin no seed filled).
    None when no record has bins, or when records disagree on the number of bins."""
    bins = [b for b in column(g, "calibration.bins") if isinstance(b, dict) and b.get("count")]
    if not bins or len({len(b["count"]) for b in bins}) != 1:
        return None
    k = len(bins[0]["count"])
    count, conf, acc = np.zeros(k), np.zeros(k), np.zeros(k)
    for b in bins:
        c = np.asarray(b["count"], dtype=float)
        for total, key in ((conf, "confidence"), (acc, "accuracy")):
            v = np.array([np.nan if x is None else float(x) for x in b[key]])
            total += np.where(c > 0, c * np.nan_to_num(v), 0.0)
        count += c
    filled = count > 0
    return {"count": [int(c) for c in count],
            "confidence": [float(s / c) if f else None for s, c, f in zip(conf, count, filled)],
            "accuracy": [float(s / c) if f else None for s, c, f in zip(acc, count, filled)]}


def mean_confidence(bins: dict) -> tuple[float, float] | None:
    """(mean top-label confidence, accuracy) over the images of summed bins (fractions);
    None when every bin is empty."""
    c = np.asarray(bins["count"], dtype=float)
    if c.sum() == 0:
        return None
    conf = np.array([0.0 if x is None else x for x in bins["confidence"]])
    acc = np.array([0.0 if x is None else x for x in bins["accuracy"]])
    return float((c * conf).sum() / c.sum()), float((c * acc).sum() / c.sum())
