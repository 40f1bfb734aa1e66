"""THE shape of a run record, declared once: its version, its sections and their types, the
job fields, the numbers, and the one rule for what counts as a number.

A record is one JSON object per job. ``SECTIONS`` names every top-level key a record of
version ``SCHEMA`` may hold, with its JSON type and the statuses whose records must hold it;
``JOB_FIELDS`` does the same inside ``job``; ``NUMBERS`` lists the figures readers compute
with, each a number or ``null`` (a non-finite figure is stored as ``null``). ``validate``
checks a record against all three. Records written by older versions are brought to this
shape by ``bench.records.upgrade`` when they are read; the files keep what was written.

Versions:

- 1: the first records, and every record written before version 2 (sections were added under
  this number: ``where``, ``machine``, ``robustness``, ``calibration``, ``memory``,
  ``cold_start``, the job's identity fields and ``size.train_flops_per_image``).
- 2: every section and job field below is declared; the identity fields of ``job``
  (``threads``, ``inference``, ``precision``, ``val_split``, ``library``), ``where``'s
  ``slots_per_host``, ``env.hardware``, ``timing.inference.large`` and
  ``size.train_flops_per_image`` are always there when their measurement is.
- 3: ``job.runtime``, what served the predictions (``native``: the model's own framework;
  ``onnxruntime``: its ONNX export, with the ``exported`` section: converter, bytes and the
  parity of the two); records of version 2 were all ``native``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEMA = 3
STATUSES = ("ok", "diverged", "failed", "timeout", "skipped")
RESULT_STATUSES = ("ok", "diverged")  # records that carry metrics; only ``ok`` ones make table rows
OK_METRICS = ("accuracy", "log_loss", "macro_f1", "per_class", "confusion")

NoneType = type(None)


class RecordError(ValueError):
    """A file that is not a valid run record."""


@dataclass(frozen=True)
class Field:
    """One key of a record (or of its ``job``): its JSON type(s), the statuses whose records
    must hold it (all when ``required`` is ``STATUSES``, none when empty) and what it holds."""

    name: str
    kind: type | tuple[type, ...]
    required: tuple[str, ...] = ()
    doc: str = ""


SECTIONS = (
    Field("schema", int, STATUSES, "the version of this shape the record was written in"),
    Field("run_id", str, STATUSES, "UTC time to the second and 8 random hex digits"),
    Field("started_at", str, STATUSES, "ISO time the job started"),
    Field("finished_at", (str, NoneType), (), "ISO time the record was written"),
    Field("status", str, STATUSES, "one of STATUSES"),
    Field("error", (str, NoneType), STATUSES, "why a job has no result (one line)"),
    Field("error_detail", list, (), "the last lines of the failure's traceback"),
    Field("job", dict, STATUSES, "what was asked (JOB_FIELDS)"),
    Field("data", dict, STATUSES, "the arrays: digests, sizes, source"),
    Field("metrics", dict, STATUSES, "accuracy, log-loss, F1, per class, confusion"),
    Field("size", dict, STATUSES, "parameters, bytes, forward and training FLOPs per image"),
    Field("timing", dict, STATUSES, "the clock: passes, fit, evaluation, inference"),
    Field("history", list, STATUSES, "one entry per training pass"),
    Field("env", dict, STATUSES, "machine, hardware fingerprint, libraries, commit"),
    Field("threads", dict, (), "the thread budget requested and what each library got"),
    Field("extra", dict, (), "what the adapter reported (iterations, convergence ...)"),
    Field("outcomes", dict, (), "which test images were wrong and what was predicted"),
    Field("mistakes", list, (), "the most confident wrong predictions"),
    Field("artifact", dict, (), "the saved model: path, bytes, sha256"),
    Field("cold_start", dict, (), "loading the saved model in a fresh process"),
    Field("memory", dict, (), "peak resident memory of training and inference"),
    Field("calibration", dict, (), "ECE, Brier score and the reliability bins"),
    Field("robustness", dict, (), "accuracy on the MNIST-C corruptions"),
    Field("machine", dict, (), "the host's measured peaks the job is judged against"),
    Field("where", dict, (), "host, executor and the job slots per host"),
    Field("reference", dict, (), "the tutorial a reference model reproduces"),
    Field("evaluated", dict, (), "the already-trained file measured (its sha256 ...)"),
    Field("diverged", dict, (), "the first training pass whose loss was not finite"),
    Field("exported", dict, (), "an onnxruntime job's ONNX export: converter, bytes, parity"),
)

JOB_FIELDS = (
    Field("model", str, STATUSES, "the model's registered name"),
    Field("family", str, STATUSES, "neural, linear, kernel, trees or a plugin's"),
    Field("dataset", str, STATUSES, "the dataset's name or file"),
    Field("profile", str, STATUSES, "quick or full"),
    Field("device", str, STATUSES, "cpu or gpu"),
    Field("seed", int, STATUSES, "the job's seed"),
    Field("params", dict, STATUSES, "every hyper-parameter"),
    Field("threads", (int, NoneType), (), "the CPU thread budget (--threads)"),
    Field("inference", (dict, NoneType), (), "the inference protocol"),
    Field("precision", str, (), "fp32, or Keras' mixed bf16 / fp16"),
    Field("val_split", str, (), 'validation carved by "writers" or "images"'),
    Field("library", (str, NoneType), (), "the library the model is saved with"),
    Field("runtime", str, (), "what served the predictions: native or onnxruntime"),
)

# the figures readers compute with: each a number or null wherever a record holds it
NUMBERS = (
    "metrics.accuracy",
    "metrics.log_loss",
    "metrics.macro_f1",
    "metrics.val_accuracy",
    "size.total",
    "size.flops_per_image",
    "size.train_flops_per_image",
    "timing.fit_s",
    "timing.eval_s",
    "timing.train_images_per_s",
    "timing.train_gflops_per_s",
    "memory.train_peak_mb",
    "memory.inference_peak_mb",
    "cold_start.load_s",
    "calibration.ece",
    "calibration.brier",
    "robustness.mean_accuracy",
)


def number(value) -> float | None:
    """THE rule for a figure read from a record or a records frame: a finite real number
    (a Python or numpy int or float, never a bool) as a float; None for anything else:
    missing (None), NaN (what pandas holds for an absent value), inf, text, containers."""
    if isinstance(value, bool) or not hasattr(value, "__float__") or hasattr(value, "__len__"):
        return None
    if type(value).__name__ in ("bool_", "bool"):  # numpy's bool has __float__
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def validate(rec: dict) -> dict:
    """Return ``rec`` if it has the shape of version ``SCHEMA``; a ``RecordError`` naming the
    first thing wrong otherwise (an older record is upgraded first: ``upgrade.upgrade``)."""
    if not isinstance(rec, dict):
        raise RecordError("not a JSON object")
    if rec.get("schema") != SCHEMA:
        raise RecordError(f"schema {rec.get('schema')!r}, expected {SCHEMA}")
    if rec.get("status") not in STATUSES:
        raise RecordError(f"status {rec.get('status')!r} not one of {STATUSES}")
    _check(rec, SECTIONS, rec["status"], "")
    _check(rec["job"], JOB_FIELDS, rec["status"], "job ")
    if rec["status"] in RESULT_STATUSES:
        missing = [k for k in OK_METRICS if k not in rec["metrics"]]
        if missing:
            raise RecordError(f"{rec['status']} record lacks metrics {missing}")
    for path in NUMBERS:
        value = _at(rec, path)
        if value is not None and number(value) is None:
            raise RecordError(f"{path} is {value!r}, not a number or null")
    if "evaluated" in rec and not isinstance(rec["evaluated"].get("sha256"), str):
        raise RecordError("evaluated is not an object naming the file's sha256")
    return rec


def _check(obj: dict, declared: tuple[Field, ...], status: str, where: str) -> None:
    """Every field of ``declared`` that ``status`` requires is in ``obj``; every one present
    has its JSON type (an int is no bool)."""
    missing = sorted(f.name for f in declared if status in f.required and f.name not in obj)
    if missing:
        raise RecordError(
            f"{where}missing fields {missing}" if where else f"missing fields {missing}"
        )
    for f in declared:
        if f.name in obj:
            value = obj[f.name]
            kinds = f.kind if isinstance(f.kind, tuple) else (f.kind,)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise RecordError(
                    f"{where}{f.name} is {type(value).__name__}, expected "
                    + " or ".join("null" if k is NoneType else _JSON[k] for k in kinds)
                )


_JSON = {dict: "a JSON object", list: "a list", str: "text", int: "an integer", float: "a number"}


def _at(rec: dict, path: str):
    """The value at dotted ``path`` of ``rec`` (None where a section is missing)."""
    value = rec
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
