"""THE one place where records written by older versions become records of today's shape
(``shape.SCHEMA``), so no reader needs a branch for "records made before ...".

``upgrade`` runs at read time and returns a new dict (the record passed in, and its file,
are never changed); a record of the current version is returned as it is. Each step brings
one version to the next and fills what that version added with the meaning older records
had; a record of a newer version than this one reads is refused.
"""

from __future__ import annotations

import copy

from bench.core import hardware
from bench.records.shape import SCHEMA, RecordError

# the library each built-in family saves its models with (records of version 1 may lack it)
FAMILY_LIBRARY = {
    "neural": "keras",
    "linear": "scikit-learn",
    "kernel": "scikit-learn",
    "trees": "xgboost",
}
KERAS_DETAIL = "Keras weights, "  # the built-in Keras families' ``size.detail``: this, then ``arch.describe``'s summary


def upgrade(rec: dict) -> dict:
    """``rec`` in the shape of version ``SCHEMA``: unchanged (the same object) when it is of
    that version already, else a new dict through each step from its version on;
    ``RecordError`` for a version this one cannot read (newer, or not a version at all)."""
    if not isinstance(rec, dict):
        raise RecordError("not a JSON object")
    version = rec.get("schema")
    if version == SCHEMA:
        return rec
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < SCHEMA:
        raise RecordError(
            f"schema {version!r}: this mnist-bench reads records of schema 1 to {SCHEMA}"
            + (" (it was written by a newer one)" if _newer(version) else "")
        )
    if not isinstance(rec.get("job"), dict):
        raise RecordError("job is not a JSON object")
    for step in STEPS[version - 1 :]:
        rec = step(rec)
    return rec


def _newer(version) -> bool:
    return isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA


def v1_to_v2(rec: dict) -> dict:
    """Version 1 -> 2: the sections version 1 added over time, filled with what the records
    written before each of them meant (see each helper)."""
    rec = {**rec, "schema": 2}
    for name in ("job", "where", "env", "size", "timing"):
        if isinstance(rec.get(name), dict):
            rec[name] = copy.deepcopy(rec[name])
    _job_identity(rec)
    _slots(rec)
    _hardware(rec)
    _train_flops(rec)
    _large_batch(rec)
    return rec


def v2_to_v3(rec: dict) -> dict:
    """Version 2 -> 3: ``job.runtime``; every record before it was served natively."""
    return {
        **rec,
        "schema": 3,
        "job": {**rec["job"], "runtime": rec["job"].get("runtime") or "native"},
    }


STEPS = (v1_to_v2, v2_to_v3)  # STEPS[v - 1] brings version v to v + 1


def _section(rec: dict, name: str) -> dict:
    value = rec.get(name)
    return value if isinstance(value, dict) else {}


def _job_identity(rec: dict) -> None:
    """The job's identity fields: the thread budget from ``threads.requested`` and the
    inference protocol from ``timing.inference_protocol`` (where records kept them before
    jobs did); fp32, images drawn at random for validation, and a built-in family's library
    for records made before those were job dimensions."""
    job = rec["job"]
    if job.get("threads") is None:
        job["threads"] = _section(rec, "threads").get("requested")
    if job.get("inference") is None:
        job["inference"] = _section(rec, "timing").get("inference_protocol")
    job["precision"] = job.get("precision") or "fp32"
    job["val_split"] = job.get("val_split") or "images"
    if not job.get("library"):
        origin = job.get("origin") if isinstance(job.get("origin"), dict) else {}
        builtin = origin.get("kind") in (None, "builtin", "module")
        job["library"] = FAMILY_LIBRARY.get(job.get("family"), "") if builtin else ""


def _slots(rec: dict) -> None:
    """``where.slots_per_host``, which records written before it was told apart from what a
    job shared called ``jobs_per_host``."""
    where = rec.get("where")
    if isinstance(where, dict) and "slots_per_host" not in where and "jobs_per_host" in where:
        where["slots_per_host"] = where["jobs_per_host"]


def _hardware(rec: dict) -> None:
    """``env.hardware``: for records written before hardware fingerprints, the one built
    from what they did record (``hardware.legacy``)."""
    env = rec.get("env")
    if isinstance(env, dict):
        stored = env.get("hardware")
        if not (isinstance(stored, dict) and isinstance(stored.get("id"), str)):
            env["hardware"] = hardware.legacy(env)


def _train_flops(rec: dict) -> None:
    """``size.train_flops_per_image``: records made before records carried it (when training
    GFLOP/s were 3 x forward FLOPs for every model) get it, and their
    ``timing.train_gflops_per_s`` recomputed as training images/s x the training FLOPs of the
    architecture their ``size.detail`` describes (``arch.parse``; only when that architecture's
    forward FLOPs are the record's ``size.flops_per_image``); where they cannot be counted
    (L-BFGS, a model described otherwise, no training GFLOP/s recorded) both are None."""
    size, timing = rec.get("size"), rec.get("timing")
    if not (isinstance(size, dict) and isinstance(timing, dict)) or "train_flops_per_image" in size:
        return
    if timing.get("train_gflops_per_s") is None:  # nothing to correct, and nothing counted
        size["train_flops_per_image"] = None
        return
    train = _architecture_train_flops(size)
    ips = timing.get("train_images_per_s")
    ok = train and isinstance(ips, (int, float)) and not isinstance(ips, bool) and ips > 0
    size["train_flops_per_image"] = train
    timing["train_gflops_per_s"] = train * ips / 1e9 if ok else None


def _architecture_train_flops(size: dict) -> float | None:
    """Training FLOPs per image of the built-in Keras architecture ``size["detail"]`` names,
    checked against its forward FLOPs; None when it names none or they differ."""
    from bench.adapters import arch

    detail, forward = size.get("detail"), size.get("flops_per_image")
    if not isinstance(detail, str) or not detail.startswith(KERAS_DETAIL) or not forward:
        return None
    try:
        layers, shape = arch.parse(detail[len(KERAS_DETAIL) :])
        if arch.forward_flops(layers, shape) != forward:
            return None
        return float(arch.training_flops(layers, shape))
    except ValueError:
        return None


def _large_batch(rec: dict) -> None:
    """``timing.inference.large``, the large-batch throughput measurement, which records
    written before that key kept only as ``batch_<n>`` with n > 1 (the first such key; none
    for a record measured at ``--infer-batch 1``, which kept only its batch-1 latency)."""
    inference = _section(rec, "timing").get("inference")
    if not isinstance(inference, dict) or isinstance(inference.get("large"), dict):
        return
    older = sorted(
        k
        for k, v in inference.items()
        if k.startswith("batch_") and k != "batch_1" and isinstance(v, dict)
    )
    if older:
        inference["large"] = inference[older[0]]
