"""What every executor hands back: ``Finished`` results, and ``ExecutorLost``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
