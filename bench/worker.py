"""One job in its own process: ``python -m bench.worker SPEC.json``.

The runner writes a job spec (run id, job, threads, inference protocol, runs folder),
sets the device and thread environment, and starts this module. It loads the dataset,
applies the shared preprocessing, trains the adapter, measures it, and writes exactly one
record atomically. Progress goes to stdout, one line at a time. Exit 0 when the record is
``ok``; 1 after writing a ``failed`` record for an exception. A crash that kills the
process before that (segfault, OOM kill) leaves no record: the runner writes it.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from bench import envinfo, measure, records
from bench.data import load as load_dataset
from bench.preprocess import prepare
from bench.measure import InferenceProtocol
from bench.profiles import PROFILES


def log(line: str) -> None:
    print(line, flush=True)


def run(spec: dict) -> dict:
    """Train and measure the job in ``spec``; return its ``ok`` record."""
    import models

    job = spec["job"]
    rec = records.empty(spec["run_id"], job, "ok")
    rec["started_at"] = spec.get("started_at", rec["started_at"])
    profile = PROFILES[job["profile"]]
    adapter = models.get(job["model"])(job["params"])

    dataset = load_dataset(job["dataset"])
    s = dataset.splits
    prep = prepare(s.x_train, s.y_train, s.x_test, s.y_test, profile.split)
    x_train, x_val, x_test = prep.views(adapter.view)
    rec["data"] = {**prep.sizes(), "digest": s.digest(), "source": dataset.source}
    log(f"data: {prep.sizes()['n_train']} train / {prep.sizes()['n_val']} val / {prep.sizes()['n_test']} test "
        f"({adapter.view} view)")

    t0 = time.perf_counter()
    history = adapter.fit(x_train, prep.y_train, x_val=x_val, y_val=prep.y_val, seed=job["seed"],
                          device=job["device"], threads=spec.get("threads"),
                          deterministic=bool(job.get("deterministic")), log=log)
    fit_s = time.perf_counter() - t0
    log(f"fit: {fit_s:.1f}s")

    protocol = InferenceProtocol.from_dict(spec["inference"]) if spec.get("inference") else profile.inference
    proba = adapter.predict_proba(x_test, batch_size=protocol.large_batch)
    rec["metrics"] = measure.classification_metrics(prep.y_test, proba)
    rec["mistakes"] = measure.worst_mistakes(prep.y_test, proba)
    log(f"test accuracy {rec['metrics']['accuracy']:.4%}")

    counts = adapter.n_params()
    flops = adapter.flops_per_image()
    rec["size"] = {**counts.as_dict(), "bytes": adapter.serialized_size(), "flops_per_image": flops}

    rec["timing"] = measure.training_figures(fit_s, len(prep.y_train), history)
    ips = rec["timing"].get("train_images_per_s")
    rec["timing"]["train_gflops_per_s"] = 3 * flops * ips / 1e9 if flops and ips else None
    log("measuring inference")
    rec["timing"]["inference"] = measure.measure_inference(adapter.predict_proba, x_test, protocol)
    rec["timing"]["inference_protocol"] = protocol.as_dict()
    rec["history"] = history
    rec["extra"] = getattr(adapter, "fit_info", {})
    if getattr(adapter, "published", None):
        rec["reference"] = dict(adapter.published)
    rec["env"] = envinfo.capture()
    rec["env"]["runtime"] = adapter.runtime_info()
    rec["threads"] = {"requested": spec.get("threads"), **adapter.threads_used(),
                      "blas": {lib["internal_api"]: lib.get("num_threads") for lib in rec["env"]["blas"]}}
    rec["finished_at"] = records.now_iso()
    return rec


def _terminate(signum, frame):
    raise KeyboardInterrupt  # unwinds through atomic writes, which remove their temp files


def main(argv: list[str]) -> int:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    spec = json.loads(Path(argv[0]).read_text())
    runs_dir = Path(spec["runs_dir"])
    try:
        rec = run(spec)
    except BaseException as exc:  # noqa: BLE001 - every failure must leave a record
        if isinstance(exc, KeyboardInterrupt):
            raise
        tail = traceback.format_exc().strip().splitlines()[-15:]
        error = " ".join(f"{type(exc).__name__}: {exc}".split())
        rec = records.empty(spec["run_id"], spec["job"], "failed", error)
        rec["started_at"] = spec.get("started_at", rec["started_at"])
        rec["error_detail"] = tail
        rec["env"] = envinfo.capture()
        rec["finished_at"] = records.now_iso()
        records.write(runs_dir, rec)
        log(f"failed: {error}")
        return 1
    records.write(runs_dir, rec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
