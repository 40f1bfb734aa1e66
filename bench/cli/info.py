"""``list``, ``data``, ``machine`` and ``selfcheck``: what is installed, the datasets, this host's
measured peaks, and the harness's own overhead."""

from __future__ import annotations

import json
import os
import sys

from bench.core.errors import BenchError
from bench.run.entry import positive_int


def cmd_list(args) -> int:
    from tabulate import tabulate

    from bench import data
    from bench.adapters import registry

    rows = []
    for name in registry.names():
        cls = registry.get(name)
        try:
            count = cls.static_param_count(cls.defaults["full"])
        except Exception as exc:  # noqa: BLE001 - a plugin's broken count must not break the listing
            print(
                f"warning: model {name!r}: static_param_count raised {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            count = None
        rows.append(
            [
                name,
                cls.family,
                cls.view,
                ",".join(cls.devices),
                ",".join(cls.precisions),
                f"{count:,}" if count is not None else "data-dependent",
                ",".join(sorted(cls.dataset_defaults)) or "-",
                cls.description,
            ]
        )
    print(
        tabulate(
            rows,
            headers=[
                "model",
                "family",
                "view",
                "devices",
                "precisions",
                "params",
                "recipes",
                "description",
            ],
        )
    )
    for name, why in registry.broken().items():  # the others work: one warning per broken plugin
        print(f"warning: model {name!r} unavailable: {why}", file=sys.stderr)
    if not registry.default_suite():
        print(
            "warning: no built-in model family is registered: the mnist-bench distribution's entry points are "
            "missing (install it: pip install -e . in a clone, or pip install mnist-bench)",
            file=sys.stderr,
        )
    print()
    print("datasets: " + ", ".join(data.known_names()))
    return 0


def cmd_data(args) -> int:
    from bench import data

    ds = data.load(args.name)
    if args.action == "corrupt":
        return _corrupt(ds, args.rebuild)
    for note in ds.notes:
        print(f"note: tried {note}", file=sys.stderr)
    info = ds.info()
    if args.json:
        print(json.dumps(info, indent=1))
    elif args.action == "fetch":
        print(
            f"{info['name']}: {info['n_train']} train / {info['n_test']} test images from {info['source']}"
            + (f", cached at {info['path']}" if info["path"] else "")
        )
    else:
        for key in (
            "name",
            "n_train",
            "n_test",
            "image_shape",
            "source",
            "path",
            "sha256",
            "digest",
        ):
            print(f"{key:>18}: {info[key]}")
        print(f"{'train per class':>18}: {' '.join(map(str, info['train_class_counts']))}")
        print(f"{'test per class':>18}: {' '.join(map(str, info['test_class_counts']))}")
        g = info["groups"]
        if any(v is not None for v in g.values()):
            print(
                f"{'writers (groups)':>18}: "
                + " / ".join(f"{v if v is not None else '-'} {k}" for k, v in g.items())
            )
    return 0


def _corrupt(ds, rebuild: bool) -> int:
    """``data corrupt NAME``: build (or load) the dataset's MNIST-C test set and say how long
    it took, where it is cached, and the digest each profile's records will carry."""
    import time

    from bench.data import corrupted
    from bench.measure.profiles import PROFILES

    s = ds.splits
    npz, meta = corrupted.cache_paths(s.test_digest())
    if rebuild:
        for path in (npz, meta):
            path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    cset = corrupted.load(s.x_test, s.y_test, s.test_digest())
    seconds = time.perf_counter() - t0
    where = "" if cset.source.startswith("cache") else f"; cached at {npz}"
    print(
        f"{ds.name}: {len(cset.names)} corruptions x {len(cset.labels)} test images, {seconds:.2f} s "
        f"({cset.source}){where}"
    )
    for name, profile in PROFILES.items():
        sub = cset.subset(profile.corrupted_n)
        print(
            f"  {name} profile: {len(sub.labels)} images per corruption, digest {sub.digest[:16]}"
        )
    return 0


def cmd_selfcheck(args) -> int:
    from bench.adapters import registry
    from bench.core import envinfo
    from bench.measure.profiles import PROFILES
    from bench.run import selfcheck

    registry.get(args.model)
    if args.profile not in PROFILES:
        raise BenchError(f"unknown profile {args.profile!r}; choose from: {', '.join(PROFILES)}")
    rounds = positive_int(args.rounds, "--rounds")
    threads = positive_int(args.threads, "--threads", allow_none=True) or envinfo.usable_cores()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))  # before any numerical library loads a pool
    figures = selfcheck.run(args.model, args.dataset, args.profile, rounds, threads)
    table, ok = selfcheck.render(args.model, figures)
    print(table)
    print(
        "harness overhead within band" if ok else "harness and plain loop disagree beyond the band"
    )
    return 0 if ok else 1


def cmd_machine(args) -> int:
    """Print this host's peaks at the jobs' thread count: the cached figures of its hardware
    fingerprint, or measured now (``--remeasure``: measured again) and cached; ``--save DIR``
    also writes them to ``DIR/<fingerprint>.json``."""
    from bench.core import envinfo, hardware
    from bench.measure import peaks

    threads = positive_int(args.threads, "--threads", allow_none=True) or envinfo.usable_cores()
    if args.save is not None and args.save.exists() and not args.save.is_dir():
        raise BenchError(
            f"--save {args.save}: not a folder (give the folder the figures file goes into)"
        )
    fresh = args.remeasure or peaks.cached(threads) is None
    if fresh:
        print(
            f"measuring this machine's peaks at {threads} thread(s) (about half a minute) ...",
            file=sys.stderr,
        )
    entry = peaks.ensure(threads, remeasure=args.remeasure)
    try:
        saved = peaks.store(entry, args.save) if args.save is not None else None
    except OSError as exc:
        raise BenchError(
            f"--save {args.save}: cannot write there ({exc.strerror or exc})"
        ) from None
    if args.json:
        print(json.dumps(entry, indent=2, sort_keys=True))
        return 0
    fp = hardware.cached()
    gpu = entry.get("gpu") or {}
    # each peak once, named as the "% of peak" column names it, with the jobs it is the peak of
    rows = [
        (f"{peaks.peak_name(field)} [{jobs}]", entry.get(field), "GFLOP/s")
        for field, jobs in (
            ("numpy_fp32_gemm_gflops", "NumPy, scikit-learn, XGBoost"),
            ("tf_fp32_matmul_gflops", "Keras float32"),
            ("tf_bf16_matmul_gflops", "Keras bf16"),
        )
    ]
    rows += [
        (peaks.peak_name(k, entry), v, "GFLOP/s") for k, v in gpu.items() if k in peaks.PEAK_NAMES
    ]
    rows.append(("memory bandwidth (streaming copy)", entry.get("stream_copy_gbs"), "GB/s"))
    print(f"{fp['title']} · fingerprint {fp['id']} · {threads} thread(s)")
    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        print(f"  {name:{width}s} {'-' if value is None else f'{value:,.1f}':>10s} {unit}")
    print(
        f"measured {entry['measured_at']} ({'now' if fresh else 'cached'}: {peaks.cache_file(fp['id'])})"
        + (f"; also written to {saved}" if saved else "")
    )
    return 0
