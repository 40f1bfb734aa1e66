"""Beyond test accuracy, per leaderboard row: accuracy under the MNIST-C corruptions and the
calibration of the predicted probabilities, from the flat columns of the row's records
(``robustness.*``, ``calibration.*``; ``robustness.corruptions`` and ``calibration.bins``
stay whole dicts).

- ``robustness``: the corrupted accuracy's 95% interval (``uncertainty.accuracy_interval``
  over the seeds' per-corruption outcomes: expected corrupted accuracy over training seeds
  and test sampling, the 15 copies of a base image one cluster, and the base images' writers
  the unit where the test set is MNIST's: ``base_writers``), each corruption's accuracy and
  the clean accuracy on the same base images (the same interval), means over seeds.
- ``reliability``: the reliability-diagram bins summed over seeds (counts added, confidence
  and accuracy weighted by the counts).

Pure numpy/statistics; records without the sections give None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench import measure
from bench.analysis import uncertainty
from bench.data import corrupted, corruptions, writers
from bench.data.sampling import stratified_subset
from bench.records import number

# MNIST-C's order (Mu and Gilmer 2019); names a record adds beyond these follow, sorted
MNIST_C = corruptions.NAMES  # the 15 corruptions in MNIST-C's order, defined with them


@dataclass
class Robustness:
    """A row's corrupted accuracy beyond its mean and std (which the row's ``values`` hold):
    the interval (percent), the set it was measured on, per-corruption and clean accuracies
    (percent, means over the seeds that have them)."""

    low: float | None
    high: float | None
    interval: str  # the interval's unit: "writer" | "base image"
    seeds: int
    n_per_corruption: int
    n_corruptions: int
    digest: str
    per_corruption: dict[str, float] = field(default_factory=dict)
    clean: float | None = None
    clean_low: float | None = None
    clean_high: float | None = None
    ci: uncertainty.Interval | None = None  # the corrupted interval (fractions; low/high: percent)


def column(g, col: str) -> list:
    """The values of ``col`` in the frame ``g`` (Nones where the column is absent)."""
    return list(g[col]) if col in g.columns else [None] * len(g)


def ordered(names) -> list[str]:
    """Corruption names in MNIST-C order, any others after them, sorted."""
    names = set(names)
    return [n for n in MNIST_C if n in names] + sorted(names - set(MNIST_C))


def robustness(
    g, test_digest: str | None = None, clean_correct: dict | None = None
) -> Robustness | None:
    """The corrupted-accuracy facts of one row's records ``g`` (sorted by seed), over the
    records that have a ``robustness`` section; None when none has. ``test_digest`` and
    ``clean_correct`` (seed -> mask over the clean test set): the row's, for the base images'
    writers and the clean interval; without per-corruption outcomes in every record the
    interval comes from each seed's mean (``uncertainty.from_accuracies``, conservative)."""
    have = [i for i, v in enumerate(column(g, "robustness.mean_accuracy")) if number(v) is not None]
    if not have:
        return None
    sub = g.iloc[have]
    last = sub.iloc[-1]
    mean = [float(v) for v in sub["robustness.mean_accuracy"]]
    n = int(number(last.get("robustness.n_per_corruption")) or 0)
    per: dict[str, list[float]] = {}
    for entry in column(sub, "robustness.corruptions"):
        for name, c in (entry or {}).items():
            if isinstance(c, dict) and number(c.get("accuracy")) is not None:
                per.setdefault(name, []).append(100 * float(c["accuracy"]))
    masks, base = corrupted_masks(sub), base_indices(test_digest, n)
    groups = None if base is None else writers.mnist_test().writer[base]
    ci = (
        uncertainty.accuracy_interval(masks, groups)
        if masks
        else uncertainty.from_accuracies(mean, max(n, 1), unit=uncertainty.UNIT_BASE)
    )
    out = Robustness(
        100 * ci.low,
        100 * ci.high,
        ci.unit,
        len(sub),
        n,
        int(number(last.get("robustness.n_corruptions")) or len(per)),
        str(last.get("robustness.digest")),
        {name: float(np.mean(per[name])) for name in ordered(per)},
        ci=ci,
    )
    clean = [v for v in map(number, column(sub, "robustness.clean_accuracy")) if v is not None]
    if clean and n > 0:
        seeds = [int(s) for s in sub["job.seed"]] if "job.seed" in sub.columns else []
        if base is not None and clean_correct and all(s in clean_correct for s in seeds):
            cc = uncertainty.accuracy_interval(
                {s: np.asarray(clean_correct[s])[base] for s in seeds}, groups
            )
        else:
            cc = uncertainty.from_accuracies(clean, n)
        out.clean, out.clean_low, out.clean_high = (
            100 * float(np.mean(clean)),
            100 * cc.low,
            100 * cc.high,
        )
    return out


def corrupted_masks(sub) -> dict[int, np.ndarray]:
    """seed -> bool (corruptions, base images) from each record's per-corruption outcomes, in
    ``ordered`` order; {} unless every record has outcomes for the same corruptions and size,
    each agreeing with the accuracy the record states for it."""
    out, shape = {}, None
    for seed, entry in zip(column(sub, "job.seed"), column(sub, "robustness.corruptions")):
        if not isinstance(entry, dict) or seed is None:
            return {}
        names = ordered(entry)
        if not names or not all(
            isinstance(entry[k], dict) and isinstance(entry[k].get("outcomes"), dict) for k in names
        ):
            return {}
        m = np.stack([measure.correct_mask(entry[k]["outcomes"]) for k in names])
        stated = [number(entry[k].get("accuracy")) for k in names]
        if shape not in (None, (tuple(names), m.shape)) or not np.allclose(
            m.mean(axis=1), stated, atol=1e-9
        ):
            return {}  # outcomes that contradict the record's own accuracies are not used
        shape, out[int(seed)] = (tuple(names), m.shape), m
    return out


def base_indices(test_digest: str | None, n: int) -> np.ndarray | None:
    """The MNIST test indices of a corrupted set's ``n`` base images, as the harness builds it
    (``corrupted.base_indices`` of ``N_BASE``, then its stratified ``subset(n)``); None for any
    other test set, whose labels the report does not hold."""
    w = writers.for_test_set(test_digest)
    if w is None or n < 1:
        return None
    base = corrupted.base_indices(w.label, corrupted.N_BASE)
    if n < len(base):
        base = base[stratified_subset(w.label[base], n, seed=corrupted.SEED)]
    return base if len(base) == n else None


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
    return {
        "count": [int(c) for c in count],
        "confidence": [float(s / c) if f else None for s, c, f in zip(conf, count, filled)],
        "accuracy": [float(s / c) if f else None for s, c, f in zip(acc, count, filled)],
    }


def mean_confidence(bins: dict) -> tuple[float, float] | None:
    """(mean top-label confidence, accuracy) over the images of summed bins (fractions);
    None when every bin is empty."""
    c = np.asarray(bins["count"], dtype=float)
    if c.sum() == 0:
        return None
    conf = np.array([0.0 if x is None else x for x in bins["confidence"]])
    acc = np.array([0.0 if x is None else x for x in bins["accuracy"]])
    return float((c * conf).sum() / c.sum()), float((c * acc).sum() / c.sum())
