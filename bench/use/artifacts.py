"""Trained models kept on disk: ``<results>/models/<run id>/`` with a manifest, and the
safe way back in.

An artifact folder holds the model in its framework's own data-only format (written by the
adapter's ``save``) and ``model.json``: which adapter and parameters, the preprocessing
view, the dataset and its content digest, the record it belongs to, the file's sha256 and a
probe (the sha256 of the probabilities the live model gave for the first test images).
``load`` checks the sha256 before anything is parsed and dispatches to the adapter's
``load``, which reads only what its format marks safe. ``resolve`` turns what a user types
(a run id, a record or artifact path, ``best``) into an artifact folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from bench import records
from bench.core import atomic, envinfo
from bench.core.errors import BenchError
from bench.data.sources import sha256_file

MANIFEST = "model.json"
SCHEMA = 1
PROBE_IMAGES = 100


def probe_digest(proba: np.ndarray) -> str:
    """sha256 of float64 probabilities: equal digests mean bit-identical predictions."""
    return hashlib.sha256(np.ascontiguousarray(proba, dtype=np.float64).tobytes()).hexdigest()


def save(
    adapter,
    results_dir: Path,
    run_id: str,
    job: dict,
    data: dict,
    probe_x: np.ndarray,
    extra_files: dict[str, Path] | None = None,
) -> dict:
    """Save ``adapter``'s fitted model as ``<results>/models/<run_id>/``; returns the record's
    pointer ``{"path", "sha256", "bytes"}`` (path relative to the results folder).
    ``extra_files`` (name -> file) are copied beside it and listed in the manifest's
    ``extra_files`` with their sha256 and bytes (the ONNX export of an onnxruntime job).

    Written into a hidden temporary folder first and renamed into place, so a folder named
    by a run id is always complete."""
    models_dir = Path(results_dir) / "models"
    final = models_dir / run_id
    tmp = models_dir / f".{run_id}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        path = Path(adapter.save(tmp))
        extra = {}
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
            extra[name] = {"sha256": sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
        manifest = {
            "schema": SCHEMA,
            "run_id": run_id,
            "model": job["model"],
            "family": job["family"],
            "params": job["params"],
            "origin": job.get("origin"),
            "library": job.get("library"),
            "threads": job.get("threads"),
            "view": adapter.view,
            "dataset": job["dataset"],
            "data_digest": data.get("digest"),
            "test_digest": data.get("test_digest"),
            "file": path.name,
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "probe": {
                "images": int(len(probe_x)),
                "sha256": probe_digest(adapter.predict_proba(probe_x, batch_size=len(probe_x))),
            },
            "runtime": adapter.runtime_info(),
            **({"extra_files": extra} if extra else {}),
            "libraries": envinfo.library_versions(),
            "created_at": records.now_iso(),
        }
        atomic.write_json(tmp / MANIFEST, manifest)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "path": final.relative_to(results_dir).as_posix(),
        "sha256": manifest["sha256"],
        "bytes": manifest["bytes"],
    }


def store_files(
    results_dir: Path, pointer: dict, files: dict[str, bytes], run_id: str | None = None
) -> Path:
    """Write a model folder that was saved elsewhere (a cluster worker) under
    ``<results>/<pointer["path"]>``: the path must be ``models/<run_id>`` (``BenchError``
    otherwise, before anything is written: a remote record may point anywhere), the files
    must hold a manifest and a model file whose sha256 is the record's. Written into a
    hidden folder and renamed, like ``save``."""
    if not _pointer_ok(pointer, run_id):
        want = f"models/{run_id}" if run_id else "models/<run id>"
        path = pointer.get("path") if isinstance(pointer, dict) else None
        raise BenchError(f"model files for {path!r}: not stored, the path must be {want}")
    manifest = json.loads(files[MANIFEST]) if MANIFEST in files else {}
    model = files.get(manifest.get("file", ""))
    if model is None or hashlib.sha256(model).hexdigest() != pointer.get("sha256"):
        raise BenchError(
            f"model files for {pointer.get('path')} arrived incomplete or changed (sha256 mismatch)"
        )
    final = Path(results_dir) / pointer["path"]
    tmp = final.parent / f".{final.name}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name, data in files.items():
            if Path(name).name != name:
                raise BenchError(f"model file name {name!r} is not a plain file name")
            (tmp / name).write_bytes(data)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        m = json.loads(path.read_text())
        assert m["schema"] == SCHEMA
        for key in ("model", "params", "view", "file", "sha256", "dataset"):
            assert key in m, key
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise BenchError(
            f"{path}: not a model manifest ({type(exc).__name__} {exc})".strip()
        ) from None
    return m


def load_served(folder: Path, runtime: str = "native", threads: int | None = None):
    """(adapter, manifest) of an artifact folder served by ``runtime``: ``native`` (``load``)
    or ``onnxruntime``, its ``model.onnx`` (saved by a ``--runtime onnxruntime`` job) in an
    ONNX Runtime session after the sha256 check. ``BenchError`` (one line) for an unknown
    runtime, a folder without the export, or a file that is not the one the manifest names."""
    from bench.adapters import onnx_runtime

    onnx_runtime.require_known((runtime,))
    if runtime == "native":
        return load(folder, threads)
    folder = Path(folder)
    m = read_manifest(folder)
    entry = (m.get("extra_files") or {}).get(onnx_runtime.FILE)
    path = folder / onnx_runtime.FILE
    if not entry or not path.is_file():
        raise BenchError(
            f"{folder}: no {onnx_runtime.FILE} (a model saved by a --runtime onnxruntime job has "
            "one); use --runtime native"
        )
    if sha256_file(path) != entry.get("sha256"):
        raise BenchError(
            f"{path}: sha256 differs from {MANIFEST} (tampered with, truncated or replaced); "
            "refusing to load it"
        )
    threads = threads or m.get("threads")
    return onnx_runtime.open_saved(folder, m["view"], entry["sha256"], threads), m


def load(folder: Path, threads: int | None = None):
    """(adapter ready to predict, manifest) from an artifact folder, after checking that its
    file is exactly the one the manifest names (sha256). ``threads`` (default: the thread
    budget it was trained and measured with) goes to the framework, so that predictions
    repeat the saved model's bit for bit."""
    from bench.adapters import registry

    folder = Path(folder)
    m = read_manifest(folder)
    path = folder / m["file"]
    if Path(m["file"]).name != m["file"] or not path.is_file():
        raise BenchError(f"{folder}: the model file {m['file']!r} named by {MANIFEST} is missing")
    if sha256_file(path) != m["sha256"]:
        raise BenchError(
            f"{path}: sha256 differs from {MANIFEST} (tampered with, truncated or replaced); "
            "refusing to load it"
        )
    origin = m.get("origin") or {}
    if (
        origin.get("kind") == "file"
    ):  # an already-trained file: the artifact's own copy of it registers it
        registry.add_file(path, origin.get("options"), expect_sha256=origin.get("sha256"))
    else:
        registry.restore(origin)  # a plugin file's model: that file registers it here too
    cls = registry.get(m["model"])
    try:
        adapter = cls.load(path, m["params"], threads=threads or m.get("threads"))
    except ImportError as exc:
        raise BenchError(
            f"{m['model']} needs {exc.name or exc}, which is not installed here "
            "(pip install -e . installs every framework)"
        ) from None
    except BenchError:
        raise
    except Exception as exc:  # noqa: BLE001 - the framework could not read it: one line
        raise BenchError(
            f"{path}: the {m['family']} model could not be loaded "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        ) from None
    return adapter, m


def resolve(ref: str, results_dir: Path, dataset: str = "mnist") -> Path:
    """The artifact folder for ``ref``: ``best`` (the most accurate ``ok`` record on
    ``dataset`` whose artifact is on disk), an artifact folder or its ``model.json``, a record
    file, or a run id under ``<results>/models``."""
    results_dir = Path(results_dir)
    if ref == "best":
        return _best(results_dir, dataset)
    path = Path(ref)
    if path.is_dir() and (path / MANIFEST).is_file():
        return path
    if path.is_file() and path.name == MANIFEST:
        return path.parent
    if path.is_file() and path.suffix == ".json":
        try:
            rec = records.read(path)
        except records.RecordError as exc:
            raise BenchError(f"{path}: not a run record ({exc})") from None
        return _artifact_of(rec, path.resolve().parent.parent)
    folder = results_dir / "models" / ref
    if (folder / MANIFEST).is_file():
        return folder
    raise BenchError(
        f"unknown model {ref!r}: not a run id with a saved model in {results_dir / 'models'}, "
        "an artifact folder, a record file, or 'best'"
    )


def _artifact_of(rec: dict, results_dir: Path) -> Path:
    art = rec.get("artifact")
    if rec["status"] != "ok" or not art:
        raise BenchError(
            f"record {rec['run_id']} has no saved model (status {rec['status']}; saved models "
            "come from runs without --no-save-models)"
        )
    if not _pointer_ok(art):
        raise BenchError(
            f"record {rec['run_id']}: its artifact pointer {art!r} is not a relative model path"
        )
    folder = results_dir / art["path"]
    if not (folder / MANIFEST).is_file():
        raise BenchError(f"record {rec['run_id']}: its model folder {folder} is missing")
    return folder


def _pointer_ok(art, run_id: str | None = None) -> bool:
    """A record's ``artifact`` that can be followed: ``{"path": "models/<name>", ...}``, a
    relative path of exactly two parts whose name is a plain one (no ``..``, no ``/``);
    with ``run_id``, ``<name>`` must be it."""
    if not (isinstance(art, dict) and isinstance(art.get("path"), str)):
        return False
    parts = art["path"].split("/")
    return (
        len(parts) == 2
        and parts[0] == "models"
        and parts[1] not in ("", ".", "..")
        and "\\" not in parts[1]
        and (run_id is None or parts[1] == run_id)
    )


def _best(results_dir: Path, dataset: str) -> Path:
    runs = results_dir / "runs"
    candidates = [
        r
        for r in (records.read_all(runs) if runs.is_dir() else [])
        if r["status"] == "ok"
        and r["job"]["dataset"] == dataset
        and _pointer_ok(r.get("artifact"))
        and (results_dir / r["artifact"]["path"] / MANIFEST).is_file()
    ]
    if not candidates:
        raise BenchError(
            f"best: no saved model trained on {dataset} in {results_dir} "
            f"(train one: python -m bench run cnn-small --dataset {dataset})"
        )
    best = max(candidates, key=lambda r: (r["metrics"]["accuracy"], r["started_at"], r["run_id"]))
    return results_dir / best["artifact"]["path"]
