"""Builders for small, valid (and deliberately broken) dataset files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from bench.data.userfiles import IDX_FILES


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.tobytes()


def write_idx_dir(d: Path, splits, gz: bool = True) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": splits.x_train,
        "y_train": splits.y_train,
        "x_test": splits.x_test,
        "y_test": splits.y_test,
    }
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        if gz:
            (d / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (d / stem).write_bytes(raw)
    return d


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [
        ",".join([str(int(label)), *map(str, img.reshape(-1).tolist())]) for img, label in zip(x, y)
    ]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path
