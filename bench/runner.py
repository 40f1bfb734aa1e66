"""Plans jobs and runs each one in a fresh Python subprocess.

A job is (model, dataset, profile, device, seed) plus resolved hyper-parameters (one point
of a ``--grid``). Each job runs in its own process (``bench.worker``) so the device is fixed
before TensorFlow starts, a crash or OOM kills one job rather than the suite, and timings
are not polluted by the previous job. The device and thread budget are set through the
child's environment: ``CUDA_VISIBLE_DEVICES=-1`` for CPU jobs, and OMP/OpenBLAS/MKL thread
counts (TensorFlow's pools and XGBoost's ``n_jobs`` get the same number through the adapter).

``run_job`` runs one job wherever it is called (here, or inside a Dask task on a worker):
a job that dies without writing a record, runs past its timeout or past its memory bound
(its whole process group is killed) gets a ``failed``/``timeout`` record here.
``run_suite`` hands the jobs to an executor (``bench.executors``) and owns everything
around them: Ctrl-C or SIGTERM stops the running jobs, keeps every finished record and
writes none for the interrupted ones; ``resume=True`` skips every job that already has an
``ok`` record with the same key (model, dataset, profile, device, seed, hyper-parameter
hash, data digest, determinism, threads, inference protocol).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import envinfo, records
from bench.errors import BenchError

DEVICES = ("cpu", "gpu", "all")


@dataclass
class Job:
    model: str
    family: str
    dataset: str
    profile: str
    device: str
    seed: int
    params: dict
    skip_reason: str | None = None
    deterministic: bool = False
    data_digest: str | None = None
    threads: int | None = None  # the CPU thread budget given to every framework
    inference: dict | None = None  # the inference protocol (``InferenceProtocol.as_dict``)
    tag: str = ""  # the swept values of a grid point, for people (``lr=0.003 epochs=6``)
    target: float | None = None  # ``--target``: stop at this validation accuracy (None: train it all)

    def key(self) -> tuple:
        """What makes two runs the same job (``--resume`` compares this)."""
        return (self.model, self.dataset, self.profile, self.device, self.seed, records.params_hash(self.params),
                self.data_digest, self.deterministic, self.threads, records.protocol_hash(self.inference),
                self.target)

    def as_dict(self) -> dict:
        return {"model": self.model, "family": self.family, "dataset": self.dataset, "profile": self.profile,
                "device": self.device, "seed": self.seed, "params": self.params,
                "params_hash": records.params_hash(self.params), "deterministic": self.deterministic,
                "threads": self.threads, "inference": self.inference, "data_digest": self.data_digest,
                "target": self.target}

    def title(self) -> str:
        name = f"{self.model} {self.tag}" if self.tag else self.model
        return f"{name} on {self.dataset} ({self.profile}, {self.device}, seed {self.seed})"


def parse_value(raw: str, default, where: str):
    """Convert ``raw`` to the type of ``default``; ``BenchError`` when it does not fit."""
    if isinstance(default, bool):
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise BenchError(f"{where}: expected true or false, got {raw!r}")
    for kind in (int, float):
        if isinstance(default, kind):
            try:
                value = kind(raw)
            except ValueError:
                raise BenchError(f"{where}: expected {kind.__name__}, got {raw!r}") from None
            return value
    return raw


def parse_overrides(items: list[str], model_names: list[str]) -> dict[str, dict[str, str]]:
    """``["cnn-small.epochs=3"]`` -> ``{"cnn-small": {"epochs": "3"}}`` (values still text)."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, raw = item.partition("=")
        model, dot, key = target.rpartition(".")
        if not sep or not dot or not model or not key:
            raise BenchError(f"--set {item!r}: expected MODEL.KEY=VALUE, e.g. cnn-small.epochs=3")
        if model not in model_names:
            raise BenchError(f"--set {item!r}: model {model!r} is not in this run; models: {', '.join(model_names)}")
        out.setdefault(model, {})[key] = raw
    return out


def parse_grid(items: list[str], model_names: list[str]) -> dict[str, dict[str, list[str]]]:
    """``["cnn-small.lr=1e-3,3e-3"]`` -> ``{"cnn-small": {"lr": ["1e-3", "3e-3"]}}`` (text)."""
    out: dict[str, dict[str, list[str]]] = {}
    for item in items:
        target, sep, raw = item.partition("=")
        model, dot, key = target.rpartition(".")
        values = [v.strip() for v in raw.split(",")]
        if not sep or not dot or not model or not key or not all(values):
            raise BenchError(f"--grid {item!r}: expected MODEL.KEY=V1,V2,..., e.g. cnn-small.lr=1e-3,3e-3")
        if model not in model_names:
            raise BenchError(f"--grid {item!r}: model {model!r} is not in this run; models: {', '.join(model_names)}")
        if key in out.get(model, {}):
            raise BenchError(f"--grid {item!r}: {model}.{key} is swept twice; give its values in one --grid")
        if len(set(values)) != len(values):
            raise BenchError(f"--grid {item!r}: a value is repeated")
        out.setdefault(model, {})[key] = values
    return out


def expand_grid(cls, base: dict, sweep: dict[str, list[str]], fixed: dict[str, str]) -> list[dict]:
    """Every combination of ``sweep``'s values on top of ``base`` (typed like the defaults),
    in the order given; ``[base]`` when nothing is swept."""
    import itertools

    for key in sweep:
        if key not in base:
            raise BenchError(f"--grid {cls.name}.{key}: unknown hyper-parameter; "
                             f"{cls.name} has: {', '.join(sorted(base))}")
        if key in fixed:
            raise BenchError(f"{cls.name}.{key} is given by both --set and --grid; give it once")
    keys = list(sweep)
    typed = [[parse_value(v, base[k], f"--grid {cls.name}.{k}") for v in sweep[k]] for k in keys]
    return [{**base, **dict(zip(keys, combo))} for combo in itertools.product(*typed)]


def resolve_params(cls, profile: str, overrides: dict[str, str]) -> dict:
    """The adapter's defaults for ``profile`` with the user's overrides applied and typed."""
    params = dict(cls.defaults[profile])
    for key, raw in overrides.items():
        if key not in params:
            raise BenchError(f"--set {cls.name}.{key}: unknown hyper-parameter; "
                             f"{cls.name} has: {', '.join(sorted(params))}")
        params[key] = parse_value(raw, params[key], f"--set {cls.name}.{key}")
    return params


def gpu_available() -> bool:
    """True when an NVIDIA GPU is visible (``nvidia-smi``), without importing a framework."""
    return bool(envinfo.gpus())


def record_key(rec: dict) -> tuple:
    """``Job.key`` of the job a record came from."""
    j = rec["job"]
    return (j["model"], j["dataset"], j["profile"], j["device"], j["seed"], records.params_hash(j["params"]),
            rec["data"].get("digest"), bool(j.get("deterministic", False)), j.get("threads"),
            records.protocol_hash(j.get("inference")), j.get("target"))


def plan(model_names, datasets, profile, device, seeds, overrides, has_gpu, deterministic=False,
         digests: dict | None = None, threads: int | None = None, inference: dict | None = None,
         grid: list[str] | None = None, target: float | None = None) -> list[Job]:
    """Expand the request into jobs, in the order they run: seed by seed (every dataset,
    model, grid point and device for seed 0, then seed 1 ...), so that drift of the machine
    over a long suite spreads over all models instead of reading as one model's seed-to-seed
    variance. ``grid`` (``MODEL.KEY=V1,V2``) sweeps the Cartesian product of its values; each
    point is its own parameter set (own hash, own leaderboard row, own ``--resume`` key).

    ``device="gpu"`` without a GPU is a ``BenchError`` (fail fast); ``device="all"`` plans
    the GPU jobs anyway, marked to be recorded as ``skipped`` with the reason.
    """
    import models

    if device not in DEVICES:
        raise BenchError(f"unknown device {device!r}; choose from: {', '.join(DEVICES)}")
    if device == "gpu" and not has_gpu:
        raise BenchError("--device gpu: no GPU found (nvidia-smi lists none); use --device cpu or all")
    classes = [models.get(name) for name in model_names]
    by_model = parse_overrides(overrides, [c.name for c in classes])
    sweeps = parse_grid(grid or [], [c.name for c in classes])
    params = {cls.name: expand_grid(cls, resolve_params(cls, profile, by_model.get(cls.name, {})),
                                    sweeps.get(cls.name, {}), by_model.get(cls.name, {})) for cls in classes}
    for cls in classes:
        for point in params[cls.name]:
            try:
                cls.check_params(point)
            except ValueError as e:
                raise BenchError(f"{cls.name}: {e}") from None
    wanted = ("cpu", "gpu") if device == "all" else (device,)
    jobs = []
    for seed in seeds:
        for dataset in datasets:
            for cls in classes:
                for point in params[cls.name]:
                    for dev in wanted:
                        if dev not in cls.devices:
                            continue  # e.g. scikit-learn models have no GPU path
                        skip = None if dev == "cpu" or has_gpu else "no GPU found on this machine"
                        tag = " ".join(f"{k}={point[k]:g}" if isinstance(point[k], float) else f"{k}={point[k]}"
                                       for k in sweeps.get(cls.name, {}))
                        jobs.append(Job(cls.name, cls.family, dataset, profile, dev, seed, point, skip,
                                        deterministic, (digests or {}).get(dataset), threads, inference, tag,
                                        target))
    if not jobs:
        raise BenchError(f"nothing to run: none of {', '.join(model_names)} supports device {device!r}")
    return jobs


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


def run_job(job: Job, runs_dir: Path, timeout_s: float, on_line=None, save_model: bool = True,
            where: dict | None = None, memory_limit: int | None = None, should_stop=None) -> Outcome:
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
        rec = records.problem(run_id, job.as_dict(), "skipped", job.skip_reason, started_at=started, where=where)
        return Outcome(job, "skipped", rec, records.write(runs_dir, rec), 0.0)
    spec = {"run_id": run_id, "started_at": started, "job": job.as_dict(), "runs_dir": str(runs_dir),
            "save_model": save_model, "where": where, "parent_pid": os.getpid()}
    t0 = time.monotonic()
    tail: list[str] = []
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        spec_path = fh.name
    proc = None
    try:
        env = {**child_env(job.device, job.threads), "BENCH_EXECUTOR": where["executor"]}
        proc = subprocess.Popen([sys.executable, "-m", "bench.worker", spec_path], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        ended = _pump(proc, t0 + timeout_s, tail, t0, on_line, memory_limit, should_stop)
        if ended == "stopped":
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        if proc is not None:
            _stop_group(proc)
        raise
    finally:
        os.unlink(spec_path)
    seconds = time.monotonic() - t0
    _remove_partial_files(runs_dir, run_id)  # a worker killed mid-write leaves its temp file
    path = _record_path(runs_dir, run_id)
    if path is not None:  # the worker's record stands, even when it landed at the deadline
        rec = records.read(path)
        return Outcome(job, rec["status"], rec, path, seconds)
    if ended == "timeout":
        status, error = "timeout", f"timed out after {timeout_s:g}s; process group killed"
    elif ended == "memory":
        status, error = "failed", (f"out of memory: the job's resident memory passed its limit of "
                                   f"{memory_limit / 2**30:.2f} GiB; process group killed")
    else:
        status = "failed"
        error = f"worker exited with code {proc.returncode} without a record" + (
            f" (signal {signal.Signals(-proc.returncode).name})" if proc.returncode and proc.returncode < 0 else "")
        if proc.returncode == -signal.SIGKILL:
            error += "; killed from outside, often the kernel's out-of-memory killer"
    rec = records.problem(run_id, job.as_dict(), status, error, started_at=started, detail=tail, where=where)
    return Outcome(job, status, rec, records.write(runs_dir, rec), seconds)


def _record_path(runs_dir: Path, run_id: str) -> Path | None:
    found = sorted(Path(runs_dir).glob(f"{run_id}-*.json"))
    return found[0] if found else None


def _remove_partial_files(runs_dir: Path, run_id: str) -> None:
    for part in Path(runs_dir).glob(f".{run_id}-*.part"):
        part.unlink(missing_ok=True)


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


def _pump(proc, deadline: float, tail: list[str], t0: float, on_line, memory_limit: int | None = None,
          should_stop=None) -> str | None:
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
                rss = tree_rss(proc.pid) if memory_limit else 0
                if memory_limit and rss > memory_limit:
                    tail.append(f"resident memory {rss / 2**30:.2f} GiB > limit")
                    _kill_group(proc)
                    return "memory"
                if should_stop is not None and should_stop():
                    return "stopped"
            if not sel.select(timeout=min(remaining, 0.5)):
                continue
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                emit(raw)
        if pending:
            emit(pending)
        # stdout closed: the worker is exiting; it still must do so before the deadline
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return "timeout"
        return None
    finally:
        sel.close()


def _worth_showing(line: str) -> bool:
    """Hide TensorFlow's start-up chatter; keep our progress lines and real errors."""
    noise = ("oneDNN custom operations", "E0000 ", "WARNING: All log messages before absl", "I0000 ", "W0000 ",
             "cuda_", "Unable to register", "computation placer", "TF-TRT", "rebuild TensorFlow",
             "This TensorFlow binary is optimized")
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
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


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
                try:
                    d.rmdir()
                except OSError:
                    pass


class Interrupted(Exception):
    """The suite stopped before its end: Ctrl-C or SIGTERM (``exit_code`` 130), or an
    executor that lost its cluster (``exit_code`` 1); ``outcomes`` are the finished jobs."""

    def __init__(self, outcomes: list[Outcome], pending: int, reason: str = "interrupted", exit_code: int = 130):
        super().__init__(f"{reason} with {pending} job(s) not finished")
        self.outcomes, self.pending, self.reason, self.exit_code = outcomes, pending, reason, exit_code


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def done_keys(runs_dir: Path) -> dict[tuple, str]:
    """Key -> run id of every ``ok`` record in ``runs_dir``."""
    return {record_key(r): r["run_id"] for r in records.read_all(runs_dir) if r["status"] == "ok"}


def store(finished, runs_dir: Path) -> Outcome:
    """Keep one finished job: the local executor's worker already wrote its record; a
    remote one's record (and model files) arrive here and are written atomically, the
    model folder first, so a record never points at a missing model."""
    if finished.path is not None:
        return Outcome(finished.job, finished.record["status"], finished.record, finished.path, finished.seconds)
    rec = finished.record
    if rec.get("artifact") and finished.files:
        from bench import artifacts

        artifacts.store_files(runs_dir.parent, rec["artifact"], finished.files)
    return Outcome(finished.job, rec["status"], rec, records.write(runs_dir, rec), finished.seconds)


def run_suite(jobs: list[Job], runs_dir: Path, timeout_s: float, echo=print, resume: bool = False,
              save_models: bool = True, executor=None, progress=None) -> list[Outcome]:
    """Run ``jobs`` on ``executor`` (default: one at a time here), keep every record as it
    arrives and report progress; returns every outcome.

    The suite owns resume, signals and records; the executor only runs jobs. Raises
    ``Interrupted`` (carrying the finished outcomes) on Ctrl-C or SIGTERM, or when the
    executor lost its cluster.
    """
    from bench import executors, progress as progress_mod

    check_writable(runs_dir)
    done = done_keys(runs_dir) if resume else {}
    executor = executor or executors.LocalExecutor()
    progress = progress or progress_mod.Plain(echo)
    todo = []
    for i, job in enumerate(jobs, start=1):
        if job.key() in done:
            progress.skipped(i, len(jobs), job, done[job.key()])
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


def summary_line(out: Outcome) -> str:
    rec = out.record or {}
    if out.status == "ok":
        m, t = rec["metrics"], rec["timing"]
        return f"ok: accuracy {m['accuracy']:.2%}, fit {t['fit_s']:.1f}s, job {out.seconds:.0f}s"
    return f"{out.status}: {rec.get('error')}"
