"""Test-only adapters that fail on purpose, loaded through ``BENCH_EXTRA_MODELS``.

``fault-raise`` raises in fit; ``fault-exit`` kills its process with ``os._exit(3)``; ``fault-partial``
prints half a line and hangs; ``fault-linger`` writes its record, then its process lingers;
``fault-sleep`` sleeps far past any test timeout; ``fault-slow`` takes a few seconds and
then predicts the training class frequencies (a real, if useless, classifier), leaving
time to interrupt a suite mid-job (with ``FAULT_PID_DIR`` set, it leaves its pid there);
``fault-killworker`` kills the Dask worker process running it (only under ``--executor
dask``); ``fault-memory`` holds ``mib`` MiB of resident memory for a while; ``fault-savedie``
saves its model, then kills itself before its record is written; ``fault-meet`` waits in fit
until ``jobs`` jobs are registered on the host at once and each has said so (a barrier: jobs
that are certain to have overlapped).
"""

import os
import time

import numpy as np

from bench.adapters.contract import Adapter, ParamCount
from bench.adapters.registry import register
from bench.adapters.training_log import TrainingLog


class _Prior(Adapter):
    family = "test"
    view = "flat"
    defaults = {"full": {"seconds": 4.0}, "quick": {"seconds": 4.0}}

    def fit(self, x, y, **kw):
        t0 = time.perf_counter()
        self.prior = np.bincount(y, minlength=10) / len(y)
        return TrainingLog.single("count", time.perf_counter() - t0, len(y))

    def predict_proba(self, x, batch_size=1024):
        return np.tile(self.prior, (len(x), 1))

    def n_params(self):
        return ParamCount(10, 0, "class frequencies")

    def serialized_size(self):
        return self.prior.nbytes


@register
class RaisingAdapter(_Prior):
    name = "fault-raise"

    def fit(self, x, y, **kw):
        raise RuntimeError("injected failure in fit")


@register
class ExitingAdapter(_Prior):
    name = "fault-exit"

    def fit(self, x, y, **kw):
        print("about to die", flush=True)
        os._exit(3)


@register
class SleepingAdapter(_Prior):
    name = "fault-sleep"

    def fit(self, x, y, **kw):
        import subprocess

        child = subprocess.Popen(["sleep", "3600"])  # a grandchild: the timeout must kill it too
        if os.environ.get("FAULT_PID_FILE"):
            with open(os.environ["FAULT_PID_FILE"], "w") as fh:
                fh.write(str(child.pid))
        time.sleep(3600)


@register
class SlowAdapter(_Prior):
    name = "fault-slow"

    def fit(self, x, y, **kw):
        if os.environ.get("FAULT_PID_DIR"):
            with open(os.path.join(os.environ["FAULT_PID_DIR"], str(os.getpid())), "w") as fh:
                fh.write(str(os.getppid()))
        print("slow fit started", flush=True)
        time.sleep(self.params["seconds"])
        return super().fit(x, y)


@register
class MeetingAdapter(_Prior):
    """Holds its job until ``jobs`` jobs ran on this host at once, for certain.

    Phase 1: wait until ``bench.run.host_sharing.count()`` sees ``jobs`` registrations (a count
    taken here is this job's own measurement too). Phase 2: leave a file in
    ``FAULT_MEET_DIR`` and wait for ``jobs`` such files, so no job unregisters before every
    other one has counted them all. Fails after ``timeout_s`` rather than hanging."""

    name = "fault-meet"
    defaults = {"full": {"jobs": 2, "timeout_s": 60.0}, "quick": {"jobs": 2, "timeout_s": 60.0}}

    def fit(self, x, y, **kw):
        from bench.run import host_sharing

        meet = os.environ["FAULT_MEET_DIR"]
        n, deadline = self.params["jobs"], time.monotonic() + self.params["timeout_s"]

        def wait_for(what, ready):
            while not ready():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"fault-meet: gave up waiting for {what}")
                time.sleep(0.05)  # polls a condition; orders nothing

        wait_for(f"{n} registered jobs", lambda: host_sharing.count() >= n)
        with open(os.path.join(meet, str(os.getpid())), "w") as fh:
            fh.write("met")
        wait_for(f"{n} jobs to have met", lambda: len(os.listdir(meet)) >= n)
        return super().fit(x, y)


@register
class WorkerKillingAdapter(_Prior):
    """Kills the process that started its job when that is a Dask worker: a worker lost
    mid-job, every time the job is tried."""

    name = "fault-killworker"

    def fit(self, x, y, **kw):
        import signal

        if os.environ.get("BENCH_EXECUTOR") == "dask":
            print("killing my Dask worker", flush=True)
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(60)  # the job dies with its worker
        return super().fit(x, y)


@register
class MemoryHogAdapter(_Prior):
    """Touches ``mib`` MiB and holds it: past a ``--memory-limit`` the runner must kill it."""

    name = "fault-memory"
    defaults = {"full": {"mib": 1024, "seconds": 10.0}, "quick": {"mib": 1024, "seconds": 10.0}}

    def fit(self, x, y, **kw):
        self.hog = np.ones(self.params["mib"] * 2**20, dtype=np.uint8)
        print(f"holding {self.params['mib']} MiB", flush=True)
        time.sleep(self.params["seconds"])
        return super().fit(x, y)


@register
class PartialLineAdapter(_Prior):
    """Prints half a line (no newline) and hangs: the runner must not wait for the rest."""

    name = "fault-partial"

    def fit(self, x, y, **kw):
        print("half a line, then nothing", end="", flush=True)
        time.sleep(3600)


@register
class LingeringAdapter(_Prior):
    """Trains normally, but its process lingers after the worker wrote the ok record (an
    exit handler sleeps): the deadline then falls after the record, which must stand alone."""

    name = "fault-linger"

    def fit(self, x, y, **kw):
        import atexit

        atexit.register(time.sleep, 3600)
        return super().fit(x, y)


@register
class MissingFrameworkAdapter(_Prior):
    """Saves like any model, but loading needs a framework this machine does not have."""

    name = "fault-noframework"

    def save(self, folder):
        path = os.path.join(folder, "prior.npy")
        np.save(path, self.prior)
        return path

    @classmethod
    def load(cls, path, params, threads=None):
        import framework_that_is_not_installed  # noqa: F401

        raise AssertionError("unreachable")


@register
class SaveThenDieAdapter(MissingFrameworkAdapter):
    """Trains and saves like any model, then ends without an ``ok`` record: ``stage="saving"``
    SIGKILLs itself inside ``save`` (the model file written, the folder not yet renamed into
    place); after the model folder is complete, ``"saved"`` SIGKILLs itself, ``"hang"`` sleeps
    past any timeout, ``"raise"`` raises (the worker then writes a ``failed`` record)."""

    name = "fault-savedie"
    defaults = {"full": {"stage": "saved"}, "quick": {"stage": "saved"}}

    def save(self, folder):
        path = super().save(folder)
        if self.params["stage"] == "saving":
            _die("dying while saving")
        return path

    def threads_used(self):  # the worker asks for it after the model was saved
        if self.params["stage"] == "hang":
            print("hanging after saving", flush=True)
            time.sleep(3600)
        if self.params["stage"] == "raise":
            raise RuntimeError("injected failure after saving")
        _die("dying after saving")


def _die(line: str) -> None:
    import signal

    print(line, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
