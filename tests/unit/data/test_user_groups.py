"""A user's dataset that says who wrote each image (an npz's ``groups_train`` / ``groups_test``,
a CSV's ``group`` column): validation by whole writers, the test set's writers as the unit of
intervals and paired tests, carried by the records to every view. The unit is checked
against numbers computed here: how many writers the file gave, which images they wrote."""

from __future__ import annotations

import numpy as np
import pytest

from bench import data
from bench.core.errors import DataError
from bench.data.arrays import Splits, to_groups
from bench.data.sampling import group_split
from bench.measure.profiles import PROFILES
from bench.prep import preprocess as pp
from tests.helpers import write_csv


def _writers(n: int, k: int, seed: int) -> np.ndarray:
    """``n`` images written by ``k`` writers of unequal sizes (every writer at least one image)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.concatenate([np.arange(k), rng.integers(0, k, size=n - k)]))


def _grouped_npz(path, digits, k_train=40, k_test=15):
    g_train = 1000 + _writers(len(digits.y_train), k_train, 0)  # ids need not be 0..k-1
    g_test = np.array(
        [f"w{i:02d}" for i in _writers(len(digits.y_test), k_test, 1)]
    )  # strings are accepted
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
        groups_train=g_train,
        groups_test=g_test,
    )
    return g_train, g_test


def test_to_groups_accepts_integers_strings_and_whole_floats_and_refuses_the_rest():
    assert to_groups(None, 3, "x") is None
    np.testing.assert_array_equal(to_groups(np.array([7, 7, 2], dtype=np.int16), 3, "x"), [7, 7, 2])
    np.testing.assert_array_equal(to_groups(np.array(["b", "a", "b"]), 3, "x"), [1, 0, 1])
    np.testing.assert_array_equal(to_groups(np.array([3.0, 1.0, 3.0]), 3, "x"), [3, 1, 3])
    for bad, fragment in (
        (np.array([1.0, np.nan, 2.0]), "non-integer"),
        (np.array([1.5, 1.0, 2.0]), "non-integer"),
        (np.arange(4), "(3,)"),
        (np.zeros((3, 1)), "(3,)"),
    ):
        with pytest.raises(DataError, match="groups") as err:
            to_groups(bad, 3, "npz f.npz train")
        assert fragment in str(err.value) and "\n" not in str(err.value)


def test_npz_groups_load_change_the_digests_and_give_a_split_by_whole_writers(tmp_path, digits):
    g_train, g_test = _grouped_npz(tmp_path / "g.npz", digits)
    ds = data.load(f"npz:{tmp_path / 'g.npz'}")
    s = ds.splits
    np.testing.assert_array_equal(s.g_train, g_train)
    assert len(np.unique(s.g_test)) == 15 and np.array_equal(
        s.g_test[0] == s.g_test, g_test[0] == g_test
    )
    assert s.digest() != digits.digest() and s.test_digest() != digits.test_digest()
    assert (
        Splits(s.x_train, s.y_train, s.x_test, s.y_test).digest() == digits.digest()
    )  # no groups: as before
    assert ds.info()["groups"] == {"train": 40, "test": 15}
    same = np.arange(
        len(digits.y_test)
    )  # the same array as train groups or as test groups: two datasets
    half = Splits(digits.x_test, digits.y_test, digits.x_test, digits.y_test, g_train=same)
    assert (
        half.digest()
        != Splits(digits.x_test, digits.y_test, digits.x_test, digits.y_test, g_test=same).digest()
    )
    rule = PROFILES["full"].split
    p = pp.prepare_splits(s, rule)
    rest, held = group_split(g_train, rule.val_fraction, rule.seed)
    assert p.val_split == "writers" and pp.val_split_of(s) == "writers"
    assert set(g_train[rest]).isdisjoint(g_train[held])
    np.testing.assert_array_equal(p.y_val, s.y_train[held])
    np.testing.assert_array_equal(p.y_train, s.y_train[rest])


def test_npz_groups_of_the_wrong_length_or_kind_are_one_error_line(tmp_path, digits):
    path = tmp_path / "bad.npz"
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
        groups_test=np.arange(len(digits.y_test) - 1),
    )
    with pytest.raises(DataError) as err:
        data.load(f"npz:{path}")
    assert str(err.value).startswith(f"npz {path} test: groups must be one value per image")
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
        groups_train=np.array(["a"] * len(digits.y_train), dtype=object),
    )  # as pandas hands strings over
    with pytest.raises(DataError, match="groups_train is an object array") as err:
        data.load(f"npz:{path}")
    assert "\n" not in str(err.value)


def test_csv_group_column_puts_whole_writers_in_the_test_set(tmp_path, digits):
    n = 600
    g = _writers(n, 30, 2)
    plain = write_csv(tmp_path / "plain.csv", digits.x_train[:n], digits.y_train[:n])
    lines = plain.read_text().splitlines()
    rows = [lines[0].replace("label,", "label,group,", 1)]
    rows += [line.replace(",", f",{w},", 1) for line, w in zip(lines[1:], g)]
    (tmp_path / "g.csv").write_text("\n".join(rows) + "\n")
    s = data.load(f"csv:{tmp_path / 'g.csv'}").splits
    assert len(s.y_train) + len(s.y_test) == n
    assert set(s.g_train.tolist()).isdisjoint(s.g_test.tolist())
    rest, held = group_split(g, 0.2, 0)  # the documented fraction and seed
    assert len(s.y_test) == len(held) >= 0.2 * n
    np.testing.assert_array_equal(s.y_test, digits.y_train[:n][held])
    (tmp_path / "one.csv").write_text(
        "\n".join([rows[0]] + [r.replace(f",{w},", ",5,", 1) for r, w in zip(rows[1:], g)]) + "\n"
    )
    with pytest.raises(DataError, match="one group"):
        data.load(f"csv:{tmp_path / 'one.csv'}")


def _worse_on(rec: dict, y_test: np.ndarray, images: np.ndarray) -> dict:
    """A copy of ``rec`` that also gets ``images`` wrong (predicting the next class)."""
    o = rec["outcomes"]
    wrong = np.union1d(o["wrong_index"], images).astype(np.int64)
    outcomes = {
        **o,
        "wrong_index": wrong.tolist(),
        "wrong_predicted": ((y_test[wrong] + 1) % 10).tolist(),
    }
    return {**rec, "outcomes": outcomes, "run_id": rec["run_id"] + "-b"}


def _correct(rec: dict) -> np.ndarray:
    mask = np.ones(rec["outcomes"]["n"], dtype=bool)
    mask[rec["outcomes"]["wrong_index"]] = False
    return mask
