"""Figures beyond test accuracy (matplotlib, headless Agg), drawn as ``plots`` draws: from
plain numbers, at the fixed sizes of ``plots.FIGSIZES``, written atomically without
timestamps (the same numbers give the same bytes).

- ``reliability_diagram``: accuracy against confidence per bin, one line per model, the
  diagonal, and each bin's image count in a panel below;
- ``clean_vs_corrupted``: each model's clean and corrupted accuracy with their intervals;
- ``corruption_gallery``: a few test images, clean and under every corruption.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.publish import plots


def _errors(values, intervals) -> np.ndarray:
    """matplotlib's ``xerr`` (2 x n) from (low, high) pairs; 0 where an end is unknown."""
    lo = [v - low if low is not None else 0.0 for v, (low, _) in zip(values, intervals)]
    hi = [high - v if high is not None else 0.0 for v, (_, high) in zip(values, intervals)]
    return np.maximum(np.array([lo, hi], dtype=float), 0.0)


def reliability_diagram(names: list[str], bins: list[dict], title: str, path: Path) -> Path:
    """Per model (``bins``: ``count``, ``confidence``, ``accuracy`` per equal-width bin over
    [0, 1], None for empty bins): accuracy % against mean confidence % of the non-empty bins,
    the diagonal of perfect calibration; below, the images per bin (log scale), grouped."""
    plt = plots._pyplot()
    fig, (ax, ax_n) = plt.subplots(
        2,
        1,
        figsize=plots.FIGSIZES["reliability"],
        sharex=True,
        gridspec_kw={"height_ratios": (3, 1)},
    )
    ax.plot([0, 100], [0, 100], ls=":", color="0.4", lw=1, label="perfect calibration")
    for i, (name, b) in enumerate(zip(names, bins)):
        k, color = len(b["count"]), f"C{i % 10}"
        pts = [
            (100 * c, 100 * a)
            for n, c, a in zip(b["count"], b["confidence"], b["accuracy"])
            if n and c is not None and a is not None
        ]
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            marker="o",
            ms=4,
            lw=1.2,
            color=color,
            label=name,
        )
        width = 100 / k * 0.8 / len(names)
        centers = 100 * (np.arange(k) + 0.5) / k + (i - (len(names) - 1) / 2) * width
        filled = [j for j in range(k) if b["count"][j] > 0]  # a log axis has no room for zero
        ax_n.bar(centers[filled], [b["count"][j] for j in filled], width, color=color)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy in the bin, %")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title)
    ax_n.set_yscale("log")
    ax_n.set_xlabel(
        "top-label confidence, % (equal-width bins; points at the bin's mean confidence)"
    )
    ax_n.set_ylabel("images")
    ax_n.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return plots._save(fig, path)


def clean_vs_corrupted(
    names: list[str],
    clean: list,
    clean_ci: list[tuple],
    corrupted: list[float],
    corrupted_ci: list[tuple],
    title: str,
    path: Path,
) -> Path:
    """One line per model (the first on top): accuracy % on the clean base images and mean
    accuracy % over the corruptions, each with its interval as error bars, joined by a line
    (the drop). A model without a clean accuracy shows its corrupted point alone."""
    plt = plots._pyplot()
    fig, ax = plt.subplots(figsize=plots.FIGSIZES["robustness"])
    y = np.arange(len(names))[::-1].astype(float)
    have = [i for i, c in enumerate(clean) if c is not None]
    for i in have:  # the two points a little apart, so that neither interval hides the other
        ax.plot([clean[i], corrupted[i]], [y[i] + 0.1, y[i] - 0.1], color="0.7", lw=2, zorder=1)
    if have:
        ax.errorbar(
            [clean[i] for i in have],
            y[have] + 0.1,
            xerr=_errors([clean[i] for i in have], [clean_ci[i] for i in have]),
            fmt="o",
            color="tab:blue",
            capsize=3,
            label="clean (same base images)",
            zorder=3,
        )
    ax.errorbar(
        corrupted,
        y - (0.1 if have else 0.0),
        xerr=_errors(corrupted, corrupted_ci),
        fmt="s",
        color="tab:red",
        capsize=3,
        label="mean over the corruptions",
        zorder=3,
    )
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ends = [
        *corrupted,
        *(clean[i] for i in have),
        *(
            v
            for i in range(len(names))
            for v in (*corrupted_ci[i], *(clean_ci[i] if i in have else ()))
            if v is not None
        ),
    ]
    ax.set_xlim(max(0.0, min(ends) - 2.0), min(100.5, max(ends) + 1.0))
    ax.set_xlabel("test accuracy, % (95% intervals)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    fig.suptitle(title, fontsize=10)  # over the figure: long row labels push the axes right
    fig.tight_layout()
    return plots._save(fig, path)


def corruption_gallery(
    clean: list,
    corrupted: list[list],
    names: list[str],
    row_titles: list[str],
    title: str,
    path: Path,
) -> Path:
    """A grid: one row per base image (``clean[i]`` then ``corrupted[i][j]`` under
    ``names[j]``), corruption names over the first row, ``row_titles[i]`` over each clean
    image; uint8 images drawn 0 (white) to 255 (black) as the mistake galleries are."""
    plt = plots._pyplot()
    cols = 1 + len(names)
    fig, axes = plt.subplots(len(clean), cols, figsize=plots.FIGSIZES["corruptions"], squeeze=False)
    for i, (base, row) in enumerate(zip(clean, corrupted)):
        for j, (img, name) in enumerate(zip([base, *row], ["clean", *names])):
            ax = axes[i, j]
            ax.imshow(np.asarray(img), cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if (
                j == 0
            ):  # the row's label at the left, so that it never runs into the next column's title
                ax.set_ylabel(
                    row_titles[i].replace(" (", "\n("),
                    fontsize=7,
                    rotation=0,
                    ha="right",
                    va="center",
                )
            if i == 0:
                ax.set_title(name.replace("_", " "), fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return plots._save(fig, path)
