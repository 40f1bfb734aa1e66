"""The local executor: one job at a time, each in a fresh subprocess on this machine."""

from __future__ import annotations

from pathlib import Path

from bench.run.executors.base import Finished
from bench.run.supervise import run_job


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
        for index, job in todo:
            progress.started(index, job)
            out = run_job(
                job,
                runs_dir,
                timeout_s,
                lambda t, text, i=index: progress.line(i, t, text),
                save_models,
                where={"executor": "local", "slots_per_host": 1},
                memory_limit=self.memory_limit,
            )
            yield Finished(index, job, out.record, out.seconds, path=out.path)

    def cancel(self) -> None:
        pass  # run_job stops its own subprocess on KeyboardInterrupt

    def close(self) -> None:
        pass
