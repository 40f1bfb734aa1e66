"""Built-in datasets: real sources, cache integrity, fall-through, digits layout.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.data.test_data``."""

from __future__ import annotations

import numpy as np
import pytest

from bench import data
from bench.data import MNIST_TEST_COUNTS
from tests.conftest import run_cli


@pytest.mark.slow
def test_mnist_real_fetch_through_available_source(use_mnist):
    ds = use_mnist
    s = ds.splits
    assert (len(s.y_train), len(s.y_test)) == (60000, 10000)
    assert tuple(s.class_counts("test")) == MNIST_TEST_COUNTS
    assert s.x_train.dtype == np.uint8 and s.x_train.max() == 255
    # the cached copy is used next time, and is identical
    again = data.load("mnist")
    assert again.source.startswith("cache")
    assert again.splits.digest() == s.digest()


@pytest.mark.slow
def test_pip_mirror_parse_is_exact(use_mnist):
    """The pickle mirror's floats are p/256 exactly; the parse must recover every pixel."""
    s = use_mnist.splits
    assert np.unique(s.x_train).size == 256


@pytest.mark.slow
def test_corrupt_cache_is_detected_and_rebuilt(use_mnist, tmp_path, monkeypatch, capsys):
    import shutil

    d = tmp_path / "copy"
    src_npz, src_meta = data.cache_paths("mnist")
    d.mkdir()
    shutil.copy(src_npz, d / "mnist.npz")
    shutil.copy(src_meta, d / "mnist.json")
    monkeypatch.setenv("BENCH_DATA_DIR", str(d))
    blob = (d / "mnist.npz").read_bytes()
    (d / "mnist.npz").write_bytes(blob[: len(blob) // 2])  # truncated, as after a crash
    ds = data.load("mnist")
    assert "corrupt" in capsys.readouterr().err
    assert not ds.source.startswith("cache")
    assert ds.splits.digest() == use_mnist.splits.digest()
    assert data.load("mnist").source.startswith("cache")


@pytest.mark.slow
def test_cache_without_sidecar_is_rebuilt(use_mnist, tmp_path, monkeypatch, capsys):
    import shutil

    d = tmp_path / "nosidecar"
    d.mkdir()
    shutil.copy(data.cache_paths("mnist")[0], d / "mnist.npz")
    monkeypatch.setenv("BENCH_DATA_DIR", str(d))
    ds = data.load("mnist")
    assert "rebuilding" in capsys.readouterr().err
    assert (d / "mnist.json").exists() and ds.splits.digest() == use_mnist.splits.digest()


@pytest.mark.slow
def test_cli_data_info_mnist(use_mnist):
    proc = run_cli("data", "info", "mnist")
    assert proc.returncode == 0, proc.stderr
    assert "60000" in proc.stdout and "10000" in proc.stdout
    assert "980 1135 1032 1010 982 892 958 1028 974 1009" in proc.stdout
