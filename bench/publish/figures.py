"""The figures of one leaderboard table, drawn from its rows and records (``bench.publish.plots``
and ``bench.publish.robustness_plots`` do the drawing; this module decides what to draw and where)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from bench import measure
from bench.analysis import efficiency, robustness, rowstats
from bench.data import recorded
from bench.publish import plots, robustness_plots

GALLERY_SIZE = 32
CORRUPTION_BASES = (
    3  # base images in the corruption gallery: the first of each of the lowest classes
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
    return np.sum([np.asarray(c) for c in g["metrics.confusion"]], axis=0)


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


def draw(
    group: rowstats.Group,
    rows: list[rowstats.Row],
    plots_dir: Path,
    dataset_loader,
    corrupted_loader=None,
) -> dict:
    """Draw the group's figures; returns {"pareto": path, "tta": path, "f1": path, "pvalues":
    path, "gflops": path, "sweeps": [path, ...], "reliability": path, "robustness": path, "corruptions": path,
    row key: {kind: path}} (a figure without data is left out). ``dataset_loader(dataset,
    digest)`` gives the test images for the galleries, or None; ``corrupted_loader(dataset,
    robustness digest, n per corruption)`` (default ``bench.data.recorded.corrupted_set``) gives (test images,
    corrupted set) for the corruption gallery, or None."""
    out = _table_figures(group, rows, plots_dir)
    gflops = efficiency_figure(group, rows, plots_dir)
    if gflops is not None:
        out["gflops"] = gflops
    out.update(_beyond_figures(group, rows, plots_dir, corrupted_loader or recorded.corrupted_set))
    images = dataset_loader(group.dataset, group.ok["data.digest"].iloc[-1])
    for r in rows:
        out[r.key] = _row_figures(group, r, plots_dir, images)
    return out


def _table_figures(group: rowstats.Group, rows: list[rowstats.Row], plots_dir: Path) -> dict:
    """The figures of the whole table: accuracy vs throughput (rows with both), one sweep
    plot per swept parameter, time to accuracy (rows with a curve), per-class F1 and the
    pairwise p-value heatmap (when two rows or more hold per-example outcomes)."""
    ok = group.ok
    out: dict = {}
    title = group.title
    usable = [r for r in rows if r.values["infer_ips"] and r.values["accuracy"] is not None]
    if usable:
        out["pareto"] = plots.accuracy_vs_throughput(
            [r.label for r in usable],
            [r.values["infer_ips"] for r in usable],
            [r.values["accuracy"] for r in usable],
            f"Accuracy vs inference throughput — {title}",
            plots_dir / f"{group.slug}-pareto.png",
        )
    for (model, param), series in sweeps(group, rows).items():
        out.setdefault("sweeps", []).append(
            plots.accuracy_vs_parameter(
                param,
                series,
                f"{model}: accuracy vs {param} — {title}",
                plots_dir / f"{group.slug}-{model}-{param}-sweep.png",
            )
        )
    curves = {}
    for r in rows:  # seed 0's (or the first seed's) curve per row
        curve = measure.record_curve(ok[ok["row.key"] == r.key].sort_values("job.seed").iloc[0])
        if curve:
            curves[r.label] = [(c["train_s"], c["val_accuracy"]) for c in curve if c["train_s"] > 0]
    if any(curves.values()):
        out["tta"] = plots.time_to_accuracy(
            {k: v for k, v in curves.items() if v},
            group.tta_target,
            f"Time to accuracy — {title}",
            plots_dir / f"{group.slug}-tta.png",
        )
    f1 = per_class_f1(group, rows)
    out["f1"] = plots.per_class_f1(
        [r.label for r in rows],
        [f1[r.key] for r in rows],
        f"Per-class F1 — {title}",
        plots_dir / f"{group.slug}-f1.png",
    )
    pairwise = rowstats.pairwise_pvalues(rows)
    if pairwise is not None:
        labels, matrix = pairwise
        out["pvalues"] = plots.pvalue_heatmap(
            labels,
            matrix,
            f"Paired {rowstats.pair_test_name(rows)}, Holm — {group.dataset} test set",
            plots_dir / f"{group.slug}-pvalues.png",
        )
    return out


def seed_gflops(group: rowstats.Group, r: rowstats.Row) -> list[float]:
    """The training GFLOP/s of each of the row's seeds, in seed order (positive, finite ones)."""
    g = group.ok[group.ok["row.key"] == r.key].sort_values("job.seed")
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


def efficiency_figure(
    group: rowstats.Group, rows: list[rowstats.Row], plots_dir: Path
) -> Path | None:
    """Training GFLOP/s per row with a FLOP count (each seed, mean ± std, its % of peak)
    against the table's measured peaks (``efficiency.roofs``); None when no row has one."""
    shown = [(r, seed_gflops(group, r)) for r in rows]
    shown = [(r, vals) for r, vals in shown if vals]
    if not shown:
        return None
    return plots.training_gflops(
        [r.label for r, _ in shown],
        [vals for _, vals in shown],
        [r.values.get("peak_pct") for r, _ in shown],
        [row_precision(group, r) for r, _ in shown],
        efficiency.roofs(group.ok, group.device),
        f"Training GFLOP/s against the measured peaks — {_short(group)}",
        plots_dir / f"{group.slug}-gflops.png",
    )


def _row_figures(group: rowstats.Group, r: rowstats.Row, plots_dir: Path, images) -> dict:
    """One row's figures, from its first seed's record: training curves (when its history
    has losses), the confusion heatmap summed over seeds, and the gallery of its most
    confident mistakes (when ``images`` and the record's mistakes are at hand)."""
    g = group.ok[group.ok["row.key"] == r.key].sort_values("job.seed")
    first = g.iloc[0]
    title = group.title
    figs = {}
    history = first["history"]
    if isinstance(history, list) and any("loss" in row or "val_loss" in row for row in history):
        figs["curves"] = plots.training_curves(
            history,
            f"{r.label} — {title} (seed {int(first['job.seed'])})",
            plots_dir / f"{group.slug}-{r.slug}-curves.png",
        )
    figs["confusion"] = plots.confusion_heatmap(
        confusion_sum(g),
        f"{r.label} — {group.dataset} test set",
        plots_dir / f"{group.slug}-{r.slug}-confusion.png",
    )
    mistakes = first.get("mistakes") if "mistakes" in g.columns else None
    if images is not None and isinstance(mistakes, list) and mistakes:
        shown = mistakes[:GALLERY_SIZE]
        figs["gallery"] = plots.mistakes_gallery(
            [images[i] for i, *_ in shown],
            [f"{t} → {p} ({c:.2f})" for _, t, p, c in shown],
            f"{r.label}: most confident mistakes (true → predicted, probability), seed {int(first['job.seed'])}",
            plots_dir / f"{group.slug}-{r.slug}-mistakes.png",
        )
    return figs


def reliability_bins(group: rowstats.Group, rows: list[rowstats.Row]) -> dict[str, dict]:
    """row key -> its reliability bins summed over seeds (``robustness.reliability``), for the
    rows whose records hold calibration bins."""
    ok = group.ok
    bins = {r.key: robustness.reliability(ok[ok["row.key"] == r.key]) for r in rows}
    return {k: b for k, b in bins.items() if b is not None}


def _beyond_figures(
    group: rowstats.Group, rows: list[rowstats.Row], plots_dir: Path, corrupted_loader
) -> dict:
    """The reliability diagram (rows with calibration bins), clean against corrupted accuracy
    and the corruption gallery (rows with robustness; the gallery when the loader has the set)."""
    out: dict = {}
    bins = reliability_bins(group, rows)
    if bins:
        shown = [r for r in rows if r.key in bins]
        out["reliability"] = robustness_plots.reliability_diagram(
            [
                r.label
                + (f" (ECE {r.values['ece']:.2f}%)" if r.values.get("ece") is not None else "")
                for r in shown
            ],
            [bins[r.key] for r in shown],
            f"Reliability, bins summed over seeds — {_short(group)}",
            plots_dir / f"{group.slug}-reliability.png",
        )
    robust = [r for r in rows if r.robustness is not None]
    if robust:
        rb = [r.robustness for r in robust]
        out["robustness"] = robustness_plots.clean_vs_corrupted(
            [r.label for r in robust],
            [b.clean for b in rb],
            [(b.clean_low, b.clean_high) for b in rb],
            [r.values["corrupted"] for r in robust],
            [(b.low, b.high) for b in rb],
            f"Clean vs corrupted (MNIST-C) accuracy, same base images — {_short(group)}",
            plots_dir / f"{group.slug}-robustness.png",
        )
        gallery = _corruption_gallery(group, rb, plots_dir, corrupted_loader)
        if gallery is not None:
            out["corruptions"] = gallery
    return out


def _short(group: rowstats.Group) -> str:
    """The table's title without the hardware, for figures too narrow for it."""
    return f"{group.dataset}, {group.profile} profile, {group.device}"


def _corruption_gallery(group: rowstats.Group, rb: list, plots_dir: Path, loader) -> Path | None:
    """A few base images of the set most rows were measured on, clean and corrupted."""
    digest, n = Counter((b.digest, b.n_per_corruption) for b in rb).most_common(1)[0][0]
    loaded = loader(group.dataset, digest, n)
    if loaded is None:
        return None
    x_test, cset = loaded
    labels = np.asarray(cset.labels)
    picks = [int(np.flatnonzero(labels == c)[0]) for c in sorted(set(labels.tolist()))][
        :CORRUPTION_BASES
    ]
    names = list(cset.names)
    return robustness_plots.corruption_gallery(
        [x_test[int(cset.indices[p])] for p in picks],
        [[cset.images[name][p] for name in names] for p in picks],
        names,
        [f"clean: {int(labels[p])} (test #{int(cset.indices[p])})" for p in picks],
        f"Test images under every corruption (set {digest[:12]}) — {group.dataset}",
        plots_dir / f"{group.slug}-corruptions.png",
    )
