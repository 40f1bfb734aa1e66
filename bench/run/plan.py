"""The plan: a request (models, datasets, profile, device, seeds, ``--set``, ``--grid``)
expanded into jobs, each one configuration and seed.

A job is (model, dataset, profile, device, seed) plus resolved hyper-parameters (one point
of a ``--grid``) and the settings that change what is measured (threads, inference
protocol, determinism, target, precision). Its identity is ``bench.records.identity``'s, the same one
every view of the records uses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bench import records
from bench.core import envinfo, hardware
from bench.core.errors import BenchError
from bench.records import identity

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
    target: float | None = (
        None  # ``--target``: stop at this validation accuracy (None: train it all)
    )
    robustness: bool = (
        True  # measure the MNIST-C corruptions too (``--robustness``); not in the identity
    )
    recipe: str | None = (
        None  # the dataset whose own defaults applied (``dataset_defaults``), else None
    )
    precision: str = (
        "fp32"  # ``--precision``: fp32, or Keras mixed precision bf16 / fp16 (in the identity)
    )
    origin: dict | None = (
        None  # where the adapter came from (``Adapter.origin``): a worker registers it again
    )
    library: str = ""  # the library the model is saved with (``Adapter.library``), for model cards
    defaults: dict | None = (
        None  # the adapter's defaults for this job: labels read them where it is not installed
    )
    val_split: str = (
        "images"  # how validation is carved: by "writers" (MNIST) or "images" (in the identity)
    )
    runtime: str = "native"  # ``--runtime``: what serves the predictions (in the identity)

    def key(self, without: tuple[str, ...] = ()) -> tuple:
        """THE identity of this job's configuration (``bench.records.identity``, on this
        machine's hardware) and its seed: what ``--resume`` compares."""
        gpu = (
            hardware.gpu_model({"gpus": local_gpus()}, self.device)
            if self.device == "gpu"
            else None
        )
        return (identity.of_job(self.as_dict(), gpu=gpu).key(without), self.seed)

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "family": self.family,
            "dataset": self.dataset,
            "profile": self.profile,
            "device": self.device,
            "seed": self.seed,
            "params": self.params,
            "params_hash": records.params_hash(self.params),
            "deterministic": self.deterministic,
            "threads": self.threads,
            "inference": self.inference,
            "data_digest": self.data_digest,
            "target": self.target,
            "robustness": self.robustness,
            "recipe": self.recipe,
            "precision": self.precision,
            "origin": self.origin,
            "library": self.library,
            "defaults": self.defaults,
            "val_split": self.val_split,
            "runtime": self.runtime,
        }

    def title(self) -> str:
        name = f"{self.model} {self.tag}" if self.tag else self.model
        name += f" {self.precision}" if self.precision != "fp32" else ""
        name += f" {self.runtime}" if self.runtime != "native" else ""
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
            raise BenchError(
                f"--set {item!r}: model {model!r} is not in this run; models: {', '.join(model_names)}"
            )
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
            raise BenchError(
                f"--grid {item!r}: expected MODEL.KEY=V1,V2,..., e.g. cnn-small.lr=1e-3,3e-3"
            )
        if model not in model_names:
            raise BenchError(
                f"--grid {item!r}: model {model!r} is not in this run; models: {', '.join(model_names)}"
            )
        if key in out.get(model, {}):
            raise BenchError(
                f"--grid {item!r}: {model}.{key} is swept twice; give its values in one --grid"
            )
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
            raise BenchError(
                f"--grid {cls.name}.{key}: unknown hyper-parameter; "
                f"{cls.name} has: {', '.join(sorted(base))}"
            )
        if key in fixed:
            raise BenchError(f"{cls.name}.{key} is given by both --set and --grid; give it once")
    keys = list(sweep)
    typed = [[parse_value(v, base[k], f"--grid {cls.name}.{k}") for v in sweep[k]] for k in keys]
    return [{**base, **dict(zip(keys, combo))} for combo in itertools.product(*typed)]


def resolve_params(
    cls, profile: str, overrides: dict[str, str], dataset: str | None = None
) -> dict:
    """The adapter's defaults for ``profile`` (and ``dataset``'s recipe, where it declares
    one: ``defaults_for``) with the user's overrides applied and typed."""
    params, _ = cls.defaults_for(profile, dataset)
    for key, raw in overrides.items():
        if key not in params:
            raise BenchError(
                f"--set {cls.name}.{key}: unknown hyper-parameter; "
                f"{cls.name} has: {', '.join(sorted(params))}"
            )
        params[key] = parse_value(raw, params[key], f"--set {cls.name}.{key}")
    return params


def points(
    classes, datasets, profile: str, by_model: dict, sweeps: dict
) -> dict[tuple[str, str], list[dict]]:
    """``(model, dataset) -> [parameter set, ...]``: each dataset's defaults (its recipe where
    the adapter declares one), the ``--set`` overrides, then the ``--grid`` points; each point
    checked by the adapter (``BenchError`` naming the model when it refuses one)."""
    out = {}
    for cls in classes:
        for dataset in datasets:
            fixed = by_model.get(cls.name, {})
            out[cls.name, dataset] = expand_grid(
                cls, resolve_params(cls, profile, fixed, dataset), sweeps.get(cls.name, {}), fixed
            )
            for point in out[cls.name, dataset]:
                try:
                    cls.check_params(point)
                except ValueError as e:
                    raise BenchError(f"{cls.name}: {e}") from None
                except Exception as e:  # noqa: BLE001 - a plugin's check_params that breaks is the plugin's
                    raise BenchError(
                        f"{cls.name}: check_params raised {type(e).__name__}: {e}"
                    ) from None
    return out


def local_gpus() -> list[dict]:
    """``envinfo.gpus()`` of this machine, asked once per process (``nvidia-smi`` is slow)."""
    global _GPUS
    if _GPUS is None:
        _GPUS = envinfo.gpus()
    return _GPUS


_GPUS: list[dict] | None = None


def gpu_available() -> bool:
    """True when an NVIDIA GPU is visible (``nvidia-smi``), without importing a framework."""
    return bool(envinfo.gpus())


def record_key(rec: dict, without: tuple[str, ...] = ()) -> tuple:
    """``Job.key`` of the job a record came from."""
    return (identity.of_record(rec).key(without), int(rec["job"]["seed"]))


def plan(
    model_names,
    datasets,
    profile,
    device,
    seeds,
    overrides,
    has_gpu,
    deterministic=False,
    digests: dict | None = None,
    threads: int | None = None,
    inference: dict | None = None,
    grid: list[str] | None = None,
    target: float | None = None,
    robustness: bool = True,
    precisions: tuple[str, ...] = ("fp32",),
    val_splits: dict | None = None,
    runtimes: tuple[str, ...] = ("native",),
) -> list[Job]:
    """Expand the request into jobs, in the order they run: seed by seed (every dataset,
    model, grid point and device for seed 0, then seed 1 ...), so that drift of the machine
    over a long suite spreads over all models instead of reading as one model's seed-to-seed
    variance. ``grid`` (``MODEL.KEY=V1,V2``) sweeps the Cartesian product of its values; each
    point is its own parameter set (own hash, own leaderboard row, own ``--resume`` key).

    ``device="gpu"`` without a GPU is a ``BenchError`` (fail fast); ``device="all"`` plans
    the GPU jobs anyway, marked to be recorded as ``skipped`` with the reason. Each of
    ``precisions`` is one more job per point (``bench.run.precision`` refuses those the
    models, the device or this processor cannot run). ``val_splits``: dataset -> its
    validation split ("writers" or "images", ``preprocess.val_split_of``; "images" where
    not given). Each of ``runtimes`` (``RUNTIMES``) is one more job per point too: the model
    trained as usual, then served by that runtime (ONNX Runtime runs on the CPU only).
    """
    from bench.adapters import registry
    from bench.run import precision as precision_rules

    if device not in DEVICES:
        raise BenchError(f"unknown device {device!r}; choose from: {', '.join(DEVICES)}")
    if device == "gpu" and not has_gpu:
        raise BenchError(
            "--device gpu: no GPU found (nvidia-smi lists none); use --device cpu or all"
        )
    classes = [registry.get(name) for name in model_names]
    precision_rules.check(precisions, classes, device, has_gpu)
    check_runtimes(runtimes, device)
    sweeps = parse_grid(grid or [], [c.name for c in classes])
    params = points(
        classes, datasets, profile, parse_overrides(overrides, [c.name for c in classes]), sweeps
    )
    wanted = ("cpu", "gpu") if device == "all" else (device,)
    jobs = []
    for seed in seeds:
        for dataset in datasets:
            for cls in classes:
                recipe = cls.defaults_for(profile, dataset)[1]
                for point in params[cls.name, dataset]:
                    for dev, prec, runtime in itertools.product(wanted, precisions, runtimes):
                        if dev not in cls.devices:
                            continue  # e.g. scikit-learn models have no GPU path
                        skip = None if dev == "cpu" or has_gpu else "no GPU found on this machine"
                        tag = " ".join(
                            f"{k}={point[k]:g}"
                            if isinstance(point[k], float)
                            else f"{k}={point[k]}"
                            for k in sweeps.get(cls.name, {})
                        )
                        jobs.append(
                            Job(
                                cls.name,
                                cls.family,
                                dataset,
                                profile,
                                dev,
                                seed,
                                point,
                                skip,
                                deterministic,
                                (digests or {}).get(dataset),
                                threads,
                                inference,
                                tag,
                                target,
                                robustness,
                                recipe,
                                prec,
                                dict(cls.origin),
                                cls.library,
                                cls.defaults_for(profile, dataset)[0],
                                (val_splits or {}).get(dataset, "images"),
                                runtime,
                            )
                        )
    if not jobs:
        raise BenchError(
            f"nothing to run: none of {', '.join(model_names)} supports device {device!r}"
        )
    return jobs


def check_runtimes(runtimes, device: str) -> None:
    """``BenchError`` (one line, naming what is accepted) for a ``--runtime`` value that is
    not one of ``onnx_runtime.RUNTIMES``, none at all, or ONNX Runtime asked of a GPU job
    (its CPU provider is the one the harness serves with)."""
    from bench.adapters import onnx_runtime

    onnx_runtime.require_known(runtimes)
    if "onnxruntime" in runtimes and device != "cpu":
        raise BenchError(
            f"--runtime onnxruntime serves models on the CPU; with --device {device} use "
            "--device cpu (or --runtime native)"
        )
