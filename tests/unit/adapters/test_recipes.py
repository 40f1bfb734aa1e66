"""The training recipes' moving parts (issue 15): the warm-up + cosine learning-rate
schedule, Keras' steps_per_execution (how the steps reach the graph, never what they
compute), the tf.data input pipeline (shuffling, random shifts), label smoothing, and
XGBoost's zero-pixels-as-missing input path, for real on the digits set."""

import numpy as np
import pytest

from bench.adapters import registry
from bench.prep import preprocess as pp
from mnist_bench_models.keras_base import batches, import_keras, learning_rate_schedule


@pytest.fixture(scope="module")
def prepared(digits):
    return pp.prepare(
        digits.x_train, digits.y_train, digits.x_test, digits.y_test, pp.SplitRule(val_fraction=0.1)
    )


def _lr(schedule, step):
    return float(schedule(step))


def test_warm_up_rises_from_a_tenth_to_the_peak_then_cosine_decays_to_one_percent():
    keras = import_keras()
    params = {
        "learning_rate": 2e-3,
        "schedule": "cosine",
        "warmup": 0.5,
        "epochs": 4,
        "batch_size": 100,
    }
    schedule = learning_rate_schedule(
        keras, params, n_train=1000
    )  # 10 steps per epoch, 5 warm-up steps
    assert _lr(schedule, 0) == pytest.approx(2e-4)
    assert _lr(schedule, 2) < _lr(schedule, 4) < 2e-3  # rising
    assert _lr(schedule, 5) == pytest.approx(2e-3)
    assert _lr(schedule, 20) < _lr(schedule, 10) < 2e-3  # decaying after the peak
    assert _lr(schedule, 40) == pytest.approx(2e-5, rel=1e-3)  # 1% of the peak at the last step


def test_without_warm_up_the_cosine_starts_at_the_peak():
    keras = import_keras()
    params = {
        "learning_rate": 1e-3,
        "schedule": "cosine",
        "warmup": 0.0,
        "epochs": 2,
        "batch_size": 100,
    }
    schedule = learning_rate_schedule(keras, params, n_train=1000)
    assert _lr(schedule, 0) == pytest.approx(1e-3)
    assert _lr(schedule, 20) == pytest.approx(1e-5, rel=1e-3)


def test_constant_rate_and_reference_recipes_without_a_warmup_key():
    keras = import_keras()
    assert (
        learning_rate_schedule(keras, {"learning_rate": 1e-3, "schedule": "constant"}, None) == 1e-3
    )
    with pytest.raises(ValueError, match="warmup needs schedule='cosine'"):
        learning_rate_schedule(
            keras, {"learning_rate": 1e-3, "schedule": "constant", "warmup": 1.0}, None
        )
    with pytest.raises(ValueError, match="schedule must be 'cosine' or 'constant', got 'step'"):
        learning_rate_schedule(keras, {"learning_rate": 1e-3, "schedule": "step"}, 1000)


def _fit_mlp(prepared, steps_per_execution):
    cls = registry.get("mlp")
    adapter = cls(
        {
            **cls.defaults["quick"],
            "epochs": 3,
            "batch_size": 64,
            "steps_per_execution": steps_per_execution,
        }
    )
    x_train, x_val, x_test = prepared.views(cls.view)
    adapter.prepare(n_train=len(x_train), seed=3)
    training = adapter.fit(
        x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lambda line: None
    )
    return [p["val_loss"] for p in training.passes], adapter.predict_proba(x_test)


def _labels_per_pass(dataset, passes=2):
    return [[yb.numpy() for _, yb in dataset] for _ in range(passes)]


def test_batches_hold_every_image_once_per_pass_reshuffled_each_pass_from_the_seed():
    import_keras()
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    dataset = batches(x, y, 4, shuffle_seed=1)
    assert dataset.options().autotune.enabled is False  # see keras_base's docstring: no idle waits
    first, second = _labels_per_pass(dataset)
    assert [len(b) for b in first] == [4, 4, 2]  # the last batch short, nothing dropped
    for one_pass in (first, second):
        np.testing.assert_array_equal(np.sort(np.concatenate(one_pass)), y)
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))  # reshuffled
    for xb, yb in dataset:
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())  # images stay with their labels
    again = _labels_per_pass(batches(x, y, 4, shuffle_seed=1))
    np.testing.assert_array_equal(
        np.concatenate(again[1]), np.concatenate(second)
    )  # the seed fixes it
    in_order = _labels_per_pass(batches(x, y, 4), passes=1)[0]
    np.testing.assert_array_equal(np.concatenate(in_order), y)
    one_hot = next(iter(batches(x, y, 4, one_hot=10)))[1].numpy()
    np.testing.assert_array_equal(one_hot, np.eye(10)[:4])


def _dot_offsets(dataset, centre):
    """Per pass: each image's (dy, dx) from where its single bright pixel started."""
    offsets = []
    for _ in range(2):
        moved = {}
        for xb, yb in dataset:
            for image, label in zip(xb.numpy(), yb.numpy()):
                bright = np.argwhere(image[..., 0] > 0)
                assert len(bright) == 1 and image.sum() == label + 1  # moved whole, not blurred
                moved[int(label)] = tuple(bright[0] - centre)
        offsets.append(moved)
    return offsets


def test_random_shifts_move_each_image_by_at_most_shift_pixels_anew_each_pass():
    import_keras()
    n, centre = 30, (4, 4)
    x = np.zeros((n, 9, 9, 1), np.float32)
    x[:, centre[0], centre[1], 0] = np.arange(1, n + 1)
    y = np.arange(n)
    first, second = _dot_offsets(
        batches(x, y, 8, shuffle_seed=2, shift=2), centre
    )  # 8 does not divide 30
    assert sorted(first) == sorted(second) == list(range(n))
    steps = np.array([first[k] for k in range(n)] + [second[k] for k in range(n)])
    assert steps.min() == -2 and steps.max() == 2  # both directions, never further than 2
    assert (
        len({tuple(s) for s in steps}) > 10 and first != second
    )  # many offsets, new ones each pass
    assert _dot_offsets(batches(x, y, 8, shuffle_seed=2, shift=2), centre) == [first, second]
    with pytest.raises(ValueError, match=r"shift needs images of shape \(n, h, w, c\)"):
        batches(x.reshape(n, -1), y, 8, shift=2)


def test_shifted_copies_move_each_image_whole_by_at_most_shift_pixels():
    n = 200
    x = np.zeros((n, 28, 28), np.float32)
    x[:, 10:13, 14] = 1.0  # a 3-pixel stroke, far from the border
    x[:, 10, 14] = np.arange(2, n + 2)  # which image this is (unlike the stroke's 1.0)
    y = np.arange(n) % 10
    flat, labels = pp.with_shifted_copies(x.reshape(n, -1), y, copies=2, max_shift=1, seed=5)
    assert flat.shape == (3 * n, 784) and flat.dtype == np.float32
    np.testing.assert_array_equal(labels, np.tile(y, 3))
    np.testing.assert_array_equal(flat[:n], x.reshape(n, -1))  # the originals come first, untouched
    moves = set()
    for k, image in enumerate(flat[n:].reshape(2 * n, 28, 28)):
        original = x[k % n]
        rows, cols = np.nonzero(image == original[10, 14])
        assert len(rows) == 1
        dy, dx = rows[0] - 10, cols[0] - 14
        np.testing.assert_array_equal(
            image, np.roll(original, (dy, dx), axis=(0, 1))
        )  # moved whole
        moves.add((int(dy), int(dx)))
    assert moves == {
        (dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    }  # every offset, none further
    again, _ = pp.with_shifted_copies(x.reshape(n, -1), y, copies=2, max_shift=1, seed=5)
    np.testing.assert_array_equal(again, flat)  # the seed fixes the offsets
    edge = np.zeros((1, 28, 28), np.float32)
    edge[0, 0, :] = 1.0  # a top-row stroke moved up leaves the image: zeros come in, nothing wraps
    moved, _ = pp.with_shifted_copies(edge, np.zeros(1), copies=40, max_shift=1, seed=0)
    assert {float(m.sum()) for m in moved[1:]} <= {0.0, 27.0, 28.0} and moved[1:, 27].sum() == 0
    assert pp.with_shifted_copies(x, y, copies=0, max_shift=1, seed=0)[0] is x
    with pytest.raises(
        ValueError, match=r"expected images of 28x28 pixels, flat or not, got shape \(3, 50\)"
    ):
        pp.with_shifted_copies(np.zeros((3, 50)), np.zeros(3), copies=1, max_shift=1, seed=0)


def _fit_xgboost(prepared, **params):
    cls = registry.get("xgboost")
    adapter = cls({**cls.defaults["quick"], "n_estimators": 8, **params})
    x_train, x_val, x_test = prepared.views(cls.view)
    adapter.prepare(n_train=len(x_train), seed=0, threads=1)
    adapter.fit(x_train, prepared.y_train, x_val=x_val, y_val=prepared.y_val, log=lambda line: None)
    return adapter, x_test
