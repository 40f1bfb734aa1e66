"""User dataset files: every format works, every malformed file gives one clear line."""

import gzip

import numpy as np
import pytest

from bench import data
from bench.core.errors import DataError
from bench.data.userfiles import IDX_FILES
from tests.helpers import idx_bytes, write_csv, write_idx_dir


def test_npz_round_trip(tmp_path, digits):
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    ds = data.load(f"npz:{path}")
    assert ds.splits.digest() == digits.digest()
    assert ds.sha256 and ds.source == "user file"


def test_npz_accepts_flat_and_unit_float_pixels(tmp_path, digits):
    path = tmp_path / "f.npz"
    np.savez(
        path,
        x_train=digits.x_train.reshape(-1, 784) / 255.0,
        y_train=digits.y_train,
        x_test=digits.x_test.reshape(-1, 784).astype(np.int32),
        y_test=digits.y_test.astype(np.uint8),
    )
    ds = data.load(f"npz:{path}")
    np.testing.assert_array_equal(ds.splits.x_train, digits.x_train)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dir_gz_and_plain(tmp_path, digits, gz):
    d = write_idx_dir(tmp_path / "idx", digits, gz=gz)
    assert data.load(f"idx:{d}").splits.digest() == digits.digest()


def test_csv_kaggle_layout_split_is_stratified_and_deterministic(tmp_path, digits):
    path = write_csv(tmp_path / "train.csv", digits.x_train[:500], digits.y_train[:500])
    a, b = data.load(f"csv:{path}").splits, data.load(f"csv:{path}").splits
    assert len(a.y_train) + len(a.y_test) == 500
    assert len(a.y_test) == 100  # the documented 20%
    assert a.digest() == b.digest()
    frac = np.bincount(a.y_test, minlength=10) / np.bincount(digits.y_train[:500], minlength=10)
    assert np.all(np.abs(frac - 0.2) < 0.07)


def _bad(spec, *fragments):
    with pytest.raises(DataError) as err:
        data.load(spec)
    msg = str(err.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_csv_wrong_column_count(tmp_path, digits):
    path = write_csv(tmp_path / "t.csv", digits.x_train[:20], digits.y_train[:20])
    lines = path.read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0]
    path.write_text("\n".join(lines))
    _bad(f"csv:{path}", "line 4 has 784 columns, expected 785")


def test_csv_header_without_label(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(",".join(f"pixel{i}" for i in range(784)) + "\n" + ",".join(["0"] * 784) + "\n")
    _bad(f"csv:{path}", "header must be label,pixel0..pixel783")


def test_csv_label_out_of_range(tmp_path, digits):
    y = digits.y_train[:20].copy()
    y[5] = 12
    path = write_csv(tmp_path / "t.csv", digits.x_train[:20], y)
    _bad(f"csv:{path}", "labels must lie in 0..9", "12")


def test_csv_non_numeric(tmp_path, digits):
    path = write_csv(tmp_path / "t.csv", digits.x_train[:20], digits.y_train[:20])
    path.write_text(path.read_text().replace("\n0,", "\nzero,", 1))
    _bad(f"csv:{path}", "non-numeric")


def test_npz_missing_array(tmp_path, digits):
    path = tmp_path / "m.npz"
    np.savez(path, x_train=digits.x_train, y_train=digits.y_train, x_test=digits.x_test)
    _bad(f"npz:{path}", "missing arrays ['y_test']")


def test_npz_mismatched_counts(tmp_path, digits):
    path = tmp_path / "m.npz"
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train[:-3],
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    _bad(f"npz:{path}", "images but", "labels")


def test_npz_wrong_shape(tmp_path, digits):
    path = tmp_path / "m.npz"
    np.savez(
        path,
        x_train=np.zeros((10, 32, 32), np.uint8),
        y_train=np.zeros(10, int),
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    _bad(f"npz:{path}", "(N, 28, 28)", "(10, 32, 32)")


def test_npz_nan_and_out_of_range_pixels(tmp_path, digits):
    x = digits.x_train.astype(np.float32)
    x[0, 0, 0] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, x_train=x, y_train=digits.y_train, x_test=digits.x_test, y_test=digits.y_test)
    _bad(f"npz:{path}", "NaN")
    path2 = tmp_path / "big.npz"
    np.savez(
        path2,
        x_train=digits.x_train.astype(np.int32) * 3,
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    _bad(f"npz:{path2}", "0..255")


def test_npz_with_object_array_is_refused_not_unpickled(tmp_path, digits):
    path = tmp_path / "obj.npz"
    np.savez(
        path,
        x_train=np.array([object()] * 3, dtype=object),
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    _bad(f"npz:{path}", "without pickle")


def test_not_an_npz(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip file")
    _bad(f"npz:{path}", "not a readable .npz")


def test_empty_split(tmp_path, digits):
    path = tmp_path / "e.npz"
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train,
        x_test=np.zeros((0, 28, 28), np.uint8),
        y_test=np.zeros(0, np.int64),
    )
    _bad(f"npz:{path}", "test split is empty")


def test_idx_truncated(tmp_path, digits):
    d = write_idx_dir(tmp_path / "idx", digits, gz=False)
    f = d / IDX_FILES["x_train"]
    f.write_bytes(f.read_bytes()[:-100])
    _bad(f"idx:{d}", "truncated")


def test_idx_bad_magic_and_corrupt_gzip(tmp_path, digits):
    d = write_idx_dir(tmp_path / "idx", digits, gz=True)
    (d / (IDX_FILES["y_test"] + ".gz")).write_bytes(
        gzip.compress(b"\x08\x03" + idx_bytes(digits.y_test)[2:])
    )
    _bad(f"idx:{d}", "bad magic")
    (d / (IDX_FILES["y_test"] + ".gz")).write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    _bad(f"idx:{d}", "corrupt gzip")


def test_idx_mismatched_counts(tmp_path, digits):
    d = write_idx_dir(tmp_path / "idx", digits, gz=False)
    (d / IDX_FILES["y_train"]).write_bytes(idx_bytes(digits.y_train[:-1]))
    _bad(f"idx:{d}", "images but", "labels")


def test_idx_missing_file_and_missing_dir(tmp_path, digits):
    d = write_idx_dir(tmp_path / "idx", digits, gz=False)
    (d / IDX_FILES["x_test"]).unlink()
    _bad(f"idx:{d}", "missing t10k-images-idx3-ubyte")
    _bad(f"idx:{tmp_path / 'nowhere'}", "no such directory")


def test_missing_file_and_unknown_name(tmp_path):
    _bad(f"npz:{tmp_path / 'none.npz'}", "no such file")
    _bad("emnist", "unknown dataset 'emnist'", "mnist, fashion-mnist, digits")
    _bad("csv:", "missing path")


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch, digits):
    path = write_csv(tmp_path / "t.csv", digits.x_train[:20], digits.y_train[:20])
    monkeypatch.setenv("BENCH_MAX_FILE_BYTES", "1000")
    _bad(f"csv:{path}", "over the 1000-byte limit")
