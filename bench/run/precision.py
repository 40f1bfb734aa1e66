"""Which numeric precisions a job may ask for (``--precision``), refused before anything runs.

``fp32`` is every model's. ``bf16`` and ``fp16`` are Keras' mixed-precision policies
(``mixed_bfloat16`` / ``mixed_float16``: variables in float32, compute in the 16-bit type),
offered by the adapters that declare them (``Adapter.precisions``). ``fp16`` needs a GPU:
on a CPU TensorFlow runs float16 through slow emulation, which would measure the emulation.
``bf16`` on the CPU needs the processor's bfloat16 instructions (AVX-512 BF16 or AMX-BF16,
read from the hardware fingerprint) for the same reason. On a GPU, bf16 needs compute
capability 8.0 (Ampere) and fp16 7.0 (Volta's tensor cores) where ``nvidia-smi`` reports it;
a GPU that does not report it (an old driver, a cluster's remote GPUs) is left to TensorFlow.
"""

from __future__ import annotations

from bench.core import hardware
from bench.core.errors import BenchError

PRECISIONS = ("fp32", "bf16", "fp16")
KERAS_POLICY = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
GPU_CAPABILITY = {"bf16": 8.0, "fp16": 7.0}  # the compute capability whose units run it natively


def cpu_has_bf16(flags=None) -> bool:
    """Whether this processor (or the given ISA ``flags``) has bfloat16 instructions."""
    flags = set(flags if flags is not None else hardware.cached().get("flags") or ())
    return any(f in flags for f in BF16_FLAGS)


def check(
    precisions, classes, device: str, has_gpu: bool, flags=None, capability: float | None = None
) -> None:
    """``BenchError`` (one line, naming the value and what is accepted) unless every model
    in ``classes`` can run every precision in ``precisions`` on ``device`` here. ``flags``
    (this CPU's by default) and ``capability`` (this GPU's, ``envinfo.gpu_compute_capability``,
    by default) stand in for the hardware in tests."""
    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown:
        raise BenchError(f"--precision {unknown[0]!r}: choose from {', '.join(PRECISIONS)}")
    for prec in dict.fromkeys(precisions):
        if prec == "fp32":
            continue
        cannot = [c.name for c in classes if prec not in getattr(c, "precisions", ("fp32",))]
        if cannot:
            raise BenchError(
                f"--precision {prec}: {', '.join(cannot)} run in fp32 only; {prec} is for the "
                "Keras models (mlp, cnn-small, cnn-deep, cnn-fast, the ref-* models)"
            )
        if prec == "fp16" and device != "gpu":
            raise BenchError(
                "--precision fp16 needs --device gpu: TensorFlow emulates float16 on a CPU"
            )
        if prec == "bf16" and device in ("cpu", "all") and not cpu_has_bf16(flags):
            raise BenchError(
                "--precision bf16: this processor has no bfloat16 instructions (AVX-512 BF16 or "
                "AMX-BF16), so TensorFlow would emulate it; use fp32, or bf16 with --device gpu"
            )
        if device == "gpu" and not has_gpu:
            raise BenchError(f"--precision {prec} --device gpu: no GPU found")
        if device in ("gpu", "all") and has_gpu:
            _check_gpu(prec, capability)


def _check_gpu(prec: str, capability: float | None) -> None:
    """``BenchError`` when this GPU reports a compute capability below ``prec``'s."""
    if capability is None:
        from bench.core import envinfo

        capability = envinfo.gpu_compute_capability()
    if capability is not None and capability < GPU_CAPABILITY[prec]:
        raise BenchError(
            f"--precision {prec}: this GPU has compute capability {capability:g}, below the "
            f"{GPU_CAPABILITY[prec]:g} that runs {prec} natively; use fp32"
            + (" or fp16" if prec == "bf16" and capability >= GPU_CAPABILITY["fp16"] else "")
        )
