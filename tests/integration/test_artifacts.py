"""Saved models: kept by every ok job, reloaded safely and bit-identically, used on images."""

import json
import shutil

import numpy as np
import pytest

from bench import records
from bench.adapters import registry
from bench.use import artifacts
from tests.conftest import DIGITS_QUICK, assert_one_line_error, run_cli

FAST = DIGITS_QUICK
FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}


@pytest.fixture(scope="module")
def saved(digits_suite):
    """Every built-in family trained on digits with its model saved (``digits_suite``)."""
    return digits_suite


@pytest.mark.parametrize("name", registry.DEFAULT_SUITE)
def test_reload_in_a_fresh_process_is_bit_identical_and_evaluate_reproduces_the_record(saved, name):
    out, recs = saved
    rec = recs[name]
    folder = out / rec["artifact"]["path"]
    manifest = json.loads((folder / "model.json").read_text())
    assert manifest["run_id"] == rec["run_id"] and manifest["sha256"] == rec["artifact"]["sha256"]
    assert (
        manifest["data_digest"] == rec["data"]["digest"]
        and manifest["view"] == registry.get(name).view
    )
    suffix = {"linear": ".skops", "kernel": ".skops", "trees": ".ubj", "neural": ".keras"}[
        rec["job"]["family"]
    ]
    assert manifest["file"].endswith(suffix)
    proc = run_cli("evaluate", rec["run_id"], "--out", str(out), "--json")  # a fresh process
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["probe_identical"] is True  # the probe probabilities, bit for bit
    for key in ("accuracy", "log_loss", "macro_f1"):
        assert result["metrics"][key] == rec["metrics"][key], key  # exactly the record's figures


def test_record_path_and_artifact_path_resolve_to_the_same_model(saved):
    out, recs = saved
    rec = recs["logreg"]
    by_id = artifacts.resolve(rec["run_id"], out)
    record_file = next((out / "runs").glob(f"{rec['run_id']}-*.json"))
    assert artifacts.resolve(str(record_file), out) == by_id
    assert artifacts.resolve(str(by_id), out) == by_id
    assert artifacts.resolve(str(by_id / "model.json"), out) == by_id
    best = max(recs.values(), key=lambda r: r["metrics"]["accuracy"])
    assert artifacts.resolve("best", out, "digits") == out / best["artifact"]["path"]


def _copy(saved, name, tmp_path):
    out, recs = saved
    folder = tmp_path / "m"
    shutil.copytree(out / recs[name]["artifact"]["path"], folder)
    return folder


def test_tampered_and_truncated_artifacts_are_refused(saved, tmp_path):
    folder = _copy(saved, "xgboost", tmp_path)
    path = folder / "model.ubj"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert_one_line_error(run_cli("evaluate", str(folder)), "sha256 differs", "refusing to load")
    path.write_bytes(bytes(data[: len(data) // 3]))
    from PIL import Image

    Image.fromarray(np.pad(np.full((20, 6), 255, np.uint8), 4)).save(tmp_path / "one.png")
    assert_one_line_error(
        run_cli("predict", str(folder), str(tmp_path / "one.png")), "sha256 differs"
    )


def _rewrite(folder, obj_writer):
    """Replace the model file and the manifest's hash, as an attacker who controls both would."""
    manifest = json.loads((folder / "model.json").read_text())
    path = folder / manifest["file"]
    obj_writer(path)
    manifest["sha256"] = artifacts.sha256_file(path)
    (folder / "model.json").write_text(json.dumps(manifest))


def test_skops_refuses_types_not_trusted_for_the_model(saved, tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    folder = _copy(saved, "logreg", tmp_path)
    _rewrite(folder, lambda p: sio.dump(FunctionTransformer(func=os.system), p))
    line = assert_one_line_error(
        run_cli("evaluate", str(folder)), "refusing to load types not trusted"
    )
    assert "system" in line  # the unexpected type is named
    _rewrite(
        folder, lambda p: sio.dump(FunctionTransformer(func=np.sin), p)
    )  # trusted types, wrong object
    assert_one_line_error(run_cli("evaluate", str(folder)), "not the LogisticRegression")


def test_keras_safe_mode_refuses_code_in_a_model_file(saved, tmp_path):
    folder = _copy(saved, "mlp", tmp_path)

    def lambda_model(path):
        import os

        os.environ["KERAS_BACKEND"] = "tensorflow"
        import keras

        model = keras.Sequential(
            [
                keras.Input((784,)),
                keras.layers.Lambda(lambda t: t * 2),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.save(path)

    _rewrite(folder, lambda_model)
    assert_one_line_error(run_cli("evaluate", str(folder)), "could not be loaded", "Lambda")


def test_missing_framework_is_one_line(tmp_path):
    out = tmp_path / "r"
    proc = run_cli("run", "fault-noframework", *FAST, "--out", str(out), env_extra=FAULTS)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (rec,) = records.read_all(out / "runs")
    line = assert_one_line_error(
        run_cli("evaluate", rec["run_id"], "--out", str(out), env_extra=FAULTS),
        "framework_that_is_not_installed",
        "not installed",
    )
    assert "fault-noframework" in line


def _one_image(tmp_path):
    from PIL import Image

    path = tmp_path / "one.png"
    Image.fromarray(np.pad(np.full((20, 6), 255, np.uint8), 4)).save(path)
    return str(path)


def test_no_save_models_saves_nothing(tmp_path):
    out = tmp_path / "r"
    assert run_cli("run", "logreg", *FAST, "--no-save-models", "--out", str(out)).returncode == 0
    (rec,) = records.read_all(out / "runs")
    assert "artifact" not in rec and not (out / "models").exists()
    assert_one_line_error(
        run_cli("predict", rec["run_id"], _one_image(tmp_path), "--out", str(out)), "unknown model"
    )
    record_file = next((out / "runs").glob("*.json"))
    assert_one_line_error(
        run_cli("evaluate", str(record_file), "--out", str(out)), "has no saved model"
    )


def test_unknown_models_and_empty_results_are_one_line(tmp_path):
    assert_one_line_error(
        run_cli("evaluate", "20990101T000000Z-deadbeef", "--out", str(tmp_path)), "unknown model"
    )
    assert_one_line_error(
        run_cli("predict", "best", _one_image(tmp_path), "--out", str(tmp_path)), "no saved model"
    )


def test_evaluate_refuses_a_dataset_of_the_wrong_shape(saved, tmp_path, digits):
    out, recs = saved
    path = tmp_path / "big.npz"
    pad = lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2)))  # noqa: E731 - 32x32 images
    np.savez(
        path,
        x_train=pad(digits.x_train),
        y_train=digits.y_train,
        x_test=pad(digits.x_test),
        y_test=digits.y_test,
    )
    assert_one_line_error(
        run_cli(
            "evaluate", recs["logreg"]["run_id"], "--out", str(out), "--dataset", f"npz:{path}"
        ),
        "28",
    )
