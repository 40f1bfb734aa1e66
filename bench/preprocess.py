"""THE shared preprocessing: every model, whatever its family, is fed from here.

Pure numpy functions, no framework imports, so a leaderboard compares models rather than
pipelines:

- ``to_unit_float``: uint8 pixels -> float32 in [0, 1] (divide by 255; nothing fitted).
- ``flat_view`` (N, 784) and ``image_view`` (N, 28, 28, 1): the two views adapters eat.
- ``stratified_split`` / ``stratified_subset``: seeded, class-balanced index selection,
  used to carve the validation split from the training set and to shrink it for small
  profiles. The test set is never touched by either.
- ``prepare``: applies a profile's split rule to a dataset and returns ``Prepared``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_CLASSES = 10


def to_unit_float(x: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1]. Refuses any other dtype (no silent double-scaling)."""
    if x.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels, got {x.dtype}")
    return x.astype(np.float32) / np.float32(255.0)


def flat_view(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    return to_unit_float(x).reshape(len(x), -1)


def image_view(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1] (channels last)."""
    return to_unit_float(x)[..., np.newaxis]


VIEWS = {"flat": flat_view, "image": image_view}


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


@dataclass(frozen=True)
class SplitRule:
    """How a profile cuts a dataset: validation carved from train, optional caps.

    ``val_fraction`` of each class of the training set becomes validation; then the
    remaining training set is capped at ``max_train`` and validation at ``max_val``
    (stratified, seeded subsets). The test set is always used whole.
    """

    val_fraction: float
    max_train: int | None = None
    max_val: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class Prepared:
    """A dataset cut by a ``SplitRule``: uint8 images and int64 labels per split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def views(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(train, val, test) images in view ``kind`` ("flat" or "image")."""
        fn = VIEWS[kind]
        return fn(self.x_train), fn(self.x_val), fn(self.x_test)

    def sizes(self) -> dict[str, int]:
        return {"n_train": len(self.y_train), "n_val": len(self.y_val), "n_test": len(self.y_test)}


def prepare(x_train, y_train, x_test, y_test, rule: SplitRule) -> Prepared:
    """Apply ``rule`` to a dataset's train split; the test split passes through unchanged."""
    rest, val = stratified_split(y_train, rule.val_fraction, rule.seed)
    if rule.max_train is not None:
        rest = rest[stratified_subset(y_train[rest], rule.max_train, rule.seed + 1)]
    if rule.max_val is not None:
        val = val[stratified_subset(y_train[val], rule.max_val, rule.seed + 2)]
    return Prepared(x_train[rest], y_train[rest], x_train[val], y_train[val], x_test, y_test)


def missing_classes(y: np.ndarray) -> list[int]:
    """Classes 0..9 with no sample in ``y``."""
    return [c for c in range(N_CLASSES) if not np.any(y == c)]
