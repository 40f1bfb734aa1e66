"""Jobs on a Dask cluster (``--executor dask``): a ``LocalCluster`` of ``--workers N``
processes, or an existing scheduler (``--scheduler tcp://HOST:PORT``).

Guarantees, and how each is kept:

- **One job per worker at a time.** Every worker must have exactly one thread (checked at
  connect; Dask's resource limits are soft, the thread count is not). Where every worker
  also declares a ``slot`` resource, each job asks for one slot on top.
- **Isolation as on one machine.** A task does not train: it starts the same
  ``bench.run.worker`` subprocess as the local executor (``supervise.run_job``), with the same
  device and thread environment and timeout, in a private temporary folder on the worker.
  TensorFlow and models never cross the wire; the record and the model's files do, and
  this client writes them into the results folder (workers need no shared disk). Each
  worker's subprocess loads, fetches or verifies the dataset in that worker's own cache and
  refuses data whose digest differs from the client's.
- **Memory.** The nanny's memory limit watches the worker process, not its subprocess, so
  the subprocess's resident memory (its whole process tree) is bounded by ``supervise.run_job``
  itself: ``--memory-limit``, else the worker's own memory limit. Going over it kills the
  job and gives a ``failed`` record saying so.
- **Faults.** A worker that dies mid-job (killed, or the kernel's OOM killer) gets the job
  rescheduled once (the scheduler's ``allowed_failures`` is set to 1) and then a ``failed``
  record. The job's subprocess dies with its worker (it watches its parent). A lost
  scheduler connection raises ``ExecutorLost``: the suite keeps every finished record and
  prints the resume command. Ctrl-C sets a stop event that running jobs poll and cancels
  every queued one. Tasks are submitted with ``pure=False`` and a unique key, so two
  identical jobs (repeats) are never merged into one.
- **Where it ran.** Each record says the executor, the worker's address, the host and how
  many job slots that host has (``slots_per_host``); the job's worker measures how many
  jobs did run there at once while it ran (``jobs_sharing_host``, ``bench.run.host_sharing``),
  so timings taken side by side are never presented as if the machine had been idle.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import tempfile
import uuid
from collections import Counter
from pathlib import Path

from bench import records
from bench.core.errors import BenchError
from bench.run.executors.base import ExecutorLost, Finished

TOPIC = "mnist-bench-progress"
ALLOWED_FAILURES = 1  # worker deaths a job may cause: one retry elsewhere, then a failed record
CONNECT_TIMEOUT_S = 15


def _allow_failures(dask_scheduler=None, n: int = ALLOWED_FAILURES) -> int:
    """Runs on the scheduler: how many worker deaths a task may cause before it is given up."""
    dask_scheduler.allowed_failures = n
    return n


MACHINE = (
    "platform",
    "cpu",
    "hardware",
    "cores",
    "memory_gib",
    "gpus",
)  # the env fields of a machine


def _worker_facts() -> dict:
    """Runs on each worker: what the client needs to plan (cores, GPUs, host), and its
    machine's part of a record's env (``machine``: ``MACHINE``'s fields, the hardware
    fingerprint among them) for the records the client writes for jobs lost with it."""
    import platform
    import socket

    from bench.core import envinfo, hardware

    gpus = envinfo.gpus()
    machine = {
        "platform": platform.platform(),
        "cpu": envinfo.cpu_model(),
        "hardware": hardware.cached(),
        "cores": envinfo.usable_cores(),
        "memory_gib": envinfo.memory_gib(),
        "gpus": gpus,
    }
    return {
        "cores": machine["cores"],
        "gpus": len(gpus),
        "host": socket.gethostname(),
        "machine": machine,
    }


def remote_job(
    job,
    index: int,
    suite_id: str,
    timeout_s: float,
    save_model: bool,
    memory_limit: int | None,
    jobs_per_host: int,
) -> dict:
    """The task a Dask worker runs: one job in a subprocess, in a private temporary folder;
    returns its record and its model folder's files (``{"stopped": True}`` when the suite's
    stop event ended it)."""
    from distributed import Event, get_worker

    from bench.run import supervise

    worker = get_worker()
    limit = (
        memory_limit
        or getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
        or None
    )
    stop = Event(f"mnist-bench-stop-{suite_id}")

    def should_stop() -> bool:
        try:
            return stop.is_set()
        except Exception:  # noqa: BLE001 - no scheduler: the worker's own death stops the job
            return False

    def tell(kind: str, **fields) -> None:
        with contextlib.suppress(Exception):  # progress is best effort; the record is what counts
            worker.log_event(TOPIC, {"suite": suite_id, "index": index, "kind": kind, **fields})

    tell("started", where=worker.address)
    tmp = Path(tempfile.mkdtemp(prefix="mnist-bench-job-"))
    try:
        try:
            out = supervise.run_job(
                job,
                tmp / "runs",
                timeout_s,
                lambda t, text: tell("line", t=t, text=text),
                save_model,
                where={
                    "executor": "dask",
                    "worker": worker.address,
                    "slots_per_host": jobs_per_host,
                },
                memory_limit=limit,
                should_stop=should_stop,
            )
        except KeyboardInterrupt:
            return {"stopped": True}
        files = {}
        artifact = out.record.get("artifact")
        if artifact:
            folder = tmp / artifact["path"]
            files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        return {"record": out.record, "seconds": out.seconds, "files": files}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_address(address: str) -> None:
    """``BenchError`` unless ``address`` is a scheduler address Dask can parse, with a port."""
    from distributed.comm import get_address_host_port

    try:
        get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        raise BenchError(
            f"--scheduler {address!r}: not a scheduler address such as tcp://HOST:8786 "
            f"({' '.join(str(exc).split())[:120]})"
        ) from None


class DaskExecutor:
    name = "dask"
    parallel = True

    def __init__(
        self, workers: int = 1, scheduler: str | None = None, memory_limit: int | None = None
    ):
        self.n_workers, self.scheduler, self.memory_limit = workers, scheduler, memory_limit
        self.client = self.cluster = None
        self.suite_id = uuid.uuid4().hex[:12]
        self.facts: dict[str, dict] = {}
        self.resources: dict | None = None
        self.jobs_per_host = 1
        self.futures: dict = {}
        self.jobs: dict = {}  # index -> job, for the progress events
        self.cancelling = False

    # -- connecting -------------------------------------------------------------------
    def start(self) -> None:
        """Start the LocalCluster or connect to the scheduler, and check its workers."""
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            _check_address(self.scheduler)
            try:
                self.client = Client(
                    self.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False
                )
            except (OSError, TimeoutError, ValueError) as exc:
                raise BenchError(
                    f"--scheduler {self.scheduler}: cannot connect "
                    f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
                ) from None
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
                self.cluster = LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    # any free port: None still means 8787, and a busy
                    # 8787 printed a warning into our one-line errors
                    resources={"slot": 1},
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster, set_as_default=False)
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            self.close()
            raise BenchError(
                f"the Dask scheduler at {self.address} has no workers; start some with "
                f"`dask worker {self.address} --nworkers 1 --nthreads 1 --resources slot=1`"
            ) from None
        self.client.run_on_scheduler(_allow_failures)
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        threaded = sorted(a for a, w in workers.items() if w.get("nthreads") != 1)
        if threaded:
            self.close()
            raise BenchError(
                f"Dask worker(s) {', '.join(threaded)} run more than one thread; timings need one job "
                f"per worker: start workers with --nthreads 1"
            )
        if all((w.get("resources") or {}).get("slot", 0) >= 1 for w in workers.values()):
            self.resources = {"slot": 1}
        self.facts = self.client.run(_worker_facts)
        self.jobs_per_host = max(Counter(f["host"] for f in self.facts.values()).values())

    @property
    def address(self) -> str:
        return self.client.scheduler.address if self.client is not None else str(self.scheduler)

    def default_threads(self) -> int:
        """Threads per job when ``--threads`` is not given: the fewest cores any worker's
        host has per worker on it (jobs side by side must not oversubscribe the CPU)."""
        per_host = Counter(f["host"] for f in self.facts.values())
        return max(1, min(f["cores"] // per_host[f["host"]] for f in self.facts.values()))

    def has_gpu(self) -> bool:
        return bool(self.facts) and all(f["gpus"] for f in self.facts.values())

    def describe(self) -> str:
        hosts = Counter(f["host"] for f in self.facts.values())
        kind = (
            f"LocalCluster of {self.n_workers} worker(s)"
            if self.cluster is not None
            else f"scheduler {self.address}"
        )
        return (
            f"dask executor: {kind}, {len(self.facts)} worker(s) on {len(hosts)} host(s), one job per worker"
            + (" (slot resource)" if self.resources else "")
        )

    # -- running -----------------------------------------------------------------------
    def run(self, todo, runs_dir: Path, timeout_s: float, save_models: bool, progress):
        from concurrent.futures import CancelledError

        from distributed import wait

        events: queue.Queue = queue.Queue()

        def on_event(event) -> None:  # the client's event-loop thread: only queue it
            msg = event[1] if isinstance(event, tuple) else event
            if isinstance(msg, dict) and msg.get("suite") == self.suite_id:
                events.put(msg)

        self.client.subscribe_topic(TOPIC, on_event)
        self.jobs = dict(todo)
        for index, job in todo:
            fut = self.client.submit(
                remote_job,
                job,
                index,
                self.suite_id,
                timeout_s,
                save_models,
                self.memory_limit,
                self.jobs_per_host,
                pure=False,
                resources=self.resources,
                priority=-index,  # seed-major order, as planned
                key=f"mnist-bench-{self.suite_id}-{index}",
            )
            self.futures[fut] = (index, job)
        pending = set(self.futures)
        try:
            while pending:
                try:
                    with self.client.as_current():
                        done = wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    done = set()
                except (
                    CancelledError
                ) as exc:  # the client cancels every future when the scheduler is gone
                    if self.cancelling:
                        raise KeyboardInterrupt from None
                    raise ExecutorLost(self._lost_text(exc)) from None
                self._drain(events, progress)
                for fut in done:
                    pending.discard(fut)
                    index, job = self.futures[fut]
                    yield self._finished(fut, index, job)
                if self.client.status in ("closing", "closed"):
                    raise ExecutorLost(
                        f"the connection to the Dask scheduler at {self.address} is closed"
                    )
        finally:
            self._drain(events, progress)
            with contextlib.suppress(Exception):  # a closed client has nothing to unsubscribe
                self.client.unsubscribe_topic(TOPIC)

    def _drain(self, events: queue.Queue, progress) -> None:
        while True:
            try:
                msg = events.get_nowait()
            except queue.Empty:
                return
            index = msg.get("index")
            job = self.jobs.get(index)
            if job is None:
                continue
            if msg["kind"] == "started":
                progress.started(index, job, msg.get("where", ""))
            elif msg["kind"] == "line":
                progress.line(index, float(msg.get("t", 0.0)), str(msg.get("text", "")))

    def _finished(self, fut, index: int, job) -> Finished:
        from concurrent.futures import CancelledError

        from distributed.scheduler import KilledWorker

        where = {"executor": "dask", "slots_per_host": self.jobs_per_host}
        try:
            result = fut.result()
        except KilledWorker as exc:
            last = getattr(getattr(exc, "last_worker", None), "address", None)
            error = (
                f"the Dask worker running it died {ALLOWED_FAILURES + 1} times (killed, or out of memory"
                f"{'; last on ' + last if last else ''}); retried once, then given up"
            )
            rec = records.problem(
                records.new_run_id(),
                job.as_dict(),
                "failed",
                error,
                started_at=records.now_iso(),
                where={**where, "worker": last},
                env=self.env_of(last),
            )
            return Finished(index, job, rec, 0.0)
        except CancelledError as exc:
            if self.cancelling:
                raise KeyboardInterrupt from None
            raise ExecutorLost(self._lost_text(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the task itself raised on the worker
            rec = records.problem(
                records.new_run_id(),
                job.as_dict(),
                "failed",
                f"on a Dask worker: {type(exc).__name__}: {exc}",
                started_at=records.now_iso(),
                where=where,
                env=self.env_of(None),
            )
            return Finished(index, job, rec, 0.0)
        if result.get("stopped"):
            raise KeyboardInterrupt
        return Finished(
            index, job, result["record"], float(result["seconds"]), files=result["files"]
        )

    def env_of(self, address: str | None) -> dict:
        """The env of a record this client writes for a job that ran on worker ``address``:
        this process's, but with that worker's machine (``MACHINE``: hardware, CPU, cores,
        memory, GPUs). A worker not known (None, or one started since) stands for the one
        machine of all known workers when they share one; otherwise the machine is unknown
        (None fields), never this client's."""
        from bench.core import envinfo

        machines = [f.get("machine") for f in self.facts.values()]
        machine = (self.facts.get(address) or {}).get("machine")
        if (
            machine is None
            and machines
            and all(m is not None and m == machines[0] for m in machines)
        ):
            machine = machines[0]
        if machine is None:
            machine = {k: ([] if k == "gpus" else None) for k in MACHINE}
        return {**envinfo.capture(), **machine}

    def _lost_text(self, exc) -> str:
        reason = (
            "scheduler-connection-lost"
            if "connection" in str(exc)
            else " ".join(str(exc).split())[:120]
        )
        return f"lost the connection to the Dask scheduler at {self.address} ({reason})"

    def cancel(self) -> None:
        """Ctrl-C: running jobs see the stop event and end their subprocess; queued ones are
        cancelled. Nothing is recorded for either."""
        from distributed import Event

        self.cancelling = True
        if self.client is None or self.client.status != "running":
            return
        try:
            Event(f"mnist-bench-stop-{self.suite_id}", client=self.client).set()
            self.client.cancel(list(self.futures), force=True)
        except Exception:  # noqa: BLE001 - a dying cluster: closing it stops its jobs too
            pass

    def close(self) -> None:
        for thing in (self.client, self.cluster):
            if thing is not None:
                with contextlib.suppress(Exception):  # closing what is already gone
                    thing.close()
        self.client = self.cluster = None
