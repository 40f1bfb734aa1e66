"""Run records: one JSON file per job in ``<results>/runs/``; the store and loading (the
shape is ``shape``'s, older records become it through ``upgrade``).

A record is written once, atomically, when its job ends (``ok``, ``diverged``, ``failed``,
``timeout`` or ``skipped``), and never rewritten. A record of an already-trained file
(``bench.adapters.trained``) has an ``evaluated`` section (file, sha256, library, input
convention, outputs) and no training figures (no ``timing.fit_s``, an empty ``history``). ``diverged`` is a result, not a failure: the
training loss (or the model's probabilities) became NaN/inf, and the record has every section an
``ok`` record has, plus ``diverged`` naming the first non-finite pass. Every non-finite number
is stored as JSON ``null`` (``json_safe``), so no value can make a record unwritable. File names start with a unique run id, so suites
writing into one folder at once never touch each other's files. ``load`` turns a folder
into a pandas DataFrame, one row per record with flattened columns
(``metrics.accuracy``, ``timing.fit_s`` ...); ``read_all`` gives the dicts. Both pass each
record through ``upgrade``, which brings records written by older versions to today's shape
(the files stay as they were written).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import secrets
import sys
from pathlib import Path

from bench.core import atomic, hardware
from bench.records import identity
from bench.records.shape import SCHEMA, RecordError, validate
from bench.records.upgrade import upgrade

KEEP_WHOLE = {
    "env",
    "job.params",
    "job.defaults",
    "job.inference",
    "metrics.per_class",
    "timing.inference_protocol",
    "extra",
    "outcomes",
    "where",
    "timing.time_to_accuracy",
    "robustness.corruptions",
    "calibration.bins",
}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    """Sortable and unique: UTC time to the second plus 8 random hex digits."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:40]


def empty(run_id: str, job: dict, status: str, error: str | None = None) -> dict:
    """A record skeleton; the worker fills the sections an ``ok`` run has."""
    return {
        "schema": SCHEMA,
        "run_id": run_id,
        "started_at": now_iso(),
        "finished_at": None,
        "status": status,
        "error": error,
        "job": job,
        "data": {},
        "metrics": {},
        "size": {},
        "timing": {},
        "history": [],
        "env": {},
    }


def problem(
    run_id: str,
    job: dict,
    status: str,
    error: str,
    *,
    started_at: str | None = None,
    detail: list[str] | None = None,
    where: dict | None = None,
    env: dict | None = None,
) -> dict:
    """THE record of a job without a result (``failed``, ``timeout``, ``skipped``), complete
    with the environment and times; every place that gives up on a job builds it here.

    ``env`` is the environment of the machine the job ran on; by default this process's
    (``envinfo.capture()``). A caller on another machine than the job's (the client of a
    cluster) passes what it knows of the job's machine instead."""
    from bench.core import envinfo

    rec = empty(run_id, job, status, " ".join(str(error).split()))
    if started_at:
        rec["started_at"] = started_at
    if detail:
        rec["error_detail"] = list(detail)[-15:]
    if where:
        rec["where"] = dict(where)
    rec["env"] = dict(env) if env is not None else envinfo.capture()
    rec["finished_at"] = now_iso()
    return rec


def json_safe(value):
    """A copy of ``value`` that strict JSON can hold: every NaN, inf and -inf (Python or
    numpy floats, at any depth of dicts, lists and tuples) becomes ``None``; numpy scalars
    and arrays become plain numbers and lists; tuples become lists. Everything else is
    returned as it is."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalar or array
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def path_for(runs_dir: Path, rec: dict) -> Path:
    job = rec["job"]
    name = f"{rec['run_id']}-{slug(job['dataset'])}-{job['profile']}-{job['model']}-{job['device']}-s{job['seed']}.json"
    return Path(runs_dir) / name


def write(runs_dir: Path, rec: dict) -> Path:
    """Store ``rec`` atomically in today's shape (a record of an older version is upgraded
    first), with its non-finite numbers as null (``json_safe``), once it validates; returns
    its path."""
    rec = validate(json_safe(upgrade(rec)))
    path = path_for(runs_dir, rec)
    atomic.write_json(path, rec)
    return path


def read(path: Path) -> dict:
    """The record at ``path``, validated and upgraded (``RecordError`` otherwise). A record
    on a user test set whose file gave groups (``outcomes.groups``) makes them known for its
    test digest (``writers.register_test_groups``), so every view that reads it can use them."""
    try:
        rec = validate(upgrade(json.loads(Path(path).read_text())))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(str(exc)) from None
    register_groups(rec)
    return rec


def register_groups(rec: dict) -> None:
    """Make the test groups a record carries known for its test digest (see ``read``)."""
    from bench.data import writers

    o = rec.get("outcomes")
    if (
        isinstance(o, dict)
        and isinstance(o.get("groups"), list)
        and isinstance(o.get("test_digest"), str)
        and len(o["groups"]) == o.get("n")
        and all(isinstance(v, int) for v in o["groups"])
    ):
        # a hand-edited record whose groups do not register: its images stay their own units
        with contextlib.suppress(OverflowError, ValueError):
            writers.register_test_groups(o["test_digest"], o["groups"])


def read_all(runs_dir: Path, warn=True) -> list[dict]:
    """Every valid record under ``runs_dir``, oldest first; invalid files are skipped with a
    warning naming the file (a foreign or corrupt file never stops a report)."""
    out = []
    for path in sorted(Path(runs_dir).glob("*.json")):
        try:
            out.append(read(path))
        except RecordError as exc:
            if warn:
                print(f"warning: skipping {path}: not a run record ({exc})", file=sys.stderr)
    out.sort(key=lambda r: (r["started_at"], r["run_id"]))
    return out


def require(runs_dir, what: str = "records folder") -> list[dict]:
    """``read_all`` for a folder the user named: a ``BenchError`` (one line, exit 2) when it
    is not a folder or holds no valid record, so no command goes ahead on nothing."""
    from bench.core.errors import BenchError

    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise BenchError(f"{what}: {runs_dir} is not a folder of run records")
    recs = read_all(runs_dir)
    if not recs:
        raise BenchError(
            f"{what}: no run records in {runs_dir} (records are written by `python -m bench run`)"
        )
    return recs


def flatten(rec: dict) -> dict:
    """One flat row: nested dicts joined with dots (``timing.fit_s``); lists (history,
    confusion) and the dicts in ``KEEP_WHOLE`` (environment, hyper-parameters, per-class
    metrics) stay whole in one column."""
    row: dict = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict) and value and prefix not in KEEP_WHOLE:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            row[prefix] = value

    walk("", rec)
    if isinstance(rec.get("job"), dict) and "params" in rec["job"]:
        ident = identity.of_record(rec)
        for name, value in ident.as_dict().items():
            row[f"identity.{name}"] = value
        row["identity.table"] = json.dumps(ident.key(identity.ROW))
        row["identity.row"] = json.dumps(ident.key(identity.TABLE))
        row["identity.hardware_title"] = hardware.of_env(rec.get("env"))["title"]
    return row


def load(runs_dir: str | Path, recs: list[dict] | None = None):
    """A pandas DataFrame of every valid record in ``runs_dir`` (or of ``recs``), one row
    per record."""
    import pandas as pd

    recs = recs if recs is not None else read_all(Path(runs_dir))
    for r in recs:
        register_groups(r)
    return pd.DataFrame([flatten(upgrade(r)) for r in recs])
