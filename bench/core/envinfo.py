"""The environment recorded with every run: hardware, libraries, threads, code version.

Imports no framework: versions come from package metadata, GPUs from ``nvidia-smi``, the
BLAS view from threadpoolctl (a small helper, not a framework).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from bench.core import hardware
from bench.core.hardware import memory_gib, usable_cores  # noqa: F401 (re-exported)

PACKAGES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "xgboost",
    "xgboost-cpu",
    "onnx",
    "onnxruntime",
    "skops",
    "threadpoolctl",
    "mnist-bench",
)
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "TF_ENABLE_ONEDNN_OPTS",
    "CUDA_VISIBLE_DEVICES",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def gpus() -> list[dict]:
    """NVIDIA GPUs as ``nvidia-smi`` reports them; [] where there is none or no driver."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    found = []
    for line in out.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            found.append({"name": parts[0], "memory": parts[1], "driver": parts[2]})
    return found


def gpu_compute_capability() -> float | None:
    """The first NVIDIA GPU's compute capability (8.0 for an A100), or None where there is no
    GPU, no driver, or a driver too old to report it (asked apart from ``gpus``, so an old
    driver that refuses the field cannot hide the GPUs themselves)."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return float(out.stdout.split()[0]) if out.returncode == 0 and out.stdout.split() else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None


def git_state(cwd: Path | None = None) -> dict:
    """Commit of the code that ran and whether the tree had uncommitted changes; both None
    for an installed harness (site-packages holds no pyproject.toml), whose version the
    record names instead: git there would answer for whatever repository holds the venv."""
    root = cwd or Path(__file__).resolve().parents[2]  # the repository: bench/core/envinfo.py -> ./
    if cwd is None and not (root / "pyproject.toml").is_file():
        return {"commit": None, "dirty": None}

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench", "models")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}


def blas_info() -> list[dict]:
    """threadpoolctl's view of the BLAS/OpenMP libraries loaded in this process."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "num_threads", "version", "threading_layer", "architecture")
    return [{k: lib.get(k) for k in keep if lib.get(k) is not None} for lib in threadpool_info()]


def capture() -> dict:
    """Everything above, as one JSON-ready dict."""
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "hardware": hardware.cached(),
        "cores": usable_cores(),
        "memory_gib": memory_gib(),
        "gpus": gpus(),
        "python_executable": sys.executable,
        "libraries": library_versions(),
        "thread_env": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
        "blas": blas_info(),
        **git_state(),
    }
