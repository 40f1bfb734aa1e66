"""The canonical in-memory dataset: four arrays and their content checks.

Every source (built-in or user file) ends as a ``Splits``: uint8 images (N, 28, 28) and
int64 labels (N,) in 0..9, for train and test, and optionally a group per image (int64: who
wrote it, where a user's file says so; ``to_groups``). ``validate`` is the one place that decides
what a usable dataset is; it raises ``DataError`` with a one-line reason otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bench.core.errors import DataError

IMAGE_SHAPE = (28, 28)
N_CLASSES = 10


@dataclass(frozen=True)
class Splits:
    """Train and test arrays in the canonical layout (see module docstring). ``g_train`` /
    ``g_test``: each image's group (writer) where the source gives one, else None."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    g_train: np.ndarray | None = None
    g_test: np.ndarray | None = None

    def digest(self) -> str:
        """sha256 over the arrays' shapes and bytes (the groups included where given, so a
        dataset without groups keeps the digest it always had): identifies the content exactly."""
        return _sha256(
            self.x_train,
            self.y_train,
            self.x_test,
            self.y_test,
            g_train=self.g_train,
            g_test=self.g_test,
        )

    def test_digest(self) -> str:
        """sha256 over the test images and labels (and test groups, where given) alone: two
        records whose per-example outcomes refer to the same test digest can be compared
        image by image, with the same groups."""
        return _sha256(self.x_test, self.y_test, g_test=self.g_test)

    def class_counts(self, split: str) -> list[int]:
        """Images per class 0..9 in ``split`` ("train" or "test")."""
        y = self.y_train if split == "train" else self.y_test
        return np.bincount(y, minlength=N_CLASSES).tolist()


def _sha256(*arrays, **optional) -> str:
    """sha256 over each array's shape, dtype and bytes; an ``optional`` array that is given
    is preceded by its name (so that train groups and test groups never hash alike), one
    that is None adds nothing (so a dataset without groups keeps its digest)."""
    h = hashlib.sha256()
    named = [(None, a) for a in arrays] + [(k, v) for k, v in optional.items() if v is not None]
    for name, arr in named:
        if name is not None:
            h.update(name.encode())
        h.update(repr((arr.shape, arr.dtype.str)).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def to_groups(g, n: int, what: str) -> np.ndarray | None:
    """Each image's group (e.g. its writer) as int64, or None when ``g`` is None.

    Accepts a 1-D array of ``n`` integers, of whole-number floats, or of strings (then
    numbered 0.. in sorted order); NaN, fractions, other shapes or lengths are refused."""
    if g is None:
        return None
    g = np.asarray(g)
    if g.ndim != 1 or len(g) != n:
        raise DataError(f"{what}: groups must be one value per image ({n},), got shape {g.shape}")
    if g.dtype.kind in "US":
        return np.unique(g, return_inverse=True)[1].astype(np.int64).reshape(-1)
    if np.issubdtype(g.dtype, np.integer) or g.dtype == bool:
        return g.astype(np.int64)
    if (
        np.issubdtype(g.dtype, np.floating)
        and np.isfinite(g).all()
        and np.array_equal(g, np.round(g))
    ):
        return g.astype(np.int64)
    raise DataError(
        f"{what}: groups have dtype {g.dtype} with non-integer values; "
        "accepted: integers or strings, one per image"
    )


def to_images(x: np.ndarray, what: str) -> np.ndarray:
    """Bring pixel data to uint8 (N, 28, 28), refusing anything that does not fit.

    Accepts (N, 28, 28) or (N, 784); integer pixels must lie in 0..255; float pixels in
    [0, 1] are scaled by 255 (the common "already normalised" layout), float pixels in
    (1, 255] are taken as they are and must be whole numbers. NaN is refused.
    """
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, *IMAGE_SHAPE)
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{what}: images must have shape (N, 28, 28) or (N, 784), got {x.shape}")
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{what}: pixel values must lie in 0..255, got {x.min()}..{x.max()}")
        return x.astype(np.uint8)
    if np.issubdtype(x.dtype, np.floating):
        if np.isnan(x).any():
            raise DataError(
                f"{what}: pixels contain NaN; accepted: 0..255 integers or floats in [0, 1]"
            )
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if lo < 0 or hi > 255:
            raise DataError(
                f"{what}: pixel values must lie in 0..255 (or [0, 1]), got {lo:g}..{hi:g}"
            )
        if hi <= 1.0:
            x = x * 255.0
        elif not np.array_equal(x, np.round(x)):
            raise DataError(f"{what}: float pixels above 1 must be whole numbers in 0..255")
        return np.round(x).astype(np.uint8)
    raise DataError(f"{what}: pixels have dtype {x.dtype}; accepted: integers 0..255 or floats")


def to_labels(y: np.ndarray, what: str) -> np.ndarray:
    """Bring labels to int64 (N,), refusing anything outside 0..9."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{what}: labels must have shape (N,), got {y.shape}")
    if np.issubdtype(y.dtype, np.floating):
        if np.isnan(y).any() or not np.array_equal(y, np.round(y)):
            raise DataError(f"{what}: labels must be whole numbers 0..9")
    elif not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{what}: labels have dtype {y.dtype}; accepted: integers 0..9")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{what}: labels must lie in 0..9, got {y.min()}..{y.max()}")
    return y.astype(np.int64)


def make_splits(x_train, y_train, x_test, y_test, what: str, g_train=None, g_test=None) -> Splits:
    """Canonicalise four raw arrays (and optional groups, ``to_groups``) into ``Splits`` and
    validate them."""
    splits = Splits(
        to_images(x_train, f"{what} train"),
        to_labels(y_train, f"{what} train"),
        to_images(x_test, f"{what} test"),
        to_labels(y_test, f"{what} test"),
        to_groups(g_train, len(np.asarray(y_train)), f"{what} train"),
        to_groups(g_test, len(np.asarray(y_test)), f"{what} test"),
    )
    validate(splits, what)
    return splits


def validate(s: Splits, what: str, expect: Expectation | None = None) -> None:
    """Raise ``DataError`` unless ``s`` is a usable dataset (and matches ``expect``)."""
    for split, x, y in (("train", s.x_train, s.y_train), ("test", s.x_test, s.y_test)):
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
            raise DataError(
                f"{what}: {split} images must be uint8 (N, 28, 28), got {x.dtype} {x.shape}"
            )
        if y.dtype != np.int64 or y.ndim != 1:
            raise DataError(f"{what}: {split} labels must be int64 (N,), got {y.dtype} {y.shape}")
        if len(x) != len(y):
            raise DataError(f"{what}: {split} has {len(x)} images but {len(y)} labels")
        if len(x) == 0:
            raise DataError(f"{what}: the {split} split is empty")
        if y.min() < 0 or y.max() > 9:
            raise DataError(f"{what}: {split} labels must lie in 0..9, got {y.min()}..{y.max()}")
    if expect is not None:
        expect.check(s, what)


@dataclass(frozen=True)
class Expectation:
    """Known facts about a built-in dataset, checked on every load."""

    n_train: int
    n_test: int
    test_class_counts: tuple[int, ...] | None = None
    train_class_counts: tuple[int, ...] | None = None

    def check(self, s: Splits, what: str) -> None:
        if (len(s.y_train), len(s.y_test)) != (self.n_train, self.n_test):
            raise DataError(
                f"{what}: expected {self.n_train}/{self.n_test} train/test images, "
                f"got {len(s.y_train)}/{len(s.y_test)}"
            )
        for split, want in (("test", self.test_class_counts), ("train", self.train_class_counts)):
            if want is not None and tuple(s.class_counts(split)) != want:
                raise DataError(
                    f"{what}: {split} class counts {s.class_counts(split)} != expected {list(want)}"
                )
