"""Where a suite's jobs run, behind one small interface: jobs in, finished records out.

An executor has ``run(todo, runs_dir, timeout_s, save_models, progress)``, a generator over
``Finished`` results in the order they finish, ``cancel()`` (Ctrl-C: stop what is running
and what is queued, record nothing for it) and ``close()``. It never writes a report, never
decides what is already done, and keeps no record twice: ``runner.run_suite`` owns resume,
signals and record writing.

- ``LocalExecutor``: today's loop, one job at a time in a subprocess on this machine (its
  worker writes the record straight into the results folder).
- ``bench.dask_executor.DaskExecutor``: the jobs go to a Dask cluster (a ``LocalCluster``
  or an existing scheduler); each still runs in its own subprocess on a worker, and its
  record and model files travel back here to be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

EXECUTORS = ("local", "dask")


class ExecutorLost(Exception):
    """The executor can no longer run jobs (e.g. the connection to the scheduler is gone)."""


@dataclass
class Finished:
    """One job's result. ``path`` is set when the record is already in the results folder;
    otherwise ``record`` (and ``files``, the model folder's files by name) are to be written."""

    index: int
    job: object  # runner.Job
    record: dict
    seconds: float
    path: Path | None = None
    files: dict[str, bytes] | None = None


class LocalExecutor:
    """One job at a time, each in a fresh subprocess on this machine."""

    name = "local"
    parallel = False

    def __init__(self, memory_limit: int | None = None):
        self.memory_limit = memory_limit

    def describe(self) -> str:
        bound = f", {self.memory_limit / 2**30:.1f} GiB per job" if self.memory_limit else ""
        return f"local executor: one job at a time on this machine{bound}"

    def run(self, todo, runs_dir: Path, timeout_s: float, save_models: bool, progress):
        from bench.runner import run_job

        for index, job in todo:
            progress.started(index, job)
            out = run_job(job, runs_dir, timeout_s, lambda t, text, i=index: progress.line(i, t, text), save_models,
                          where={"executor": "local", "jobs_per_host": 1}, memory_limit=self.memory_limit)
            yield Finished(index, job, out.record, out.seconds, path=out.path)

    def cancel(self) -> None:
        pass  # run_job stops its own subprocess on KeyboardInterrupt

    def close(self) -> None:
        pass


def parse_size(raw: str | None, flag: str) -> int | None:
    """``"2GiB"``, ``"1500MB"``, ``"3G"`` or a byte count -> bytes; ``None`` stays ``None``."""
    if raw is None:
        return None
    text = str(raw).strip().lower().replace(" ", "")
    units = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "kb": 10**3, "mb": 10**6, "gb": 10**9,
             "tb": 10**12, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "b": 1, "": 1}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            number = text[: len(text) - len(unit)] if unit else text
            try:
                value = float(number)
            except ValueError:
                break
            if value > 0:
                return int(value * units[unit])
            break
    raise BenchError(f"{flag} must be a size such as 2GiB, 1500MB or 3G, got {raw!r}")


def make(name: str, workers: int = 1, scheduler: str | None = None, memory_limit: int | None = None):
    """The executor called ``name``; ``BenchError`` for an unknown one, for options that do
    not fit it, and for ``dask`` without Dask installed."""
    if name not in EXECUTORS:
        raise BenchError(f"unknown executor {name!r}; choose from: {', '.join(EXECUTORS)}")
    if name == "local":
        if scheduler is not None or workers != 1:
            raise BenchError("--workers and --scheduler need --executor dask")
        return LocalExecutor(memory_limit)
    if scheduler is not None and workers != 1:
        raise BenchError("give --workers (a local Dask cluster) or --scheduler (an existing one), not both")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise BenchError("--executor dask needs Dask: pip install -e \".[dask]\"") from None
    from bench.dask_executor import DaskExecutor

    return DaskExecutor(workers=workers, scheduler=scheduler, memory_limit=memory_limit)
