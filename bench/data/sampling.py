"""Stratified, seeded sampling of indices: the one rule behind every split and subset.

Used by the data sources (a test split for files that come without one), the profiles'
train/validation split and any fixed subset of a test set. ``group_split`` is the one
exception to stratifying: where each image has a writer (group), a split keeps writers whole.
"""

from __future__ import annotations

import numpy as np


def _allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``counts`` (largest remainder, exact sum)."""
    if total > counts.sum():
        raise ValueError(f"cannot take {total} of {counts.sum()} samples")
    exact = counts * (total / counts.sum())
    alloc = np.floor(exact).astype(np.int64)
    short = total - alloc.sum()
    # hand the remaining units to the largest fractional parts; ties go to the lower class
    order = sorted(range(len(counts)), key=lambda c: (-(exact[c] - alloc[c]), c))
    for c in order[:short]:
        alloc[c] += 1
    return np.minimum(alloc, counts)


def stratified_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` samples of ``y``, class proportions kept, chosen by ``seed``."""
    y = np.asarray(y)
    if n >= len(y):
        return np.arange(len(y))
    classes, counts = np.unique(y, return_counts=True)
    alloc = _allocate(counts, n)
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, alloc)]
    return np.sort(np.concatenate(chosen))


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of ``y`` into (rest, held_out) with ``fraction`` of each class held out.

    Both index arrays are sorted and disjoint and together cover every index.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    held = stratified_subset(y, int(round(fraction * len(y))), seed)
    rest = np.setdiff1d(np.arange(len(y)), held, assume_unique=True)
    return rest, held


def group_split(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (rest, held_out) by whole groups (writers): the groups in a
    random order drawn from ``seed``, held out one by one until they hold at least
    ``fraction`` of the indices. Both sorted, disjoint, covering every index; no group on
    both sides. Classes are not stratified: a writer wrote every digit, so the held-out
    side's class mix stays close to the whole's."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    g = np.asarray(groups)
    names, codes, sizes = np.unique(g, return_inverse=True, return_counts=True)
    if len(names) < 2:
        raise ValueError(f"a split by groups needs at least 2 writers, got {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    reached = np.cumsum(sizes[order]) >= fraction * len(g)
    held_groups = order[: min(int(np.argmax(reached)) + 1, len(names) - 1)]
    held = np.isin(codes, held_groups)
    return np.flatnonzero(~held), np.flatnonzero(held)
