"""THE shared preprocessing: every model, whatever its family, is fed from here.

Pure numpy functions, no framework imports, so a leaderboard compares models rather than
pipelines:

- ``to_unit_float``: uint8 pixels -> float32 in [0, 1] (divide by 255; nothing fitted).
- ``flat_view`` (N, 784) and ``image_view`` (N, 28, 28, 1): the two views adapters eat.
- ``stratified_split`` / ``stratified_subset``: seeded, class-balanced index selection,
  used to carve the validation split from the training set and to shrink it for small
  profiles. The test set is never touched by either.
- ``prepare``: applies a profile's split rule to a dataset and returns ``Prepared``.
- ``group_split`` (``bench.data.sampling``): the validation split by whole writers where
  the training digits' writers are known (MNIST through ``bench.data.writers``, or a user
  file's groups): no training writer is in validation,
  as no training writer is in the test set, so validation accuracy measures what the test
  set measures (new writers) instead of flattering the model with writers it trained on.
  ``val_split_of`` names the kind a dataset gets ("writers" or "images"), a field of the
  job's identity; ``prepare_splits`` applies it.
- ``with_shifted_copies``: training-set augmentation for models that cannot learn that a
  digit moved by a pixel is the same digit (trees); applied inside ``fit``, never to the
  validation or test images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data import writers
from bench.data.sampling import group_split, stratified_split, stratified_subset  # noqa: F401 (re-exported)

N_CLASSES = 10
VAL_SPLITS = ("writers", "images")  # whole writers held out / a stratified sample of images


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


def with_shifted_copies(
    x: np.ndarray, y: np.ndarray, copies: int, max_shift: int, seed: int, side: int = 28
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` followed by ``copies`` copies of it in which each image is moved by a random
    whole number of pixels in [-max_shift, max_shift] along each axis (uncovered pixels
    become 0), offsets drawn from ``seed``; ``y`` repeated to match. ``x`` is flat
    (N, side*side) or images (N, side, side[, 1]); the result has its shape and dtype.
    ``copies=0`` or ``max_shift=0`` returns the inputs unchanged."""
    if copies <= 0 or max_shift <= 0:
        return x, y
    if x.shape[1:] not in ((side * side,), (side, side), (side, side, 1)):
        raise ValueError(
            f"expected images of {side}x{side} pixels, flat or not, got shape {x.shape}"
        )
    images = x.reshape(len(x), side, side)
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    rng = np.random.default_rng(seed)
    parts = [x]
    for _ in range(copies):
        offsets = rng.integers(0, 2 * max_shift + 1, size=(len(x), 2))
        moved = np.empty_like(images)
        for dy, dx in {tuple(o) for o in offsets.tolist()}:  # one slice per distinct offset
            rows = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
            moved[rows] = padded[rows, dy : dy + side, dx : dx + side]
        parts.append(moved.reshape(x.shape))
    return np.concatenate(parts), np.tile(y, copies + 1)


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
    val_split: str = "images"  # how validation was carved (``VAL_SPLITS``)

    def views(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(train, val, test) images in view ``kind`` ("flat" or "image")."""
        fn = VIEWS[kind]
        return fn(self.x_train), fn(self.x_val), fn(self.x_test)

    def sizes(self) -> dict[str, int]:
        return {"n_train": len(self.y_train), "n_val": len(self.y_val), "n_test": len(self.y_test)}


def prepare(
    x_train, y_train, x_test, y_test, rule: SplitRule, groups: np.ndarray | None = None
) -> Prepared:
    """Apply ``rule`` to a dataset's train split; the test split passes through unchanged.
    ``groups`` (one writer per training image): validation takes whole writers
    (``group_split``) instead of a stratified sample of images; the caps then take
    stratified subsets of each side, which keeps the two sides' writers apart."""
    if groups is None:
        rest, val = stratified_split(y_train, rule.val_fraction, rule.seed)
    else:
        rest, val = group_split(groups, rule.val_fraction, rule.seed)
    if rule.max_train is not None:
        rest = rest[stratified_subset(y_train[rest], rule.max_train, rule.seed + 1)]
    if rule.max_val is not None:
        val = val[stratified_subset(y_train[val], rule.max_val, rule.seed + 2)]
    return Prepared(
        x_train[rest],
        y_train[rest],
        x_train[val],
        y_train[val],
        x_test,
        y_test,
        "images" if groups is None else "writers",
    )


def val_split_of(splits) -> str:
    """The validation split a dataset's ``Splits`` get: "writers" where its training images'
    writers are known (``writers.train_groups``: MNIST's metadata or a file's groups), else
    "images"."""
    return "images" if writers.train_groups(splits) is None else "writers"


def prepare_splits(splits, rule: SplitRule, val_split: str | None = None) -> Prepared:
    """``prepare`` on a dataset's ``Splits`` with the validation split ``val_split`` (default:
    ``val_split_of`` them). "writers" for a dataset whose writers are not known is a
    ValueError (a job planned on MNIST, run on other data)."""
    kind = val_split or val_split_of(splits)
    if kind not in VAL_SPLITS:
        raise ValueError(f"unknown validation split {kind!r}; choose from: {', '.join(VAL_SPLITS)}")
    groups = writers.train_groups(splits) if kind == "writers" else None
    if kind == "writers" and groups is None:
        raise ValueError(
            "a validation split by writers needs a dataset whose writers are known "
            "(MNIST, or a file that gives groups)"
        )
    return prepare(splits.x_train, splits.y_train, splits.x_test, splits.y_test, rule, groups)


def missing_classes(y: np.ndarray) -> list[int]:
    """Classes 0..9 with no sample in ``y``."""
    return [c for c in range(N_CLASSES) if not np.any(y == c)]
