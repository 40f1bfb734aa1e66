"""Figures drawn once: a table's figures are redrawn only when what they show changed.

After every suite the leaderboard of the whole results folder is written again, and drawing
every table's figures (a PNG per model and figure kind, a few hundred for the committed
records) took most of a minute of a ``run --all`` that changed one table. Each table's
figures are drawn from its records alone, by this code, so a digest of (the report code, the
matplotlib version, the table's records and the figure inputs the caller names) decides:
when ``<out>/.cache/figures/<table slug>.json`` holds the same digest and every figure it lists
exists, those files are the figures; otherwise they are drawn and the manifest written.
The figures are the same bytes either way (drawing is deterministic, tested).

The manifests are a cache, not results: they live apart from the figures (``.cache/`` is
ignored by git), so a fresh clone redraws every figure once, to the same bytes, and a code
edit that changes no figure leaves the published folder untouched.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bench.core import atomic

MANIFESTS = Path(".cache") / "figures"  # relative to the folder that holds ``plots/``
_CODE: str | None = None


# what the figures are computed from besides the records: the analysis and the drawing, the
# measurement (curves, peaks' names), the records' reading, the gallery images and corrupted
# sets, the hardware titles
CODE = (
    "analysis/*.py",
    "publish/*.py",
    "publish/charts/*.py",
    "measure/*.py",
    "records/*.py",
    "data/corrupt*.py",
    "data/recorded.py",
    "core/hardware.py",
)


def code_files() -> list[Path]:
    """The modules the figures are drawn by (``CODE``, relative to ``bench/``), sorted."""
    bench = Path(__file__).resolve().parent.parent
    return sorted({p for pattern in CODE for p in bench.glob(pattern)})


def code_version() -> str:
    """A digest of the modules the figures are drawn by (``code_files``) and matplotlib's version."""
    global _CODE
    if _CODE is None:
        import matplotlib

        bench = Path(__file__).resolve().parent.parent
        h = hashlib.sha256(matplotlib.__version__.encode())
        for path in code_files():
            h.update(str(path.relative_to(bench)).encode() + b"\0" + path.read_bytes())
        _CODE = h.hexdigest()
    return _CODE


def digest(frame, inputs) -> str:
    """The digest of a table's figures: the code, the run ids of ``frame`` (the table's
    records) with every column of theirs the figures read through the efficiency peaks
    (``row.peak*``), and ``inputs`` (anything else they depend on, as JSON-able values)."""
    peaks = sorted(c for c in frame.columns if c.startswith("row.peak") or c == "row.machine")
    body = {
        "code": code_version(),
        "runs": sorted(map(str, frame["run_id"])),
        "peaks": [[repr(v) for v in frame[c]] for c in peaks],
        "inputs": inputs,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=repr).encode()).hexdigest()


def _convert(figs, leaf):
    """``figs`` with every path (leaf) replaced by ``leaf(path)``, its dicts and lists kept."""
    if isinstance(figs, dict):
        return {k: _convert(v, leaf) for k, v in figs.items()}
    if isinstance(figs, list):
        return [_convert(v, leaf) for v in figs]
    return leaf(figs)


def paths(figs) -> list[Path]:
    """Every path in a figures answer (paths, lists and dicts of them, at any depth; None skipped)."""
    if isinstance(figs, dict):
        return [p for v in figs.values() for p in paths(v)]
    if isinstance(figs, list):
        return [p for v in figs for p in paths(v)]
    return [] if figs is None else [Path(figs)]


def cache_dir(plots_dir: Path) -> Path:
    """The folder of the manifests of the figures in ``plots_dir``: ``<out>/.cache/figures``."""
    return Path(plots_dir).parent / MANIFESTS


def manifest_path(plots_dir: Path, slug: str) -> Path:
    return cache_dir(plots_dir) / f"{slug}.json"


def draw(plots_dir: Path, slug: str, key: str, draw_all, complete=lambda: True) -> dict:
    """``draw_all()``'s figures (a dict of paths in ``plots_dir``, lists and dicts of them, string keys)
    for the table ``slug`` whose inputs have digest ``key``: the files already drawn when the
    manifest says they were drawn from the same inputs and all exist, else drawn now. When
    ``complete()`` is False after drawing (e.g. the gallery images could not be loaded), no
    manifest is written: the next publish draws again, and may then have them."""
    path = manifest_path(plots_dir, slug)
    try:
        saved = json.loads(path.read_text())
        if saved.get("digest") == key:
            figs = _convert(saved["figures"], lambda name: Path(plots_dir) / name)
            if all(p.is_file() for p in paths(figs)):
                return figs
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    figs = draw_all()
    if complete():
        atomic.write_json(path, {"digest": key, "figures": _convert(figs, lambda p: Path(p).name)})
    else:
        path.unlink(missing_ok=True)
    return figs


def prune(plots_dir: Path, slugs: set[str]) -> list[Path]:
    """Remove the manifests of tables not in ``slugs`` (tables that no longer exist)."""
    stale = [p for p in sorted(cache_dir(plots_dir).glob("*.json")) if p.stem not in slugs]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale
