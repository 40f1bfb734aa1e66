"""The figures of one leaderboard table, drawn from its rows and records (``bench.plots``
does the drawing; this module decides what to draw and where)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench import plots, tables

GALLERY_SIZE = 32


def per_class_f1(group: tables.Group, rows: list[tables.Row]) -> dict[str, list[float]]:
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


def draw(group: tables.Group, rows: list[tables.Row], plots_dir: Path, dataset_loader) -> dict:
    """Draw the group's figures; returns {"pareto": path, "f1": path, "pvalues": path,
    row key: {kind: path}}."""
    ok = group.ok
    out: dict = {}
    title = group.title
    usable = [r for r in rows if r.values["infer_ips"] and r.values["accuracy"] is not None]
    if usable:
        out["pareto"] = plots.accuracy_vs_throughput(
            [r.label for r in usable], [r.values["infer_ips"] for r in usable],
            [r.values["accuracy"] for r in usable],
            f"Accuracy vs inference throughput — {title}", plots_dir / f"{group.slug}-pareto.png")
    f1 = per_class_f1(group, rows)
    out["f1"] = plots.per_class_f1([r.label for r in rows], [f1[r.key] for r in rows], f"Per-class F1 — {title}",
                                   plots_dir / f"{group.slug}-f1.png")
    pairwise = tables.pairwise_pvalues(rows)
    if pairwise is not None:
        labels, matrix = pairwise
        out["pvalues"] = plots.pvalue_heatmap(labels, matrix, f"Paired McNemar mid-p, Holm — {group.dataset} test set",
                                              plots_dir / f"{group.slug}-pvalues.png")
    images = dataset_loader(group.dataset, ok["data.digest"].iloc[-1])
    for r in rows:
        g = ok[ok["row.key"] == r.key].sort_values("job.seed")
        first = g.iloc[0]
        figs = {}
        history = first["history"]
        if isinstance(history, list) and any("loss" in row or "val_loss" in row for row in history):
            figs["curves"] = plots.training_curves(
                history, f"{r.label} — {title} (seed {int(first['job.seed'])})",
                plots_dir / f"{group.slug}-{r.slug}-curves.png")
        figs["confusion"] = plots.confusion_heatmap(
            confusion_sum(g), f"{r.label} — {group.dataset} test set", plots_dir / f"{group.slug}-{r.slug}-confusion.png")
        mistakes = first.get("mistakes") if "mistakes" in g.columns else None
        if images is not None and isinstance(mistakes, list) and mistakes:
            shown = mistakes[:GALLERY_SIZE]
            figs["gallery"] = plots.mistakes_gallery(
                [images[i] for i, *_ in shown], [f"{t} → {p} ({c:.2f})" for _, t, p, c in shown],
                f"{r.label}: most confident mistakes (true → predicted, probability), seed {int(first['job.seed'])}",
                plots_dir / f"{group.slug}-{r.slug}-mistakes.png")
        out[r.key] = figs
    return out


def load_test_images(dataset: str, digest: str):
    """The dataset's test images if it can be loaded here and is the one the records used."""
    from bench import data
    from bench.errors import BenchError

    try:
        splits = data.load(dataset).splits
    except BenchError as exc:
        print(f"warning: no mistake galleries for {dataset}: {exc}", file=sys.stderr)
        return None
    if splits.digest() != digest:
        print(f"warning: no mistake galleries for {dataset}: its content differs from the recorded one",
              file=sys.stderr)
        return None
    return splits.x_test
