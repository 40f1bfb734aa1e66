import numpy as np
import pytest

from bench.prep import preprocess as pp


def test_unit_float_range_dtype_and_views(digits):
    x = digits.x_train
    flat, img = pp.flat_view(x), pp.image_view(x)
    assert flat.dtype == img.dtype == np.float32
    assert flat.shape == (len(x), 784) and img.shape == (len(x), 28, 28, 1)
    assert flat.min() >= 0.0 and flat.max() <= 1.0
    assert flat.max() == 1.0  # 255 maps to exactly 1
    np.testing.assert_array_equal(flat.reshape(img.shape), img)
    np.testing.assert_allclose(flat[0] * 255, x[0].reshape(-1), atol=1e-4)


def test_refuses_non_uint8():
    with pytest.raises(TypeError):
        pp.to_unit_float(np.zeros((2, 28, 28), dtype=np.float32))


def test_stratified_subset_keeps_proportions_and_is_seeded():
    y = np.repeat(np.arange(10), [100, 200, 50, 50, 100, 100, 100, 100, 100, 100])
    a = pp.stratified_subset(y, 100, seed=3)
    b = pp.stratified_subset(y, 100, seed=3)
    c = pp.stratified_subset(y, 100, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(a) == 100 and len(np.unique(a)) == 100
    counts = np.bincount(y[a], minlength=10)
    assert counts.tolist() == [10, 20, 5, 5, 10, 10, 10, 10, 10, 10]


def test_allocation_sums_exactly_with_uneven_classes():
    y = np.repeat(np.arange(10), [7, 3, 11, 5, 9, 13, 2, 8, 6, 4])
    for n in (1, 9, 17, 33, 67):
        idx = pp.stratified_subset(y, n, seed=0)
        assert len(idx) == n


def test_stratified_split_is_disjoint_and_complete():
    y = np.random.default_rng(0).integers(0, 10, 1000)
    rest, held = pp.stratified_split(y, 0.2, seed=0)
    assert len(np.intersect1d(rest, held)) == 0
    assert sorted(np.concatenate([rest, held]).tolist()) == list(range(1000))
    assert len(held) == 200
    overall = np.bincount(y, minlength=10) / len(y)
    part = np.bincount(y[held], minlength=10) / len(held)
    assert np.abs(overall - part).max() < 0.01


def test_prepare_never_touches_test_and_val_comes_from_train(digits):
    rule = pp.SplitRule(val_fraction=0.1, max_train=500, max_val=50)
    p = pp.prepare(digits.x_train, digits.y_train, digits.x_test, digits.y_test, rule)
    assert p.sizes() == {"n_train": 500, "n_val": 50, "n_test": len(digits.y_test)}
    np.testing.assert_array_equal(p.x_test, digits.x_test)
    # every train/val image is a training image, none is a test image, train and val disjoint
    train_rows = {r.tobytes() for r in digits.x_train}
    test_rows = {r.tobytes() for r in digits.x_test} - train_rows
    got_train = {r.tobytes() for r in p.x_train}
    got_val = {r.tobytes() for r in p.x_val}
    assert got_train <= train_rows and got_val <= train_rows
    assert not (got_train | got_val) & test_rows
    assert len(p.x_train) + len(p.x_val) <= len(digits.x_train)
    p2 = pp.prepare(digits.x_train, digits.y_train, digits.x_test, digits.y_test, rule)
    np.testing.assert_array_equal(p.x_train, p2.x_train)
    np.testing.assert_array_equal(p.y_val, p2.y_val)
