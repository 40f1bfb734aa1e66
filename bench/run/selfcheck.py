"""``python -m bench selfcheck``: evidence that the harness adds no measurable overhead.

In ONE process, one trained model's inference is timed alternately by the harness
(``measure.measure_inference``) and by an independent plain loop (``time.perf_counter``
around back-to-back calls, nothing else), at the large batch and at batch 1, in
alternating order. Both sides report the same statistic, images/s from the median call
over the same number of calls, and the median over rounds is shown. The ratio
harness / plain should sit near 1: below 0.9 would mean the harness slows what it
measures, above 1.1 that it flatters it.
"""

from __future__ import annotations

import os
import statistics
import time

from bench import measure
from bench.measure.profiles import PROFILES
from bench.run import pipeline

BAND = (0.9, 1.1)


def plain_throughput(predict, x, batch: int, calls: int) -> float:
    """images/s from the median of ``calls`` individually timed ``predict`` calls, written
    without any harness code (one warm-up call first)."""
    predict(x[:batch], batch)
    times = []
    for i in range(calls):
        start = i % len(x) if batch == 1 else 0
        chunk = x[start : start + batch]
        t0 = time.perf_counter()
        predict(chunk, batch)
        times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)


def run(
    model: str, dataset: str, profile_name: str, rounds: int, threads: int | None, log=print
) -> dict:
    """Train ``model`` on ``profile_name`` through the same pipeline as the runner's worker,
    then compare harness vs plain timing; returns figures."""
    from bench.adapters import registry
    from bench.run.plan import Job

    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")  # CPU: before any framework starts
    profile = PROFILES[profile_name]
    cls = registry.get(model)
    job = Job(
        cls.name, cls.family, dataset, profile_name, "cpu", 0, dict(cls.defaults[profile_name])
    )
    log(f"training {model} ({profile_name} profile)")
    trained = pipeline.train(job.as_dict(), threads, log=lambda _: None)
    adapter, x_test = trained.adapter, trained.x_test
    protocol = profile.inference
    big = min(protocol.large_batch, len(x_test))
    sizes = {"large": big, "batch_1": 1}  # ``measure_inference``'s keys -> batch size
    figures = {key: {"harness": [], "plain": []} for key in sizes}
    calls = dict.fromkeys(sizes)

    def harness():
        h = measure.measure_inference(adapter.predict_proba, x_test, protocol)
        for key in figures:
            figures[key]["harness"].append(h[key]["images_per_s"])
            calls[key] = h[key]["calls"]

    def plain():
        for key, batch in sizes.items():
            figures[key]["plain"].append(
                plain_throughput(adapter.predict_proba, x_test, batch, calls[key])
            )

    harness()  # fixes the call counts the plain loop repeats; not counted
    for key in figures:
        figures[key]["harness"].clear()
    for r in range(rounds):
        # alternate the order so drift (clock boost, caches) favours neither side
        for step in (harness, plain) if r % 2 == 0 else (plain, harness):
            step()
        log(f"round {r + 1}/{rounds} done")
    out = {}
    labels = {"large": f"batch_{big}" if big > 1 else "batch_1_large", "batch_1": "batch_1"}
    for key, f in figures.items():
        harness, plain = statistics.median(f["harness"]), statistics.median(f["plain"])
        out[labels[key]] = {
            "harness_images_per_s": harness,
            "plain_images_per_s": plain,
            "ratio": harness / plain,
            "rounds": rounds,
        }
    return out


def render(model: str, figures: dict) -> tuple[str, bool]:
    """A Markdown table of the figures and whether every ratio lies in ``BAND``."""
    from tabulate import tabulate

    rows, ok = [], True
    for key, f in figures.items():
        inside = BAND[0] <= f["ratio"] <= BAND[1]
        ok &= inside
        rows.append(
            [
                model,
                key.replace("_", " "),
                f"{f['harness_images_per_s']:,.0f}",
                f"{f['plain_images_per_s']:,.0f}",
                f"{f['ratio']:.3f}",
                "ok" if inside else "OUTSIDE",
            ]
        )
    table = tabulate(
        rows,
        headers=[
            "model",
            "batch",
            "harness img/s",
            "plain loop img/s",
            "ratio",
            f"in {BAND[0]}-{BAND[1]}",
        ],
        tablefmt="github",
        disable_numparse=True,
    )
    return table, ok
