"""A suite from a ``RunConfig`` to published results, in four steps with one job each:

    request = validate(config)   every option checked and typed, before anything is fetched
    connect(request)          the executor started (a Dask cluster: workers checked)
    jobs    = plan(request)   datasets fetched and verified once, jobs expanded (seed-major,
                              grids as Cartesian products)
    outcomes = run(request, jobs)   this host's peaks (measured once per fingerprint), then one
                                    subprocess per job; Ctrl-C keeps what finished
    publish(request, outcomes)      the leaderboard of the results folder, and a summary with
                                    the suite's overhead (``bench.run.overhead``)

``execute`` chains them for ``run``, ``baseline update``, ``check --run`` and ``evaluate``
(the CLI builds the ``RunConfig`` from its flags) and for a script or notebook
(``bench.run_suite``).
"""

from __future__ import annotations

import shlex
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.core.errors import BenchError
from bench.run import plan as planner


@dataclass(frozen=True)
class RunConfig:
    """What to run and how: the typed form of ``python -m bench run``'s options. The CLI
    builds one from its flags; a script or a notebook builds it directly::

        from bench import RunConfig, run_suite
        outcomes = run_suite(RunConfig(models=("logreg", "cnn-small"), datasets=("digits",), profile="quick"))

    Every field but ``models`` has the CLI's default, and the flag it stands for is the one
    a bad value's error names. ``models``: registered names (``python -m bench list``;
    ``bench.adapters.registry.default_suite()`` is ``--all``); ``plugins``: plugin files
    (``--plugin``) loaded first, so that their models can be named. ``seeds``: seeds
    0..seeds-1. ``threads`` None: every usable core; ``timeout_s`` None: the profile's.
    ``overrides`` / ``grid``: ``MODEL.KEY=VALUE`` / ``MODEL.KEY=V1,V2`` strings as on the
    command line. ``precisions`` / ``runtimes``: one job per value (``--precision``,
    ``--runtime``: ``native`` or ``onnxruntime``). ``executor``: "local" or "dask" (``workers``, ``scheduler``,
    ``memory_limit`` as the flags). ``plots`` False: the leaderboard written after the suite
    has no figures (``--no-plots``)."""

    models: tuple[str, ...]
    datasets: tuple[str, ...] = ("mnist",)
    profile: str = "full"
    device: str = "cpu"
    seeds: int = 1
    out: Path = Path("results")
    resume: bool = False
    threads: int | None = None
    timeout_s: float | None = None
    infer_batch: int | None = None
    infer_min_repeats: int | None = None
    infer_min_seconds: float | None = None
    overrides: tuple[str, ...] = ()
    grid: tuple[str, ...] = ()
    target: float | None = None
    deterministic: bool = False
    precisions: tuple[str, ...] = ("fp32",)
    runtimes: tuple[str, ...] = ("native",)
    robustness: bool = True
    save_models: bool = True
    plots: bool = True
    executor: str = "local"
    workers: int = 1
    scheduler: str | None = None
    memory_limit: str | None = None
    plugins: tuple[str, ...] = ()


@dataclass
class Request:
    names: list[str]
    datasets: list[str]
    profile: str
    device: str
    n_seeds: int
    out: Path
    resume: bool
    threads: int
    timeout_s: float
    inference: dict
    overrides: list[str]
    deterministic: bool
    has_gpu: bool
    save_models: bool = True
    grid: list[str] = field(default_factory=list)
    executor: object = None  # bench.run.executors: LocalExecutor or DaskExecutor
    target: float | None = None  # --target: stop each model at this validation accuracy
    threads_given: bool = True
    resumable: bool | None = (
        True  # the command has --resume (``run``; not ``baseline update``, ``check --run``)
    )
    scratch: bool = False  # ``out`` is a temporary folder, removed when the command ends
    robustness: bool = True  # ``--robustness on|off``: the MNIST-C corruptions in every record
    precisions: tuple[str, ...] = ("fp32",)  # ``--precision`` (repeatable): one job per value
    runtimes: tuple[str, ...] = ("native",)  # ``--runtime`` (repeatable): one job per value
    plots: bool = True  # ``--no-plots``: the leaderboard after the suite without its figures

    @property
    def runs_dir(self) -> Path:
        return self.out / "runs"


def positive_int(raw, flag: str, allow_none=False):
    """``raw`` (a number or the flag's text) as an int >= 1 (``None`` stays ``None`` when
    ``allow_none``); ``BenchError`` naming ``flag`` for anything else, a bool or a fraction too."""
    if raw is None and allow_none:
        return None
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise BenchError(f"{flag} must be a positive integer, got {raw!r}")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BenchError(f"{flag} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise BenchError(f"{flag} must be a positive integer, got {raw!r}")
    return value


def positive_float(raw, flag: str):
    """``raw`` as a finite number > 0 (``None`` stays ``None``); ``BenchError`` otherwise."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BenchError(f"{flag} must be a positive number, got {raw!r}") from None
    if not 0 < value < float("inf"):
        raise BenchError(f"{flag} must be a positive number, got {raw!r}")
    return value


def validate(config: RunConfig, scratch: bool = False, resumable: bool | None = True) -> Request:
    """Check and type every field of ``config``; ``BenchError`` (one line, naming the flag)
    on the first bad one, before anything is fetched or trained. ``scratch``: ``out`` is a
    temporary folder the command removes when it ends; ``resumable``: the command has
    ``--resume`` (an interrupted suite says how to finish it; None: a script's RunConfig)."""
    from bench.adapters import registry
    from bench.core import envinfo
    from bench.measure.profiles import PROFILES
    from bench.run import executors, runner

    _check_types(config)
    for path in config.plugins:
        registry.load_file(path)
    if config.profile not in PROFILES:
        raise BenchError(f"unknown profile {config.profile!r}; choose from: {', '.join(PROFILES)}")
    if not config.models:
        raise BenchError(f"name models to run; models: {', '.join(registry.names())}")
    profile = PROFILES[config.profile]
    threads = positive_int(config.threads, "--threads", allow_none=True)
    n_seeds = positive_int(config.seeds, "--seeds")
    timeout = positive_float(config.timeout_s, "--timeout") or float(profile.timeout_s)
    inference = profile.inference.overridden(
        positive_int(config.infer_batch, "--infer-batch", allow_none=True),
        positive_int(config.infer_min_repeats, "--infer-min-repeats", allow_none=True),
        positive_float(config.infer_min_seconds, "--infer-min-seconds"),
    )
    target = positive_float(config.target, "--target")
    if target is not None and target > 1:
        raise BenchError(
            f"--target is a validation accuracy as a fraction in (0, 1], e.g. 0.99; got {config.target!r}"
        )
    executor = executors.make(
        config.executor,
        positive_int(config.workers, "--workers"),
        config.scheduler,
        executors.parse_size(config.memory_limit, "--memory-limit"),
    )
    has_gpu = planner.gpu_available()
    names, datasets, overrides, grid = (
        list(config.models),
        list(config.datasets),
        list(config.overrides),
        list(config.grid),
    )
    precisions = tuple(dict.fromkeys(config.precisions))
    runtimes = tuple(dict.fromkeys(config.runtimes))
    # bad names, --set, --grid, device, precision: fail now (a cluster's GPUs are counted once connected)
    planner.plan(
        names,
        datasets,
        config.profile,
        config.device,
        [0],
        overrides,
        has_gpu or executor.name != "local",
        grid=grid,
        precisions=precisions,
        runtimes=runtimes,
    )
    out = Path(config.out)
    runner.check_writable(out / "runs", keep=False)  # the run itself creates it
    return Request(
        names,
        datasets,
        config.profile,
        config.device,
        n_seeds,
        out,
        config.resume,
        threads or envinfo.usable_cores(),
        timeout,
        inference.as_dict(),
        overrides,
        bool(config.deterministic),
        has_gpu,
        save_models=config.save_models,
        grid=grid,
        executor=executor,
        threads_given=threads is not None,
        target=target,
        resumable=resumable,
        scratch=scratch,
        robustness=bool(config.robustness),
        precisions=precisions,
        runtimes=runtimes,
        plots=bool(config.plots),
    )


_TUPLES = {
    "models": "model names",
    "datasets": "--dataset",
    "overrides": "--set",
    "grid": "--grid",
    "precisions": "--precision",
    "runtimes": "--runtime",
    "plugins": "--plugin",
}
_BOOLS = {
    "resume": "--resume",
    "deterministic": "--deterministic",
    "robustness": "--robustness",
    "save_models": "--no-save-models",
    "plots": "--no-plots",
}


def _check_types(config: RunConfig) -> None:
    """The fields a script could fill with the wrong kind of value: a list field given one
    string (it would be read letter by letter), a yes/no field given anything but a bool."""
    for name, flag in _TUPLES.items():
        value = getattr(config, name)
        if isinstance(value, (str, bytes)) or not all(isinstance(v, (str, Path)) for v in value):
            raise BenchError(f"RunConfig.{name} ({flag}) must be a tuple of strings, got {value!r}")
    for name, flag in _BOOLS.items():
        if not isinstance(getattr(config, name), bool):
            raise BenchError(
                f"RunConfig.{name} ({flag}) must be True or False, got {getattr(config, name)!r}"
            )


def connect(req: Request) -> None:
    """Start the executor; on a cluster, take the thread budget and GPU presence from its
    workers (unless ``--threads`` was given)."""
    start = getattr(req.executor, "start", None)
    if start is None:
        return
    start()
    if not req.threads_given:
        req.threads = req.executor.default_threads()
    req.has_gpu = req.executor.has_gpu()


def plan(req: Request, corrupted: bool = True) -> list:
    """Fetch and verify each dataset once (and, with ``corrupted`` and robustness on, build
    or load its corrupted test set), refuse splits missing a class, expand the jobs."""
    from bench import data
    from bench.measure.profiles import PROFILES
    from bench.prep.preprocess import missing_classes, prepare_splits

    digests, val_splits = {}, {}
    for name in req.datasets:
        ds = data.load(name)
        s = ds.splits
        prep = prepare_splits(s, PROFILES[req.profile].split)
        for split, y in (("train", prep.y_train), ("validation", prep.y_val)):
            if missing_classes(y):
                raise BenchError(
                    f"dataset {name} ({req.profile} profile): the {split} split has no images of "
                    f"class(es) {', '.join(map(str, missing_classes(y)))}; every class 0..9 is needed"
                )
        digests[name], val_splits[name] = s.digest(), prep.val_split
        print(f"dataset {name}: {len(s.y_train)} train / {len(s.y_test)} test ({ds.source})")
        if (
            req.robustness and corrupted
        ):  # built once here, before any job: never inside another job's timed fit
            from bench.data import corrupted

            cset = corrupted.load(s.x_test, s.y_test, s.test_digest())
            print(
                f"corrupted test set of {name}: {len(cset.names)} corruptions x {len(cset.labels)} images "
                f"({cset.source})"
            )
    return planner.plan(
        req.names,
        req.datasets,
        req.profile,
        req.device,
        list(range(req.n_seeds)),
        req.overrides,
        req.has_gpu,
        deterministic=req.deterministic,
        digests=digests,
        threads=req.threads,
        inference=req.inference,
        grid=req.grid,
        target=req.target,
        robustness=req.robustness,
        precisions=req.precisions,
        val_splits=val_splits,
        runtimes=req.runtimes,
    )


def run(req: Request, jobs: list) -> list:
    """Run the jobs; on Ctrl-C or SIGTERM publish what finished, print the resume command
    and exit 130."""
    from bench.publish import leaderboard as report
    from bench.run import progress, runner

    if (
        getattr(req.executor, "scheduler", None) is None
    ):  # jobs run on this host: its peaks, before any job
        print(machine_line(req.threads))
    print(f"{len(jobs)} job(s), {req.threads} thread(s) each, records -> {req.runs_dir}")
    if req.executor is not None and req.executor.name != "local":
        print(req.executor.describe())
    # A shell starts background jobs with SIGINT ignored, and children inherit that; the
    # suite must still stop on Ctrl-C (or a test's SIGINT) however it was started.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return runner.run_suite(
            jobs,
            req.runs_dir,
            req.timeout_s,
            resume=req.resume,
            save_models=req.save_models,
            executor=req.executor,
            progress=progress.choose(),
        )
    except runner.Interrupted as stop:
        if not req.scratch:
            report.write_leaderboard(req.out)
        print(
            f"\n{stopped_text(stop, req)}\n{again_hint(sys.argv[1:], req.resumable)}",
            file=sys.stderr,
        )
        raise SystemExit(stop.exit_code) from None
    finally:
        signal.signal(signal.SIGINT, previous)


def machine_line(threads: int) -> str:
    """This host's peaks at ``threads`` (``bench.measure.peaks``; measured now, once per
    hardware fingerprint, when not cached) in one line; a failure to measure is said, not raised."""
    from bench.measure import peaks

    entry = peaks.for_record(threads)
    if "error" in entry:
        return f"machine peaks: not measured ({entry['error']})"
    named = [
        f"{peaks.PEAK_NAMES[k]} {entry[k]:,.0f} GFLOP/s"
        for k in ("tf_fp32_matmul_gflops", "tf_bf16_matmul_gflops", "numpy_fp32_gemm_gflops")
        if entry.get(k)
    ]
    return f"machine peaks ({threads} threads, measured {entry['measured_at'][:10]}): " + ", ".join(
        named + [f"memory copy {entry['stream_copy_gbs']:,.1f} GB/s"]
    )


def stopped_text(stop, req: Request) -> str:
    """What an interrupted suite kept and left undone."""
    kept = (
        "discarded with the temporary results folder" if req.scratch else f"kept in {req.runs_dir}"
    )
    return (
        f"{stop.reason}: {len(stop.outcomes)} finished job(s) {kept}, no record written for the unfinished "
        f"ones; {stop.pending} job(s) not done."
    )


def again_hint(argv: list[str], resumable: bool | None) -> str:
    """The command that finishes an interrupted suite: ``argv`` with ``--resume`` for a
    command that has it (``run``); for ``resumable`` None (a script) the RunConfig to run
    again; the same command again for one that has not
    (``baseline update``, ``check --run``: each job runs anew)."""
    if resumable is None:  # ``bench.run_suite`` from a script: no command line to repeat
        return "resume with: the same RunConfig with resume=True"
    again = " ".join(shlex.quote(a) for a in argv if a != "--resume")
    if resumable:
        return f"resume with: python -m bench {again} --resume"
    return f"this command has no --resume; run it again (every job anew): python -m bench {again}"


def publish(req: Request, outcomes: list, started: float | None = None) -> None:
    """Rebuild the results folder's leaderboard and print what failed and what diverged
    (a diverged job is a result, not a failure: it does not make ``run`` exit 1), and the
    suite's overhead (``bench.run.overhead``) from ``started`` (``time.perf_counter()``)."""
    import time

    from bench.publish import leaderboard as report
    from bench.run import overhead

    if not req.scratch:  # a temporary folder (``check --run``) is removed: no leaderboard for it
        print(f"\nleaderboard: {report.write_leaderboard(req.out, plots=req.plots)}")
    if started is not None:
        print("\n".join(overhead.summary(outcomes, time.perf_counter() - started)))
    bad = [o for o in outcomes if o.status in ("failed", "timeout")]
    diverged = [o for o in outcomes if o.status == "diverged"]
    for o in bad + diverged:
        print(f"  {o.status}: {o.job.title()}: {o.record.get('error') if o.record else ''}")
    print(
        f"{len(outcomes) - len(bad)} of {len(outcomes)} job(s) without failure"
        + (
            f" ({len(diverged)} diverged: a result, see the leaderboard's jobs without a result)"
            if diverged
            else ""
        )
    )


def preview(config: RunConfig) -> list:
    """``run --dry-run``: what ``execute`` would run, without running it. Checks every option,
    loads the plugins and fetches and verifies the datasets as ``execute`` does, expands the
    jobs and prints them, marking those ``--resume`` would skip (a result of the same
    configuration and seed already in ``out``) and those that will only get a ``skipped``
    record. A Dask executor is connected as for the run (its workers set the thread budget
    and whether there is a GPU, both in a job's identity), then closed. Measures no peak,
    builds no corrupted set, trains nothing and writes nothing in ``out``. Returns the jobs."""
    from bench.run import runner

    req = validate(config)
    try:
        connect(req)
        jobs = plan(req, corrupted=False)
    finally:
        req.executor.close()
    existing = runner.existing_results(jobs, req.runs_dir, req.executor)
    print(f"dry run: {len(jobs)} job(s), {req.threads} thread(s) each, records -> {req.runs_dir}")
    for i, (job, run_id) in enumerate(zip(jobs, existing), start=1):
        print(f"  {i}/{len(jobs)} {job.title()}{_preview_note(job, run_id, req.resume)}")
    would_skip = sum(run_id is not None for run_id in existing)
    if would_skip:
        verb = "skips" if req.resume else "would skip"
        print(
            f"{would_skip} of {len(jobs)} already have a result in {req.runs_dir}: --resume {verb} them"
        )
    print("nothing was trained or written (without --dry-run the jobs above run)")
    return jobs


def _preview_note(job, run_id: str | None, resume: bool) -> str:
    """A dry run's remark on one job: a ``skipped`` record's reason, or its existing result."""
    if job.skip_reason:
        return f"  [skipped: {job.skip_reason}]"
    if run_id is not None:
        return f"  [has a result: {run_id}{'; skipped' if resume else ''}]"
    return ""


def execute(config: RunConfig, scratch: bool = False, resumable: bool | None = True) -> list:
    """validate -> plan -> run -> publish; returns the outcomes (``scratch``, ``resumable``:
    see ``validate``)."""
    import time

    started = time.perf_counter()
    req = validate(config, scratch, resumable)
    try:
        connect(req)
        jobs = plan(req)
        outcomes = run(req, jobs)
    finally:
        req.executor.close()
    publish(req, outcomes, started)
    return outcomes
