"""The numbers a table's figures show, taken from its rows and records: per-class F1, summed
confusion matrices and reliability bins, sweeps of a hyper-parameter, each seed's training
GFLOP/s, the first seed's record and the Pareto front. Plain data, no drawing; the figure
definitions (``define``) and the Markdown sections read them."""

from __future__ import annotations

import numpy as np

from bench.analysis import efficiency, robustness, rowstats


def records_of(group: rowstats.Group, row: rowstats.Row):
    """The row's ``ok`` records, sorted by seed."""
    ok = group.ok
    return ok[ok["row.key"] == row.key].sort_values("job.seed")


def has_per_class(group: rowstats.Group, row: rowstats.Row) -> bool:
    """Whether every record of the row holds per-class metrics for classes 0..9."""
    ok = group.ok
    if "metrics.per_class" not in ok.columns:
        return False
    return all(
        isinstance(p, dict) and all(str(c) in p for c in range(10))
        for p in ok[ok["row.key"] == row.key]["metrics.per_class"]
    )


def per_class_f1(group: rowstats.Group, rows: list[rowstats.Row]) -> dict[str, list[float]]:
    """row key -> F1 (%) for classes 0..9, averaged over seeds."""
    ok = group.ok
    out = {}
    for r in rows:
        g = ok[ok["row.key"] == r.key]
        per = [[rec[str(c)]["f1"] for c in range(10)] for rec in g["metrics.per_class"]]
        out[r.key] = (100 * np.mean(per, axis=0)).tolist()
    return out


def confusion_sum(g) -> np.ndarray:
    """The confusion matrices of the records ``g``, added."""
    return np.sum([np.asarray(c) for c in g["metrics.confusion"]], axis=0)


def has_confusion(g) -> bool:
    """Whether every record of ``g`` holds a confusion matrix."""
    return "metrics.confusion" in g.columns and all(
        isinstance(c, list) for c in g["metrics.confusion"]
    )


def reliability_bins(group: rowstats.Group, rows: list[rowstats.Row]) -> dict[str, dict]:
    """row key -> its reliability bins summed over seeds (``robustness.reliability``), for the
    rows whose records hold calibration bins."""
    ok = group.ok
    bins = {r.key: robustness.reliability(ok[ok["row.key"] == r.key]) for r in rows}
    return {k: b for k, b in bins.items() if b is not None}


def sweeps(
    group: rowstats.Group, rows: list[rowstats.Row]
) -> dict[tuple[str, str], dict[str, list[tuple]]]:
    """(model, swept parameter) -> series -> [(value, test %, std, val %)] for every numeric
    hyper-parameter that takes two or more values among a model's rows (a grid). A series
    holds the other swept parameters fixed; its name lists them."""
    ok = group.ok
    by_model: dict[str, list[tuple[dict, rowstats.Row]]] = {}
    for r in rows:
        params = ok[ok["row.key"] == r.key].iloc[-1]["job.params"]
        by_model.setdefault(r.model, []).append((params if isinstance(params, dict) else {}, r))
    out: dict = {}
    for model, entries in by_model.items():
        if len(entries) < 2:
            continue
        keys = sorted({k for p, _ in entries for k in p})
        varied = [k for k in keys if len({repr(p.get(k)) for p, _ in entries}) > 1]
        for k in varied:
            if not all(
                isinstance(p.get(k), (int, float)) and not isinstance(p.get(k), bool)
                for p, _ in entries
            ):
                continue
            series: dict[str, list[tuple]] = {}
            for p, r in entries:
                name = " ".join(f"{o}={p.get(o)}" for o in varied if o != k)
                series.setdefault(name, []).append(
                    (
                        float(p[k]),
                        r.values["accuracy"],
                        r.stds.get("accuracy"),
                        r.values.get("val_accuracy"),
                    )
                )
            if any(len(points) > 1 for points in series.values()):
                out[(model, k)] = series
    return out


def seed_gflops(group: rowstats.Group, r: rowstats.Row) -> list[float]:
    """The training GFLOP/s of each of the row's seeds, in seed order (positive, finite ones)."""
    g = records_of(group, r)
    col = efficiency.GFLOPS_COLUMN
    vals = list(g[col]) if col in g.columns else []  # a column of None only stays an object column
    return [float(v) for v in vals if isinstance(v, (int, float)) and np.isfinite(v) and v > 0]


def row_precision(group: rowstats.Group, r: rowstats.Row) -> str:
    """The precision of the row's jobs (fp32, bf16, fp16): one identity field, so one per row."""
    g = group.ok[group.ok["row.key"] == r.key]
    return (
        str(g["identity.precision"].iloc[-1] or "fp32")
        if "identity.precision" in g.columns
        else "fp32"
    )


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated in (x up, y up), ordered by x."""
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], -points[i][1]))
    front, best_y = [], -np.inf
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return sorted(front, key=lambda i: points[i][0])
