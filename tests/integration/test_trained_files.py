"""Already-trained model files, inference only (``bench.adapters.trained``): ``evaluate FILE``
and ``run --with FILE`` give full records without training, checked against NumPy and Keras
computed here; bad files are one ``error:`` line each, nothing written."""

import json

import numpy as np
import pytest

from bench import records
from bench.data import load as load_dataset
from bench.measure.profiles import PROFILES
from bench.prep.preprocess import prepare
from tests.conftest import assert_one_line_error, run_cli
from tests.helpers import board_cells

FAST = (
    "--dataset",
    "digits",
    "--robustness",
    "off",
    "--infer-min-repeats",
    "3",
    "--infer-min-seconds",
    "0.05",
)


def _digits():
    s = load_dataset("digits").splits
    return prepare(s.x_train, s.y_train, s.x_test, s.y_test, PROFILES["quick"].split)


def _onnx_linear(path, weights: np.ndarray, bias: np.ndarray, input_shape) -> None:
    """An ONNX graph ``Flatten -> MatMul -> Add`` (logits, no softmax) of the given weights."""
    from onnx import TensorProto, helper, numpy_helper, save_model

    nodes = [
        helper.make_node("Flatten", ["x"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 10])],
        [
            numpy_helper.from_array(weights.astype(np.float32), "w"),
            numpy_helper.from_array(bias.astype(np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save_model(model, str(path))


def _only_record(out):
    recs = records.read_all(out / "runs")
    assert len(recs) == 1, [r["job"]["model"] for r in recs]
    return recs[0]


def _board_row(out, label: str) -> dict:
    """The cells, by header, of the Markdown leaderboard's row whose model cell is ``label``
    (plus flags), merged over the themed tables that split the row's columns."""
    cells = board_cells((out / "LEADERBOARD.md").read_text(), label)
    if not cells:
        raise AssertionError(f"no row {label!r} in the leaderboard")
    return cells


@pytest.fixture(scope="module")
def logreg_onnx(tmp_path_factory):
    """A logistic regression trained on the harness's digits split, as ONNX logits; and the
    test accuracy the same float32 weights give in NumPy."""
    from sklearn.linear_model import LogisticRegression

    prep = _digits()
    x_train, _, x_test = prep.views("flat")
    clf = LogisticRegression(max_iter=300).fit(x_train, prep.y_train)
    w, b = clf.coef_.T.astype(np.float32), clf.intercept_.astype(np.float32)
    path = tmp_path_factory.mktemp("files") / "logreg.onnx"
    _onnx_linear(path, w, b, [None, 784])
    expected = float(((x_test @ w + b).argmax(axis=1) == prep.y_test).mean())
    return path, expected, w.size + b.size


def test_onnx_file_evaluates_like_numpy_without_training_figures(logreg_onnx, tmp_path):
    path, expected, n_weights = logreg_onnx
    out = tmp_path / "out"
    proc = run_cli("evaluate", str(path), *FAST, "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "logreg.onnx (evaluated, not trained here) on digits" in proc.stdout
    rec = _only_record(out)
    assert rec["status"] == "ok" and rec["metrics"]["accuracy"] == expected
    assert (
        rec["evaluated"]["sha256"]
        == rec["job"]["params"]["sha256"]
        == rec["job"]["origin"]["sha256"]
    )
    assert rec["evaluated"]["library"] == "onnx" and rec["evaluated"]["input"]["layout"] == "flat"
    assert rec["evaluated"]["outputs"] == "logits, softmax applied by the harness"
    assert (
        rec["history"] == []
        and "fit_s" not in rec["timing"]
        and "train_peak_mb" not in rec["memory"]
    )
    assert rec["size"]["total"] == n_weights and rec["size"]["bytes"] == path.stat().st_size
    assert (
        rec["timing"]["inference"]["batch_1"]["latency_ms_p50"] > 0
        and rec["cold_start"]["load_s"] > 0
    )
    assert rec["calibration"]["ece"] is not None and len(rec["metrics"]["per_class"]) == 10
    row = _board_row(out, "logreg.onnx")
    assert "[evaluated]" in row["model"]
    for column in (
        "train s",
        "passes",
        "train img/s",
        "train GFLOP/s",
        "% of peak",
        "train peak MB",
    ):
        assert row[column] == "-", (column, row)
    assert row["time to 99% (val) s"] == "-"
    # the saved copy is an artifact like any other: evaluate reloads it and finds the record's figures
    again = run_cli("evaluate", rec["run_id"], "--out", str(out), "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["metrics"]["accuracy"] == expected


def test_keras_file_evaluates_like_keras_predict(tmp_path):
    import keras

    prep = _digits()
    x_train, _, x_test = prep.views("image")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x_train, prep.y_train, epochs=1, batch_size=64, verbose=0)
    path = tmp_path / "tiny.keras"
    model.save(path)
    expected = float((model.predict(x_test, verbose=0).argmax(axis=1) == prep.y_test).mean())
    out = tmp_path / "out"
    proc = run_cli("evaluate", str(path), *FAST, "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rec = _only_record(out)
    assert rec["metrics"]["accuracy"] == expected
    assert rec["evaluated"]["library"] == "keras" and rec["evaluated"]["input"]["layout"] == "nhwc"
    assert rec["evaluated"]["outputs"] == "probabilities"
    assert rec["size"]["total"] == model.count_params()
    row = _board_row(out, "tiny.keras")
    assert "[evaluated]" in row["model"] and row["train s"] == "-" and row["train img/s"] == "-"


def test_bad_files_are_one_error_line_and_write_nothing(tmp_path):
    wide = tmp_path / "cifar.onnx"
    _onnx_linear(wide, np.zeros((3 * 32 * 32, 10)), np.zeros(10), [None, 3, 32, 32])
    corrupt = tmp_path / "broken.keras"
    corrupt.write_bytes(b"this is not a zip archive")
    out = tmp_path / "out"
    line = assert_one_line_error(
        run_cli("evaluate", str(wide), *FAST, "--out", str(out)),
        "cifar.onnx",
        "(N, 3, 32, 32)",
        "28x28",
    )
    assert "expects input" in line
    assert_one_line_error(
        run_cli("evaluate", str(corrupt), *FAST, "--out", str(out)), "broken.keras", "zip"
    )
    assert_one_line_error(
        run_cli(
            "run", "logreg", "--with", str(tmp_path / "missing.onnx"), *FAST, "--out", str(out)
        ),
        "missing.onnx",
        "not found on host",
    )
    assert not out.exists()


def test_run_with_a_file_adds_its_row_beside_the_trained_model(logreg_onnx, tmp_path):
    path, expected, _ = logreg_onnx
    out = tmp_path / "out"
    proc = run_cli(
        "run", "logreg", "--with", str(path), *FAST, "--profile", "quick", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    by_model = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    assert set(by_model) == {"logreg", "logreg.onnx"}
    assert by_model["logreg.onnx"]["metrics"]["accuracy"] == expected
    assert by_model["logreg"]["timing"]["fit_s"] > 0
    trained, evaluated = _board_row(out, "logreg"), _board_row(out, "logreg.onnx")
    assert trained["train s"] != "-" and evaluated["train s"] == "-"


def test_skops_file_counts_parameters_like_the_generic_sklearn_adapter(tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from bench.adapters import trained
    from bench.adapters.generic.sklearn import count_params

    prep = _digits()
    x_train, _, x_test = prep.views("flat")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(
        x_train, prep.y_train
    )
    path = tmp_path / "pipe.skops"
    sio.dump(model, path)
    cls = trained.adapter_for(path, {})
    adapter = cls.load(path, cls.defaults["full"])
    scaler, logreg = model.steps[0][1], model.steps[1][1]
    by_hand = scaler.mean_.size + scaler.scale_.size + logreg.coef_.size + logreg.intercept_.size
    counted = adapter.n_params()
    assert (
        counted.total == by_hand == count_params(model)[0]
        and counted.detail == count_params(model)[1]
    )
    np.testing.assert_allclose(
        adapter.predict_proba(x_test), model.predict_proba(x_test), atol=1e-6
    )
