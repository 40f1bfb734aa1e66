"""One job, supervised: a fresh ``python -m bench.run.worker`` process per job.

Each job runs in its own process so the device is fixed before TensorFlow starts, a crash or
OOM kills one job rather than the suite, and timings are not polluted by the previous job.
The device and thread budget are set through the child's environment:
``CUDA_VISIBLE_DEVICES=-1`` for CPU jobs, and OMP/OpenBLAS/MKL thread counts (TensorFlow's
pools and XGBoost's ``n_jobs`` get the same number through the adapter).

``run_job`` runs one job wherever it is called (here, or inside a Dask task on a worker):
a job that dies without writing a record, runs past its timeout or past its memory bound
(its whole process group is killed) gets a ``failed``/``timeout`` record here, and whatever
it left under the results folder (a partial record, a model folder) is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import records
from bench.core import pychild
from bench.run.plan import Job


def child_env(device: str, threads: int | None) -> dict:
    env = dict(os.environ)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Outcome:
    job: Job
    status: str
    record: dict | None
    path: Path | None
    seconds: float


def run_job(
    job: Job,
    runs_dir: Path,
    timeout_s: float,
    on_line=None,
    save_model: bool = True,
    where: dict | None = None,
    memory_limit: int | None = None,
    should_stop=None,
) -> Outcome:
    """Run one job in a subprocess; always leaves exactly one record in ``runs_dir``: the
    worker's own, or (when it died, ran past ``timeout_s``, or its memory passed
    ``memory_limit`` bytes of resident memory, counted over its process tree) a
    ``failed``/``timeout`` record written here.

    ``on_line(elapsed_s, text)`` gets the worker's progress lines; ``where`` (executor,
    worker address) goes into the record; ``should_stop()``, polled about once a second,
    stops the job like Ctrl-C does (``KeyboardInterrupt``, no record)."""
    run_id = records.new_run_id()
    started = records.now_iso()
    where = {"host": socket.gethostname(), "executor": "local", **(where or {})}
    if job.skip_reason:
        rec = records.problem(
            run_id, job.as_dict(), "skipped", job.skip_reason, started_at=started, where=where
        )
        return Outcome(job, "skipped", rec, records.write(runs_dir, rec), 0.0)
    spec = {
        "run_id": run_id,
        "started_at": started,
        "job": job.as_dict(),
        "runs_dir": str(runs_dir),
        "save_model": save_model,
        "where": where,
        "parent_pid": os.getpid(),
        "spawned_at": time.time(),
    }
    t0 = time.monotonic()
    tail: list[str] = []
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        spec_path = fh.name
    proc = None
    try:
        env = {**child_env(job.device, job.threads), "BENCH_EXECUTOR": where["executor"]}
        proc = subprocess.Popen(
            pychild.python_m("bench.run.worker", spec_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        ended = _pump(proc, t0 + timeout_s, tail, t0, on_line, memory_limit, should_stop)
        if ended == "stopped":
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        if proc is not None:
            _stop_group(proc)
            _settle(runs_dir, run_id)
        raise
    finally:
        os.unlink(spec_path)
    seconds = time.monotonic() - t0
    path, rec = _settle(runs_dir, run_id)
    if rec is not None:  # the worker's record stands, even when it landed at the deadline
        return Outcome(job, rec["status"], rec, path, seconds)
    status, error = _why(ended, proc, timeout_s, memory_limit)
    rec = records.problem(
        run_id, job.as_dict(), status, error, started_at=started, detail=tail, where=where
    )
    return Outcome(job, status, rec, records.write(runs_dir, rec), seconds)


def _why(ended: str | None, proc, timeout_s: float, memory_limit: int | None) -> tuple[str, str]:
    """(status, error) of a job whose worker left no record."""
    if ended == "timeout":
        return "timeout", f"timed out after {timeout_s:g}s; process group killed"
    if ended == "memory":
        return "failed", (
            f"out of memory: the job's resident memory passed its limit of "
            f"{memory_limit / 2**30:.2f} GiB; process group killed"
        )
    error = f"worker exited with code {proc.returncode} without a record" + (
        f" (signal {signal.Signals(-proc.returncode).name})"
        if proc.returncode and proc.returncode < 0
        else ""
    )
    if proc.returncode == -signal.SIGKILL:
        error += "; killed from outside, often the kernel's out-of-memory killer"
    return "failed", error


def _record_path(runs_dir: Path, run_id: str) -> Path | None:
    found = sorted(Path(runs_dir).glob(f"{run_id}-*.json"))
    return found[0] if found else None


def _settle(runs_dir: Path, run_id: str) -> tuple[Path | None, dict | None]:
    """The worker's record (path, record; ``None, None`` when it wrote none), after removing
    what an unfinished job leaves under the results folder (``runs_dir.parent``): the
    record's temporary ``.part`` files, the hidden folder ``artifacts.save`` writes into, and
    ``models/<run_id>/`` itself unless an ``ok`` record points at it (a killed, timed-out or
    failed job keeps no model; a diverged one never saves one)."""
    for part in Path(runs_dir).glob(f".{run_id}-*.part"):  # a worker killed mid-write leaves it
        part.unlink(missing_ok=True)
    path = _record_path(runs_dir, run_id)
    rec = records.read(path) if path is not None else None
    models = Path(runs_dir).parent / "models"
    shutil.rmtree(models / f".{run_id}.part", ignore_errors=True)
    if not (rec is not None and rec["status"] == "ok" and rec.get("artifact")):
        shutil.rmtree(models / run_id, ignore_errors=True)
    return path, rec


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux ``/proc``; 0 elsewhere)."""
    total, todo, seen = 0, [pid], set()
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def _pump(
    proc,
    deadline: float,
    tail: list[str],
    t0: float,
    on_line,
    memory_limit: int | None = None,
    should_stop=None,
) -> str | None:
    """Pass the child's output on line by line with elapsed time until it exits. Returns
    ``None`` when it exited by itself, ``"timeout"`` when it ran past ``deadline``,
    ``"memory"`` when its process tree held more than ``memory_limit`` resident bytes
    (both: its process group is killed), ``"stopped"`` when ``should_stop()`` said so.

    Reads whatever bytes are ready (``os.read`` after ``select``), never a blocking
    ``readline``: a child that prints half a line and hangs still meets its deadline."""
    import selectors

    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    pending = b""
    next_poll = 0.0

    def emit(raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip()
        tail.append(line)
        del tail[:-50]
        if on_line is not None and _worth_showing(line):
            on_line(time.monotonic() - t0, line)

    try:
        while True:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                if pending:  # the half line a hung child left is part of its story
                    emit(pending)
                _kill_group(proc)
                return "timeout"
            if now >= next_poll:  # twice a second: the memory bound and the stop flag
                next_poll = now + 0.5
                verdict = _over_limits(proc, tail, memory_limit, should_stop)
                if verdict:
                    return verdict
            chunk = _read_ready(sel, fd, min(remaining, 0.5))
            if chunk is None:
                continue
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                emit(raw)
        if pending:
            emit(pending)
        return _reap(proc, deadline)
    finally:
        sel.close()


def _read_ready(sel, fd: int, timeout: float) -> bytes | None:
    """The bytes ready on ``fd`` within ``timeout`` (None: none yet; b"": end of output)."""
    if not sel.select(timeout=timeout):
        return None
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None


def _reap(proc, deadline: float) -> str | None:
    """stdout closed: the worker is exiting; it still must do so before the deadline
    (``"timeout"``, process group killed, when it does not)."""
    try:
        proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return "timeout"
    return None


def _over_limits(proc, tail: list[str], memory_limit: int | None, should_stop) -> str | None:
    """``"memory"`` (process group killed) when the job's process tree holds more than
    ``memory_limit`` resident bytes, ``"stopped"`` when ``should_stop()`` says so, else None."""
    rss = tree_rss(proc.pid) if memory_limit else 0
    if memory_limit and rss > memory_limit:
        tail.append(f"resident memory {rss / 2**30:.2f} GiB > limit")
        _kill_group(proc)
        return "memory"
    if should_stop is not None and should_stop():
        return "stopped"
    return None


def _worth_showing(line: str) -> bool:
    """Hide TensorFlow's start-up chatter; keep our progress lines and real errors."""
    noise = (
        "oneDNN custom operations",
        "E0000 ",
        "WARNING: All log messages before absl",
        "I0000 ",
        "W0000 ",
        "cuda_",
        "Unable to register",
        "computation placer",
        "TF-TRT",
        "rebuild TensorFlow",
        "This TensorFlow binary is optimized",
    )
    return bool(line.strip()) and not any(n in line for n in noise)


def _stop_group(proc, grace_s: float = 5.0) -> None:
    """SIGTERM the job's process group (the worker unwinds, leaving no partial file), then
    SIGKILL whatever is left after ``grace_s``."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    except (ProcessLookupError, PermissionError):
        return
    _kill_group(proc)


def _kill_group(proc) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def summary_line(out: Outcome) -> str:
    rec = out.record or {}
    if out.status == "ok":
        m, t = rec["metrics"], rec["timing"]
        fit = (
            f"fit {t['fit_s']:.1f}s"
            if t.get("fit_s") is not None
            else "evaluated, not trained here"
        )
        return f"ok: accuracy {m['accuracy']:.2%}, {fit}, job {out.seconds:.0f}s"
    if out.status == "diverged":  # a result (exit 0), shown apart from the ok rows
        return f"diverged: accuracy {rec['metrics']['accuracy']:.2%}, job {out.seconds:.0f}s; {rec.get('error')}"
    return f"{out.status}: {rec.get('error')}"
