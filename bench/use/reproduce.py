"""The command that makes a record's configuration again: ``python -m bench run`` with every
flag that changed the job (hyper-parameters that differ from the adapter's defaults, seed,
device, threads, determinism, target, precision, robustness, the inference protocol, the
plugin file or trained file it came from), so a model card can say how to reproduce it."""

from __future__ import annotations

import shlex

from bench.core.errors import BenchError


def reproduce_command(rec: dict) -> str:
    """The ``python -m bench run ...`` line that trains this job's configuration again:
    every hyper-parameter that differs from the adapter's defaults as ``--set``, and the
    seed as ``--seeds seed+1`` (seeds run 0..N-1, this one last)."""
    job, model, cls = rec["job"], rec["job"]["model"], _adapter(rec["job"]["model"])
    defaults = (
        cls.defaults_for(job["profile"], job["dataset"])[0]
        if cls and job["profile"] in cls.defaults
        else (job.get("defaults") or {})
    )  # a plugin not loaded here: the defaults its job stated
    if (job.get("origin") or {}).get(
        "kind"
    ) == "file":  # a trained file: its params are its identity
        defaults = {**job.get("params", {}), "input_scale": 1}
    sets = [
        f"{model}.{k}={cli_value(v)}"
        for k, v in sorted(job.get("params", {}).items())
        if k not in defaults or defaults[k] != v or type(defaults[k]) is not type(v)
    ]
    optional = [
        (job.get("device", "cpu") != "cpu", ["--device", str(job.get("device"))]),
        (bool(job.get("seed")), ["--seeds", str(int(job.get("seed") or 0) + 1)]),
        *((True, ["--set", s]) for s in sets),
        (bool(job.get("threads")), ["--threads", str(job.get("threads"))]),
        (bool(job.get("deterministic")), ["--deterministic"]),
        (job.get("target") is not None, ["--target", cli_value(job.get("target"))]),
        ((job.get("precision") or "fp32") != "fp32", ["--precision", str(job.get("precision"))]),
        ((job.get("runtime") or "native") != "native", ["--runtime", str(job.get("runtime"))]),
        (job.get("robustness") is False, ["--robustness", "off"]),
    ]
    origin = job.get("origin") if isinstance(job.get("origin"), dict) else {}
    if origin.get("kind") == "plugin-file":
        optional.append((True, ["--plugin", str(origin.get("path"))]))
    if origin.get("kind") == "file":  # an already-trained file: measured again, not trained
        optional.append((True, ["--with", str(origin.get("path"))]))
        for key, value in sorted(
            (origin.get("options") or {}).items()
        ):  # its input convention, as given
            optional.append((True, [f"--{key.replace('_', '-')}", str(value)]))
    args = [
        model,
        "--dataset",
        job["dataset"],
        "--profile",
        job["profile"],
        *(flag for on, flags in optional if on for flag in flags),
        *_inference_flags(job),
    ]
    return "python -m bench run " + " ".join(shlex.quote(a) for a in args)


def _inference_flags(job: dict) -> list[str]:
    """``--infer-*`` flags for an inference protocol other than the profile's."""
    from bench.measure.profiles import PROFILES

    got, base = job.get("inference"), PROFILES.get(job["profile"])
    want = base.inference.as_dict() if base else None
    pairs = [
        ("--infer-batch", lambda p: p["large_batch"]),
        ("--infer-min-repeats", lambda p: p["large"]["min_repeats"]),
        ("--infer-min-seconds", lambda p: p["large"]["min_seconds"]),
    ]
    return [
        x
        for flag, pick in pairs
        if got and want and pick(got) != pick(want)
        for x in (flag, cli_value(pick(got)))
    ]


def cli_value(value) -> str:
    """``value`` as ``--set`` reads it back (``plan.parse_value``): exact floats, true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _adapter(model: str):
    """The adapter class registered as ``model``, or None (a plugin not installed here)."""
    from bench.adapters import registry

    try:
        return registry.get(model)
    except BenchError:
        return None
