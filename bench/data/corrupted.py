"""The corrupted test set: the 15 MNIST-C corruptions (``bench.data.corruptions``) of a
fixed, stratified sample of a dataset's test images, built once per test set and cached.

Base images: ``stratified_subset(y_test, n_base, seed)`` (the whole test set when it has
``n_base`` images or fewer). Corruption i of ``NAMES`` draws from its own generator
``default_rng([seed, i])``, so one transform's draws never shift another's. Only test
images are ever corrupted; labels are those of the base images.

Cache: ``data_dir()/corrupted/<test_digest[:16]>-n<n_base>-v<VERSION>.npz`` plus a ``.json``
sidecar (sha256 of the npz, content digest, build seconds), each written atomically, the npz
first. On load the file's sha256, the arrays' shapes and dtypes, the base indices and labels
and the content digest are verified; a cache that fails any check is reported in one line on
stderr, removed and rebuilt, never used. Bump ``VERSION`` whenever a transform changes.
"""

from __future__ import annotations

import hashlib
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.core import atomic
from bench.core.errors import DataError
from bench.data import corruptions
from bench.data.registry import checked_npz, data_dir
from bench.data.sampling import stratified_subset
from bench.data.sources import sha256_file

SEED = 0
N_BASE = 2000
VERSION = 1  # bump whenever a transform changes


@dataclass(frozen=True, eq=False)  # arrays inside: compare digests, not objects
class CorruptedSet:
    """Every corruption of the same base test images.

    ``images[name][i]`` is corruption ``name`` of ``x_test[indices[i]]``; ``labels`` are
    ``y_test[indices]``; ``digest`` is the sha256 over VERSION, SEED, indices, labels and each
    corruption's images in ``names`` order; ``test_digest`` names the clean test set it was
    built from; ``source`` says how it was obtained ("built in 8.1 s", "cache PATH").
    """

    names: tuple[str, ...]
    indices: np.ndarray
    labels: np.ndarray
    images: dict[str, np.ndarray]
    digest: str
    test_digest: str
    source: str

    def subset(self, n: int) -> CorruptedSet:
        """``n`` of this set's base images, chosen class-stratified by ``stratified_subset(labels,
        n, seed=SEED)`` (so nested in this set), with the same corrupted pixels and their own
        digest. ``n`` at or above the size gives this set itself; ``DataError`` for n < 0."""
        if n >= len(self.indices):
            return self
        if n < 0:
            raise DataError(f"corrupted test set subset: n must be >= 0, got {n}")
        pick = stratified_subset(self.labels, n, seed=SEED)
        indices, labels = self.indices[pick], self.labels[pick]
        images = {name: self.images[name][pick] for name in self.names}
        return CorruptedSet(
            self.names,
            indices,
            labels,
            images,
            content_digest(indices, labels, images),
            self.test_digest,
            f"{self.source}, subset of {n}",
        )


def content_digest(indices: np.ndarray, labels: np.ndarray, images: dict[str, np.ndarray]) -> str:
    """sha256 over VERSION, SEED, the indices, the labels and each corruption's images (name,
    shape, dtype and bytes) in ``corruptions.NAMES`` order."""
    h = hashlib.sha256(repr(("mnist-c", VERSION, SEED)).encode())
    arrays = [("indices", indices), ("labels", labels)] + [
        (name, images[name]) for name in corruptions.NAMES
    ]
    for name, arr in arrays:
        h.update(repr((name, arr.shape, arr.dtype.str)).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def base_indices(y_test: np.ndarray, n_base: int, seed: int = SEED) -> np.ndarray:
    """Sorted int64 indices of the base images: a stratified sample of ``n_base`` test images."""
    return stratified_subset(np.asarray(y_test), n_base, seed).astype(np.int64)


def build(
    x_test: np.ndarray, y_test: np.ndarray, test_digest: str, n_base: int = N_BASE, seed: int = SEED
) -> CorruptedSet:
    """Corrupt the base images with every corruption, without touching the cache.

    ``DataError`` when ``x_test`` is not uint8 (N, 28, 28) or ``y_test`` does not have N
    labels. The source reads "built in S s"; ``build_seconds`` below gives the breakdown.
    """
    built, _ = build_timed(x_test, y_test, test_digest, n_base, seed)
    return built


def build_timed(
    x_test, y_test, test_digest: str, n_base: int = N_BASE, seed: int = SEED
) -> tuple[CorruptedSet, dict[str, float]]:
    """``build`` and the seconds each corruption took (name -> seconds)."""
    x_test = corruptions.check_images(x_test)
    y_test = np.asarray(y_test)
    if y_test.shape != (len(x_test),):
        raise DataError(
            f"corrupted test set: need {len(x_test)} labels of shape ({len(x_test)},), "
            f"got shape {y_test.shape}"
        )
    start = time.perf_counter()
    indices = base_indices(y_test, n_base, seed)
    labels = y_test[indices].astype(np.int64)
    base = x_test[indices]
    images, seconds = {}, {}
    for i, name in enumerate(corruptions.NAMES):
        t0 = time.perf_counter()
        images[name] = corruptions.apply(name, base, np.random.default_rng([seed, i]))
        seconds[name] = round(time.perf_counter() - t0, 3)
    total = time.perf_counter() - start
    built = CorruptedSet(
        corruptions.NAMES,
        indices,
        labels,
        images,
        content_digest(indices, labels, images),
        test_digest,
        f"built in {total:.1f} s",
    )
    return built, seconds


def cache_paths(test_digest: str, n_base: int = N_BASE) -> tuple[Path, Path]:
    """The cache's npz and its json sidecar for a test set and base size."""
    stem = data_dir() / "corrupted" / f"{test_digest[:16]}-n{n_base}-v{VERSION}"
    return stem.with_suffix(".npz"), stem.with_suffix(".json")


def load(
    x_test: np.ndarray, y_test: np.ndarray, test_digest: str, n_base: int = N_BASE
) -> CorruptedSet:
    """The corrupted test set of (x_test, y_test) at seed ``SEED``: from the verified cache
    when there is one, else built (``build``) and cached. A cache that fails verification
    prints one warning line on stderr and is rebuilt. Processes sharing the data folder
    (jobs side by side on one host) take turns through a lock, so one builds and the others
    read its cache, instead of all building and replacing each other's files."""
    npz_path, meta_path = cache_paths(test_digest, n_base)
    with atomic.locked(npz_path.with_suffix(".lock")):
        cached = read_cache(npz_path, meta_path, y_test, test_digest, n_base)
        if cached is not None:
            return cached
        start = time.perf_counter()
        built, seconds = build_timed(x_test, y_test, test_digest, n_base, SEED)
        write_cache(built, seconds, time.perf_counter() - start, npz_path, meta_path)
    return built


def read_cache(
    npz_path: Path, meta_path: Path, y_test, test_digest: str, n_base: int
) -> CorruptedSet | None:
    """The verified cached set, or None (after a warning and removing a bad cache) to rebuild."""
    if not npz_path.exists() and not meta_path.exists():
        return None
    try:
        meta, arrays = checked_npz(npz_path, meta_path, ("indices", "labels", *corruptions.NAMES))
        cached = _verified(arrays, meta, np.asarray(y_test), test_digest, n_base, npz_path)
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        EOFError,
        zipfile.BadZipFile,
        DataError,
    ) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        print(
            f"warning: corrupted test set cache {npz_path} is corrupt ({why}); rebuilding",
            file=sys.stderr,
        )
        for p in (npz_path, meta_path):
            p.unlink(missing_ok=True)
        return None
    return cached


def _verified(
    arrays: dict, meta: dict, y_test: np.ndarray, test_digest: str, n_base: int, npz_path: Path
) -> CorruptedSet:
    """The set the cached arrays hold, or ``DataError`` naming the first check that fails."""
    indices, labels = arrays["indices"], arrays["labels"]
    expected = base_indices(y_test, n_base)
    if meta.get("test_digest") != test_digest:
        raise DataError("it was built from another test set")
    if (
        indices.dtype != np.int64
        or labels.dtype != np.int64
        or not np.array_equal(indices, expected)
    ):
        raise DataError("base indices differ from the stratified sample")
    if labels.shape != indices.shape or not np.array_equal(labels, y_test[indices]):
        raise DataError("labels differ from the test labels")
    images = {name: arrays[name] for name in corruptions.NAMES}
    for name, arr in images.items():
        if arr.dtype != np.uint8 or arr.shape != (len(indices), *corruptions.SHAPE):
            raise DataError(
                f"{name}: {arr.dtype} {arr.shape}, expected uint8 ({len(indices)}, 28, 28)"
            )
    digest = content_digest(indices, labels, images)
    if digest != meta["digest"]:
        raise DataError("content digest differs from the recorded one")
    return CorruptedSet(
        corruptions.NAMES, indices, labels, images, digest, test_digest, f"cache {npz_path}"
    )


def write_cache(
    built: CorruptedSet,
    seconds: dict[str, float],
    build_seconds: float,
    npz_path: Path,
    meta_path: Path,
) -> None:
    """Write the npz, then its sidecar; each atomically. A missing sidecar = no cache."""
    with atomic.atomic_path(npz_path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, indices=built.indices, labels=built.labels, **built.images)
    atomic.write_json(
        meta_path,
        {
            "sha256": sha256_file(npz_path),
            "digest": built.digest,
            "test_digest": built.test_digest,
            "version": VERSION,
            "seed": SEED,
            "n_images": len(built.indices),
            "build_seconds": round(build_seconds, 3),
            "seconds_by_corruption": seconds,
        },
    )
