"""matplotlib for the leaderboard's PNGs: the backend, the fixed sizes and DPI, the atomic
writer without timestamp metadata (so the same figure gives the same bytes, for one
matplotlib version; sizes in pixels are ``FIGSIZES[kind] * DPI``), and the figures that only
the PNGs show: the image galleries and the p-value heatmap. The figures both the PNGs and
the site show are defined in ``bench.publish.charts``.
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
}


def pyplot():
    """matplotlib's pyplot on the headless Agg backend, with the leaderboard's font sizes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "svg.hashsalt": "mnist-bench"})
    return plt


def save(fig, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``DPI`` to ``path`` atomically, without metadata; close it."""
    plt = pyplot()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def mistakes_gallery(images, captions, title: str, path: Path, columns: int = 8) -> Path:
    """A grid of misclassified test images with 'true -> predicted (p)' captions."""
    plt = pyplot()
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=FIGSIZES["gallery"], squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, caption in zip(axes.flat, images, captions):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(caption, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def pvalue_heatmap(labels: list[str], pvalues, title: str, path: Path, alpha: float = 0.05) -> Path:
    """Pairwise (Holm-adjusted) p-values as a lower-triangle heatmap, log colour scale;
    cells below ``alpha`` (a significant difference) are outlined."""
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    plt = pyplot()
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
    return save(fig, path)


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
    plt = pyplot()
    cols = 1 + len(names)
    fig, axes = plt.subplots(len(clean), cols, figsize=FIGSIZES["corruptions"], squeeze=False)
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
    return save(fig, path)
