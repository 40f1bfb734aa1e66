"""Cold start of a saved model: what ``python -m bench predict`` pays before its first answer.

``measure(folder, image)`` starts ``python -m bench.use.coldstart FOLDER IMAGE.npy`` in a
fresh process (the job's thread settings inherited) and returns the record's
``cold_start`` section:

- ``read_s``: ``artifacts.load``: importing the framework, checking the file's sha256 and
  reading the model;
- ``first_predict_s``: the first prediction, of one 28x28 image through the model's view
  (framework warm-up, graph tracing);
- ``load_s``: the two together, the "load s" of the tables;
- ``process_s``: the whole child as the parent saw it, the interpreter's own start and
  ``import bench`` included;
- ``file_cache``: ``"warm"``: the child starts right after the job saved the model, with the
  model file, the framework's libraries and Python's modules already in the OS page cache
  (as a second ``predict`` finds them). A first ``predict`` after a reboot reads them from
  disk and takes longer. Without root only the model file could be dropped from the cache
  (``posix_fadvise``; the libraries are mapped by the job itself), which would leave the
  larger part, importing the framework, warm anyway: nothing is dropped, and every view
  says "fresh process, warm file cache" (``LABEL``).

It does not include reading the user's images (``predict`` does that before loading).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.core import pychild
from bench.core.errors import BenchError

FILE_CACHE = "warm"  # the cache state measured (module docstring)
LABEL = "fresh process, warm file cache"  # how every view names what was measured


def measure(
    folder: Path, image: np.ndarray, timeout_s: float = 300.0, runtime: str = "native"
) -> dict:
    """The ``cold_start`` section for the artifact ``folder``, predicting ``image`` (uint8
    28x28), through the model's own framework or (``runtime`` onnxruntime) its ``.onnx``
    file in ONNX Runtime; ``BenchError`` (one line) when the child fails."""
    with tempfile.TemporaryDirectory(prefix="mnist-bench-coldstart-") as tmp:
        path = Path(tmp) / "image.npy"
        np.save(path, np.asarray(image, dtype=np.uint8).reshape(1, 28, 28))
        t0 = time.perf_counter()
        done = subprocess.run(
            pychild.python_m("bench.use.coldstart", str(folder), str(path), runtime),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        process_s = time.perf_counter() - t0
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"cold start of {folder} failed: {why}")
    return {**json.loads(lines[-1]), "process_s": process_s, "file_cache": FILE_CACHE}


def _child(folder: str, image_path: str, runtime: str = "native") -> dict:
    t0 = time.perf_counter()
    from bench.prep.preprocess import VIEWS
    from bench.use import artifacts
    from bench.use.predict import blas_threads

    adapter, manifest = artifacts.load_served(Path(folder), runtime)
    read_s = time.perf_counter() - t0
    images = np.load(image_path)
    t1 = time.perf_counter()
    with blas_threads(manifest):  # as ``predict`` runs it
        adapter.predict_proba(VIEWS[manifest["view"]](images), batch_size=len(images))
    first_s = time.perf_counter() - t1
    return {"read_s": read_s, "first_predict_s": first_s, "load_s": read_s + first_s}


if __name__ == "__main__":
    print(json.dumps(_child(*sys.argv[1:4])), flush=True)
