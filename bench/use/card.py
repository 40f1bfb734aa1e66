"""Model cards: a ``README.md`` beside every saved model, in Hugging Face's model-card form.

The card is built from the model's run record alone (``card_text``, pure and deterministic,
so a card written by the job and one rewritten later by ``python -m bench card`` are the
same): YAML front matter written with ``huggingface_hub``'s ``ModelCardData`` (library,
tags, dataset, metrics, and a ``model-index`` of ``EvalResult`` entries: test accuracy and
its 95% interval, mean MNIST-C accuracy, ECE, Brier), then what the model is, how it
was trained and how to train it again, how to use it with this harness, and limitations read
off the measurements. A figure the record lacks (no robustness, a non-finite value) is left
out, never written as None or NaN. The project declares no license, so the card names none.
The interval is not in the record: it comes from its per-image outcomes, as the
leaderboard's one-seed interval (``bench.analysis.uncertainty``: writers the unit on MNIST).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench import records
from bench.core import atomic
from bench.core.errors import BenchError
from bench.measure.calibration import confidence_gap
from bench.measure.timing import latency_ms
from bench.use import artifacts, coldstart
from bench.use.reproduce import cli_value, reproduce_command

CARD = "README.md"
TASK = "image-classification"
LIBRARY_VERSIONS = {
    "scikit-learn": ("scikit-learn",),
    "xgboost": ("xgboost", "xgboost-cpu"),
    "keras": ("keras", "tensorflow", "tensorflow-cpu"),
    "onnx": ("onnx", "onnxruntime"),
}
HUB_DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
PRETTY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "digits": "scikit-learn digits"}
WORST = 3  # classes and corruptions named under Limitations
WRITERS_VAL = " (whole writers, none of them in training)"  # a writer-disjoint validation split
PCT, FIX = "{:.2%}", "{:.4f}"


def card_text(rec: dict) -> str:
    """The model card of ``rec`` (an ``ok`` record with a saved model) as Markdown with YAML
    front matter; depends on nothing but ``rec`` (and the adapter's registry entry)."""
    from huggingface_hub import ModelCard

    body = "\n\n".join(
        part
        for part in (
            _summary(rec),
            _model(rec),
            _training(rec),
            _results(rec),
            _usage(rec),
            _limitations(rec),
        )
        if part
    )
    return str(
        ModelCard(f"---\n{_card_data(rec).to_yaml()}\n---\n\n{body}\n")
    )  # parses what it wrote


def write(folder: Path, rec: dict) -> Path:
    """Write ``rec``'s card atomically as ``folder/README.md``; returns its path."""
    path = Path(folder) / CARD
    atomic.write_text(path, card_text(rec))
    return path


def write_all(results_dir: Path) -> list[Path]:
    """(Re)write the card of every saved model under ``<results_dir>/models`` whose ``ok``
    record is in ``<results_dir>/runs`` (models saved before cards existed included);
    returns the cards written, in record order. ``BenchError`` when ``results_dir`` holds
    no ``runs/`` folder; a model folder whose manifest is unreadable or belongs to another
    run is skipped with a warning on stderr."""
    results_dir = Path(results_dir)
    runs = results_dir / "runs"
    if not runs.is_dir():
        raise BenchError(
            f"{results_dir}: not a results folder (no runs/ in it; give the --out of a `bench run`)"
        )
    written = []
    for rec in records.read_all(runs):
        folder = results_dir / "models" / str(rec["run_id"])
        if (
            rec["status"] != "ok"
            or (rec.get("artifact") or {}).get("path") != f"models/{rec['run_id']}"
            or not (folder / artifacts.MANIFEST).is_file()
        ):
            continue
        try:
            owner = artifacts.read_manifest(folder).get("run_id")
        except BenchError as exc:
            owner = exc
        if owner != rec["run_id"]:
            print(
                f"warning: no card for {folder}: "
                + (f"its manifest is run {owner}'s" if isinstance(owner, str) else str(owner)),
                file=sys.stderr,
            )
            continue
        written.append(write(folder, rec))
    return written


def library_of(job: dict) -> str | None:
    """The library the model is saved with: what its adapter declared (``Adapter.library``;
    ``upgrade`` gives a built-in family's record made before adapters declared it the
    family's); None when it declared none."""
    return job.get("library") or None


def _card_data(rec: dict):
    """``ModelCardData``: library, tags, dataset, metrics and the ``model-index``."""
    from huggingface_hub import ModelCardData

    job, results, hub = rec["job"], _eval_results(rec), HUB_DATASETS.get(rec["job"]["dataset"])
    return ModelCardData(
        library_name=library_of(job),
        pipeline_tag=TASK,
        tags=[TASK, "mnist-bench", _dataset_tag(job["dataset"])],
        datasets=[hub] if hub else None,
        metrics=sorted({r.metric_type for r in results}) or None,
        model_name=f"{job['model']}-{_dataset_tag(job['dataset'])}-{rec['run_id']}",
        eval_results=results or None,
    )


def _eval_results(rec: dict) -> list:
    """One ``EvalResult`` per finite measured figure: test accuracy and its interval's bounds,
    ECE and Brier on the test set; mean accuracy on its MNIST-C corruptions."""
    from huggingface_hub import EvalResult

    dataset, cal, rob = (
        rec["job"]["dataset"],
        _section(rec, "calibration"),
        _section(rec, "robustness"),
    )
    ci = _interval(rec)
    low, high, what = (
        (ci.low, ci.high, f"unit: {ci.unit}, {ci.n_units:,} {ci.unit}s") if ci else (None, None, "")
    )
    figures = [
        ("accuracy", rec["metrics"].get("accuracy"), "Test accuracy"),
        ("accuracy_ci95_low", low, f"Test accuracy, 95% confidence interval lower bound ({what})"),
        (
            "accuracy_ci95_high",
            high,
            f"Test accuracy, 95% confidence interval upper bound ({what})",
        ),
        (
            "ece",
            cal.get("ece"),
            f"Expected calibration error (top label, {cal.get('n_bins')} equal-width bins)",
        ),
        ("brier", cal.get("brier"), "Brier score (multiclass, 0 best, 2 worst)"),
    ]
    where = {"task_type": TASK, "dataset_type": _dataset_type(dataset), "dataset_split": "test"}
    out = [
        EvalResult(
            **where,
            dataset_name=f"{_pretty(dataset)} test set",
            metric_type=metric,
            metric_value=records.number(value),
            metric_name=name,
        )
        for metric, value, name in figures
        if records.number(value) is not None
    ]
    if records.number(rob.get("mean_accuracy")) is not None:
        out.append(
            EvalResult(
                **where,
                dataset_config=rob.get("suite", "mnist-c"),
                metric_type="accuracy",
                dataset_name=f"{_pretty(dataset)} test set, MNIST-C corruptions "
                f"({rob.get('n_corruptions')} x {rob.get('n_per_corruption')} images)",
                metric_value=records.number(rob["mean_accuracy"]),
                metric_name="Mean corrupted accuracy",
            )
        )
    return out


def _summary(rec: dict) -> str:
    job, acc, interval = rec["job"], _fmt(rec["metrics"].get("accuracy"), PCT), _interval(rec)
    what = getattr(_adapter(job["model"]), "description", "") or "no description"
    text = (
        f"# {job['model']} on {_pretty(job['dataset'])} (mnist-bench run {rec['run_id']})\n\n"
        f"`{job['model']}`: {what}. Trained and measured by mnist-bench."
    )
    if acc and interval:
        text += (
            f" Test accuracy {acc} (95% confidence interval {interval.low:.2%} to {interval.high:.2%} "
            f"for its expected accuracy on new {'writers' if interval.unit == 'writer' else 'images'} "
            f"of the same kind; unit: {interval.unit}, {interval.n_units:,} {interval.unit}s)."
        )
    return text + (f" Test accuracy {acc}." if acc and not interval else "")


def _model(rec: dict) -> str:
    job, size, art = rec["job"], rec.get("size") or {}, rec.get("artifact") or {}
    rows = [
        f"- Adapter `{job['model']}` (family {job['family']}, registered in mnist-bench's `models/`)"
    ]
    if size.get("total") is not None:
        rows.append(
            f"- Parameters: {size['total']:,} ({size.get('trainable', 0):,} trainable)"
            + (f": {size['detail']}" if size.get("detail") else "")
        )
    rows.append(
        f"- FLOPs per image (one forward pass): {_fmt(size.get('flops_per_image'), '{:,.0f}') or 'not counted'}"
    )
    if art.get("bytes") is not None:
        rows.append(
            f"- Saved model: {art['bytes']:,} bytes, sha256 `{art.get('sha256')}`, beside this card with "
            "`model.json` (adapter, parameters, preprocessing view, dataset digest, probe)"
        )
    ref = rec.get("reference") or {}
    if records.number(ref.get("accuracy")) is not None:
        rows.append(
            f"- Published accuracy of the recipe it follows: {ref['accuracy']:.2%} ({ref.get('recipe', 'published recipe')})"
        )
    return "## Model\n\n" + "\n".join(rows)


def _training(rec: dict) -> str:
    job, data, timing, env = rec["job"], rec["data"], rec.get("timing") or {}, rec.get("env") or {}
    rows = [
        (
            f"- Dataset: {_pretty(job['dataset'])} (`{job['dataset']}`): {data.get('n_train', 0):,} training, "
            f"{data.get('n_val', 0):,} validation{WRITERS_VAL * (data.get('val_split') == 'writers')}, {data.get('n_test', 0):,} test images; source "
            f"{data.get('source')}; content digest `{str(data.get('digest'))[:16]}`"
        ),
        (
            f"- Profile `{job['profile']}`, seed {job['seed']}, device {job['device']}, "
            f"{job.get('threads') or 'all'} CPU threads"
        ),
        (
            f"- Defaults: the adapter's `{job['recipe']}` recipe (chosen on that dataset's validation split)"
            if job.get("recipe")
            else f"- Defaults: the adapter's `{job['profile']}` profile"
        ),
    ]
    fit, target = _fmt(timing.get("fit_s"), "{:.1f}"), timing.get("target") or {}
    if fit:
        rows.append(
            f"- Training: {fit} s for {timing.get('passes')} x {timing.get('pass_unit', 'pass')}"
            + (
                f" (stopped by `--target {target.get('value')}` after pass {target.get('at_pass')} of "
                f"{target.get('planned_passes')})"
                if target.get("stopped_early")
                else ""
            )
        )
    ev = rec.get("evaluated") if isinstance(rec.get("evaluated"), dict) else None
    if ev:
        rows.append(
            f"- Not trained here: the already-trained {ev.get('library')} file `{ev.get('name')}` (sha256 "
            f"`{str(ev.get('sha256'))[:16]}`), evaluated only; outputs: {ev.get('outputs')}"
        )
    rows.append(f"- Hardware: {_hardware(rec)}")
    if env.get("commit"):
        rows.append(
            f"- Code: mnist-bench commit `{env['commit'][:12]}`"
            + " with uncommitted changes" * bool(env.get("dirty"))
        )
    seeds = (
        f"; `--seeds {job['seed'] + 1}` trains seeds 0 to {job['seed']}, this model is the last"
        * bool(job["seed"])
    )
    params = "\n".join(
        f"| `{k}` | {cli_value(v)} |" for k, v in sorted(job.get("params", {}).items())
    )
    return (
        "## Training\n\n"
        + "\n".join(rows)
        + "\n\nHyper-parameters:\n\n| parameter | value |\n|---|---|\n"
        + params
        + f"\n\nTo {'measure' if ev else 'train'} it again (from the repository root"
        + seeds
        + "):\n\n```bash\n"
        + reproduce_command(rec)
        + "\n```"
    )


def _results(rec: dict) -> str:
    m, cal, rob = rec["metrics"], _section(rec, "calibration"), _section(rec, "robustness")
    inf = (rec.get("timing") or {}).get("inference") or {}
    rows = [
        ("test accuracy", _fmt(m.get("accuracy"), PCT)),
        ("macro F1", _fmt(m.get("macro_f1"), FIX)),
        ("log-loss", _fmt(m.get("log_loss"), FIX)),
        ("ECE", _fmt(cal.get("ece"), FIX)),
        ("Brier", _fmt(cal.get("brier"), FIX)),
        ("mean MNIST-C accuracy", _fmt(rob.get("mean_accuracy"), PCT)),
        ("throughput (images/s)", _fmt((inf.get("large") or {}).get("images_per_s"), "{:,.0f}")),
        ("batch-1 latency p50 (ms)", _fmt(latency_ms(inf.get("batch_1"), 50), "{:.3f}")),
    ]
    return "## Results (the test set)\n\n| measure | value |\n|---|---|\n" + "\n".join(
        f"| {k} | {v} |" for k, v in rows if v is not None
    )


def _usage(rec: dict) -> str:
    folder = f"results/models/{rec['run_id']}"
    return (
        "## Use it with mnist-bench\n\n"
        f"`{folder}` is this folder as seen from the directory that holds `results/` (the default `--out` of "
        "`python -m bench run`); wherever the folder lies, give its path instead (a copied folder works: the "
        "manifest and the sha256 travel with it).\n\n```bash\n"
        f"python -m bench predict {folder} image.png\npython -m bench evaluate {folder}\n```\n\n"
        "`predict` classifies PNG, JPEG, BMP or GIF files (or folders of them), brought into MNIST's form "
        "first; `--json` prints JSON. `evaluate` reloads the model, recomputes the test metrics on the dataset "
        "it was trained on, compares them with the record (found under `--out`, default `results/`) and checks "
        "that the probe probabilities are bit-identical. The model file is parsed only after its sha256 "
        "matches `model.json`."
    )


def _limitations(rec: dict) -> str:
    rows = [
        _worst_classes(rec),
        _worst_corruptions(rec),
        _calibration_note(rec),
        (
            f"- Every figure is from one test set ({rec['data'].get('n_test', 0):,} images of "
            f"{_pretty(rec['job']['dataset'])}) and one training run (seed {rec['job']['seed']}): the interval "
            "above covers the sampling of test images, not seed-to-seed spread, and says nothing about other data."
        ),
        _resources(rec),
    ]
    return "## Limitations\n\n" + "\n".join(r for r in rows if r)


def _worst_classes(rec: dict) -> str | None:
    per = rec["metrics"].get("per_class") or {}
    scored = sorted(
        (f1, int(c), v) for c, v in per.items() if (f1 := records.number(v.get("f1"))) is not None
    )
    named = ", ".join(
        f"class {c} (F1 {f1:.3f}, precision {_fmt(v.get('precision'), '{:.3f}')}, "
        f"recall {_fmt(v.get('recall'), '{:.3f}')})"
        for f1, c, v in scored[:WORST]
    )
    return f"- Weakest classes by F1: {named}." if scored else None


def _worst_corruptions(rec: dict) -> str | None:
    rob = _section(rec, "robustness")
    accs = sorted(
        (a, name)
        for name, v in (rob.get("corruptions") or {}).items()
        if (a := records.number((v or {}).get("accuracy"))) is not None
    )
    clean = records.number(rob.get("clean_accuracy"))
    if not accs or clean is None:
        return None
    named = ", ".join(f"{name} {a:.2%} ({100 * (a - clean):+.1f} pp)" for a, name in accs[:WORST])
    return (
        f"- Largest drops under the MNIST-C corruptions (clean accuracy on the same "
        f"{rob.get('n_per_corruption')} base images {clean:.2%}): {named}."
    )


def _calibration_note(rec: dict) -> str | None:
    """ECE, and mean confidence minus accuracy over the binned images: called over- or
    under-confident only beyond the test set's noise (``calibration.confidence_gap``)."""
    cal = _section(rec, "calibration")
    ece, gap = records.number(cal.get("ece")), confidence_gap(cal)
    if ece is None:
        return None
    text = (
        f"- Calibration: ECE {100 * ece:.2f} pp (the bin-weighted gap between top-label confidence and "
        "accuracy)"
    )
    if gap is None:
        return text + "."
    beyond = "beyond" if gap["lean"].endswith("-confident") else "within"
    lean = f"it is {gap['lean']}" if beyond == "beyond" else gap["lean"]
    return (
        f"{text}; overall {lean}: mean confidence minus accuracy {100 * gap['gap']:+.2f} pp, {beyond} the "
        f"±{100 * gap['threshold']:.2f} pp that test-set noise gives a calibrated model (1.96 standard errors)."
    )


def _resources(rec: dict) -> str | None:
    mem, cold = rec.get("memory") or {}, rec.get("cold_start") or {}
    predicting = _fmt(
        mem.get("inference_added_mb"), "{:.0f} MB added by predicting (above what was resident)"
    ) or _fmt(
        mem.get("inference_peak_mb"),
        "{:.0f} MB predicting (everything resident included, training's too)",
    )
    parts = [
        text
        for text in (
            _fmt(mem.get("train_peak_mb"), "peak resident memory {:.0f} MB training"),
            predicting,
        )
        if text
    ]
    if records.number(cold.get("load_s")) is not None:
        parts.append(
            f"a cold start ({coldstart.LABEL}: load and first prediction) of {cold['load_s']:.2f} s"
            + (_fmt(cold.get("process_s"), ", {:.2f} s with the interpreter's start") or "")
        )
    elif cold.get("error"):
        parts.append(f"the cold start failed when it was measured: {cold['error']}")
    return f"- Resources on the training machine: {', '.join(parts)}." if parts else None


def _fmt(value, template: str) -> str | None:
    """``template.format(value)`` for a finite number, None otherwise."""
    return None if (value := records.number(value)) is None else template.format(value)


def _section(rec: dict, name: str) -> dict:
    """A measured section, or {} when it is missing or holds only an ``error``."""
    sec = rec.get(name)
    return sec if isinstance(sec, dict) and "error" not in sec else {}


def _interval(rec: dict):
    """The leaderboard's interval for this one run (``uncertainty.accuracy_interval``: test
    sampling, the writer the unit where the test set's writers are known) from its per-image
    outcomes; from its accuracy and test-set size, images the unit, for a record without
    them; None without a finite accuracy."""
    from bench import measure
    from bench.analysis import uncertainty
    from bench.data import writers

    acc, n = records.number(rec["metrics"].get("accuracy")), rec["data"].get("n_test")
    if acc is None or not isinstance(n, int) or n <= 0:
        return None
    outcomes = rec.get("outcomes")
    if not isinstance(outcomes, dict):
        return uncertainty.from_accuracies([acc], n)
    mask = measure.correct_mask(outcomes)
    records.register_groups(rec)  # a user file's writers, carried by the record itself
    return uncertainty.accuracy_interval(
        {0: mask}, writers.test_groups(outcomes.get("test_digest"), len(mask))
    )


def _adapter(model: str):
    """The adapter class registered as ``model``, or None (a plugin not installed here)."""
    from bench.adapters import registry

    try:
        return registry.get(model)
    except BenchError:
        return None


def _hardware(rec: dict) -> str:
    env = rec.get("env") or {}
    line = (env.get("hardware") or {}).get(
        "title"
    ) or f"{env.get('cpu', 'unknown CPU')}, {env.get('cores')} cores"
    if rec["job"].get("device") == "gpu" and env.get("gpus"):
        line += "; GPU " + ", ".join(g.get("name", "?") for g in env["gpus"])
    libs = env.get("libraries") or {}
    library = library_of(rec["job"]) or ""
    names = ("python", *LIBRARY_VERSIONS.get(library, ()))
    versions = ", ".join(f"{k} {libs[k]}" for k in names if k in libs)
    return line + (f" ({versions})" if versions else "")


def _dataset_type(name: str) -> str:
    kind, sep, rest = name.partition(":")  # a user file: its kind and file name, not the whole path
    return HUB_DATASETS.get(name) or (f"{kind}:{Path(rest).name}" if sep else name)


def _dataset_tag(name: str) -> str:
    kind, sep, rest = name.partition(":")
    return records.slug(f"{kind}-{Path(rest).stem}" if sep else name).lower()


def _pretty(name: str) -> str:
    return PRETTY.get(name, _dataset_type(name))
