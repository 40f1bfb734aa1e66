"""The inference timing protocol.

It follows timm's ``benchmark.py`` and MLPerf: untimed warm-up calls, then timed calls
until BOTH a minimum count and a minimum duration are reached (capped by a maximum
duration), reporting the median and spread. A latency percentile is reported only from enough
calls to rest on observed calls beyond it (``TAIL_CALLS``, ``min_calls``: p50 from 20 calls,
p95 from 200, p99 from 1,000), else ``None`` ("-" in tables); the full profile's batch-1
minimum count is the 1,000 that p99 needs. Every adapter's ``predict_proba`` returns host
(NumPy) arrays, so a timed call has finished its device work when it returns: no separate
synchronize is needed, on a GPU either.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


def percentile(samples, q: float) -> float:
    """Linear-interpolated percentile ``q`` in [0, 100] (numpy's default method)."""
    if len(samples) == 0:
        raise ValueError("percentile of no samples")
    return float(np.percentile(np.asarray(samples, dtype=np.float64), q))


# A percentile q is reported only when at least this many calls lie above it, so it is read
# between observed calls rather than off the slowest one or two (an empirical p99 of 50 calls
# is little more than their maximum).
TAIL_CALLS = 10
LATENCY_PERCENTILES = (50, 95, 99)


def min_calls(q: float) -> int:
    """The fewest calls that support percentile ``q`` (0 < q < 100): ``TAIL_CALLS`` of them
    beyond it, ceil(TAIL_CALLS / (1 - q/100)): p50 20, p95 200, p99 1,000."""
    if not 0 < q < 100:
        raise ValueError(f"percentile must lie strictly between 0 and 100, got {q}")
    return math.ceil(TAIL_CALLS * 100 / (100 - q) - 1e-6)  # 1e-6: 100 - 99.9 is not exactly 0.1


def supported_percentile(samples, q: float) -> float | None:
    """``percentile(samples, q)`` when there are at least ``min_calls(q)`` samples, else None."""
    return percentile(samples, q) if len(samples) >= min_calls(q) else None


def latency_ms(batch_1: dict | None, q: int) -> float | None:
    """A record's batch-1 latency percentile ``q`` in ms (``timing.inference.batch_1``), or
    None when it lacks one or its ``calls`` are fewer than ``min_calls(q)``: records written
    before the rule kept every percentile, however few calls it rested on."""
    if not isinstance(batch_1, dict):
        return None
    value, calls = batch_1.get(f"latency_ms_p{q}"), batch_1.get("calls")
    if not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        for v in (value, calls)
    ):
        return None
    return float(value) if calls >= min_calls(q) else None


@dataclass(frozen=True)
class TimingRule:
    """When to stop timing: after >= ``min_repeats`` calls AND >= ``min_seconds`` of
    timed calls, or as soon as ``max_seconds`` have passed (at least one timed call)."""

    warmup: int = 3
    min_repeats: int = 10
    min_seconds: float = 2.0
    max_seconds: float = 60.0


def time_calls(
    call: Callable[[int], object], rule: TimingRule, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """Seconds per timed call of ``call(i)`` (``i`` counts calls from 0, warm-up included)."""
    i = 0
    for _ in range(rule.warmup):
        call(i)
        i += 1
    times: list[float] = []
    started = clock()
    while True:
        t0 = clock()
        call(i)
        times.append(clock() - t0)
        i += 1
        elapsed = clock() - started
        if elapsed >= rule.max_seconds:
            break
        if len(times) >= rule.min_repeats and elapsed >= rule.min_seconds:
            break
    return times


def summarise(times: list[float], batch: int) -> dict:
    """Throughput (images/s: median, min, max over calls) and the latency percentiles (ms)
    that the number of calls supports (``min_calls``; None for the others)."""
    t = np.asarray(times, dtype=np.float64)
    out = {
        "batch_size": batch,
        "calls": len(times),
        "images_per_s": float(batch / np.median(t)),
        "images_per_s_min": float(batch / t.max()),
        "images_per_s_max": float(batch / t.min()),
    }
    for q in LATENCY_PERCENTILES:
        value = supported_percentile(t, q)
        out[f"latency_ms_p{q}"] = None if value is None else value * 1e3
    out["total_s"] = float(t.sum())
    return out


@dataclass(frozen=True)
class InferenceProtocol:
    """The inference measurement a run applies: a large batch and batch 1."""

    large_batch: int = 1000
    large: TimingRule = TimingRule(warmup=1, min_repeats=5, min_seconds=2.0)
    single: TimingRule = TimingRule(warmup=5, min_repeats=min_calls(99), min_seconds=2.0)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> InferenceProtocol:
        return cls(d["large_batch"], TimingRule(**d["large"]), TimingRule(**d["single"]))

    def overridden(
        self,
        batch: int | None = None,
        min_repeats: int | None = None,
        min_seconds: float | None = None,
    ) -> InferenceProtocol:
        """This protocol with the user's overrides (``None`` keeps a value). ``min_repeats``
        sets the large batch's minimum count; at batch 1 it can only raise the minimum,
        never lower it below the protocol's own (latency percentiles need the samples)."""
        from dataclasses import replace

        large = replace(self.large, min_repeats=min_repeats or self.large.min_repeats)
        single = replace(self.single, min_repeats=max(min_repeats or 0, self.single.min_repeats))
        if min_seconds is not None:
            large, single = (
                replace(large, min_seconds=min_seconds),
                replace(single, min_seconds=min_seconds),
            )
        return InferenceProtocol(batch or self.large_batch, large, single)


def measure_inference(
    predict: Callable[[np.ndarray, int], np.ndarray], x: np.ndarray, protocol: InferenceProtocol
) -> dict:
    """Throughput at ``protocol.large_batch`` and latency at batch 1 on images from ``x``:
    ``{"large": ..., "batch_1": ..., "batch_<n>": ...}``, each a ``summarise`` dict.

    ``large`` is the throughput measurement whatever its batch size (``--infer-batch 1``
    included, where it is a second batch-1 measurement under its own timing rule);
    ``batch_<n>`` repeats it under the name records of schema 1 used, for n > 1 only, so it
    can never overwrite the latency measurement ``batch_1``; readers take ``large``. Batch-1 calls cycle through distinct images so no result is cached by
    accident.
    """
    n = min(protocol.large_batch, len(x))
    big = x[:n]
    large = time_calls(lambda i: predict(big, n), protocol.large)
    single = time_calls(lambda i: predict(x[i % len(x) : i % len(x) + 1], 1), protocol.single)
    out = {"large": summarise(large, n), "batch_1": summarise(single, 1)}
    if n > 1:
        out[f"batch_{n}"] = out["large"]
    return out
