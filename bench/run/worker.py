"""One job in its own process: ``python -m bench.run.worker SPEC.json``.

The runner writes a job spec (run id, job, runs folder, whether to save the model), sets
the device and thread environment, and starts this module. It trains the job through
``bench.run.pipeline`` (the one timed region), measures the fitted model (test metrics and
calibration, inference timing and the memory it adds, robustness on the MNIST-C corruptions
unless the job says ``robustness: false``), saves it under ``<results>/models/<run id>/``
(``bench.use.artifacts``), measures the saved model's cold start in a fresh process (warm
file cache: ``bench.use.coldstart``), writes
the model card beside it (``bench.use.card``), and writes exactly one record atomically. A job of
``runtime`` onnxruntime exports the fitted model (``bench.adapters.onnx_runtime``), checks the
export's predictions against the native ones (``exported.parity``) and measures the export:
every figure after training is the served model's, and ``model.onnx`` is saved beside the
native model. An
already-trained file (``Adapter.trains`` False) is loaded, not trained: its record has every
measurement but the training figures (no ``timing.fit_s``, no history: "-" in every table)
and an ``evaluated`` section naming the file, its sha256 and library. The
record carries the host's measured peaks (``machine``: ``bench.measure.peaks``, cached; the
suite measures them before its first job, a cluster host on its first job's end) and the
seconds of every stage outside the timed fit (``timing.stages``, for the suite's overhead).
Progress goes to stdout, one line at a time. Exit 0 when the record is ``ok`` or
``diverged`` (the training loss or the test probabilities became NaN/inf: a result with all
its measurements, the first non-finite pass in ``rec["diverged"]``, and no saved model,
since a model of NaN weights predicts nothing); 1 after writing a ``failed`` record for an
exception. A crash that kills the process before that (segfault, OOM kill) leaves no
record: the runner writes it.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from bench import measure, records
from bench.core import envinfo
from bench.measure import InferenceProtocol, peaks
from bench.measure.calibration import calibration
from bench.measure.memory import PeakMemory, inference_fields
from bench.measure.profiles import PROFILES
from bench.measure.robustness import robustness
from bench.run import host_sharing, pipeline
from bench.use import artifacts, card


def log(line: str) -> None:
    print(line, flush=True)


class Stages:
    """Seconds spent in each stage of a job outside its timed fit (``timing.stages``): what
    the suite's summary shows as the job's overhead, by stage."""

    def __init__(self, spawned_at: float | None = None):
        started = spawned_at if isinstance(spawned_at, (int, float)) else _process_start()
        self.seconds: dict[str, float] = {
            "startup": max(0.0, time.time() - started) if started else 0.0
        }

    @contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def _process_start() -> float | None:
    """When this process started, by the kernel's clock (to about a second: the boot time it
    counts from is whole seconds), for a worker started without ``spawned_at``; or None."""
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # noqa: BLE001 - an overhead figure, never a reason to fail a job
        return None


def run(spec: dict) -> dict:
    """Train and measure the job in ``spec``; return its ``ok`` (or ``diverged``) record. A
    job of ``runtime`` onnxruntime keeps its exported file in a temporary folder meanwhile."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mnist-bench-job-") as scratch:
        return _measure(spec, Path(scratch))


def _measure(spec: dict, scratch: Path) -> dict:
    job = spec["job"]
    stage = Stages(spec.get("spawned_at"))  # the runner's clock when it started this process
    rec = records.empty(spec["run_id"], job, "ok")
    rec["started_at"] = spec.get("started_at", rec["started_at"])
    with stage("train"):
        t = pipeline.train(job, job.get("threads"), log)
    trained_here = t.training is not None  # False: an already-trained file, evaluated only
    stage.seconds["data_and_build"] = stage.seconds.pop("train") - (t.fit_wall_s or 0.0)
    if trained_here:
        stage.seconds["validation"] = (
            t.training.eval_s
        )  # inside the timed fit, but not on the training clock
    adapter, prep, splits = t.adapter, t.prep, t.dataset.splits
    rec["data"] = {
        **prep.sizes(),
        "val_split": prep.val_split,
        "digest": splits.digest(),
        "test_digest": splits.test_digest(),
        "source": t.dataset.source,
    }
    protocol = (
        InferenceProtocol.from_dict(job["inference"])
        if job.get("inference")
        else PROFILES[job["profile"]].inference
    )
    native = t.adapter
    if (job.get("runtime") or "native") == "onnxruntime":
        with stage("export"):
            _serve(t, rec, scratch, protocol)
        adapter = t.adapter  # from here on every figure is the served model's
    with stage("evaluate"):
        _evaluate(rec, t, protocol)
    mark_diverged(rec, t.training)

    flops = adapter.flops_per_image()
    with stage("size"):
        rec["size"] = {
            **adapter.n_params().as_dict(),
            "bytes": adapter.serialized_size(),
            "flops_per_image": flops,
        }
    rec["timing"] = _training_figures(t, rec) if trained_here else {}
    log("measuring inference")
    with stage("inference"), PeakMemory() as peak:
        rec["timing"]["inference"] = measure.measure_inference(
            adapter.predict_proba, t.x_test, protocol
        )
    rec["memory"] = {
        **t.memory,
        **inference_fields(peak),
    }  # what inference adds, and its whole peak
    rec["timing"]["inference_protocol"] = protocol.as_dict()
    if job.get("robustness", True) and rec["status"] == "ok":
        with stage("robustness"):
            _robustness_or_error(t, rec, protocol)
    with stage("save"):
        _save_model(spec, rec, t)
    with stage("cold_start"):
        _cold_start(spec, rec, t)
    rec["history"] = t.training.passes if trained_here else []
    rec["extra"] = {
        **(t.training.info if trained_here else {}),
        "uses_seed": type(native).uses_seed(job["params"]),
    }
    if not trained_here:
        rec["evaluated"] = evaluated_section(adapter, t.prepare_s)
    if getattr(native, "published", None):
        rec["reference"] = dict(native.published)
    rec["where"] = spec.get("where") or {}
    with stage("environment"):
        rec["env"] = envinfo.capture()
        rec["env"]["runtime"] = adapter.runtime_info()
        rec["machine"] = peaks.for_record(
            job.get("threads")
        )  # cached: measured before the suite's first job
    rec["threads"] = {
        "requested": job.get("threads"),
        **adapter.threads_used(),
        "blas": {lib["internal_api"]: lib.get("num_threads") for lib in rec["env"]["blas"]},
    }
    rec["timing"]["stages"] = stage.seconds
    rec["finished_at"] = records.now_iso()
    return rec


def _serve(t, rec: dict, scratch: Path, protocol) -> None:
    """Swap the fitted adapter in ``t`` for its ONNX Runtime export
    (``bench.adapters.onnx_runtime``), after checking parity on the whole test set:
    ``rec["exported"]`` says the converter, the file's bytes and how the predictions of the
    two differ. ``NotConvertible`` (one line: the job's error) when there is no export."""
    from bench.adapters import onnx_runtime

    native = t.adapter
    served = onnx_runtime.serve(native, scratch, rec["job"].get("threads"))
    parity = onnx_runtime.parity(
        native.predict_proba(t.x_test, batch_size=protocol.large_batch),
        served.predict_proba(t.x_test, batch_size=protocol.large_batch),
    )
    rec["exported"] = {"format": "onnx", **served.exported.as_dict(), "parity": parity}
    log(
        f"exported with {served.exported.converter} ({len(served.exported.model):,} bytes), "
        f"served by ONNX Runtime: {parity['class_changes']} of {parity['n']} test predictions "
        f"change class, largest probability difference {parity['max_abs_dp']:.1e}"
    )
    t.adapter = served


def _training_figures(t, rec: dict) -> dict:
    """The record's training figures (``timing``) from the clock's readings of a trained job;
    adds the adapter's training FLOPs per image (None: not counted) to ``rec["size"]``."""
    train_flops = t.adapter.train_flops_per_image()
    rec["size"]["train_flops_per_image"] = train_flops
    timing = measure.training_figures(t.fit_wall_s, t.training, len(t.prep.y_train), train_flops)
    timing["prepare_s"] = t.prepare_s
    if "target" in t.training.info:  # what --target did: stopped early, and when
        timing["target"] = t.training.info["target"]
    timing["time_to_accuracy"] = measure.time_to_accuracy(
        t.training.passes,
        t.training.images_processed,
        rec["metrics"].get("val_accuracy"),
        start_s=measure.start_of(timing["setup_s"], timing["unaccounted_s"]),
    )
    return timing


def evaluated_section(adapter, load_s: float) -> dict:
    """``rec["evaluated"]`` of an already-trained file measured here, not trained here: the
    file, its sha256 and library, the input convention it was fed in, what its outputs were
    (probabilities, or logits a softmax turned into probabilities) and the seconds loading
    it took in the job (untimed, like ``prepare``). Its training figures are absent."""
    cls, info = type(adapter), adapter.runtime_info()
    return {
        "file": cls.origin.get("path"),
        "name": cls.name,
        "sha256": cls.origin.get("sha256"),
        "library": cls.library,
        "input": info.get("input"),
        "outputs": info.get("outputs"),
        "load_s": load_s,
    }


def _evaluate(rec: dict, t, protocol) -> None:
    """Test metrics, validation accuracy, mistakes, per-image outcomes and calibration from
    one prediction of the test set (and one of the validation split)."""
    adapter, prep = t.adapter, t.prep
    proba = adapter.predict_proba(t.x_test, batch_size=protocol.large_batch)
    rec["metrics"] = measure.classification_metrics(prep.y_test, proba)
    if len(prep.y_val):
        val_pred = measure.predictions(
            adapter.predict_proba(t.x_val, batch_size=protocol.large_batch)
        )
        rec["metrics"]["val_accuracy"] = float((val_pred == prep.y_val).mean())
    rec["mistakes"] = measure.worst_mistakes(prep.y_test, proba)
    rec["outcomes"] = measure.test_outcomes(prep.y_test, proba, rec["data"]["test_digest"])
    if (
        getattr(t.dataset.splits, "g_test", None) is not None
    ):  # a user file's writers: the unit of its statistics
        rec["outcomes"]["groups"] = t.dataset.splits.g_test.tolist()
    rec["metrics"].update(
        measure.writer_metrics(rec["outcomes"])
    )  # MNIST only: populations, disputed labels
    rec["calibration"] = calibration(prep.y_test, proba)
    log(f"test accuracy {rec['metrics']['accuracy']:.4%}")


def _robustness_or_error(t, rec: dict, protocol) -> None:
    """``rec["robustness"]``, or ``{"error": one line}`` when it cannot be measured (a data
    folder that cannot be written, memory, a model that refuses the images): the trained
    job's record and model are kept either way."""
    from bench.core.errors import BenchError

    try:
        rec["robustness"] = _robustness(t, rec, protocol)
    except (BenchError, OSError, ValueError, MemoryError) as exc:
        rec["robustness"] = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
        log(f"robustness not measured: {rec['robustness']['error']}")


def _robustness(t, rec: dict, protocol) -> dict:
    """The MNIST-C section (``bench.measure.robustness``) on the profile's subset of the
    cached corrupted test set (built on first use, outside every timed region)."""
    from bench.data import corrupted
    from bench.prep.preprocess import VIEWS

    s = t.dataset.splits
    n = PROFILES[rec["job"]["profile"]].corrupted_n
    cset = corrupted.load(s.x_test, s.y_test, rec["data"]["test_digest"]).subset(n)
    view = VIEWS[t.adapter.view]
    log(
        f"robustness: {len(cset.names)} corruptions x {len(cset.labels)} test images ({cset.source})"
    )
    out = robustness(
        lambda images: t.adapter.predict_proba(view(images), batch_size=protocol.large_batch),
        cset,
        measure.correct_mask(rec["outcomes"]),
    )
    log(f"mean corruption accuracy {out['mean_accuracy']:.4%}")
    return out


def _cold_start(spec: dict, rec: dict, t) -> None:
    """Load the saved model and predict one image in a fresh process (``bench.use.coldstart``;
    the ``.onnx`` file in ONNX Runtime for a job of that runtime); a failure is written into
    the record (the model is then not usable), never raised."""
    if "artifact" not in rec:
        return
    import subprocess

    from bench.core.errors import BenchError
    from bench.use import coldstart

    folder = Path(spec["runs_dir"]).parent / rec["artifact"]["path"]
    runtime = spec["job"].get("runtime") or "native"
    try:
        rec["cold_start"] = coldstart.measure(folder, t.dataset.splits.x_test[0], runtime=runtime)
    except (BenchError, OSError, ValueError, subprocess.SubprocessError) as exc:
        rec["cold_start"] = {"error": " ".join(str(exc).split())}
        log(f"cold start: {rec['cold_start']['error']}")
        return
    log(
        f"cold start: {rec['cold_start']['load_s']:.2f}s (load + first prediction, fresh process, warm file cache)"
    )


def mark_diverged(rec: dict, training) -> None:
    """Make ``rec`` a ``diverged`` record when a pass measured NaN/inf
    (``TrainingLog.first_non_finite``) or, every pass being finite, some test probabilities
    are not (``first_pass`` None then). ``rec["diverged"]`` says where and what, and how
    many test images got no prediction (counted wrong, ``measure.predictions``);
    ``rec["error"]`` says it in one line for tables and the summary."""
    note = training.first_non_finite() if training is not None else None  # None: not trained here
    no_prediction = int(rec["metrics"].get("no_prediction", 0))
    if note is None and not no_prediction:
        return
    note = note or {
        "first_pass": None,
        "unit": training.unit if training is not None else "prediction",
        "what": "test probabilities nan/inf",
    }
    note.update(
        passes_run=len(training.passes) if training is not None else 0,
        no_prediction=no_prediction,
        model_saved=False,
    )
    where = f"{note['unit']} {note['first_pass']}" if note["first_pass"] else "prediction"
    rec["status"], rec["diverged"] = "diverged", note
    rec["error"] = (
        f"training diverged at {where}: {note['what']}; {no_prediction} of {rec['data']['n_test']} "
        "test images without a prediction (counted wrong); model not saved"
    )
    log(rec["error"])


def _save_model(spec: dict, rec: dict, t) -> None:
    """Save the fitted model under ``<results>/models/<run id>/`` and point ``rec`` at it,
    unless saving is off, the adapter cannot save, or training diverged. A model served by
    ONNX Runtime saves its native model (what ``predict`` loads) and the ``.onnx`` file
    beside it (hashed in the manifest too)."""
    job, adapter = spec["job"], t.adapter
    native = getattr(adapter, "native", adapter)
    exported = {adapter.path.name: adapter.path} if native is not adapter else {}
    if not spec.get("save_model", True):
        return
    if rec["status"] == "diverged":
        log("model not saved: training diverged")
    elif not type(native).can_save():
        log(f"model not saved: {job['model']} has no save/load (see bench/adapters/contract.py)")
    else:
        results_dir = Path(spec["runs_dir"]).parent
        rec["artifact"] = artifacts.save(
            native,
            results_dir,
            spec["run_id"],
            job,
            rec["data"],
            t.x_test[: artifacts.PROBE_IMAGES],
            extra_files=exported,
        )
        log(f"model saved: {results_dir / rec['artifact']['path']}")


def _write_card(spec: dict, rec: dict) -> None:
    """The model card (``bench.use.card``) beside the saved model, from the finished record
    (every measurement in it, cold start and environment included). A card that cannot be
    written is one log line: the model and its record stand without it."""
    if "artifact" not in rec:
        return
    folder = Path(spec["runs_dir"]).parent / rec["artifact"]["path"]
    try:
        card.write(folder, records.json_safe(rec))
    except Exception as exc:  # noqa: BLE001 - documentation only: never fail the job for it
        log(f"model card not written: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # unwinds through atomic writes, which remove their temp files


def die_with_parent(parent_pid: int, every_s: float = 0.5) -> None:
    """Kill this job (its whole process group) once the process that started it is gone.

    The runner starts each job in a session of its own, so nothing else would stop it when
    a Dask worker is killed mid-job: the job would go on training, unseen, on a machine that
    the cluster now gives to another job."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def main(argv: list[str]) -> int:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    spec = json.loads(Path(argv[0]).read_text())
    if spec.get("parent_pid"):
        die_with_parent(int(spec["parent_pid"]))
    runs_dir = Path(spec["runs_dir"])
    try:
        with host_sharing.Watch(spec["run_id"]) as host:
            rec = run(spec)
            rec["where"]["jobs_sharing_host"] = host.most  # measured while it trained and was timed
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure must leave a record
        error = f"{type(exc).__name__}: {exc}"
        records.write(
            runs_dir,
            records.problem(
                spec["run_id"],
                spec["job"],
                "failed",
                error,
                started_at=spec.get("started_at"),
                detail=traceback.format_exc().strip().splitlines(),
            ),
        )
        log(f"failed: {' '.join(error.split())}")
        return 1
    records.write(runs_dir, rec)
    _write_card(spec, rec)  # after the record: a record that cannot be written leaves no card
    return 0


if __name__ == "__main__":
    # Each line to the runner as printed, adapters' own prints included: the runner sets
    # PYTHONUNBUFFERED for its children (supervise.child_env); this holds however it was started.
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main(sys.argv[1:]))
