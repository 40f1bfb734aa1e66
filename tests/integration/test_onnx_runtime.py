"""``--runtime onnxruntime`` for real: each built-in family fitted on digits, exported by its
library's converter and served by ONNX Runtime, its predictions checked against the native
ones image by image (numpy, not the harness's parity function), and the command end to end.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_onnx_runtime``."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from bench import records
from bench.adapters import onnx_export, onnx_runtime
from tests.conftest import DIGITS_QUICK, assert_one_line_error, run_cli
from tests.unit.measure.test_measurement_paths import _fit, prepared  # noqa: F401 (fixtures)


def _served(name, prepared, tmp_path, **params):  # noqa: F811 (the fixture)
    adapter, x_test = _fit(name, prepared, **params)
    served = onnx_runtime.serve(adapter, tmp_path, threads=1)
    return adapter, served, x_test


@pytest.mark.parametrize(
    "name, params, tolerance",
    [
        ("logreg", {}, 1e-5),
        ("xgboost", {"n_estimators": 20}, 1e-5),
        ("mlp", {"epochs": 1}, 1e-5),
        ("cnn-small", {"epochs": 1}, 1e-5),
    ],
)
def test_the_export_predicts_what_the_native_model_predicts(
    name,
    params,
    tolerance,
    prepared,  # noqa: F811 (the fixture)
    tmp_path,
):
    adapter, served, x_test = _served(name, prepared, tmp_path, **params)
    native_p, served_p = adapter.predict_proba(x_test), served.predict_proba(x_test, 100)
    assert served_p.shape == native_p.shape == (len(x_test), 10)
    assert np.array_equal(served_p.argmax(1), native_p.argmax(1))
    assert np.abs(served_p - native_p).max() <= tolerance
    # batch 1, as the latency protocol calls it
    assert np.allclose(served.predict_proba(x_test[:1], 1), native_p[:1], atol=tolerance)
    assert (tmp_path / "model.onnx").read_bytes() == served.exported.model
    info = served.runtime_info()
    assert info["library"] == "onnxruntime" and info["converter"].split()[0] in (
        "skl2onnx",
        "onnxmltools",
        "tf2onnx",
    )
    assert served.threads_used() == {"onnxruntime_intra_op": 1, "onnxruntime_inter_op": 1}
    assert served.n_params().as_dict() == adapter.n_params().as_dict()  # the model's own count
    assert served.flops_per_image() == adapter.flops_per_image()


def test_xgboost_zeros_are_missing_in_the_file_too(prepared, tmp_path):  # noqa: F811
    """The booster treats 0 pixels as absent; the exported graph maps 0 to NaN first. Without
    that node the same booster's export predicts other classes."""
    import onnxruntime as ort

    adapter, served, x_test = _served("xgboost", prepared, tmp_path, n_estimators=20)
    assert adapter.params["zero_is_missing"]
    plain = onnx_export.xgboost(adapter.booster, 784, "xgboost", zero_is_missing=False)
    session = ort.InferenceSession(plain.model, providers=["CPUExecutionProvider"])
    wrong = session.run(None, {"x": x_test.astype(np.float32)})[1]
    native = adapter.predict_proba(x_test)
    assert (wrong.argmax(1) != native.argmax(1)).sum() > 0
    assert np.array_equal(served.predict_proba(x_test).argmax(1), native.argmax(1))


def test_the_svm_has_no_export_and_says_why(prepared, tmp_path):  # noqa: F811
    adapter, _ = _fit("svm", prepared)
    with pytest.raises(onnx_export.NotConvertible, match="svm: skl2onnx cannot convert it"):
        onnx_runtime.serve(adapter, tmp_path, threads=1)


QUICK = (*DIGITS_QUICK, "--robustness", "off", "--no-plots")


def test_two_runtimes_are_two_rows_with_parity_and_the_file_saved(tmp_path):
    out = tmp_path / "results"
    proc = run_cli(
        "run",
        "logreg",
        "svm",
        "mlp",
        *QUICK,
        "--set",
        "mlp.epochs=1",
        "--runtime",
        "native",
        "--runtime",
        "onnxruntime",
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # svm's export failed
    recs = {(r["job"]["model"], r["job"]["runtime"]): r for r in records.read_all(out / "runs")}
    assert sorted(recs) == [
        ("logreg", "native"),
        ("logreg", "onnxruntime"),
        ("mlp", "native"),
        ("mlp", "onnxruntime"),
        ("svm", "native"),
        ("svm", "onnxruntime"),
    ]
    svm = recs["svm", "onnxruntime"]
    assert svm["status"] == "failed" and "svm: skl2onnx cannot convert it" in svm["error"]
    assert "\n" not in svm["error"]
    for model in ("logreg", "mlp"):
        native, served = recs[model, "native"], recs[model, "onnxruntime"]
        assert native["status"] == served["status"] == "ok"
        assert "exported" not in native and native["cold_start"]["load_s"] > 0
        parity = served["exported"]["parity"]
        assert parity["n"] == served["data"]["n_test"] and parity["class_changes"] == 0
        # the same training, served two ways: the same predictions on every test image
        assert served["outcomes"]["wrong_index"] == native["outcomes"]["wrong_index"]
        assert served["size"]["total"] == native["size"]["total"]
        assert served["timing"]["inference"]["batch_1"]["calls"] >= 3
        assert served["threads"]["onnxruntime_intra_op"] == served["job"]["threads"]
        folder = out / served["artifact"]["path"]
        manifest = json.loads((folder / "model.json").read_text())
        onnx_file = folder / "model.onnx"
        assert manifest["extra_files"]["model.onnx"] == {
            "sha256": hashlib.sha256(onnx_file.read_bytes()).hexdigest(),
            "bytes": onnx_file.stat().st_size,
        }
        assert served["exported"]["bytes"] == onnx_file.stat().st_size
        assert served["cold_start"]["load_s"] > 0
    _predict_serves_the_saved_export(out, recs, tmp_path)
    board = (out / "LEADERBOARD.md").read_text()
    rows = [line.split("|")[1].strip() for line in board.splitlines() if line.startswith("| ")]
    assert "logreg runtime=onnxruntime" in rows and "mlp epochs=1 runtime=onnxruntime" in rows
    assert "--runtime onnxruntime" in board


def test_an_unknown_runtime_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "results"
    proc = run_cli("run", "logreg", *QUICK, "--runtime", "tflite", "--out", str(out))
    assert_one_line_error(proc, "unknown runtime 'tflite'", "native, onnxruntime")
    assert not out.exists()


def _predict_serves_the_saved_export(out, recs, tmp_path):
    """``predict --runtime onnxruntime`` answers from the saved ``model.onnx`` what the
    native model answers; a folder without one, a changed file and an unknown runtime are
    one line each."""
    from PIL import Image

    from bench import data

    images = []
    for i, pixels in enumerate(data.load("digits").splits.x_test[:3]):
        images.append(str(tmp_path / f"digit{i}.png"))
        Image.fromarray(pixels).save(images[-1])
    served_id = recs["mlp", "onnxruntime"]["run_id"]
    answers = {}
    for runtime in ("native", "onnxruntime"):
        proc = run_cli(
            "predict", served_id, *images, "--out", str(out), "--json", "--runtime", runtime
        )
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        assert got["runtime"] == runtime
        answers[runtime] = [p["top"][0] for p in got["predictions"]]
    assert [a["digit"] for a in answers["native"]] == [a["digit"] for a in answers["onnxruntime"]]
    for a, b in zip(answers["native"], answers["onnxruntime"]):
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)
    native_id = recs["logreg", "native"]["run_id"]
    assert_one_line_error(
        run_cli("predict", native_id, images[0], "--out", str(out), "--runtime", "onnxruntime"),
        "no model.onnx",
    )
    assert_one_line_error(
        run_cli("predict", served_id, images[0], "--out", str(out), "--runtime", "tflite"),
        "unknown runtime 'tflite'",
        "native, onnxruntime",
    )
    onnx_file = out / recs["mlp", "onnxruntime"]["artifact"]["path"] / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:-10])  # truncated
    assert_one_line_error(
        run_cli("predict", served_id, images[0], "--out", str(out), "--runtime", "onnxruntime"),
        "sha256 differs",
    )
