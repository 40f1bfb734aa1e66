"""Training efficiency against the host's measured peak: which peak a record is divided by,
and the line that names a table's peaks.

A record's peak (``resolve``) is, first, the figures it carries (``rec["machine"]``,
written by ``bench.measure.peaks.for_record``) for the device, precision and library that
ran the job (``peaks.peak_gflops``: Keras float32 jobs TensorFlow's float32 matmul, bf16
jobs its bfloat16 matmul, NumPy / scikit-learn / XGBoost jobs the BLAS float32 GEMM); else, for records made
before records carried them (or whose measurement failed), the entry for its hardware
fingerprint and thread count in ``<results>/machines/<fingerprint>.json`` (``peaks.store``'s
format), measured later on the same fingerprint: the source says so (``LATER``). Neither:
no peak, with the reason. "% of peak" is then, per record, 100 x its training GFLOP/s
(``timing.train_gflops_per_s``) over that peak.

The records frame (``bench.analysis.frame``) gets one column per ``Peak`` field (``COLUMNS``),
so rows average the percentage over seeds like every other column. Pure: no framework.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from bench.measure import peaks, timing
from bench.records import number

RECORD, LATER = "record", "later"  # where a peak came from: the record itself, the machines folder
# frame column -> Peak field
COLUMNS = {
    "row.peak_gflops": "gflops",
    "row.peak_what": "what",
    "row.peak_source": "source",
    "row.peak_measured_at": "measured_at",
    "row.machine": "figures",
}
PCT_COLUMN = "row.peak_pct"
GFLOPS_COLUMN = "timing.train_gflops_per_s"
# the batch-1 latency against the forward pass's FLOP limit (``flop_limited_ms``)
LIMIT_COLUMN, LIMIT_RATIO_COLUMN = "row.flop_limit_ms", "row.p50_over_limit"
FLOPS_COLUMN = "size.flops_per_image"
BATCH_1 = "timing.inference.batch_1"


@dataclass(frozen=True)
class Peak:
    """The peak one record is measured against: GFLOP/s (None: none), what it is (or why
    there is none), and the figures entry it was read from (None without one) with where
    that came from (``RECORD``, ``LATER``; None without one) and when it was measured. A
    record whose figures lack its precision's peak keeps them (the table still names them)."""

    gflops: float | None
    what: str
    source: str | None = None
    measured_at: str | None = None
    figures: dict | None = None


def machines_dir(runs_dir) -> Path:
    """The machines folder of a records folder: ``<runs>/../machines``."""
    return Path(runs_dir).parent / "machines"


def _value(v):
    """None for pandas' NaN (the value of a column a record lacks), ``v`` otherwise."""
    return None if isinstance(v, float) and math.isnan(v) else v


def machine_of(flat) -> dict | None:
    """A record's ``machine`` figures rebuilt from a flat frame row (``records.flatten`` turns
    ``machine.gpu.name`` into a column of its own); None when the record has none."""
    whole = _value(flat.get("machine")) if hasattr(flat, "get") else None
    if isinstance(whole, dict):
        return whole
    out: dict = {}
    for key in flat.keys():  # noqa: SIM118 (a pandas row iterates over its values, not its keys)
        if not isinstance(key, str) or not key.startswith("machine."):
            continue
        value = _value(flat[key])
        if value is None:
            continue
        *parents, leaf = key.split(".")[1:]
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out or None


def read_entries(folder, fingerprint_id: str, cache: dict | None = None) -> dict:
    """``<folder>/<fingerprint_id>.json``'s entries (thread count as text -> figures); {}
    when the folder or the file is missing or unreadable. ``cache`` keeps each file read once."""
    if folder is None or not fingerprint_id:
        return {}
    path = Path(folder) / f"{fingerprint_id}.json"
    if cache is not None and path in cache:
        return cache[path]
    try:
        entries = json.loads(path.read_text())["entries"]
        entries = entries if isinstance(entries, dict) else {}
    except (OSError, ValueError, KeyError, TypeError):
        entries = {}
    if cache is not None:
        cache[path] = entries
    return entries


def resolve(
    machine,
    fingerprint_id: str,
    threads,
    device: str = "cpu",
    precision: str = "fp32",
    folder=None,
    cache: dict | None = None,
    library: str | None = None,
) -> Peak:
    """The peak of a record with ``machine`` figures (or None, or ``{"error": ...}``) that ran
    on ``fingerprint_id`` at ``threads`` (None: no budget) on ``device`` in ``precision`` with
    ``library`` (``peaks.kernels``): its own figures, else the machines ``folder``'s entry at
    that thread count (``LATER``), else no peak, ``what`` saying why."""
    own, why = peaks.peak_gflops(machine, device, precision or "fp32", library)
    if own is not None:
        return Peak(own, why, RECORD, machine.get("measured_at"), machine)
    threads = None if threads is None or _value(threads) is None else int(threads)
    entry = read_entries(folder, fingerprint_id, cache).get(str(threads or 0))
    entry = entry if isinstance(entry, dict) else None
    later, later_why = peaks.peak_gflops(entry, device, precision or "fp32", library)
    if later is not None:
        return Peak(later, later_why, LATER, entry.get("measured_at"), entry)
    mine = isinstance(machine, dict) and "error" not in machine
    usable, source = (machine, RECORD) if mine else (entry, LATER if entry is not None else None)
    if isinstance(machine, dict) and "error" in machine:
        why = f"the peak measurement failed: {machine['error']}"
    elif entry is not None:
        why = later_why
    elif machine is None:
        why = (
            f"no measured peak: the record carries none and there is no machines entry for fingerprint "
            f"{fingerprint_id} at {threads or 'default'} threads"
        )
    return Peak(None, why, source, usable.get("measured_at") if usable else None, usable)


def _finite(v) -> float | None:
    """``v`` as a float when it is a number (``records.number``) and not negative, else None."""
    f = number(v)
    return f if f is not None and f >= 0 else None


def percent(gflops, peak: float | None) -> float | None:
    """100 x ``gflops`` / ``peak``; None when either is missing, NaN or not positive."""
    g, p = _finite(gflops), _finite(peak)
    return 100.0 * g / p if g is not None and p else None


def flop_limited_ms(flops, peak_gflops) -> float | None:
    """Milliseconds a forward pass of ``flops`` takes at ``peak_gflops``: the batch-1 latency
    no implementation reaches on that machine. None when either is missing or not positive."""
    f, p = _finite(flops), _finite(peak_gflops)
    return f / (p * 1e6) if f and p else None


def frame_columns(df, folder=None) -> dict[str, list]:
    """For each record (row) of the records frame ``df`` (``records.load``): its ``Peak``'s
    fields (``COLUMNS``), its % of peak (``PCT_COLUMN``), its forward pass's FLOP-limited time
    (``LIMIT_COLUMN``) and its batch-1 p50 over that time (``LIMIT_RATIO_COLUMN``), column
    name -> values.

    The FLOP limit divides by the fastest peak measured for the record's device and precision,
    whichever library it belongs to (TensorFlow's matmul or NumPy's BLAS GEMM): a bound on
    the machine, so a model served by another runtime (ONNX Runtime) meets the same one."""
    cache: dict = {}
    names = (*COLUMNS, PCT_COLUMN, LIMIT_COLUMN, LIMIT_RATIO_COLUMN)
    out: dict[str, list] = {name: [] for name in names}
    for _, flat in df.iterrows():
        library = peaks.library_of(_value(flat.get("job.library")), _value(flat.get("job.family")))
        peak = _resolve_row(flat, folder, cache, library)
        for name, field in COLUMNS.items():
            out[name].append(getattr(peak, field))
        out[PCT_COLUMN].append(percent(flat.get(GFLOPS_COLUMN), peak.gflops))
        fastest = [_resolve_row(flat, folder, cache, lib).gflops for lib in ("keras", None)]
        limit = flop_limited_ms(
            flat.get(FLOPS_COLUMN), max((g for g in fastest if g), default=None)
        )
        p50 = timing.latency_ms(_batch_1(flat), 50)
        out[LIMIT_COLUMN].append(limit)
        out[LIMIT_RATIO_COLUMN].append(p50 / limit if limit and p50 is not None else None)
    return out


def _resolve_row(flat, folder, cache: dict, library: str | None) -> Peak:
    """``resolve`` for one row of the records frame, as run with ``library``."""
    return resolve(
        machine_of(flat),
        flat.get("identity.hardware"),
        flat.get("identity.threads"),
        flat.get("identity.device") or "cpu",
        _value(flat.get("identity.precision")) or "fp32",
        folder,
        cache,
        library,
    )


def _batch_1(flat) -> dict:
    """A record's ``timing.inference.batch_1`` p50 and calls from its flat frame row."""
    return {key: _value(flat.get(f"{BATCH_1}.{key}")) for key in ("latency_ms_p50", "calls")}


def _rate(v) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:.2f}"


# the peaks a table names, in order, with the jobs each one is the peak of
NAMED = (
    (("gpu", "fp32", "keras"), "GPU float32 jobs"),
    (("gpu", "bf16", "keras"), "GPU bf16 jobs"),
    (("gpu", "fp16", "keras"), "GPU fp16 jobs"),
    (("cpu", "fp32", "keras"), "Keras float32 jobs"),
    (("cpu", "bf16", "keras"), "bf16 jobs"),
    (("cpu", "fp32", None), "NumPy, scikit-learn and XGBoost jobs"),
)


def _figure_parts(figures: dict, device: str) -> list[str]:
    """The peaks of one figures entry as "name N GFLOP/s (the jobs it is the peak of)", each
    once, and the copy bandwidth; those the entry lacks left out, GPU peaks only for GPU tables."""
    parts = []
    for (dev, precision, library), jobs in NAMED:
        value, what = (
            peaks.peak_gflops(figures, dev, precision, library)
            if dev == "cpu" or device == "gpu"
            else (None, "")
        )
        if value is not None:
            parts.append(f"{what} {_rate(value)} GFLOP/s ({jobs})")
    copy = _value(figures.get("stream_copy_gbs"))
    if isinstance(copy, (int, float)) and copy > 0:
        parts.append(f"memory copy {copy:.1f} GB/s")
    return parts


def _when(days: list[str], sources: set) -> str:
    """When one clause's figures were measured (``days``) and how the records got them."""
    day = " and ".join(days)
    if sources == {LATER}:
        return f"measured {day}, after these runs, on the same hardware fingerprint (the machines folder beside the records)"
    if LATER in sources:
        return (
            f"measured {day}: the records made since carry them, the earlier ones read them from the machines "
            "folder beside the records (the same hardware fingerprint)"
        )
    return f"measured {day}, with the runs (the records carry them)"


def peak_note(frame) -> str | None:
    """The line above a table that names the peaks its "% of peak" column divides by: each
    distinct set of peaks (at a thread count) once, with the jobs each is the peak of, the copy
    bandwidth, and when and where from they were measured; then why records with training
    GFLOP/s have no peak. None when the frame (a group's ``ok`` records, with ``frame_columns``)
    has neither."""
    if frame is None or len(frame) == 0 or "row.machine" not in frame.columns:
        return None
    clauses: dict[str, tuple[dict, set]] = {}  # peaks and thread count -> (day -> None, sources)
    reasons: dict[str, None] = {}
    for _, r in frame.iterrows():
        figures = r["row.machine"]
        if isinstance(figures, dict):
            parts = _figure_parts(figures, r.get("identity.device") or "cpu")
            threads = _value(figures.get("threads"))
            if parts:
                days, sources = clauses.setdefault(
                    ", ".join(parts) + (f" at {int(threads)} threads" if threads else ""),
                    ({}, set()),
                )
                days[str(figures.get("measured_at") or "")[:10] or "date unrecorded"] = None
                sources.add(r["row.peak_source"])
        if _value(r["row.peak_gflops"]) is None and _finite(r.get(GFLOPS_COLUMN)) is not None:
            reasons[str(r["row.peak_what"])] = None
    if not clauses and not reasons:
        return None
    text = (
        (
            "Measured peak of this hardware: "
            + "; ".join(
                f"{peaks_}, {_when(sorted(days), sources)}"
                for peaks_, (days, sources) in clauses.items()
            )
            + "."
        )
        if clauses
        else ""
    )
    if reasons:
        text += (" " if text else "") + (
            '"% of peak" is "-": '
            + "; ".join(reasons)
            + " (`python -m bench machine --save results/machines` on this hardware "
            "measures it)."
        )
    return text


def roofs(frame, device: str = "cpu") -> list[tuple[str, float]]:
    """The horizontal lines of the training-efficiency figure: (name, GFLOP/s) of each peak of
    ``device`` (``NAMED``: on a CPU TensorFlow's float32 and bfloat16 matmuls and the BLAS GEMM;
    on a GPU its float32, bfloat16 and float16 matmuls) in the figures of the frame's newest
    record that has any, the name saying when they were measured later; [] without figures."""
    if frame is None or len(frame) == 0 or "row.machine" not in frame.columns:
        return []
    newest = frame.sort_values(["started_at", "run_id"]) if "started_at" in frame.columns else frame
    have = [
        (f, s)
        for f, s in zip(newest["row.machine"], newest["row.peak_source"])
        if isinstance(f, dict)
    ]
    if not have:
        return []
    figures, source = have[-1]
    out = []
    for (dev, precision, library), _ in NAMED:
        value, what = (
            peaks.peak_gflops(figures, dev, precision, library) if dev == device else (None, "")
        )
        if value is not None:
            out.append((f"{what} peak" + (" (measured later)" if source == LATER else ""), value))
    return out
