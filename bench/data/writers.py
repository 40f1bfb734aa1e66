"""Who wrote each MNIST digit, and which MNIST test labels people dispute.

Two third-party files ship in ``bench/data/thirdparty/`` (their licences beside them, the
notice in ``NOTICE``), each checked against its pinned sha256 before it is parsed:

- QMNIST's metadata (Yadav and Bottou 2019, BSD): for every MNIST training digit and the
  10,000 MNIST test digits, the NIST writer ID and the NIST series: 0 or 1 (Census Bureau
  employees, NIST special database 3) or 4 (high-school students, special database 1). The
  10,000 test digits come from 297 writers; no writer wrote both training and test digits.
- cleanlab's label-errors (Northcutt, Athalye and Mueller 2021, Apache-2.0): 100 MNIST test
  images flagged by confident learning, each shown to 5 annotators. ``disputed()`` gives the
  ones whose given label fewer than 3 of 5 confirmed (15 images), the paper's label errors.

The metadata applies to a test set only when its digest is MNIST's (``MNIST_TEST_DIGEST``,
the ``Splits.test_digest`` of the MNIST arrays every source yields): ``for_test_set``
returns None for any other data, and callers then treat each image as its own unit. The
training digits' writers (``for_dataset``) apply only to the MNIST dataset's digest
(``MNIST_DATA_DIGEST``); they give the writer-disjoint validation split.

A user's dataset may give its own groups (``Splits.g_train`` / ``g_test``, from the file):
``train_groups`` returns MNIST's writers or those; ``test_groups`` returns the test set's
groups by test digest, MNIST's from the metadata and a user test set's from its records
(``register_test_groups``, called when a record that carries ``outcomes.groups`` is read;
the digest covers the groups, so one digest has one grouping).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from bench.core.errors import DataError

MNIST_TEST_DIGEST = "7cd7e3801c5d56d07f5a19f9983c86ce8309b165b29c044612064c9f7f21d35f"
# ``Splits.digest`` of the whole MNIST dataset (its training arrays included): the training
# digits' writers apply to it alone (``for_dataset``)
MNIST_DATA_DIGEST = "c2701db539e88b19ccb28bf689d499e9886f0ff3c966840a1cadac493c4d1de5"
N_MNIST_TEST = 10_000
N_MNIST_TRAIN = 60_000

FILES = {
    "qmnist-train-labels.tsv.gz": "063229afb535986df50a905c6fa03b716f503bd859d2d9bc8a9b4e2c6a2ccee4",
    "qmnist-test-labels.tsv.gz": "fe2001449c9580376e16fad7a14cc4f525644b6ffeadc47dc249938529002904",
    "mnist_mturk.json": "448bd00fc9df262c68d50d48709d7fa3d5dc966bc66580e5df20e0dcba6e5612",
}

# NIST series -> the population a table names: SD3 (series 0, 1) and SD1 (series 4)
POPULATIONS = {0: "census", 1: "census", 4: "students"}
POPULATION_TEXT = {
    "census": "Census Bureau employees (NIST SD-3)",
    "students": "high-school students (NIST SD-1)",
}
DISPUTE_MIN_CONFIRMING = 3  # of 5 annotators: fewer than this confirming the given label = disputed


@dataclass(frozen=True)
class Writers:
    """One entry per digit, in the dataset's order: ``writer`` (NIST writer ID), ``series``
    (NIST series), ``label`` (the class QMNIST gives, equal to MNIST's)."""

    writer: np.ndarray
    series: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.writer)

    @property
    def population(self) -> np.ndarray:
        """Each digit's population name (``POPULATIONS``), as an array of str."""
        return np.array([POPULATIONS[int(s)] for s in self.series])

    def subset(self, index) -> Writers:
        """The entries at ``index`` (e.g. a corrupted set's base images), in that order."""
        i = np.asarray(index, dtype=np.int64)
        return Writers(self.writer[i], self.series[i], self.label[i])


def _read(name: str) -> bytes:
    """The shipped file's bytes after its sha256 check (``DataError`` when it fails)."""
    data = resources.files("bench.data").joinpath("thirdparty", name).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != FILES[name]:
        raise DataError(
            f"bench/data/thirdparty/{name}: sha256 {actual[:16]}... is not the pinned "
            f"{FILES[name][:16]}...; reinstall mnist-bench"
        )
    return data


def _table(name: str, rows: int) -> Writers:
    with gzip.open(io.BytesIO(_read(name))) as fh:
        t = np.loadtxt(fh, dtype=np.int64, delimiter="\t", max_rows=rows)
    if t.shape != (rows, 8):
        raise DataError(
            f"bench/data/thirdparty/{name}: {t.shape[0]} rows of {t.shape[1]} columns, expected {rows} of 8"
        )
    return Writers(writer=t[:, 2].copy(), series=t[:, 1].copy(), label=t[:, 0].copy())


@functools.cache
def mnist_test() -> Writers:
    """The 10,000 MNIST test digits' writers, in MNIST's order (QMNIST's first 10,000 rows)."""
    return _table("qmnist-test-labels.tsv.gz", N_MNIST_TEST)


@functools.cache
def mnist_train() -> Writers:
    """The 60,000 MNIST training digits' writers, in MNIST's order."""
    return _table("qmnist-train-labels.tsv.gz", N_MNIST_TRAIN)


def for_test_set(test_digest: str | None, n: int | None = None) -> Writers | None:
    """The writers of a test set known by its digest (MNIST's), else None. ``n``, when given,
    must be the set's size: a record whose outcomes cover another count gets None."""
    if test_digest != MNIST_TEST_DIGEST or (n is not None and int(n) != N_MNIST_TEST):
        return None
    return mnist_test()


def for_dataset(data_digest: str | None) -> Writers | None:
    """The writers of a dataset's training digits, in its order, when the dataset is MNIST
    (``Splits.digest`` equal to ``MNIST_DATA_DIGEST``); None for any other data."""
    return mnist_train() if data_digest == MNIST_DATA_DIGEST else None


_REGISTERED: dict[str, np.ndarray] = {}


def register_test_groups(test_digest: str, groups) -> None:
    """Remember a user test set's groups (one int per image) under its digest, for
    ``test_groups``. A second registration with other groups (a record edited by hand)
    withdraws the digest: its images are then each their own unit."""
    g = np.asarray(groups, dtype=np.int64)
    known = _REGISTERED.get(test_digest)
    if known is not None and not np.array_equal(known, g):
        _REGISTERED[test_digest] = np.empty(0, dtype=np.int64)
    elif known is None:
        _REGISTERED[test_digest] = g


def test_groups(test_digest: str | None, n: int | None = None) -> np.ndarray | None:
    """Each test image's writer (group) for the test set known by ``test_digest``: MNIST's
    (``for_test_set``) or a registered user set's; None when unknown or when ``n``, given,
    is not the set's size."""
    w = for_test_set(test_digest, n)
    if w is not None:
        return w.writer
    g = _REGISTERED.get(test_digest)
    if g is None or len(g) == 0 or (n is not None and int(n) != len(g)):
        return None
    return g


def train_groups(splits) -> np.ndarray | None:
    """Each training image's writer (group) of a dataset's ``Splits``: MNIST's from the
    metadata, else the groups its file gave (``Splits.g_train``), else None."""
    w = for_dataset(splits.digest())
    if w is not None and len(w) == len(splits.y_train):
        return w.writer
    return getattr(splits, "g_train", None)


@functools.cache
def _mturk() -> tuple[dict, ...]:
    return tuple(json.loads(_read("mnist_mturk.json")))


def disputed(test_digest: str | None = MNIST_TEST_DIGEST) -> np.ndarray | None:
    """Sorted indices of the MNIST test images whose given label fewer than 3 of 5
    annotators confirmed; None for any other test set."""
    if test_digest != MNIST_TEST_DIGEST:
        return None
    ids = [e["id"] for e in _mturk() if e["mturk"]["given"] < DISPUTE_MIN_CONFIRMING]
    return np.array(sorted(ids), dtype=np.int64)
