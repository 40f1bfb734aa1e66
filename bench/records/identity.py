"""THE identity of a configuration: what makes two runs measurements of the same thing.

One definition, used by every feature that asks "is this the same configuration?":
``--resume`` (is this job already done?), the leaderboard (which records form one table
and one row), ``compare`` (which rows of A and B are paired), ``check`` and the baseline
(which records a model's verdict rests on). Two grid points of one model differ in
``params_hash``, so they are two configurations everywhere.

Fields (``FIELDS``, in this order):

- ``model``, ``params_hash`` (every hyper-parameter), ``dataset``, ``data_digest`` (the
  exact arrays), ``profile``, ``device``;
- ``threads`` (the CPU thread budget), ``inference`` (hash of the inference protocol),
  ``deterministic``, ``target`` (``--target``: stop at a validation accuracy),
  ``precision`` (``--precision``: fp32, or Keras' mixed bf16/fp16; fp32 for records
  written before it existed), ``runtime`` (``--runtime``: native, or the model's ONNX export
  served by ONNX Runtime: its predictions, and so its accuracy, may differ), ``val_split`` (how validation was carved from the training
  set: "writers", whole writers held out, where the dataset's writers are known (MNIST), else
  "images"; "images" for records written before it existed, which sampled MNIST's
  validation images at random);
- ``hardware`` (``bench.core.hardware`` fingerprint id), ``gpu`` (the GPU model of a GPU
  job) and ``slots`` (the job slots per host of the executor it ran on: 1 for the local
  executor; a Dask cluster may run several jobs on one host side by side). Accuracy does not
  depend on them, speed does: views that judge accuracy across machines (``check`` against
  a committed baseline, ``compare``) say so by leaving them out (``WHERE``,
  ``SPEED_ONLY``), never by building a key of their own.
- ``source``: where a model that is not this distribution's came from, so an edited plugin
  is a new configuration: ``sha256:<12 hex>`` of a plugin file or a trained model file, the
  ``distribution version`` of an installed plugin package; None for the built-in families
  (and for records written before it existed).

A job dimension added later is one more field here (as ``precision`` was), with the
default that records written before it had.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

from bench.core import hardware
from bench.records.shape import number


def params_hash(params: dict) -> str:
    """12 hex digits of the sorted JSON of ``params``."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


def protocol_hash(protocol: dict | None) -> str | None:
    """Short hash of an inference protocol dict (None stays None)."""
    return None if protocol is None else params_hash(protocol)


@dataclass(frozen=True)
class Identity:
    """One configuration; the fields are described in the module docstring (``FIELDS``)."""

    model: str
    params_hash: str
    dataset: str
    data_digest: str | None
    profile: str
    device: str
    threads: int | None
    inference: str | None
    deterministic: bool
    target: float | None
    precision: str
    hardware: str
    gpu: str | None
    slots: int = 1
    source: str | None = None
    val_split: str = "images"
    runtime: str = "native"

    def key(self, without: tuple[str, ...] = ()) -> tuple:
        """The fields as a tuple (hashable), less the ones named in ``without``."""
        unknown = set(without) - set(FIELDS)
        if unknown:
            raise ValueError(f"not identity fields: {sorted(unknown)}")
        return tuple(getattr(self, f) for f in FIELDS if f not in without)

    def as_dict(self) -> dict:
        """The fields by name (JSON-ready)."""
        return asdict(self)


FIELDS = tuple(f.name for f in fields(Identity))
TABLE = ("dataset", "profile", "device", "hardware", "gpu")  # one table per value of these
WHERE = ("hardware", "gpu", "slots")  # where it ran: matters to speed, not to accuracy
ROW = tuple(f for f in FIELDS if f not in TABLE)  # one row per value of these, within a table
# how a job ran rather than what it learned: speed depends on these, accuracy does not
SPEED_ONLY = ("threads", "inference", *WHERE)


def source_of(origin: dict | None) -> str | None:
    """The identity's ``source`` for an adapter's ``origin`` (see the module docstring)."""
    origin = origin if isinstance(origin, dict) else {}
    if origin.get("kind") in ("plugin-file", "file") and origin.get("sha256"):
        return f"sha256:{str(origin['sha256'])[:12]}"
    if origin.get("kind") == "entry-point":
        return origin.get("distribution")
    if origin.get("kind") == "env":
        return f"module {origin.get('module')}"
    return None


def of_job(job: dict, hw: str | None = None, gpu: str | None = None, slots: int = 1) -> Identity:
    """The identity of a planned job (``Job.as_dict()``); ``hw`` defaults to this machine,
    ``slots`` to one job at a time (the local executor)."""
    threads = number(job.get("threads"))
    target = number(job.get("target"))
    return Identity(
        job["model"],
        params_hash(job["params"]),
        job["dataset"],
        job.get("data_digest"),
        job["profile"],
        job["device"],
        int(threads) if threads is not None else None,
        protocol_hash(job.get("inference")),
        bool(job.get("deterministic") or False),
        float(target) if target is not None else None,
        job.get("precision") or "fp32",
        hw if hw is not None else hardware.cached()["id"],
        gpu if job["device"] == "gpu" else None,
        slots,
        source_of(job.get("origin")),
        job.get("val_split") or "images",
        job.get("runtime") or "native",
    )


def of_record(rec: dict) -> Identity:
    """The identity of a stored record (nested dict, read through ``upgrade``, which gives
    older records each field's old meaning)."""
    job = dict(rec["job"])
    job["data_digest"] = _section(rec, "data").get("digest") or job.get("data_digest")
    env = _section(rec, "env")
    return of_job(
        job,
        hardware.of_env(env)["id"],
        hardware.gpu_model(env, job["device"]),
        slots_of(_section(rec, "where")),
    )


def _section(rec: dict, name: str) -> dict:
    value = rec.get(name)
    return value if isinstance(value, dict) else {}


def slots_of(where: dict) -> int:
    """The job slots per host a record's executor had (``where.slots_per_host``); 1 when it
    does not say."""
    n = number(where.get("slots_per_host")) if isinstance(where, dict) else None
    return int(n) if n is not None and n >= 1 else 1


def differences(a: Identity, b: Identity) -> list[str]:
    """The fields in which ``a`` and ``b`` differ, in ``FIELDS`` order."""
    return [f for f in FIELDS if getattr(a, f) != getattr(b, f)]


def seed(rec: dict) -> int:
    """The seed of a record's job."""
    return int(rec["job"]["seed"])


def newest_per_seed(
    recs: list[dict], without: tuple[str, ...] = (), ok_only: bool = True
) -> dict[tuple, dict[int, dict]]:
    """Identity key (less ``without``) -> seed -> the newest record of that configuration
    and seed (``ok`` ones only unless ``ok_only=False``). ``recs`` in any order."""
    out: dict[tuple, dict[int, dict]] = {}
    for r in sorted(recs, key=lambda r: (r["started_at"], r["run_id"])):
        if ok_only and r["status"] != "ok":
            continue
        out.setdefault(of_record(r).key(without), {})[seed(r)] = r
    return out
