"""Where a suite's jobs run, behind one small interface: jobs in, finished records out.

An executor has ``run(todo, runs_dir, timeout_s, save_models, progress)``, a generator over
``Finished`` results in the order they finish, ``cancel()`` (Ctrl-C: stop what is running
and what is queued, record nothing for it) and ``close()``. It never writes a report, never
decides what is already done, and keeps no record twice: ``bench.run.runner.run_suite`` owns resume,
signals and record writing.

- ``LocalExecutor``: today's loop, one job at a time in a subprocess on this machine (its
  worker writes the record straight into the results folder).
- ``dask_cluster.DaskExecutor``: the jobs go to a Dask cluster (a ``LocalCluster``
  or an existing scheduler); each still runs in its own subprocess on a worker, and its
  record and model files travel back here to be written.
"""

from __future__ import annotations

from bench.core.errors import BenchError
from bench.run.executors.base import ExecutorLost, Finished  # noqa: F401 (re-exported)
from bench.run.executors.local import LocalExecutor

EXECUTORS = ("local", "dask")


def parse_size(raw: str | None, flag: str) -> int | None:
    """``"2GiB"``, ``"1500MB"``, ``"3G"`` or a byte count -> bytes; ``None`` stays ``None``."""
    if raw is None:
        return None
    text = str(raw).strip().lower().replace(" ", "")
    units = {
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
        "tib": 2**40,
        "kb": 10**3,
        "mb": 10**6,
        "gb": 10**9,
        "tb": 10**12,
        "k": 2**10,
        "m": 2**20,
        "g": 2**30,
        "t": 2**40,
        "b": 1,
        "": 1,
    }
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


def make(
    name: str, workers: int = 1, scheduler: str | None = None, memory_limit: int | None = None
):
    """The executor called ``name``; ``BenchError`` for an unknown one, for options that do
    not fit it, and for ``dask`` without Dask installed."""
    if name not in EXECUTORS:
        raise BenchError(f"unknown executor {name!r}; choose from: {', '.join(EXECUTORS)}")
    if name == "local":
        if scheduler is not None or workers != 1:
            raise BenchError("--workers and --scheduler need --executor dask")
        return LocalExecutor(memory_limit)
    if scheduler is not None and workers != 1:
        raise BenchError(
            "give --workers (a local Dask cluster) or --scheduler (an existing one), not both"
        )
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise BenchError('--executor dask needs Dask: pip install -e ".[dask]"') from None
    from bench.run.executors.dask_cluster import DaskExecutor

    return DaskExecutor(workers=workers, scheduler=scheduler, memory_limit=memory_limit)
