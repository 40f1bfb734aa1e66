"""Peak resident memory of this process over a region of code.

How it is sampled: on Linux, the kernel keeps the process's high-water mark of resident
memory (``VmHWM`` in ``/proc/self/status``); writing ``5`` to ``/proc/self/clear_refs``
resets it to the current resident size, so reset-run-read gives the exact peak of the
region, however short the spike, at no cost while it runs. Where that reset is not allowed
(another OS, a locked-down kernel), a psutil thread samples the resident size every 5 ms
instead, which can miss spikes shorter than that; ``method`` says which one measured.

A region's own cost is ``added_mb``: its peak less what was resident when it started
(memory an earlier stage left behind, such as training's, is not counted; memory that
stage freed into the allocator and the region reuses is not counted either).

What it does not include: memory of other processes (a Dask worker, a child the framework
started), GPU memory, memory mapped but never touched, and the page cache.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
MB = 1024 * 1024
KERNEL = "VmHWM (peak resident memory) of the job's process, reset through /proc/self/clear_refs"
SAMPLED = "resident memory of the job's process sampled every 5 ms (psutil)"


def inference_fields(peak: PeakMemory) -> dict:
    """The record's ``memory`` fields of the inference timing measured under ``peak``:
    ``before_inference_mb`` (resident just before it), ``inference_added_mb`` (its peak above
    that: what inference adds) and ``inference_peak_mb`` (its peak with everything already
    resident, memory left by training included: the one figure records had before)."""
    return {
        "before_inference_mb": peak.before_mb,
        "inference_added_mb": peak.added_mb,
        "inference_peak_mb": peak.peak_mb,
    }


def _status_mb(field: str) -> float | None:
    try:
        m = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(m.group(1)) / 1024 if m else None


def resident_mb() -> float:
    """This process's resident memory now, in MiB."""
    now = _status_mb("VmRSS")
    if now is not None:
        return now
    import psutil

    return psutil.Process().memory_info().rss / MB


def _reset_peak() -> bool:
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_mb("VmHWM") is not None


class PeakMemory:
    """``with PeakMemory() as m: ...`` then ``m.before_mb`` (resident memory when the block
    started), ``m.peak_mb`` (the most it held during the block, everything already resident
    included) and ``m.added_mb`` (the peak above ``before_mb``: what the block added), in
    MiB; ``m.method`` names how the peak was sampled (module docstring)."""

    def __init__(self, every_s: float = 0.005):
        self.every_s = every_s
        self.before_mb = self.peak_mb = 0.0
        self.method = KERNEL
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        self.before_mb = resident_mb()
        if not _reset_peak():
            self.method = SAMPLED
            self.peak_mb = self.before_mb
            self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
            self._thread.start()
        return self

    @property
    def added_mb(self) -> float:
        return max(0.0, self.peak_mb - self.before_mb)

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_mb = max(self.peak_mb, resident_mb())

    def __exit__(self, *exc) -> None:
        if self._thread is None:
            self.peak_mb = max(_status_mb("VmHWM") or 0.0, self.before_mb)
            return
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, resident_mb())
