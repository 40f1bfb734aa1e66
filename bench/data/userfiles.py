"""Parsers for the dataset file formats users bring: Keras npz, IDX (gz or plain), CSV.

Each parser returns ``Splits`` or raises ``DataError`` with a one-line reason naming the
file and what was expected. Two formats may say who wrote each image (its group: a writer,
a scanner, a patient): an npz with arrays ``groups_train`` / ``groups_test``, a CSV with a
``group`` column after the label. The harness then validates on whole groups and treats the
test set's groups as the unit of its intervals and paired tests (``bench.data.writers``). Nothing here unpickles: ``np.load(..., allow_pickle=False)``.
Files larger than ``max_user_file_bytes()`` are refused before they are read.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from bench.core.errors import DataError
from bench.data.arrays import Splits, make_splits, to_groups, to_images, to_labels
from bench.data.sampling import group_split, stratified_split

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
NPZ_GROUP_KEYS = ("groups_train", "groups_test")  # optional
CSV_GROUP_COLUMN = "group"  # optional, right after the label
CSV_TEST_FRACTION = 0.2  # stratified, seed 0: documented in docs/guide/datasets.md
CSV_SPLIT_SEED = 0
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def max_user_file_bytes() -> int:
    """Largest user file we read (default 2 GiB; ``BENCH_MAX_FILE_BYTES`` overrides)."""
    return int(os.environ.get("BENCH_MAX_FILE_BYTES", 2 * 1024**3))


def _existing_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataError(f"{what}: no such file: {path}")
    if not path.is_file():
        raise DataError(f"{what}: not a file: {path}")
    size = path.stat().st_size
    if size > max_user_file_bytes():
        raise DataError(
            f"{what}: {path} is {size} bytes, over the {max_user_file_bytes()}-byte limit "
            "(set BENCH_MAX_FILE_BYTES to raise it)"
        )
    return path


def load_npz(path: str | os.PathLike) -> Splits:
    """Keras ``mnist.npz`` layout: arrays x_train, y_train, x_test, y_test, and optionally
    groups_train, groups_test (one writer per image: integers or strings)."""
    path = _existing_file(Path(path), "npz")
    if not zipfile.is_zipfile(path):  # else np.load would try to read it as a pickle
        raise DataError(f"npz {path}: not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise DataError(
                    f"npz {path}: missing arrays {missing}; expected {list(NPZ_KEYS)}, found {z.files}"
                )
            arrays = {k: z[k] for k in NPZ_KEYS}
            arrays.update(_npz_groups(z, path))
    except DataError:
        raise
    except ValueError as exc:  # object arrays need pickle: refused
        raise DataError(f"npz {path}: cannot load without pickle ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"npz {path}: not a readable .npz file ({exc})") from None
    return make_splits(
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        f"npz {path}",
        arrays.get("groups_train"),
        arrays.get("groups_test"),
    )


def _npz_groups(z, path: Path) -> dict:
    """The optional group arrays of an open npz, each refused by name when it needs pickle."""
    out = {}
    for k in NPZ_GROUP_KEYS:
        if k in z.files:
            try:
                out[k] = z[k]
            except ValueError:
                raise DataError(
                    f"npz {path}: {k} is an object array (it needs pickle); save the groups as "
                    "integers or strings, e.g. np.asarray(groups, dtype=str)"
                ) from None
    return out


def parse_idx(data: bytes, what: str) -> np.ndarray:
    """Decode one IDX file (the format of the original MNIST distribution)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{what}: not an IDX file (bad magic number)")
    dtype, ndim = data[2], data[3]
    if dtype not in _IDX_DTYPES or ndim == 0:
        raise DataError(f"{what}: not an IDX file (type code 0x{dtype:02x}, {ndim} dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{what}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dt = np.dtype(_IDX_DTYPES[dtype])
    expected = header + int(np.prod(shape)) * dt.itemsize
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(f"{what}: {kind}: {len(data)} bytes, header {shape} needs {expected}")
    return np.frombuffer(data, dtype=dt, offset=header).reshape(shape)


def read_idx_file(path: Path) -> np.ndarray:
    """Read one IDX file, gunzipping when it is gzip-compressed."""
    raw = _existing_file(path, "idx").read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"idx {path}: corrupt gzip ({exc})") from None
    return parse_idx(raw, f"idx {path}")


def find_idx_files(directory: Path) -> dict[str, Path]:
    """Locate the four IDX files in ``directory`` (names as in the MNIST distribution)."""
    if not directory.is_dir():
        raise DataError(f"idx: no such directory: {directory}")
    found = {}
    for key, stem in IDX_FILES.items():
        for name in (
            stem,
            stem + ".gz",
            stem.replace("-idx", ".idx"),
            stem.replace("-idx", ".idx") + ".gz",
        ):
            if (directory / name).is_file():
                found[key] = directory / name
                break
        else:
            raise DataError(
                f"idx {directory}: missing {stem}[.gz]; expected the four files {sorted(IDX_FILES.values())}"
            )
    return found


def load_idx_dir(directory: str | os.PathLike) -> Splits:
    """The four MNIST-layout IDX files in one directory, .gz or plain."""
    files = find_idx_files(Path(directory))
    arrays = {key: read_idx_file(path) for key, path in files.items()}
    return make_splits(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], f"idx {directory}"
    )


def load_csv(path: str | os.PathLike) -> Splits:
    """Kaggle digit-recognizer layout: header ``label,pixel0..pixel783``, one image a row,
    or ``label,group,pixel0..pixel783`` with an integer group (writer) per row.

    Without groups the rows are split into train/test by a stratified, seeded split:
    ``CSV_TEST_FRACTION`` (20%) of each class goes to test, with seed ``CSV_SPLIT_SEED``.
    With groups the test set takes whole groups (``group_split``, the same fraction and
    seed), so that no writer of a test image wrote a training image.
    """
    path = _existing_file(Path(path), "csv")
    what = f"csv {path}"
    table, grouped = _csv_table(path, what)
    y = to_labels(table[:, 0], what)
    x = to_images(table[:, 2:] if grouped else table[:, 1:], what)
    g = to_groups(table[:, 1], len(y), what) if grouped else None
    if g is not None:
        if len(np.unique(g)) < 2:
            raise DataError(
                f"{what}: the group column names one group; a train/test split by groups needs at least 2"
            )
        train_idx, test_idx = group_split(g, CSV_TEST_FRACTION, seed=CSV_SPLIT_SEED)
        return make_splits(
            x[train_idx], y[train_idx], x[test_idx], y[test_idx], what, g[train_idx], g[test_idx]
        )
    counts = np.bincount(y, minlength=10)
    if (counts[counts > 0] < 2).any():
        raise DataError(
            f"{what}: every class present needs at least 2 rows to split train/test, counts {counts.tolist()}"
        )
    train_idx, test_idx = stratified_split(y, CSV_TEST_FRACTION, seed=CSV_SPLIT_SEED)
    return make_splits(x[train_idx], y[train_idx], x[test_idx], y[test_idx], what)


def _csv_table(path: Path, what: str) -> tuple[np.ndarray, bool]:
    """The CSV's rows as float64 (label, [group,] 784 pixels) and whether it has the group column."""
    with open(path, "rb") as fh:
        header = [
            h.strip().lower() for h in fh.readline().decode("utf-8", "replace").strip().split(",")
        ]
        grouped = len(header) > 1 and header[1] == CSV_GROUP_COLUMN
        width = 786 if grouped else 785
        if len(header) != width or header[0] != "label":
            raise DataError(
                f"{what}: header must be label,pixel0..pixel783 (785 columns) or label,group,pixel0..pixel783 "
                f"(786), got {len(header)} columns starting {header[0][:20]!r}"
            )
        body = fh.read()
    rows = [line for line in body.split(b"\n") if line.strip()]
    if not rows:
        raise DataError(f"{what}: no data rows")
    for lineno, line in enumerate(rows, start=2):
        n = line.count(b",") + 1
        if n != width:
            raise DataError(
                f"{what}: line {lineno} has {n} columns, expected {width} "
                f"(label{', group' if grouped else ''} + 784 pixels)"
            )
    try:
        return np.loadtxt(
            io.BytesIO(b"\n".join(rows)), delimiter=",", dtype=np.float64, ndmin=2
        ), grouped
    except ValueError as exc:
        raise DataError(f"{what}: non-numeric value ({exc})") from None
