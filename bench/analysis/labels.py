"""Row labels: the model's name plus what sets a row apart from its table's usual settings
(non-default hyper-parameters, the dataset recipe, threads, target, precision, runtime, job slots,
inference protocol, other data, determinism or, where a table holds both, the validation split) and where the model came from (``[plugin]``,
``[evaluated]``). ``leaderboard.reproduce_commands`` reads the labels back into flags."""

from __future__ import annotations

import json
from collections import Counter

from bench.records.shape import number


def defaults_of(model: str, profile: str, dataset: str | None = None) -> tuple[dict, str | None]:
    """The defaults a job of ``model`` on ``dataset`` starts from now, and the recipe that
    applied (``Adapter.defaults_for``); ``({}, None)`` for a model or profile no longer known."""
    from bench.adapters import registry
    from bench.core.errors import BenchError

    try:
        cls = registry.get(model)
    except BenchError:
        return {}, None
    return cls.defaults_for(profile, dataset) if profile in cls.defaults else ({}, None)


def params_text(
    model: str, params: dict, profile: str, dataset: str | None = None, stated: dict | None = None
) -> list[str]:
    """``key=value`` for each hyper-parameter that differs from the model's defaults for
    ``profile`` on ``dataset`` (its recipe there, where it has one). For a model not registered
    here (a plugin not loaded), the defaults its record ``stated`` (``job.defaults``); every
    parameter when there are none (records made before jobs stated them)."""
    if {"file", "sha256", "input_layout"} <= set(
        params
    ):  # a trained file: its params are its identity
        return [f"input_scale={params['input_scale']}"] if params.get("input_scale", 1) != 1 else []
    defaults = defaults_of(model, profile, dataset)[0] or (
        stated if isinstance(stated, dict) else {}
    )
    return [
        f"{k}={params[k]:g}" if isinstance(params[k], float) else f"{k}={params[k]}"
        for k in sorted(params)
        if k not in defaults or params[k] != defaults[k]
    ]


def _precision(last) -> str:
    """`` precision=bf16`` for a row of a mixed-precision job (``--precision``); fp32 rows say nothing."""
    value = last.get("identity.precision")
    return f" precision={value}" if isinstance(value, str) and value != "fp32" else ""


def _runtime(last) -> str:
    """`` runtime=onnxruntime`` for a row served by ONNX Runtime (``--runtime``), and a
    warning when its export changed any test prediction's class; native rows say nothing."""
    value = last.get("identity.runtime")
    if not isinstance(value, str) or value == "native":
        return ""
    changes = number(last.get("exported.parity.class_changes"))
    return f" runtime={value}" + (f" ⚠ {changes:.0f} class changes" if changes else "")


def _label(
    model: str,
    params: dict,
    where: tuple[str, str | None],
    threads,
    protocol: str,
    common_threads,
    common_protocol,
    shared: int = 1,
    common_shared: int = 1,
    target: float | None = None,
) -> str:
    """The model name, ``[<dataset> recipe]`` when the record says that dataset's own defaults
    applied, plus what differs from those defaults and from the table's usual settings.
    ``where``: ``(profile, recipe, stated)``: the recipe as the record's ``job.recipe`` has it,
    the defaults the record stated (``job.defaults``, for a model not registered here)."""
    profile, recipe, stated = where
    parts = params_text(model, params, profile, recipe, stated)
    if recipe:
        parts.insert(0, f"[{recipe} recipe]")
    if threads != common_threads:
        parts.append(f"threads={threads}")
    if target is not None:
        parts.append(f"target={target:g}")
    if shared != common_shared:
        parts.append(f"[{shared} job slots/host]" if shared > 1 else "[one job at a time]")
    if protocol != common_protocol:
        p = json.loads(protocol) if protocol else {}
        parts.append(
            f"infer-batch={p.get('large_batch')}, min-repeats={p.get('large', {}).get('min_repeats')}"
        )
    return " ".join([model, *parts])


ORIGIN_WORDS = {
    "plugin-file": "[plugin]",
    "entry-point": "[plugin]",
    "env": "[plugin]",
    "file": "[evaluated]",
}


def _origin(last) -> str:
    """`` [plugin]`` for a model that is not one of the harness's own (a plugin file, another
    package's entry point, ``BENCH_EXTRA_MODELS``), `` [evaluated]`` for a trained file
    measured without training here; nothing for the built-in families."""
    word = ORIGIN_WORDS.get(last.get("job.origin.kind"))
    return f" {word}" if word else ""


def recipe_of(last) -> str | None:
    """The dataset whose own defaults the record says applied (``job.recipe``), else None
    (the profile's defaults; records from before recipes existed)."""
    recipe = last.get("job.recipe")
    return recipe if isinstance(recipe, str) and recipe else None


def _unusual(last, usual: dict) -> str:
    """Label words for identity fields in which a row differs from its table's usual value:
    other data (``data=<digest>``), determinism, the validation split (``[random val]`` /
    ``[writer val]``: ``bench.prep.preprocess.VAL_SPLITS``), or the version of a model's
    plugin or file (``[sha256:...]``, when one table holds two), so two rows never read the same."""
    words = []
    if last["identity.data_digest"] != usual["identity.data_digest"]:
        words.append(f"data={str(last['identity.data_digest'])[:8]}")
    if last["row.deterministic"] != usual["row.deterministic"]:
        words.append("deterministic" if last["row.deterministic"] else "nondeterministic")
    if last.get("identity.val_split", "images") != usual.get("identity.val_split", "images"):
        words.append(
            "[random val]"
            if last.get("identity.val_split", "images") == "images"
            else "[writer val]"
        )
    if last["job.model"] in usual.get("several_sources", ()):  # two versions of one plugin or file
        words.append(f"[{last.get('identity.source')}]")
    return "".join(f" {w}" for w in words)


def usual_settings(ok) -> dict:
    """The most common value, over a group's ``ok`` records, of each setting a row's label
    mentions only when it differs: threads, inference protocol, job slots, data, determinism,
    validation split."""
    cols = (
        "row.threads",
        "row.protocol",
        "row.side_by_side",
        "identity.data_digest",
        "row.deterministic",
        "identity.val_split",
    )
    usual = {col: Counter(ok[col]).most_common(1)[0][0] for col in cols if col in ok.columns}
    if "identity.source" in ok.columns:  # models measured from two versions of their plugin or file
        sources = ok.groupby("job.model")["identity.source"].agg(lambda s: len(set(s)))
        usual["several_sources"] = {m for m, n in sources.items() if n > 1}
    return usual


def label_of(last, profile: str, usual: dict) -> str:
    """The label of the row whose newest record is ``last`` (a flattened record)."""
    where = (profile, recipe_of(last), last.get("job.defaults"))
    return (
        _label(
            last["job.model"],
            last["job.params"],
            where,
            last["row.threads"],
            last["row.protocol"],
            usual["row.threads"],
            usual["row.protocol"],
            last["row.side_by_side"],
            usual["row.side_by_side"],
            last["row.target"],
        )
        + _precision(last)
        + _runtime(last)
        + _origin(last)
        + _unusual(last, usual)
    )
