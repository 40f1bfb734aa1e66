"""Using a saved model: ``predict`` on your own images and ``evaluate`` on a dataset.

Both load an artifact through ``bench.use.artifacts`` (sha256 checked, safe formats only).
``predict`` brings each image into MNIST's form (``bench.use.image_to_mnist``) and then through the
same ``bench.prep.preprocess`` view every model was trained on; ``evaluate`` recomputes the test
metrics and, on the data the model was trained on, compares them with its record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import measure
from bench.core.errors import BenchError
from bench.prep.preprocess import VIEWS
from bench.use import artifacts, image_to_mnist


@dataclass
class Prediction:
    image: str
    top: list[tuple[int, float]]  # (class, probability), most likely first


def predict(
    ref: str, results_dir: Path, dataset: str, image_paths: list[str], runtime: str = "native"
) -> tuple[dict, list[Prediction], np.ndarray, dict]:
    """(manifest, one ``Prediction`` per image, the 28x28 inputs as the model saw them,
    timings) for the model ``ref`` (``artifacts.resolve``) served by ``runtime`` (native, or
    onnxruntime: its saved ``model.onnx``); every image is read and checked before the model
    is looked up and loaded."""
    files, images = image_to_mnist.load_images(image_paths)
    folder = artifacts.resolve(ref, results_dir, dataset)
    t0 = time.perf_counter()
    adapter, manifest = artifacts.load_served(folder, runtime)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with blas_threads(manifest):
        proba = adapter.predict_proba(VIEWS[manifest["view"]](images), batch_size=len(images))
    predict_s = time.perf_counter() - t0
    out = []
    for f, p in zip(files, proba):
        order = np.argsort(-p, kind="stable")[:3]
        out.append(Prediction(str(f), [(int(c), float(p[c])) for c in order]))
    return manifest, out, images, {"load_s": load_s, "predict_s": predict_s}


def table(predictions: list[Prediction]) -> str:
    from tabulate import tabulate

    rows = [
        [p.image, p.top[0][0], f"{p.top[0][1]:.3f}", *(f"{c} ({q:.3f})" for c, q in p.top[1:])]
        for p in predictions
    ]
    return tabulate(
        rows,
        headers=["image", "digit", "probability", "2nd", "3rd"],
        tablefmt="github",
        disable_numparse=True,
    )


def gallery(predictions: list[Prediction], images: np.ndarray, manifest: dict, path: Path) -> Path:
    from bench.publish import plots

    captions = [
        f"{Path(p.image).name[:14]}: {p.top[0][0]} ({p.top[0][1]:.2f})" for p in predictions
    ]
    return plots.mistakes_gallery(
        list(images),
        captions,
        f"{manifest['model']} ({manifest['run_id']}): "
        "each input as the model saw it, with its prediction",
        path,
    )


def evaluate(folder: Path, dataset: str | None, results_dir: Path) -> dict:
    """Test metrics of the saved model on ``dataset`` (default: the one it was trained on),
    with the record's figures beside them when the data is the same."""
    from bench import data
    from bench.measure.profiles import PROFILES

    adapter, manifest = artifacts.load(folder)
    name = dataset or manifest["dataset"]
    splits = data.load(name).splits
    if splits.x_test.shape[1:] != (28, 28):
        raise BenchError(
            f"dataset {name}: images of shape {splits.x_test.shape[1:]}, the model takes 28x28"
        )
    x = VIEWS[manifest["view"]](splits.x_test)
    with blas_threads(manifest):
        proba = adapter.predict_proba(x, batch_size=PROFILES["full"].inference.large_batch)
        probe = None
        if splits.digest() == manifest.get("data_digest") and "probe" in manifest:
            n = manifest["probe"][
                "images"
            ]  # the same images in the same batch as when it was saved
            probe = adapter.predict_proba(x[:n], batch_size=n)
    metrics = measure.classification_metrics(splits.y_test, proba)
    same = splits.digest() == manifest.get("data_digest")
    out = {
        "model": manifest["model"],
        "run_id": manifest["run_id"],
        "dataset": name,
        "metrics": metrics,
        "same_data": same,
        "record": None,
        "probe_identical": None,
    }
    if probe is not None:
        out["probe_identical"] = artifacts.probe_digest(probe) == manifest["probe"]["sha256"]
    record = _record(results_dir, manifest["run_id"])
    if record is not None and out["same_data"]:
        out["record"] = {k: record["metrics"][k] for k in ("accuracy", "log_loss", "macro_f1")}
    return out


def blas_threads(manifest: dict):
    """BLAS/OpenMP pools limited to the thread budget the model was measured with."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return (
        threadpool_limits(limits=manifest["threads"]) if manifest.get("threads") else nullcontext()
    )


def _record(results_dir: Path, run_id: str) -> dict | None:
    """The record of ``run_id`` (one with metrics) under ``<results>/runs``, for the comparison column;
    ``None`` when there is none. A corrupt record (or one without its metrics) is skipped
    with a warning naming the file: the model's own metrics do not depend on it."""
    import sys

    from bench import records

    runs = Path(results_dir) / "runs"
    for path in sorted(runs.glob(f"{run_id}-*.json")) if runs.is_dir() else []:
        try:
            rec = records.read(path)
        except records.RecordError as exc:
            print(f"warning: skipping {path}: not a run record ({exc})", file=sys.stderr)
            return None
        if rec["status"] not in records.RESULT_STATUSES:  # a record with metrics to compare
            print(
                f"warning: skipping {path}: its status is {rec['status']}, it has no metrics",
                file=sys.stderr,
            )
            return None
        return rec
    return None
