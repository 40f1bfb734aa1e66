"""Where a Keras model's training time goes in oneDNN, the library TensorFlow's CPU kernels
call: one epoch of a model on MNIST's full split with ``ONEDNN_VERBOSE=1``, then the
primitives' execution times summed by kind and by layer, with each convolution's GFLOP/s.

    python tests/benchmarks/onednn_profile.py cnn-small            # one epoch, 2 threads
    python tests/benchmarks/onednn_profile.py cnn-fast --set batch_size=256

Prints the epoch's seconds (as the harness clocks it, without the validation pass) and the
tables; the verbose log's own printing slows the epoch a little, so read the shares, not the
absolute times. Not collected by pytest (no ``test_`` or ``bench_`` prefix): a tool to run by
hand, one process at a time, on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

SHAPE = re.compile(r"mb(\d+)_ic(\d+)oc(\d+)_ih\d+oh(\d+)kh(\d+)\S*?_iw\d+ow(\d+)kw(\d+)")


def train_one_epoch(model: str, overrides: dict, threads: int) -> None:
    """In this process: one epoch of ``model`` through the harness's own training path; prints
    one JSON line with the epoch's seconds."""
    from bench.adapters import registry
    from bench.run import pipeline

    cls = registry.get(model)
    params = {**cls.defaults["full"], **overrides, "epochs": 1}
    job = {"model": model, "params": params, "dataset": "mnist", "profile": "full"}
    job.update(seed=0, device="cpu", precision="fp32", origin=None)
    t = pipeline.train(job, threads, log=lambda _: None)
    print(json.dumps({"epoch_s": t.fit_wall_s - t.training.eval_s}))


def conv_flops(desc: str) -> float | None:
    """Multiply-adds x 2 of one convolution call from oneDNN's problem descriptor."""
    m = SHAPE.search(desc)
    if not m:
        return None
    mb, ic, oc, oh, kh, ow, kw = map(int, m.groups())
    return 2.0 * mb * oc * oh * ow * ic * kh * kw


def summarize(lines) -> tuple[dict, dict]:
    """(ms by primitive kind and propagation, (ms, calls, GFLOP/s) by convolution call shape)
    from the verbose log's ``exec`` lines of the training batches."""
    by_kind: dict[str, float] = defaultdict(float)
    convs: dict[str, list] = defaultdict(lambda: [0.0, 0])
    for line in lines:
        fields = line.rstrip().split(",")
        if len(fields) < 8 or fields[2:4] != ["primitive", "exec"]:
            continue
        kind, prop, desc, ms = fields[5], fields[7], fields[-2], float(fields[-1])
        by_kind[f"{kind} {prop}"] += ms
        if kind == "convolution":
            convs[f"{prop} {desc}"][0] += ms
            convs[f"{prop} {desc}"][1] += 1
    rates = {}
    for key, (ms, calls) in convs.items():
        flops = conv_flops(key)
        rates[key] = (ms, calls, flops * calls / (ms * 1e6) if flops else None)
    return dict(by_kind), rates


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    overrides = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    if args.child:
        train_one_epoch(args.model, overrides, args.threads)
        return 0
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    cmd = [sys.executable, __file__, "--child", args.model, "--threads", str(args.threads)]
    cmd += [f"--set={s}" for s in args.set]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    epoch = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
    by_kind, convs = summarize(lines)
    total = sum(by_kind.values())
    print(
        f"{args.model}: one epoch {epoch['epoch_s']:.2f} s; oneDNN primitives {total / 1e3:.2f} s"
    )
    for kind, ms in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:40s} {ms / 1e3:6.2f} s {100 * ms / total:5.1f}%")
    print("convolutions (training batches and the rest):")
    for key, (ms, calls, gflops) in sorted(convs.items(), key=lambda kv: -kv[1][0]):
        rate = f"{gflops:6.0f} GFLOP/s" if gflops else "     -"
        prop, desc = key.split(" ", 1)
        print(f"  {prop:18s} {desc:60.60s} {ms / 1e3:6.2f} s {calls:5d} calls {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
