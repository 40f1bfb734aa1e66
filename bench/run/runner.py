"""The suite loop: jobs handed to an executor, every record kept as it arrives.

``run_suite`` owns everything around the jobs: Ctrl-C or SIGTERM stops the running jobs,
keeps every finished record and writes none for the interrupted ones; ``resume=True`` skips
every job that already has an ``ok`` record of the same configuration and seed
(``bench.records.identity``).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench import records
from bench.core.errors import BenchError
from bench.records import identity
from bench.run.plan import Job, record_key
from bench.run.supervise import Outcome


def check_writable(runs_dir: Path, keep: bool = True) -> None:
    """Fail before any training if records could not be stored. ``keep=False`` removes the
    folders the probe had to create, so a request refused later leaves nothing behind."""
    runs_dir = Path(runs_dir)
    missing = [d for d in (runs_dir, *runs_dir.parents) if not d.exists()]
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=runs_dir, prefix=".probe-"):
            pass
    except OSError as exc:
        raise BenchError(f"cannot write records to {runs_dir}: {exc.strerror or exc}") from None
    finally:
        if not keep:
            for d in missing:  # deepest first
                with contextlib.suppress(OSError):
                    d.rmdir()


class Interrupted(Exception):
    """The suite stopped before its end: Ctrl-C or SIGTERM (``exit_code`` 130), or an
    executor that lost its cluster (``exit_code`` 1); ``outcomes`` are the finished jobs."""

    def __init__(
        self,
        outcomes: list[Outcome],
        pending: int,
        reason: str = "interrupted",
        exit_code: int = 130,
    ):
        super().__init__(f"{reason} with {pending} job(s) not finished")
        self.outcomes, self.pending, self.reason, self.exit_code = (
            outcomes,
            pending,
            reason,
            exit_code,
        )


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def done_keys(
    runs_dir: Path, without: tuple[str, ...] = (), robustness: bool = False
) -> dict[tuple, str]:
    """Key (identity less ``without``, seed) -> run id of every result (``ok``, ``diverged``)
    record in ``runs_dir``. With ``robustness``, an ``ok`` record measured without it
    (``--robustness off``, or older than it) is not done: robustness is not part of the
    identity, so resuming with it on measures the job again rather than leave a row's
    corrupted figure resting on fewer seeds than its accuracy."""
    return {
        record_key(r, without): r["run_id"]
        for r in records.read_all(runs_dir)
        if r["status"] in records.RESULT_STATUSES  # a diverged job is a result too: not run again
        and not (robustness and r["status"] == "ok" and "robustness" not in r)
    }


def resume_scope(executor) -> tuple[str, ...]:
    """Identity fields ``--resume`` leaves out: none on this machine (a record from another
    machine is another configuration); on a cluster, where a job will run is not known
    before it runs, so ``hardware`` and ``gpu`` (``identity.WHERE``) are left out."""
    return () if getattr(executor, "name", "local") == "local" else identity.WHERE


def existing_results(jobs: list[Job], runs_dir: Path, executor=None) -> list[str | None]:
    """Per job, the run id of a result of its configuration and seed already in ``runs_dir``
    (what ``--resume`` skips: ``done_keys`` within ``resume_scope``), else None."""
    scope = resume_scope(executor)
    done = done_keys(runs_dir, scope, robustness=any(j.robustness for j in jobs))
    return [done.get(job.key(scope)) if done else None for job in jobs]


def store(finished, runs_dir: Path) -> Outcome:
    """Keep one finished job: the local executor's worker already wrote its record; a
    remote one's record (and model files) arrive here and are written atomically, the
    model folder first, so a record never points at a missing model.

    Storing one job never stops the suite: when its files or record cannot be written (a
    full disk, a path in the way, files changed on the way), the model folder it left is
    removed and the job gets a ``failed`` record saying why (``_store_failed``)."""
    if finished.path is not None:
        return Outcome(
            finished.job,
            finished.record["status"],
            finished.record,
            finished.path,
            finished.seconds,
        )
    rec = finished.record
    folder = None
    try:
        if rec.get("artifact") and finished.files:
            from bench.use import artifacts

            folder = artifacts.store_files(
                runs_dir.parent, rec["artifact"], finished.files, rec.get("run_id")
            )
        return Outcome(
            finished.job, rec["status"], rec, records.write(runs_dir, rec), finished.seconds
        )
    except Exception as exc:  # noqa: BLE001 - one job's storage failing must not end the suite
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return _store_failed(finished, runs_dir, exc)


def _store_failed(finished, runs_dir: Path, exc: Exception) -> Outcome:
    """The ``failed`` outcome of a job whose results could not be stored, under the job's
    own run id, with the ``env`` and ``where`` of the record it replaces (the machine the
    job ran on, maybe a remote worker's, not this one's); when even that record cannot be
    written, it is kept in memory only (``path`` None) and a warning says so."""
    original = finished.record if isinstance(finished.record, dict) else {}
    run_id = (
        original.get("run_id") if isinstance(original.get("run_id"), str) else records.new_run_id()
    )
    error = f"finished, but its results could not be stored in {runs_dir.parent}: {type(exc).__name__}: {exc}"
    rec = records.problem(
        run_id,
        finished.job.as_dict(),
        "failed",
        error,
        started_at=original.get("started_at"),
        where=original.get("where") if isinstance(original.get("where"), dict) else None,
        env=original.get("env")
        if isinstance(original.get("env"), dict) and original["env"]
        else None,
    )
    try:
        path = records.write(runs_dir, rec)
    except Exception as again:  # noqa: BLE001 - the folder itself refuses: say so, go on
        print(
            f"warning: {finished.job.title()}: no record written ({type(again).__name__}: {again}); {error}",
            file=sys.stderr,
            flush=True,
        )
        path = None
    return Outcome(finished.job, "failed", rec, path, finished.seconds)


def run_suite(
    jobs: list[Job],
    runs_dir: Path,
    timeout_s: float,
    echo=print,
    resume: bool = False,
    save_models: bool = True,
    executor=None,
    progress=None,
) -> list[Outcome]:
    """Run ``jobs`` on ``executor`` (default: one at a time here), keep every record as it
    arrives and report progress; returns every outcome.

    The suite owns resume, signals and records; the executor only runs jobs. Raises
    ``Interrupted`` (carrying the finished outcomes) on Ctrl-C or SIGTERM, or when the
    executor lost its cluster.
    """
    from bench.run import executors
    from bench.run import progress as progress_mod

    check_writable(runs_dir)
    executor = executor or executors.LocalExecutor()
    existing = existing_results(jobs, runs_dir, executor) if resume else [None] * len(jobs)
    progress = progress or progress_mod.Plain(echo)
    todo = []
    for i, (job, run_id) in enumerate(zip(jobs, existing), start=1):
        if run_id is not None:
            progress.skipped(i, len(jobs), job, run_id)
        else:
            todo.append((i, job))
    progress.begin(len(jobs), todo, parallel=getattr(executor, "parallel", False))
    outcomes: list[Outcome] = []
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        for finished in executor.run(todo, runs_dir, timeout_s, save_models, progress):
            out = store(finished, runs_dir)
            outcomes.append(out)
            progress.finished(finished.index, out)
    except KeyboardInterrupt:
        executor.cancel()
        raise Interrupted(outcomes, len(todo) - len(outcomes)) from None
    except executors.ExecutorLost as lost:
        raise Interrupted(outcomes, len(todo) - len(outcomes), str(lost), exit_code=1) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        progress.close()
    return outcomes
