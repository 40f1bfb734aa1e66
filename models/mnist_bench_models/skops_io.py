"""scikit-learn models on disk through skops: data only, never pickle.

``dump`` writes any scikit-learn object (or a dict of them) with ``skops.io.dump``.
``load`` asks skops which types the file holds that skops does not trust by default and
loads it only when every one of them is in the adapter's own list (``expected``); anything
else is refused with one line naming the unexpected types, before any object is built.
"""

from __future__ import annotations

from pathlib import Path

from bench.core.errors import BenchError


def dump(obj, path: Path) -> Path:
    import skops.io as sio

    sio.dump(obj, path)
    return path


def load(path: Path, expected: tuple[str, ...]):
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - a damaged zip, a foreign file: one line
        raise BenchError(
            f"{path}: not a readable skops file ({type(exc).__name__}: {exc})"
        ) from None
    unexpected = sorted(set(untrusted) - set(expected))
    if unexpected:
        raise BenchError(
            f"{path}: refusing to load types not trusted for this model: {', '.join(unexpected)}"
        )
    return sio.load(path, trusted=list(untrusted))


def require_type(path: Path, obj, expected: type) -> None:
    """``BenchError`` unless the loaded ``obj`` is what the adapter saved."""
    if not isinstance(obj, expected):
        raise BenchError(
            f"{path}: holds a {type(obj).__name__}, not the {expected.__name__} this model saves"
        )
