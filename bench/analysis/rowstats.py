"""Leaderboard rows from run records: which records make one row, and what a row shows.

A row is one whole job configuration: model, hyper-parameters (their hash), thread budget,
inference protocol and determinism, within one table per (dataset, profile, device, CPU
model). Timings from different CPUs are never in one table. Two parameter sets of a model
are two rows, labelled with the parameters that differ from the adapter's defaults; a row
keeps the newest record of each seed. Records of one row that come from different commits
or library versions are flagged, never silently averaged.

Each row carries its accuracy interval (``uncertainty.accuracy_interval``: expected accuracy
on new test data of the same kind, over training seeds and test sampling, the writer the unit
where the test set's writers are known, the image otherwise) and, where records hold
per-example outcomes, the paired comparison with the table's best row, decided in the
all-pairs Holm family of the p-value heatmap (``pair_family``); where they hold the
robustness, calibration, memory and cold-start sections, those columns too (``beyond``: the
corrupted accuracy's interval and per-corruption accuracies).
Pure pandas/numpy/statistics; the formats are ``tables``, the figures ``figures``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from bench import measure, records
from bench.analysis import labels, robustness, stats, uncertainty
from bench.analysis.frame import with_row_keys
from bench.data import writers
from bench.measure.timing import latency_ms

GROUP = ["row.table"]
SEED_KEY = ["row.key", "job.seed"]

# column -> (header, higher is better, format, record column, scale)
COLUMNS = {
    "accuracy": ("accuracy % (95% CI)", True, ".2f", "metrics.accuracy", 100),
    "corrupted": ("corrupted % (95% CI)", True, ".2f", "robustness.mean_accuracy", 100),
    "val_accuracy": ("val %", True, ".2f", "metrics.val_accuracy", 100),
    "macro_f1": ("macro-F1 %", True, ".2f", "metrics.macro_f1", 100),
    "ece": ("ECE %", False, ".2f", "calibration.ece", 100),
    "brier": ("Brier", False, ".4f", "calibration.brier", 1),
    "params": ("params", False, ",.0f", "size.total", 1),
    "size_mb": ("size MB", False, ".2f", "size.bytes", 1e-6),
    "fit_s": ("train s", False, ".1f", "timing.fit_s", 1),
    "tta_s": (
        "time to {target} (val) s",
        False,
        ".1f",
        None,
        1,
    ),  # computed from each record's history
    "data_passes": ("passes", None, ",.0f", "timing.data_passes", 1),
    "train_ips": ("train img/s", True, ",.0f", "timing.train_images_per_s", 1),
    "train_gflops": ("train GFLOP/s", True, ".1f", "timing.train_gflops_per_s", 1),
    "peak_pct": (
        "% of peak",
        True,
        ".1f",
        "row.peak_pct",
        1,
    ),  # per record (``efficiency``), then over seeds
    "before_train_mb": ("before-train MB", False, ",.0f", "memory.before_train_mb", 1),
    "train_peak_mb": ("train peak MB", False, ",.0f", "memory.train_peak_mb", 1),
    "inference_peak_mb": (
        "inference peak MB (incl. training's)",
        False,
        ",.0f",
        "memory.inference_peak_mb",
        1,
    ),
    "inference_added_mb": ("inference added MB", False, ",.0f", "memory.inference_added_mb", 1),
    "infer_ips": ("infer img/s", True, ",.0f", None, 1),  # the large-batch column, found per frame
    "p50_ms": ("p50 ms", False, ".2f", "timing.inference.batch_1.latency_ms_p50", 1),
    "p99_ms": ("p99 ms", False, ".2f", "timing.inference.batch_1.latency_ms_p99", 1),
    "flop_limit_ms": ("FLOP-limited ms", None, ".4f", "row.flop_limit_ms", 1),
    # no "best": a heavier model sits nearer its FLOP limit, which is not better
    "p50_limit": ("p50 / FLOP limit", None, ",.1f", "row.p50_over_limit", 1),
    "load_s": ("load s", False, ".2f", "cold_start.load_s", 1),
}
TABLE_COLUMNS = (
    "accuracy",
    "corrupted",
    "val_accuracy",
    "macro_f1",
    "ece",
    "params",
    "size_mb",
    "fit_s",
    "tta_s",
    "data_passes",
    "train_ips",
    "train_gflops",
    "peak_pct",
    "train_peak_mb",
    "infer_ips",
    "p50_ms",
    "p50_limit",
    "p99_ms",
    "load_s",
)
DEFAULT_TTA_TARGET = 0.99
LATENCY_Q = {
    "p50_ms": 50,
    "p99_ms": 99,
}  # batch-1 percentiles: shown only from the calls each needs


@dataclass
class Group:
    dataset: str
    profile: str
    device: str
    cpu: str
    frame: object  # the newest record of each row and seed (pandas DataFrame)
    slug: str = ""
    tta_target: float = DEFAULT_TTA_TARGET  # the "time to X (val)" column's target

    @property
    def title(self) -> str:
        return f"{self.dataset} · {self.profile} profile · {self.device} · {self.cpu}"

    @property
    def ok(self):
        return self.frame[self.frame["status"] == "ok"]

    def without_result(self):
        """Jobs whose newest record (per model, parameters and seed) is not ``ok``."""
        f = self.frame.sort_values(["started_at", "run_id"])
        newest = f.groupby(SEED_KEY, sort=True).tail(1)
        return newest[newest["status"] != "ok"]


def groups(df) -> list[Group]:
    """One ``Group`` per table of THE identity (dataset, profile, device, hardware fingerprint,
    GPU model), sorted by dataset, profile, device and the hardware's title."""
    if df.empty:
        return []
    target = float(df.attrs.get("tta_target", DEFAULT_TTA_TARGET))  # ``report --tta-target``
    df = with_row_keys(df).sort_values(["started_at", "run_id"])
    latest = df.groupby(GROUP + SEED_KEY, sort=True).tail(1)
    out = [
        Group(
            g["job.dataset"].iloc[0],
            g["job.profile"].iloc[0],
            g["job.device"].iloc[0],
            g["env.cpu"].iloc[0],
            g,
            tta_target=target,
        )
        for _, g in latest.groupby(GROUP, sort=True)
    ]
    out.sort(key=lambda g: (g.dataset, g.profile, g.device, g.cpu))
    clash = Counter((g.dataset, g.profile, g.device) for g in out)
    for g in out:
        base = f"{g.dataset}-{g.profile}-{g.device}"
        if (
            clash[(g.dataset, g.profile, g.device)] > 1
        ):  # same table on several CPUs: keep plots apart
            base += "-" + records.params_hash({"cpu": g.cpu})[:6]
        g.slug = records.slug(base)
    return out


@dataclass
class Row:
    """One leaderboard row: a job configuration and the statistics of its seeds."""

    key: str
    model: str
    label: str
    family: str
    seeds: list[int]
    values: dict
    stds: dict
    accuracy_low: float | None = None
    accuracy_high: float | None = None
    interval: str = ""  # the interval's unit: "writer" | "image"
    accuracy_ci: uncertainty.Interval | None = (
        None  # fractions; accuracy_low/high are its bounds in %
    )
    seed_independent: bool = False
    provenance: list[str] = field(default_factory=list)
    published: float | None = None
    correct: dict = field(default_factory=dict)  # seed -> bool mask over the test images
    test_digest: str | None = None
    vs_best: stats.Paired | None = None
    p_vs_best: float | None = None  # Holm-adjusted in the all-pairs family (``pair_family``)
    tied: bool | None = None  # not significantly worse than the best (the best itself: True)
    tta_reached: tuple[int, int] = (0, 0)  # seeds that reached the target, seeds
    tta_target: float = DEFAULT_TTA_TARGET
    robustness: robustness.Robustness | None = (
        None  # the corrupted accuracy's interval, per corruption, clean
    )
    custom: bool = False  # hyper-parameters differ from the defaults that applied (the dataset's recipe, if any)
    recipe: str | None = (
        None  # the dataset whose own defaults applied (the record's ``job.recipe``)
    )

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def slug(self) -> str:
        return records.slug(self.label.replace(" ", "-").replace("=", "-"))[:60]


def _throughput(frame):
    """Each record's large-batch images/s (``timing.inference.large``); NaN where a record
    has none. Per record, so rows of different ``--infer-batch`` values in one table each
    keep their own."""
    import pandas as pd

    col = "timing.inference.large.images_per_s"
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return frame[col].astype(float)


def _latency(g, col: str, q: int) -> list[float]:
    """Every seed's batch-1 latency percentile ``q`` (ms), or [] ("-") unless every record made
    the calls it needs (``timing.latency_ms``; older records kept it from fewer calls)."""
    calls_col = "timing.inference.batch_1.calls"
    if col not in g.columns or calls_col not in g.columns:
        return []
    vals = [
        latency_ms({f"latency_ms_p{q}": v, "calls": c}, q) for v, c in zip(g[col], g[calls_col])
    ]
    return [] if None in vals else vals


def _identical(g) -> bool:
    """Every seed's record has the same predictions (outcomes) and the same log-loss."""
    if len(g) < 2:
        return False
    outs = [
        json.dumps(o, sort_keys=True) if isinstance(o, dict) else json.dumps(c)
        for o, c in zip(g["outcomes"], g["metrics.confusion"])
    ]
    return len(set(outs)) == 1 and len(set(g["metrics.log_loss"])) == 1


def row_stats(group: Group) -> list[Row]:
    """Rows of a group's ``ok`` records, best test accuracy first, with intervals and the
    paired comparison with the best row."""
    ok = group.ok
    if ok.empty:
        return []
    infer = _throughput(ok)
    usual = labels.usual_settings(ok)
    rows = []
    for key, g in ok.groupby("row.key", sort=True):
        g = g.sort_values("job.seed")
        last = g.iloc[-1]
        values, stds = {}, {}
        for name, (_, _, _, col, scale) in COLUMNS.items():
            if name == "tta_s":
                continue
            if name == "infer_ips":
                vals = infer.loc[g.index].dropna() * scale
            elif name in LATENCY_Q:
                vals = _latency(g, col, LATENCY_Q[name])
            else:
                vals = g[col].dropna().astype(float) * scale if col in g.columns else []
            values[name] = float(np.mean(vals)) if len(vals) else None
            stds[name] = float(np.std(vals, ddof=1)) if len(vals) > 1 else None
        published = g["reference.accuracy"].dropna() if "reference.accuracy" in g.columns else []
        row = Row(
            key,
            last["job.model"],
            labels.label_of(last, group.profile, usual),
            last["job.family"],
            [int(s) for s in g["job.seed"]],
            values,
            stds,
            provenance=sorted(set(g["row.provenance"])),
            published=100 * float(published.iloc[-1]) if len(published) else None,
        )
        outcomes = [o for o in g["outcomes"] if isinstance(o, dict)]
        digests = {o["test_digest"] for o in outcomes}
        if len(outcomes) == len(g) and len(digests) == 1:
            row.correct = {int(s): measure.correct_mask(o) for s, o in zip(g["job.seed"], outcomes)}
            row.test_digest = digests.pop()
        row.recipe = labels.recipe_of(last)
        row.custom = bool(
            labels.params_text(
                row.model, last["job.params"], group.profile, row.recipe, last.get("job.defaults")
            )
        )
        _time_to_target(row, g, group.tta_target)
        row.seed_independent = _identical(g)
        if row.seed_independent:  # the same predictions every time: no spread to show
            for name in ("accuracy", "val_accuracy", "macro_f1", "corrupted", "ece", "brier"):
                row.stds[name] = None
        _accuracy_interval(row, g)
        row.robustness = robustness.robustness(g, row.test_digest, row.correct)
        rows.append(row)
    rows.sort(key=lambda r: (-(r.values["accuracy"] or 0), r.label))
    compare_with_best(rows)
    return rows


def _time_to_target(row: Row, g, target: float) -> None:
    """Mean training seconds to ``target`` validation accuracy, when every seed reached it."""
    if (
        "job.origin.kind" in g.columns and (g["job.origin.kind"] == "file").all()
    ):  # evaluated, not trained here
        row.tta_target, row.tta_reached, row.values["tta_s"], row.stds["tta_s"] = (
            target,
            (0, 0),
            None,
            None,
        )
        return
    hits = []
    for _, rec in g.iterrows():
        hit = measure.first_reaching(measure.record_curve(rec), target)
        hits.append(hit["train_s"] if hit else None)
    reached = [h for h in hits if h is not None]
    row.tta_target, row.tta_reached = target, (len(reached), len(hits))
    row.values["tta_s"] = float(np.mean(reached)) if reached and len(reached) == len(hits) else None
    row.stds["tta_s"] = (
        float(np.std(reached, ddof=1)) if len(reached) > 1 and len(reached) == len(hits) else None
    )


def writer_groups(row: Row) -> np.ndarray | None:
    """Each test image's writer for the row's outcomes (``writers.test_groups``: MNIST's, or
    a user file's groups), else None."""
    if not row.correct:
        return None
    return writers.test_groups(row.test_digest, len(next(iter(row.correct.values()))))


def _accuracy_interval(row: Row, g) -> None:
    """``accuracy_ci`` from the row's outcomes (writers the unit where known), or from each
    seed's accuracy where records hold no outcomes; ``accuracy_low/high`` in percent."""
    if row.correct:
        ci = uncertainty.accuracy_interval(row.correct, writer_groups(row))
    else:
        ci = uncertainty.from_accuracies(
            g["metrics.accuracy"].astype(float).to_numpy(), int(g["data.n_test"].iloc[-1])
        )
    row.accuracy_ci, row.interval = ci, ci.unit
    row.accuracy_low, row.accuracy_high = 100 * ci.low, 100 * ci.high


_FAMILIES: dict = {}  # content key -> pair_family's answer: tables, figures and the site ask for the same rows


def pair_family(
    rows: list[Row],
) -> tuple[list[Row], dict[tuple[int, int], tuple[stats.Paired, float]]]:
    """The rows with outcomes on the test set of ``rows[0]`` and, for every pair (i, j), i > j
    among them, the paired test of row i (B) against row j (A) (``stats.paired``, writers the
    unit where known: ``writer_groups``) and its Holm-adjusted p over all those pairs: one
    family for the heatmap and "vs best"."""
    if not rows or not rows[0].correct:
        return [], {}
    usable = [r for r in rows if r.correct and r.test_digest == rows[0].test_digest]
    key = tuple(
        (
            r.test_digest,
            tuple(
                (s, hashlib.sha1(np.packbits(m).tobytes()).hexdigest())
                for s, m in sorted(r.correct.items())
            ),
        )
        for r in usable
    )
    if key not in _FAMILIES:
        groups = writer_groups(usable[0])
        tests = {}
        for i in range(len(usable)):
            for j in range(i):
                t = stats.paired(usable[j].correct, usable[i].correct, groups)  # B: the lower row
                if t is not None:
                    tests[(i, j)] = t
        adjusted = stats.holm([t.p for t in tests.values()])
        if len(_FAMILIES) > 32:
            _FAMILIES.clear()
        _FAMILIES[key] = {pair: (t, p) for (pair, t), p in zip(tests.items(), adjusted)}
    return usable, _FAMILIES[key]


def compare_with_best(rows: list[Row]) -> None:
    """Set ``vs_best``, ``p_vs_best`` and ``tied`` on every row that shares the best row's
    (``rows[0]``) test set and has per-example outcomes. The p is the pair's Holm-adjusted p
    in the family of ALL pairs (``pair_family``, as the heatmap shows it): Holm over only the
    k-1 comparisons with the observed best ignores that the best was chosen from the same
    data (six equal models, one seed: 10% of tables call a row worse at a stated 5%). A row is
    not tied only when its pair with the best is significant there with the row behind in
    every seed pair (``stats.Paired``: seeds that disagree in direction are tied)."""
    usable, family = pair_family(rows)
    if not usable:
        return
    usable[0].tied = True
    for i, r in enumerate(usable[1:], start=1):
        if (i, 0) in family:
            r.vs_best, r.p_vs_best = family[(i, 0)]
            r.tied = r.vs_best.decided(r.p_vs_best) != -1


def pair_test_name(rows: list[Row]) -> str:
    """What ``pair_family`` tested, for captions: the per-writer sign-flip or McNemar's mid-p."""
    usable, _ = pair_family(rows)
    return (
        "per-writer sign-flip p"
        if usable and writer_groups(usable[0]) is not None
        else "McNemar mid-p"
    )


def pairwise_pvalues(rows: list[Row]) -> tuple[list[str], np.ndarray] | None:
    """Labels and the symmetric matrix of Holm-adjusted paired p-values over every pair of
    rows with outcomes on the same test set (``pair_family``; None with fewer than two)."""
    usable, family = pair_family(rows)
    if len(usable) < 2:
        return None
    m = np.ones((len(usable), len(usable)))
    for (i, j), (_, p) in family.items():
        m[i, j] = m[j, i] = p
    return [r.label for r in usable], m
