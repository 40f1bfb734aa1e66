"""``predict``, ``evaluate`` and ``card``: saved models at work."""

from __future__ import annotations

import json
import sys

from bench.core.errors import BenchError


def cmd_predict(args) -> int:
    from bench.use import predict as use

    if args.gallery is not None and args.gallery.suffix.lower() != ".png":
        raise BenchError(f"--gallery {args.gallery}: give a .png file name")
    manifest, predictions, images, timing = use.predict(
        args.model, args.out, args.dataset, args.images, args.runtime
    )
    if args.json:
        print(
            json.dumps(
                {
                    "model": manifest["model"],
                    "run_id": manifest["run_id"],
                    "runtime": args.runtime,
                    "timing": timing,
                    "predictions": [
                        {
                            "image": p.image,
                            "top": [{"digit": c, "probability": q} for c, q in p.top],
                        }
                        for p in predictions
                    ],
                },
                indent=1,
            )
        )
    else:
        served = ", served by ONNX Runtime" if args.runtime == "onnxruntime" else ""
        print(
            f"model: {manifest['model']} (run {manifest['run_id']}, trained on "
            f"{manifest['dataset']}{served})\n"
        )
        print(use.table(predictions))
        print(
            f"\nloaded in {timing['load_s']:.2f}s; {len(predictions)} image(s) predicted in "
            f"{1e3 * timing['predict_s']:.1f} ms"
        )
    if args.gallery is not None:
        print(
            f"gallery: {use.gallery(predictions, images, manifest, args.gallery)}",
            file=sys.stderr if args.json else sys.stdout,
        )
    return 0


def _trained_file(ref: str):
    """The path when ``ref`` is an already-trained model file rather than a harness artifact
    (a run id, ``model.json``, a run record, an artifact folder), else None."""
    from pathlib import Path

    from bench.adapters.trained import is_model_file
    from bench.use.artifacts import MANIFEST

    path = Path(ref)
    if not is_model_file(ref) or path.name == MANIFEST or path.is_dir():
        return None
    # a run record, even a broken one, is a harness file (refused as a record by
    # artifacts.resolve, never loaded as a model); other JSON is an XGBoost model
    if path.suffix.lower() == ".json" and (not path.is_file() or _names_a_run(path)):
        return None
    return path


def _names_a_run(path) -> bool:
    """True when the JSON file at ``path`` is an object with a ``run_id`` and a ``job``: a run
    record, valid or not (an XGBoost model's JSON holds ``learner`` and ``version``)."""
    import json

    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(obj, dict) and "run_id" in obj and "job" in obj


def _evaluate_file(args, path) -> int:
    """``evaluate FILE``: one job (the dataset, default mnist; profile quick unless given) of the
    file's inference-only adapter through the normal runner, a full record in ``--out``;
    prints the accuracy line (JSON with ``--json``, the suite's progress going to stderr)."""
    import contextlib

    from bench.adapters import registry
    from bench.cli.parser import file_options, run_config
    from bench.run.entry import execute

    name = registry.add_file(path, file_options(args))
    dataset = args.dataset or "mnist"
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with quiet:
        outcomes = execute(
            run_config(args, [name], [dataset], args.profile or "quick", "cpu", 1, args.out),
            resumable=False,
        )
    done = [o for o in outcomes if o.record and o.status == "ok"]
    if not done:
        print(
            f"{name}: not evaluated ({outcomes[0].status if outcomes else 'no job'})",
            file=sys.stderr,
        )
        return 1
    rec, where = done[0].record, done[0].path
    m = rec["metrics"]
    if args.json:
        print(
            json.dumps(
                {
                    "model": name,
                    "run_id": rec["run_id"],
                    "dataset": dataset,
                    "record": str(where),
                    "evaluated": rec.get("evaluated"),
                    "metrics": {k: m[k] for k in ("accuracy", "log_loss", "macro_f1")},
                },
                indent=1,
            )
        )
    else:
        print(
            f"\n{name} (evaluated, not trained here) on {dataset}: test accuracy {m['accuracy']:.2%} "
            f"({rec['data'].get('n_test')} images); record {where}"
        )
    return 0


def cmd_evaluate(args) -> int:
    from tabulate import tabulate

    from bench.use import artifacts
    from bench.use import predict as use

    trained_file = _trained_file(args.model)
    if trained_file is not None:
        return _evaluate_file(args, trained_file)
    folder = artifacts.resolve(args.model, args.out, args.dataset or "mnist")
    result = use.evaluate(folder, args.dataset, args.out)
    if args.json:
        print(
            json.dumps(
                {k: v for k, v in result.items() if k != "metrics"}
                | {
                    "metrics": {
                        k: result["metrics"][k] for k in ("accuracy", "log_loss", "macro_f1")
                    }
                },
                indent=1,
            )
        )
        return 0
    rec = result["record"]
    rows = [
        [
            k,
            f"{result['metrics'][k]:.6f}",
            "-" if rec is None else f"{rec[k]:.6f}",
            "-" if rec is None else ("equal" if rec[k] == result["metrics"][k] else "DIFFERENT"),
        ]
        for k in ("accuracy", "log_loss", "macro_f1")
    ]
    print(f"{result['model']} (run {result['run_id']}) on {result['dataset']} test set\n")
    print(
        tabulate(
            rows, headers=["metric", "now", "record", ""], tablefmt="github", disable_numparse=True
        )
    )
    if result["probe_identical"] is not None:
        print(
            f"\nprobabilities on the probe images: {'bit-identical' if result['probe_identical'] else 'DIFFERENT'}"
            " to the live model's when it was saved"
        )
    return 0


def cmd_card(args) -> int:
    from bench.use import card

    written = card.write_all(args.results)
    for path in written:
        print(path)
    print(
        f"{len(written)} model card(s) written under {args.results / 'models'}"
        if written
        else f"no saved model with an ok record in {args.results} (cards are written for those only)"
    )
    return 0
