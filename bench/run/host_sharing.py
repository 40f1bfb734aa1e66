"""How many jobs ran on this host at once while a job ran: measured, not assumed.

A job's timings are only comparable with another's when both had the machine to the same
degree. The number of job slots a cluster gives a host says how many jobs MAY run there at
once, not how many did: a job of a 2-slot cluster may well run alone. So every job's worker
registers itself in one folder per host (a file ``<run id>.pid`` holding its pid and, where
``/proc`` exists, the process's start time), and a thread of the worker counts the live
registrations twice a second while it runs (any ``count()`` taken in that process while
it runs counts too); the record keeps the largest count seen (``where.jobs_sharing_host``,
1 = alone, None = not measured: the folder was unwritable).
Jobs of any suite, executor or user on the host count, which is the point. One file is
one job, even when two files name the same pid.

The folder is ``BENCH_HOST_JOBS_DIR`` or ``<tmp>/mnist-bench-jobs``. A registration is
written whole (a temp file renamed over it), so a reader never sees half of one; a file
that cannot be parsed anyway is skipped, not removed. The file of a process that died
without cleaning up, or whose pid now belongs to another process (start time differs), is
not counted and is removed by the count.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

_open: set[Watch] = set()  # this process's watches between __enter__ and __exit__
_open_lock = threading.Lock()


def folder() -> Path:
    """The folder of this host's registrations: ``BENCH_HOST_JOBS_DIR`` or ``<tmp>/mnist-bench-jobs``."""
    return Path(
        os.environ.get("BENCH_HOST_JOBS_DIR") or Path(tempfile.gettempdir()) / "mnist-bench-jobs"
    )


def _stat(pid: int) -> tuple[str, str] | None:
    """``(state, starttime)`` of ``pid`` from ``/proc/<pid>/stat``; None where unreadable.

    The command name (field 2) is in parentheses and may hold spaces or ')', so the fields
    are split after the LAST ')': state is field 3 and starttime field 22 of the file."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 1 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot); None without ``/proc``."""
    st = _stat(pid)
    return st[1] if st else None


def _alive(pid: int) -> bool:
    """True while a process ``pid`` exists (any user's), as far as signal 0 can tell."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _parse(text: str) -> tuple[int, str | None] | None:
    """``(pid, start time or None)`` from a registration's text; None when it is not one."""
    parts = text.split()
    if not parts or len(parts) > 2:
        return None
    try:
        pid = int(parts[0])
    except ValueError:
        return None
    return (pid, parts[1] if len(parts) == 2 else None) if pid > 0 else None


def _live(pid: int, start: str | None) -> bool:
    """Whether the registration ``(pid, start)`` is a running process, not a dead or reused pid.

    With a start time and a readable ``/proc``: live only when the pid's start time is the
    same and it is no zombie. Without either: pid-only (signal 0)."""
    if not _alive(pid):
        return False
    st = _stat(pid)
    if st is None:
        return True  # no /proc here (or hidden): pid-only
    state, now = st
    return state != "Z" and (start is None or now == start)


def count() -> int:
    """The number of live registrations in ``folder()``; stale ones are removed.

    Empty or unparsable files are skipped and left alone (another tool's file, or one
    being removed right now). Every watch open in this process keeps the count in its
    ``most`` when it is the largest yet."""
    n = 0
    for path in folder().glob("*.pid"):
        try:
            reg = _parse(path.read_text())
        except OSError:
            continue  # removed right now
        if reg is None:
            continue
        if _live(*reg):
            n += 1
        else:
            path.unlink(missing_ok=True)
    with _open_lock:
        for watch in _open:
            watch.most = max(watch.most or 1, n)
    return n


def register(path: Path) -> None:
    """Write this process's registration to ``path`` whole: a temp file beside it, renamed over it."""
    pid = os.getpid()
    start = start_time(pid)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{pid} {start}" if start else str(pid))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Watch:
    """Registers this process as job ``run_id`` and tracks the most jobs seen at once.

    Use as a context manager around the job. ``most`` is the largest number of live
    registrations seen while inside it, this job's own included (so >= 1), or None when the
    job could not register (an unwritable folder): then nothing was measured."""

    def __init__(self, run_id: str, every_s: float = 0.5):
        """Prepare the watch of job ``run_id``, counting every ``every_s`` seconds; nothing starts yet."""
        self.path = folder() / f"{run_id}.pid"
        self.every_s = every_s
        self.most: int | None = None
        self._registered = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="host-jobs", daemon=True)

    def __enter__(self) -> Watch:
        """Register, count once, and start the counting thread; an unwritable folder leaves ``most`` None."""
        try:
            register(self.path)
        except OSError:
            return self  # not measured: most stays None
        self._registered = True
        self.most = 1  # this job runs, whatever the folder shows
        with _open_lock:
            _open.add(self)
        count()
        self._thread.start()
        return self

    def _poll(self) -> None:
        """Count every ``every_s`` seconds until stopped, keeping the largest count in ``most``."""
        while not self._stop.wait(self.every_s):
            count()

    def __exit__(self, *exc) -> None:
        """Stop counting and remove this job's registration (only if it made one)."""
        with _open_lock:
            _open.discard(self)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * self.every_s)
        if self._registered:
            self.path.unlink(missing_ok=True)
