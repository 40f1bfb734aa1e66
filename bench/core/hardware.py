"""The hardware fingerprint: which processor a job ran on, precisely enough to keep timings
from different machines apart.

``"AMD EPYC"`` or ``"Intel(R) Xeon(R) Processor"`` (what a VM's model name often says) names
a product line, not a processor: two EPYC generations differ by 2x in training speed. The
fingerprint adds what does decide speed: vendor, family/model/stepping, the ISA extensions
that the frameworks' kernels pick between (AVX2, FMA, AVX-512, AVX-512 BF16/VNNI, AMX), the
usable cores, the cache sizes and the hypervisor (the memory is recorded and shown, not
hashed). Its ``id`` is a short hash of those fields; records with the same ``id`` were measured on the same kind of machine and
may share a table. ``title`` says the same in words, for table headings.

Linux ``/proc`` and ``/sys``; elsewhere the fields that cannot be read are ``None`` (and
the fingerprint still identifies what it could read).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

# the ISA flags that change which kernels oneDNN, OpenBLAS and XGBoost run
SPEED_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
# readable names of a few server generations (vendor, family, model) -> name; others show numbers only
GENERATIONS = {
    ("AuthenticAMD", 23, 49): "Zen 2 (Rome)",
    ("AuthenticAMD", 25, 1): "Zen 3 (Milan)",
    ("AuthenticAMD", 25, 17): "Zen 4 (Genoa)",
    ("AuthenticAMD", 25, 160): "Zen 4c (Bergamo)",
    ("AuthenticAMD", 26, 2): "Zen 5 (Turin)",
    ("GenuineIntel", 6, 85): "Skylake/Cascade Lake-SP",
    ("GenuineIntel", 6, 106): "Ice Lake-SP",
    ("GenuineIntel", 6, 143): "Sapphire Rapids",
    ("GenuineIntel", 6, 207): "Emerald Rapids",
    ("GenuineIntel", 6, 173): "Granite Rapids",
}
# memory is shown, not part of the id: the kernel's reserve moves MemTotal between boots of
# one machine type, and no timing here is bound by the amount of memory
IDENTITY_FIELDS = (
    "vendor",
    "family",
    "model",
    "stepping",
    "model_name",
    "flags",
    "cores",
    "caches",
    "hypervisor",
)


def _cpuinfo() -> dict[str, str]:
    """The first processor's ``/proc/cpuinfo`` block as key -> value ({} where unreadable)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.split("\n\n")[0].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out


def _int(text: str | None) -> int | None:
    """``int(text)``, or None where there is no number."""
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def usable_cores() -> int:
    """CPU cores this process may run on (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def memory_gib() -> float | None:
    """Total memory in GiB (``/proc/meminfo``), to 0.1 GiB; None where unreadable."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def caches() -> dict[str, str]:
    """Cache sizes of cpu0 by level and type (``{"L1d": "32K", "L2": "2048K", ...}``)."""
    out: dict[str, str] = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        out[f"L{level}{suffix}"] = size
    return out


def hypervisor(flags: set[str]) -> str | None:
    """``None`` on bare metal; the hypervisor's name where the kernel says, else ``"yes"``."""
    if "hypervisor" not in flags:
        return None
    try:
        return Path("/sys/hypervisor/type").read_text().strip() or "yes"
    except OSError:
        return "yes"


def fingerprint() -> dict:
    """This machine's fingerprint: the identity fields, ``id`` (12 hex digits of their hash)
    and ``title`` (one readable line)."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    fp = {
        "vendor": info.get("vendor_id") or platform.machine(),
        "family": _int(info.get("cpu family")),
        "model": _int(info.get("model")),
        "stepping": _int(info.get("stepping")),
        "model_name": info.get("model name") or platform.processor() or platform.machine(),
        "flags": [f for f in SPEED_FLAGS if f in flags],
        "cores": usable_cores(),
        "caches": caches(),
        "memory_gib": memory_gib(),
        "hypervisor": hypervisor(flags),
    }
    return finish(fp)


def finish(fp: dict) -> dict:
    """``fp`` with its ``id`` and ``title`` computed from the identity fields."""
    core = {k: fp.get(k) for k in IDENTITY_FIELDS}
    fp = dict(fp)
    fp["id"] = hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:12]
    fp["title"] = title(fp)
    return fp


def title(fp: dict) -> str:
    """``AMD EPYC, Zen 4 (Genoa) [25/17/1], 2 cores, AVX-512 BF16, 23.5 GiB, VM · 5c1e...``."""
    gen = GENERATIONS.get((fp.get("vendor"), fp.get("family"), fp.get("model")))
    numbers = (
        "/".join(str(fp.get(k)) for k in ("family", "model", "stepping"))
        if fp.get("family") is not None
        else None
    )
    flags = fp.get("flags") or []
    isa = (
        "AMX"
        if "amx_bf16" in flags
        else "AVX-512 BF16"
        if "avx512_bf16" in flags
        else "AVX-512"
        if "avx512f" in flags
        else "AVX2"
        if "avx2" in flags
        else None
    )
    parts = [
        fp.get("model_name") or "unknown CPU",
        " ".join(p for p in (gen, f"[{numbers}]" if numbers else None) if p) or None,
        f"{fp['cores']} cores" if fp.get("cores") else None,
        isa,
        f"{fp['memory_gib']:g} GiB" if fp.get("memory_gib") else None,
        "VM" if fp.get("hypervisor") else None,
    ]
    return ", ".join(p for p in parts if p) + (f" · {fp['id'][:6]}" if fp.get("id") else "")


def of_env(env: dict | None) -> dict:
    """The fingerprint a record's ``env`` carries (``env.hardware``, with its title); a record
    read through ``bench.records.upgrade`` always carries one, and an ``env`` without one
    (not a record's) gets ``legacy``'s."""
    env = env if isinstance(env, dict) else {}
    stored = env.get("hardware")
    if isinstance(stored, dict) and isinstance(stored.get("id"), str):
        return (
            stored if isinstance(stored.get("title"), str) else {**stored, "title": title(stored)}
        )
    return legacy(env)


def legacy(env: dict) -> dict:
    """The fingerprint of an ``env`` written before fingerprints existed, built from what it
    did record (CPU model name, cores, memory) and marked ``legacy`` (its vendor and family
    unknown, so its id never equals a measured one's)."""
    fp = {
        "vendor": None,
        "family": None,
        "model": None,
        "stepping": None,
        "model_name": env.get("cpu") or "unknown CPU",
        "flags": None,
        "cores": env.get("cores"),
        "caches": None,
        "memory_gib": env.get("memory_gib"),
        "hypervisor": None,
        "legacy": True,
    }
    fp = finish(fp)
    fp["title"] = fp["title"].replace(" · ", " (recorded before hardware fingerprints) · ")
    return fp


def gpu_model(env: dict | None, device: str) -> str | None:
    """The GPU a ``gpu`` job ran on (``"GPU <name>"``, the first ``nvidia-smi`` lists; ``"no GPU
    recorded"`` for a GPU job skipped on a machine without one), ``None`` for CPU jobs."""
    if device != "gpu" or not isinstance(env, dict):
        return None
    gpus = env.get("gpus") or []
    return f"GPU {gpus[0].get('name')}" if gpus and isinstance(gpus[0], dict) else "no GPU recorded"


def cached() -> dict:
    """``fingerprint()`` computed once per process."""
    global _CACHED
    if _CACHED is None:
        _CACHED = fingerprint()
    return _CACHED


_CACHED: dict | None = None
