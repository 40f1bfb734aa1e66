"""The shipped writer metadata and disputed labels (``bench.data.writers``), checked against
the MNIST arrays themselves and against the files' published descriptions."""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from bench.core.errors import DataError
from bench.data import writers


def test_shipped_files_match_their_pinned_checksums_and_carry_their_licences():
    folder = resources.files("bench.data").joinpath("thirdparty")
    for name, sha in writers.FILES.items():
        assert hashlib.sha256(folder.joinpath(name).read_bytes()).hexdigest() == sha
    names = {p.name for p in folder.iterdir()}
    assert {"LICENSE-qmnist", "LICENSE-label-errors", "NOTICE"} <= names
    notice = folder.joinpath("NOTICE").read_text()
    assert "QMNIST" in notice and "label-errors" in notice


def test_test_writers_as_the_qmnist_readme_describes_them():
    t = writers.mnist_test()
    sizes = np.bincount(np.unique(t.writer, return_inverse=True)[1])
    assert len(sizes) == 297 and sizes.min() == 8 and sizes.max() == 130 and np.median(sizes) == 21
    assert set(np.unique(t.series)) == {0, 4}
    assert abs(int(np.sum(t.population == "census")) - 5000) < 10
    # every writer belongs to one series, and no training writer wrote a test digit
    assert all(len(set(t.series[t.writer == w])) == 1 for w in np.unique(t.writer))
    assert not set(writers.mnist_train().writer) & set(t.writer)


def test_subset_keeps_the_order_asked_for():
    t = writers.mnist_test()
    sub = t.subset([5, 0, 5])
    assert list(sub.writer) == [t.writer[5], t.writer[0], t.writer[5]] and len(sub) == 3


def test_other_test_sets_have_no_writers():
    assert writers.for_test_set("0" * 64) is None
    assert writers.for_test_set(None) is None
    assert writers.for_test_set(writers.MNIST_TEST_DIGEST, 12_000) is None
    assert writers.disputed("0" * 64) is None


def test_disputed_images_are_those_fewer_than_three_of_five_annotators_confirmed():
    raw = json.loads(
        resources.files("bench.data").joinpath("thirdparty", "mnist_mturk.json").read_bytes()
    )
    expected = sorted(e["id"] for e in raw if e["mturk"]["given"] <= 2)
    got = writers.disputed()
    assert list(got) == expected and len(got) == 15
    assert 247 not in got  # flagged by confident learning, but all 5 annotators kept its label


def test_a_tampered_file_is_refused(monkeypatch):
    real = (
        resources.files("bench.data")
        .joinpath("thirdparty", "qmnist-test-labels.tsv.gz")
        .read_bytes()
    )
    tampered = gzip.compress(gzip.decompress(real).replace(b"7\t4\t2578", b"1\t4\t2578", 1))

    class Fake:
        def joinpath(self, *parts):
            return self

        def read_bytes(self):
            return tampered

    monkeypatch.setattr(writers.resources, "files", lambda _pkg: Fake())
    writers.mnist_test.cache_clear()
    try:
        with pytest.raises(DataError, match="sha256"):
            writers.mnist_test()
    finally:
        writers.mnist_test.cache_clear()
