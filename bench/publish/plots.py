"""Leaderboard figures (matplotlib, headless Agg), each from plain data, one PNG each.

Every function takes the numbers to draw and a path, draws at a fixed size and DPI, and
writes atomically with no timestamp metadata, so the same numbers give the same bytes
(for one matplotlib version). Sizes in pixels are ``FIGSIZES[kind] * DPI``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.core import atomic

DPI = 100
FIGSIZES = {
    "pareto": (8, 5.5),
    "f1": (10, 4.5),
    "curves": (9, 3.6),
    "confusion": (5.6, 5),
    "gallery": (9, 5.4),
    "pvalues": (7.5, 6.2),
    "sweep": (7.5, 4.6),
    "tta": (8, 5),
    "gflops": (9, 5.2),
    "reliability": (8, 7),
    "robustness": (8, 5),
    "corruptions": (12, 3.6),
}  # drawn by beyond_plots


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "svg.hashsalt": "mnist-bench"})
    return plt


def _save(fig, path: Path) -> Path:
    plt = _pyplot()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated in (x up, y up), ordered by x."""
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], -points[i][1]))
    front, best_y = [], -np.inf
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return sorted(front, key=lambda i: points[i][0])


def accuracy_vs_throughput(names, throughput, accuracy, title: str, path: Path) -> Path:
    """Scatter of test accuracy (%) against inference images/s (log x), Pareto front marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZES["pareto"])
    pts = list(zip(throughput, accuracy))
    front = pareto_front(pts)
    ax.scatter(throughput, accuracy, s=36, color="tab:blue", zorder=3)
    fx, fy = [pts[i][0] for i in front], [pts[i][1] for i in front]
    ax.step(fx, fy, where="post", color="tab:orange", lw=1.5, label="Pareto front", zorder=2)
    ax.scatter(fx, fy, s=90, facecolors="none", edgecolors="tab:orange", lw=1.5, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("inference throughput, images/s (large batch, log scale)")
    ax.set_ylabel("test accuracy, %")
    lo, hi = min(accuracy), max(accuracy)
    pad = max(0.2, (hi - lo) * 0.12)
    ax.set_ylim(lo - pad, min(100.0, hi + pad))
    ax.set_xlim(min(throughput) / 2, max(throughput) * 3)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title(title)
    fig.tight_layout()
    _place_labels(fig, ax, names, throughput, accuracy)
    return _save(fig, path)


# label offsets (points) tried in order until a label overlaps no other label or marker
_OFFSETS = (
    (6, 4, "left"),
    (6, -11, "left"),
    (-6, 4, "right"),
    (-6, -11, "right"),
    (6, 14, "left"),
    (6, -21, "left"),
    (-6, 14, "right"),
    (-6, -21, "right"),
)


def _place_labels(fig, ax, names, xs, ys) -> None:
    """Annotate each point with its name, moving labels that would overlap earlier ones."""
    renderer = fig.canvas.get_renderer()
    marker_boxes = []
    for x, y in zip(xs, ys):
        px, py = ax.transData.transform((x, y))
        marker_boxes.append((px - 5, py - 5, px + 5, py + 5))
    placed: list[tuple] = []
    for i in sorted(range(len(names)), key=lambda i: (-ys[i], xs[i])):
        for dx, dy, ha in _OFFSETS:
            text = ax.annotate(
                names[i],
                (xs[i], ys[i]),
                textcoords="offset points",
                xytext=(dx, dy),
                fontsize=8,
                ha=ha,
            )
            bb = text.get_window_extent(renderer)
            box = (bb.x0, bb.y0, bb.x1, bb.y1)
            others = placed + [m for j, m in enumerate(marker_boxes) if j != i]
            if not any(_overlap(box, o) for o in others):
                break
            text.remove()
        else:  # nowhere free: keep the first position
            text = ax.annotate(
                names[i],
                (xs[i], ys[i]),
                textcoords="offset points",
                xytext=_OFFSETS[0][:2],
                fontsize=8,
            )
            bb = text.get_window_extent(renderer)
            box = (bb.x0, bb.y0, bb.x1, bb.y1)
        placed.append(box)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def per_class_f1(names, f1_rows, title: str, path: Path) -> Path:
    """Grouped bars: per-class F1 (%) for each model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZES["f1"])
    width = 0.8 / max(1, len(names))
    digits = np.arange(10)
    for k, (name, row) in enumerate(zip(names, f1_rows)):
        ax.bar(digits + (k - (len(names) - 1) / 2) * width, row, width, label=name)
    lo = min(min(r) for r in f1_rows)
    ax.set_ylim(max(0.0, lo - 2.0), 100.0)
    ax.set_xticks(digits)
    ax.set_xlabel("class")
    ax.set_ylabel("F1, %")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def training_curves(history: list[dict], title: str, path: Path) -> Path:
    """Loss and accuracy per training pass (epoch, boosting round), training and validation."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=FIGSIZES["curves"])
    epochs = [row.get("pass", row.get("epoch")) for row in history]
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [row.get(prefix + key) for row in history]
            if any(v is not None for v in values):
                ax.plot(
                    epochs,
                    values,
                    style,
                    marker="o",
                    ms=3,
                    label=("validation " if prefix else "training ") + label,
                )
        ax.set_xlabel("epoch (boosting round for trees)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax_loss.set_yscale("log")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def confusion_heatmap(confusion, title: str, path: Path) -> Path:
    """10x10 counts, log colour scale (the diagonal would drown every error), counts written in."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    cm = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=FIGSIZES["confusion"])
    image = ax.imshow(
        np.maximum(cm, 0.5), cmap="Blues", norm=LogNorm(vmin=0.5, vmax=max(1, cm.max()))
    )
    for (i, j), n in np.ndenumerate(cm):
        if n:
            ax.text(
                j,
                i,
                str(n),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if n > cm.max() ** 0.7 else "black",
            )
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="images (log scale)")
    fig.tight_layout()
    return _save(fig, path)


def mistakes_gallery(images, captions, title: str, path: Path, columns: int = 8) -> Path:
    """A grid of misclassified test images with 'true -> predicted (p)' captions."""
    plt = _pyplot()
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=FIGSIZES["gallery"], squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, caption in zip(axes.flat, images, captions):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(caption, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def pvalue_heatmap(labels: list[str], pvalues, title: str, path: Path, alpha: float = 0.05) -> Path:
    """Pairwise (Holm-adjusted) p-values as a lower-triangle heatmap, log colour scale;
    cells below ``alpha`` (a significant difference) are outlined."""
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    p = np.asarray(pvalues, dtype=float)
    k = len(labels)
    shown = np.where(np.tril(np.ones((k, k), bool), -1), p, np.nan)
    fig, ax = plt.subplots(figsize=FIGSIZES["pvalues"])
    image = ax.imshow(np.clip(shown, 1e-6, 1.0), cmap="viridis", norm=LogNorm(vmin=1e-6, vmax=1.0))
    for i in range(k):
        for j in range(i):
            ax.text(
                j,
                i,
                "<1e-6" if p[i, j] < 1e-6 else f"{p[i, j]:.2g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if p[i, j] < 1e-3 else "black",
            )
            if p[i, j] < alpha:
                ax.add_patch(
                    Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.5)
                )
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=f"p (Holm); outlined: < {alpha:g}")
    fig.tight_layout()
    return _save(fig, path)


def accuracy_vs_parameter(
    param: str, series: dict[str, list[tuple]], title: str, path: Path
) -> Path:
    """Accuracy (%) against one swept hyper-parameter: per series (the other swept values)
    test accuracy (solid, ± std over seeds as error bars) and validation accuracy (dashed);
    a log x axis when the values are positive and span a factor of 10 or more."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZES["sweep"])
    xs_all = []
    for i, (label, points) in enumerate(sorted(series.items())):
        points = sorted(points)
        xs = [p[0] for p in points]
        xs_all += xs
        color = f"C{i % 10}"
        ax.errorbar(
            xs,
            [p[1] for p in points],
            yerr=[p[2] or 0.0 for p in points],
            color=color,
            marker="o",
            ms=4,
            capsize=3,
            label=f"{label} test" if label else "test",
        )
        val = [(x, p[3]) for x, p in zip(xs, points) if p[3] is not None]
        if val:
            ax.plot(
                [v[0] for v in val],
                [v[1] for v in val],
                color=color,
                ls="--",
                marker="x",
                ms=4,
                label=f"{label} validation" if label else "validation",
            )
    if xs_all and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 10:
        ax.set_xscale("log")
    ax.set_xlabel(param)
    ax.set_ylabel("accuracy %")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _save(fig, path)


def time_to_accuracy(
    curves: dict[str, list[tuple[float, float]]], target: float, title: str, path: Path
) -> Path:
    """Validation accuracy (%) against training seconds (log axis), one line per model, the
    target as a horizontal line; models evaluated once are single points."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZES["tta"])
    low = []
    for i, (label, points) in enumerate(curves.items()):
        xs, ys = [p[0] for p in points], [100 * p[1] for p in points]
        low += ys
        ax.plot(
            xs,
            ys,
            marker="o" if len(points) == 1 else ".",
            ms=6 if len(points) == 1 else 3,
            color=f"C{i % 10}",
            label=label,
        )
    ax.axhline(100 * target, color="0.4", ls=":", lw=1, label=f"target {100 * target:g}%")
    ax.set_xscale("log")
    if low:  # the interesting band: from a little under the target to the top
        ax.set_ylim(
            max(min(low), 100 * target - 5) - 0.5, min(100.0, max(max(low), 100 * target) + 0.3)
        )
    ax.set_xlabel("training seconds (per-pass clock, evaluation excluded; log)")
    ax.set_ylabel("validation accuracy %")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


PRECISION_COLOURS = {"fp32": "tab:blue", "bf16": "tab:orange", "fp16": "tab:green"}


def training_gflops(
    labels: list[str],
    per_seed: list[list[float]],
    percents: list[float | None],
    precisions: list[str],
    roofs: list[tuple[str, float]],
    title: str,
    path: Path,
) -> Path:
    """Achieved training GFLOP/s per row (log y): each seed a small dot, the mean a diamond with
    the standard deviation over seeds as its error bar and "% of peak" written above it,
    coloured by precision; each of ``roofs`` (name, GFLOP/s) a horizontal dashed line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZES["gflops"])
    xs = np.arange(len(labels))
    seen = set()
    for x, vals, pct, precision in zip(xs, per_seed, percents, precisions):
        colour = PRECISION_COLOURS.get(precision, "tab:gray")
        mean = float(np.mean(vals))
        std = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
        ax.scatter([x] * len(vals), vals, s=12, color=colour, alpha=0.45, zorder=3)
        ax.errorbar(
            [x],
            [mean],
            yerr=[[min(std, mean * 0.999)], [std]],
            fmt="D",
            ms=7,
            color=colour,
            capsize=4,
            zorder=4,
            label=f"{precision} job (mean ± std over seeds)" if precision not in seen else None,
        )
        seen.add(precision)
        if pct is not None:
            ax.annotate(
                f"{pct:.1f}% of peak",
                (x, mean + std),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
    for i, (name, value) in enumerate(roofs):
        ax.axhline(
            value, color=f"C{(i + 3) % 10}", ls="--", lw=1.2, label=f"{name}: {value:,.0f} GFLOP/s"
        )
    values = [v for vals in per_seed for v in vals] + [v for _, v in roofs]
    ax.set_yscale("log")
    ax.set_ylim(min(values) / 2, max(values) * 2.5)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("training GFLOP/s (training FLOPs x images / train s; log scale)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    if not roofs:
        ax.plot([], [], ls="none", label="no measured peak for this hardware")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)
