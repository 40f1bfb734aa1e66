"""``predict``, ``evaluate`` and ``card``: saved models at work."""

from __future__ import annotations

import json
import sys

from bench.core.errors import BenchError


def cmd_predict(args) -> int:
    from bench.use import predict as use

    if args.gallery is not None and args.gallery.suffix.lower() != ".png":
        raise BenchError(f"--gallery {args.gallery}: give a .png file name")
    manifest, predictions, images, timing = use.predict(args.model, args.out, args.dataset, args.images)
    if args.json:
        print(json.dumps({"model": manifest["model"], "run_id": manifest["run_id"], "timing": timing,
                          "predictions": [{"image": p.image, "top": [{"digit": c, "probability": q} for c, q in p.top]}
                                          for p in predictions]}, indent=1))
    else:
        print(f"model: {manifest['model']} (run {manifest['run_id']}, trained on {manifest['dataset']})\n")
        print(use.table(predictions))
        print(f"\nloaded in {timing['load_s']:.2f}s; {len(predictions)} image(s) predicted in "
              f"{1e3 * timing['predict_s']:.1f} ms")
    if args.gallery is not None:
        print(f"gallery: {use.gallery(predictions, images, manifest, args.gallery)}",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_evaluate(args) -> int:
    from tabulate import tabulate

    from bench.use import artifacts
    from bench.use import predict as use

    folder = artifacts.resolve(args.model, args.out, args.dataset or "mnist")
    result = use.evaluate(folder, args.dataset, args.out)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "metrics"} |
                         {"metrics": {k: result["metrics"][k] for k in ("accuracy", "log_loss", "macro_f1")}},
                         indent=1))
        return 0
    rec = result["record"]
    rows = [[k, f"{result['metrics'][k]:.6f}", "-" if rec is None else f"{rec[k]:.6f}",
             "-" if rec is None else ("equal" if rec[k] == result["metrics"][k] else "DIFFERENT")]
            for k in ("accuracy", "log_loss", "macro_f1")]
    print(f"{result['model']} (run {result['run_id']}) on {result['dataset']} test set\n")
    print(tabulate(rows, headers=["metric", "now", "record", ""], tablefmt="github", disable_numparse=True))
    if result["probe_identical"] is not None:
        print(f"\nprobabilities on the probe images: {'bit-identical' if result['probe_identical'] else 'DIFFERENT'}"
              " to the live model's when it was saved")
    return 0


def cmd_card(args) -> int:
    from bench.use import card

    written = card.write_all(args.results)
    for path in written:
        print(path)
    print(f"{len(written)} model card(s) written under {args.results / 'models'}" if written else
          f"no saved model with an ok record in {args.results} (cards are written for those only)")
    return 0
