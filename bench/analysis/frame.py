"""The records frame as the tables read it: one row per record, with the columns that decide
tables and rows (``row.*``) taken from THE identity (``bench.records.identity``) and the
environment a record was measured in, and the peak each record's training GFLOP/s is read
against (``bench.analysis.efficiency``: ``row.peak_*``, from the frame's
``attrs["machines_dir"]`` for records that carry no figures).
"""

from __future__ import annotations

import json

from bench.analysis import efficiency
from bench.records import identity


def _protocol_text(p) -> str:
    return json.dumps(p, sort_keys=True) if isinstance(p, dict) else ""


def with_row_keys(df):
    """``df`` with the columns that decide tables and rows: ``row.table`` and ``row.key``
    come from THE identity (``bench.records.identity``: its ``TABLE`` and ``ROW`` fields),
    the other ``row.*`` columns are its fields as the labels need them."""
    df = df.copy()
    for col in (
        "job.threads",
        "threads.requested",
        "job.inference",
        "timing.inference_protocol",
        "job.deterministic",
        "env",
        "outcomes",
        "metrics.val_accuracy",
        "extra",
        "where",
        "job.target",
    ):
        if col not in df.columns:
            df[col] = None
    for key in ("commit", "dirty", "libraries"):  # records keep ``env`` as one dict
        df[f"env.{key}"] = [e.get(key) if isinstance(e, dict) else None for e in df["env"]]
    df["row.threads"] = [None if t is None or t != t else int(t) for t in df["identity.threads"]]
    df["row.protocol"] = [
        _protocol_text(p if isinstance(p, dict) else q)
        for p, q in zip(df["job.inference"], df["timing.inference_protocol"])
    ]
    df["row.params_hash"] = df["identity.params_hash"]
    df["row.deterministic"] = df["identity.deterministic"].astype(bool)
    df["row.side_by_side"] = [side_by_side(w) for w in df["where"]]
    df["row.target"] = [None if t is None or t != t else float(t) for t in df["identity.target"]]
    df["row.key"] = df["identity.row"]
    df["row.table"] = df["identity.table"]
    df["env.cpu"] = [
        t + (f" · {g}" if isinstance(g, str) else "")
        for t, g in zip(df["identity.hardware_title"], df["identity.gpu"])
    ]
    # each record's peak: its own figures, else the machines folder ``leaderboard.load_frame`` names
    for name, values in efficiency.frame_columns(df, df.attrs.get("machines_dir")).items():
        df[name] = values
    df["row.provenance"] = [
        _provenance(c, d, lib)
        for c, d, lib in zip(df["env.commit"], df["env.dirty"], df["env.libraries"])
    ]
    return df


def side_by_side(where) -> int:
    """The job slots per host of the executor a record ran on (``identity.slots_of``; 1: one
    job at a time, as the local executor runs): a setting of the run, part of THE identity,
    so it splits rows. How many jobs did run at once is measured apart (``shared_at_most``)."""
    return identity.slots_of(where)


def shared_at_most(where) -> int | None:
    """The most jobs the record's worker saw running on its host at once (itself included),
    or None for records written before it was measured."""
    n = where.get("jobs_sharing_host") if isinstance(where, dict) else None
    return int(n) if isinstance(n, (int, float)) and n == n and n >= 1 else None


def _provenance(commit, dirty, libraries) -> str:
    code = (
        f"commit {commit[:12]}{' (uncommitted changes)' if dirty is True else ''}"
        if isinstance(commit, str)
        else "commit unknown"
    )
    libs = (
        ", ".join(f"{k} {v}" for k, v in sorted(libraries.items()) if k != "mnist-bench")
        if isinstance(libraries, dict)
        else "libraries unknown"
    )
    return f"{code}; {libs}"
