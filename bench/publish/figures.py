"""The figures of one leaderboard table as PNG files: which figures a table gets and where
they go. Each figure both the leaderboard and the site show is defined in
``bench.publish.charts.define`` and drawn by ``charts.to_png``; the galleries and the p-value
heatmap, which only the PNGs show, by ``bench.publish.plots``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from bench.analysis import rowstats
from bench.publish import plots
from bench.publish.charts import data, define, to_png

GALLERY_SIZE = 32
CORRUPTION_BASES = (
    3  # base images in the corruption gallery: the first of each of the lowest classes
)
# the figures of a whole table: (key in draw's result, definition)
TABLE_CHARTS = (
    ("pareto", define.accuracy_vs_throughput),
    ("tta", define.time_to_accuracy),
    ("gflops", define.training_gflops),
    ("f1", define.per_class_f1),
    ("reliability", define.reliability),
    ("robustness", define.clean_vs_corrupted),
)
ROW_CHARTS = (("curves", define.training_curves), ("confusion", define.confusion))


def draw(
    group: rowstats.Group,
    rows: list[rowstats.Row],
    plots_dir: Path,
    dataset_loader,
    corrupted_loader,
) -> dict:
    """Draw the group's figures; returns {"pareto": path, "tta": path, "f1": path, "pvalues":
    path, "gflops": path, "sweeps": [path, ...], "reliability": path, "robustness": path,
    "corruptions": path, row key: {kind: path}} (a figure without data is left out).
    The images come from the caller (``bench.data.recorded``'s functions, in the leaderboard):
    ``dataset_loader(dataset, digest)`` gives the test images for the galleries, or None;
    ``corrupted_loader(dataset, robustness digest, n per corruption)`` gives (test images,
    corrupted set) for the corruption gallery, or None."""
    out: dict = {}
    for key, define_chart in TABLE_CHARTS:
        chart = define_chart(group, rows)
        if chart is not None:
            out[key] = to_png.draw(chart, plots_dir / f"{group.slug}-{key}.png")
    for (model, param), chart in define.accuracy_vs_parameter(group, rows).items():
        path = plots_dir / f"{group.slug}-{model}-{param}-sweep.png"
        out.setdefault("sweeps", []).append(to_png.draw(chart, path))
    pairwise = rowstats.pairwise_pvalues(rows)
    if pairwise is not None:
        labels, matrix = pairwise
        out["pvalues"] = plots.pvalue_heatmap(
            labels,
            matrix,
            f"Paired {rowstats.pair_test_name(rows)}, Holm — {group.dataset} test set",
            plots_dir / f"{group.slug}-pvalues.png",
        )
    robust = [r.robustness for r in rows if r.robustness is not None]
    if robust:
        gallery = _corruption_gallery(group, robust, plots_dir, corrupted_loader)
        if gallery is not None:
            out["corruptions"] = gallery
    images = dataset_loader(group.dataset, group.ok["data.digest"].iloc[-1])
    for r in rows:
        out[r.key] = _row_figures(group, r, plots_dir, images)
    return out


def _row_figures(group: rowstats.Group, r: rowstats.Row, plots_dir: Path, images) -> dict:
    """One row's figures: training curves (when its first seed's history has losses), the
    confusion heatmap summed over seeds, and the gallery of its first seed's most confident
    mistakes (when ``images`` and the record's mistakes are at hand)."""
    figs = {}
    for key, define_chart in ROW_CHARTS:
        chart = define_chart(group, r)
        if chart is not None:
            figs[key] = to_png.draw(chart, plots_dir / f"{group.slug}-{r.slug}-{key}.png")
    first = data.records_of(group, r).iloc[0]
    mistakes = first.get("mistakes") if "mistakes" in group.ok.columns else None
    if images is not None and isinstance(mistakes, list) and mistakes:
        shown = mistakes[:GALLERY_SIZE]
        figs["gallery"] = plots.mistakes_gallery(
            [images[i] for i, *_ in shown],
            [f"{t} → {p} ({c:.2f})" for _, t, p, c in shown],
            f"{r.label}: most confident mistakes (true → predicted, probability), seed {int(first['job.seed'])}",
            plots_dir / f"{group.slug}-{r.slug}-mistakes.png",
        )
    return figs


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
    return plots.corruption_gallery(
        [x_test[int(cset.indices[p])] for p in picks],
        [[cset.images[name][p] for name in names] for p in picks],
        names,
        [f"clean: {int(labels[p])} (test #{int(cset.indices[p])})" for p in picks],
        f"Test images under every corruption (set {digest[:12]}) — {group.dataset}",
        plots_dir / f"{group.slug}-corruptions.png",
    )
