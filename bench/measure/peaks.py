"""This host's measured peaks: what its processor (and GPU) can do, so that a model's speed
can be read as a fraction of what the machine offers.

Measured, never looked up from a datasheet (a VM's share of a processor is not the
processor), at a job's thread count:

- ``numpy_fp32_gemm_gflops``: float32 matrix multiply through NumPy's BLAS (n = 1024 and
  2048, the best call of each size's repeats, the best size): the peak of a NumPy,
  scikit-learn or XGBoost job ("% of peak" divides by the peak of the library and precision
  that ran the job: ``peak_gflops``);
- ``tf_fp32_matmul_gflops`` / ``tf_bf16_matmul_gflops``: ``tf.matmul`` in float32 and
  bfloat16 on the CPU through TensorFlow (oneDNN), where TensorFlow is installed: the peaks
  of a Keras job in float32 and of a ``--precision bf16`` job;
- ``stream_copy_gbs``: memory bandwidth of a streaming copy (256 MiB arrays, far past every
  cache; bytes read + written per second; one thread, as NumPy copies);
- ``gpu``: the same matmuls in float32, bfloat16 and float16 on the first GPU TensorFlow
  sees, when it sees one, with its compute capability and whether TensorFlow ran the float32
  matmul in TF32 (``tf32``: its default on Ampere and later; the peak is then named TF32).

The figures are measured in a fresh process (``python -m bench.measure.peaks``), so
TensorFlow's thread pools and memory never leak into a job, and cached per hardware
fingerprint and thread count in ``~/.cache/mnist-bench/machines/<fingerprint>.json`` (or
``$BENCH_MACHINE_DIR``; apart from the data folder, since they describe the host, not data) with the date:
a suite measures them before its first job (``ensure``), and each record copies them
(``for_record``), so every record carries the figures of the host it ran on.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.core import atomic, hardware, pychild
from bench.core.errors import BenchError
from bench.records.upgrade import FAMILY_LIBRARY

VERSION = 1  # bump when a figure's method changes: older cache entries are measured again
GEMM_SIZES = (1024, 2048)
TF_SIZES = (2048, 4096)
COPY_BYTES = 256 * 2**20
MIN_SECONDS = 0.4  # per size and kind: repeats until this long (at least 3 calls)


def cache_file(fingerprint_id: str) -> Path:
    """Where this fingerprint's figures are cached (one file, one entry per thread count)."""
    root = (
        os.environ.get("BENCH_MACHINE_DIR") or Path.home() / ".cache" / "mnist-bench" / "machines"
    )
    return Path(root) / f"{fingerprint_id}.json"


def _best_rate(call, work: float, min_s: float = MIN_SECONDS) -> float:
    """``work`` / the fastest of ``call()``'s timed repeats (one untimed warm-up; at least 3
    calls and ``min_s`` seconds): the peak is what the hardware reaches, not its average."""
    call()
    best, spent, n = float("inf"), 0.0, 0
    while n < 3 or spent < min_s:
        t0 = time.perf_counter()
        call()
        dt = time.perf_counter() - t0
        best, spent, n = min(best, dt), spent + dt, n + 1
    return work / best


def numpy_gemm_gflops(threads: int | None) -> float:
    """float32 GEMM GFLOP/s through NumPy's BLAS, limited to ``threads`` (2 n^3 FLOPs a call)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    rates = []
    with threadpool_limits(limits=threads):
        for n in GEMM_SIZES:
            a, b = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
            out = np.empty((n, n), np.float32)
            rates.append(
                _best_rate(lambda a=a, b=b, out=out: np.matmul(a, b, out=out), 2 * n**3) / 1e9
            )
    return max(rates)


def stream_copy_gbs() -> float:
    """Bytes read + written per second by a copy of a 256 MiB array, in GB/s."""
    src = np.ones(COPY_BYTES // 8, np.float64)
    dst = np.empty_like(src)
    return _best_rate(lambda: np.copyto(dst, src), 2 * COPY_BYTES) / 1e9


def tf_matmul_gflops(device: str = "/CPU:0", dtypes=("float32", "bfloat16")) -> dict[str, float]:
    """dtype -> GFLOP/s of ``tf.matmul`` on ``device`` (the best of ``TF_SIZES``); a dtype
    the device cannot multiply is left out."""
    import tensorflow as tf

    out = {}
    for name in dtypes:
        dtype = getattr(tf, name)
        rates = []
        for n in TF_SIZES:
            try:
                with tf.device(device):
                    a = tf.cast(tf.random.stateless_uniform((n, n), (0, 1)), dtype)
                    b = tf.cast(tf.random.stateless_uniform((n, n), (1, 2)), dtype)
                    step = tf.function(
                        lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y), tf.float32))
                    )
                    rates.append(
                        _best_rate(lambda f=step, a=a, b=b: f(a, b).numpy(), 2 * n**3) / 1e9
                    )
            except (tf.errors.OpError, TypeError, ValueError):
                break
        if rates:
            out[name] = max(rates)
    return out


def measure_here(threads: int | None) -> dict:
    """Every figure of this process's host at ``threads`` (call in a fresh process: it fixes
    TensorFlow's thread pools). TensorFlow's figures are None where it is not installed."""
    fig = {
        "numpy_fp32_gemm_gflops": numpy_gemm_gflops(threads),
        "stream_copy_gbs": stream_copy_gbs(),
        "tf_fp32_matmul_gflops": None,
        "tf_bf16_matmul_gflops": None,
        "gpu": None,
    }
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
    except ImportError:
        return fig
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    cpu = tf_matmul_gflops("/CPU:0")
    fig["tf_fp32_matmul_gflops"], fig["tf_bf16_matmul_gflops"] = (
        cpu.get("float32"),
        cpu.get("bfloat16"),
    )
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        rates = tf_matmul_gflops("/GPU:0", ("float32", "bfloat16", "float16"))
        details = tf.config.experimental.get_device_details(gpus[0])
        cc = list(details.get("compute_capability") or ()) or None
        # TensorFlow runs float32 matmuls in TF32 on Ampere (8.0) and later unless it is switched off
        tf32 = bool(
            cc
            and tuple(cc) >= (8, 0)
            and tf.config.experimental.tensor_float_32_execution_enabled()
        )
        fig["gpu"] = {
            "name": details.get("device_name") or gpus[0].name,
            "compute_capability": cc,
            "tf32": tf32,
            **{f"{k}_matmul_gflops": v for k, v in rates.items()},
        }
    return fig


def measure(threads: int | None) -> dict:
    """``measure_here`` in a fresh process (``python -m bench.measure.peaks``), with the
    date, the fingerprint and the thread count; ``BenchError`` when that process fails."""
    cmd = pychild.python_m("bench.measure.peaks", str(threads or 0))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError("measuring this machine's peaks took over 600 s; not measured") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"measuring this machine's peaks failed: {tail}")
    try:
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise BenchError("measuring this machine's peaks printed no figures") from None
    from bench.records.schema import now_iso

    return {
        "version": VERSION,
        "fingerprint": hardware.cached()["id"],
        "threads": threads,
        "measured_at": now_iso(),
        **figures,
    }


def cached(threads: int | None, fingerprint_id: str | None = None) -> dict | None:
    """The cached figures of this fingerprint at ``threads``, or None (absent, unreadable,
    or measured by an older method)."""
    path = cache_file(fingerprint_id or hardware.cached()["id"])
    try:
        entry = json.loads(path.read_text())["entries"][str(threads or 0)]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return entry if isinstance(entry, dict) and entry.get("version") == VERSION else None


def store(entry: dict, folder: Path | None = None) -> Path:
    """Add ``entry`` (``measure``'s) to its fingerprint's file in the cache, or in
    ``folder``; returns the file. Concurrent writers each replace the file whole."""
    fid = entry["fingerprint"]
    path = Path(folder) / f"{fid}.json" if folder is not None else cache_file(fid)
    try:
        data = json.loads(path.read_text())
        entries = data["entries"] if isinstance(data.get("entries"), dict) else {}
    except (OSError, ValueError, KeyError, AttributeError):
        entries = {}
    entries[str(entry["threads"] or 0)] = entry
    atomic.write_json(
        path, {"fingerprint": fid, "title": hardware.cached()["title"], "entries": entries}
    )
    return path


def ensure(threads: int | None, remeasure: bool = False) -> dict:
    """The figures at ``threads``: the cached ones, else measured now and cached."""
    entry = None if remeasure else cached(threads)
    if entry is None:
        entry = measure(threads)
        try:
            store(entry)
        except OSError as exc:
            raise BenchError(
                f"cannot cache the peaks in {cache_file(entry['fingerprint']).parent}: "
                f"{exc.strerror or exc}"
            ) from None
    return entry


def for_record(threads: int | None) -> dict:
    """What a record carries: the host's figures (``ensure``) or, when they cannot be
    measured, ``{"error": one line}``; never raises."""
    try:
        return ensure(threads)
    except (BenchError, OSError, ValueError, subprocess.SubprocessError) as exc:
        return {"error": " ".join(str(exc).split())[:300]}


TENSORFLOW = ("keras", "tensorflow")  # libraries whose jobs run TensorFlow's kernels
# (device, precision, kernels) -> figure; "blas": NumPy's BLAS, what NumPy, scikit-learn and XGBoost run on
PEAK_FIELDS = {
    ("cpu", "fp32", "blas"): "numpy_fp32_gemm_gflops",
    ("cpu", "fp32", "tensorflow"): "tf_fp32_matmul_gflops",
    ("cpu", "bf16", "tensorflow"): "tf_bf16_matmul_gflops",
    ("gpu", "fp32", "tensorflow"): "float32_matmul_gflops",
    ("gpu", "bf16", "tensorflow"): "bfloat16_matmul_gflops",
    ("gpu", "fp16", "tensorflow"): "float16_matmul_gflops",
}
PEAK_NAMES = {
    "numpy_fp32_gemm_gflops": "float32 GEMM (NumPy BLAS)",
    "tf_fp32_matmul_gflops": "float32 matmul (TensorFlow)",
    "tf_bf16_matmul_gflops": "bfloat16 matmul (TensorFlow)",
    "float32_matmul_gflops": "GPU float32 matmul (TensorFlow, TF32 on Ampere and later)",
    "bfloat16_matmul_gflops": "GPU bfloat16 matmul (TensorFlow)",
    "float16_matmul_gflops": "GPU float16 matmul (TensorFlow)",
}
GPU_FP32_NAMES = {
    True: "GPU TF32 matmul (TensorFlow float32)",
    False: "GPU float32 matmul (TensorFlow, TF32 off)",
}


def library_of(library, family) -> str | None:
    """The library a job ran: the record's ``job.library``, else (an adapter that declares
    none) the library of the built-in family of its name; None when neither says."""
    if isinstance(library, str) and library:
        return library
    return FAMILY_LIBRARY.get(family) if isinstance(family, str) else None


def kernels(device: str, precision: str, library: str | None) -> str:
    """Whose matrix products a job runs: "tensorflow" for Keras/TensorFlow, for any precision
    but fp32 (only Keras has one) and on a GPU (only TensorFlow's are measured there);
    "blas" (NumPy's BLAS) otherwise: NumPy, scikit-learn, XGBoost, or a library unknown."""
    return (
        "tensorflow" if library in TENSORFLOW or precision != "fp32" or device == "gpu" else "blas"
    )


def peak_name(field: str, figures: dict | None = None) -> str:
    """What a peak figure is; the GPU float32 matmul says TF32 when ``figures["gpu"]`` records
    that TensorFlow ran it in TF32 (``tf32``; unrecorded: "TF32 on Ampere and later")."""
    gpu = figures.get("gpu") if isinstance(figures, dict) else None
    tf32 = gpu.get("tf32") if isinstance(gpu, dict) else None
    if field == "float32_matmul_gflops" and isinstance(tf32, bool):
        return GPU_FP32_NAMES[tf32]
    return PEAK_NAMES[field]


def peak_gflops(
    machine: dict | None, device: str = "cpu", precision: str = "fp32", library: str | None = None
) -> tuple[float | None, str]:
    """(GFLOP/s, what it is) of the peak a job of ``device``, ``precision`` and ``library``
    is measured against (``kernels``: TensorFlow's matmul for Keras, NumPy's BLAS GEMM for
    the rest), from a record's ``machine`` figures; (None, reason) where there is none."""
    if not isinstance(machine, dict) or "error" in machine:
        return None, "no measured peak"
    engine = kernels(device, precision, library)
    field = PEAK_FIELDS.get((device, precision, engine))
    source = machine.get("gpu") if device == "gpu" else machine
    value = source.get(field) if isinstance(source, dict) and field else None
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or math.isnan(value)
        or value <= 0
    ):
        what = "TensorFlow" if engine == "tensorflow" else "NumPy BLAS"
        return None, f"no {device} {precision} peak measured ({what})"
    return float(value), peak_name(field, machine)


def main(argv: list[str]) -> int:
    """``python -m bench.measure.peaks THREADS``: print ``measure_here``'s JSON (0 = default)."""
    threads = int(argv[0]) if argv else 0
    print(json.dumps(measure_here(threads or None)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
