"""What both generic adapters need: resolving a factory, its keyword defaults, the profiles."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from bench.core.errors import BenchError

SETTABLE = (bool, int, float, str)  # the default types ``--set`` can convert a value to


def resolve_factory(factory, model: str) -> Callable:
    """``factory`` itself when callable, else the object its path names: ``"module:attr"``
    (``attr`` may be dotted) or ``"package.module.Class"``. ``BenchError`` naming the model and
    the path when it cannot be imported or is not callable."""
    if callable(factory):
        return factory
    if not isinstance(factory, str) or not factory.strip():
        raise BenchError(
            f"model {model!r}: factory must be a callable or an import path such as "
            f"'sklearn.ensemble:RandomForestClassifier', got {factory!r}"
        )
    module_name, sep, attr = factory.partition(":")
    if not sep:
        module_name, _, attr = factory.rpartition(".")
    if not module_name or not attr:
        raise BenchError(
            f"model {model!r}: factory {factory!r} is not an import path "
            "('module:attr' or 'package.module.Class')"
        )
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - whatever the user's module raised, one line
        raise BenchError(
            f"model {model!r}: factory {factory!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BenchError(
                f"model {model!r}: factory {factory!r}: {obj.__name__ if hasattr(obj, '__name__') else obj} "
                f"has no attribute {part!r}"
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise BenchError(
            f"model {model!r}: factory {factory!r} names a {type(obj).__name__}, not a callable"
        )
    return obj


def factory_path(fn: Callable) -> str:
    """``module:qualname`` of a factory, for descriptions and records."""
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', getattr(fn, '__name__', repr(fn)))}"


def signature_of(fn: Callable) -> inspect.Signature | None:
    """The factory's call signature (a class's ``__init__``), or None where Python cannot tell."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def keyword_defaults(fn: Callable, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The factory's keyword parameters whose defaults ``--set`` can type (bool, int, float,
    str), in signature order; parameters defaulting to None or an object are left out (the
    factory's default applies; pass ``defaults=`` to make one settable)."""
    sig = signature_of(fn)
    if sig is None:
        return {}
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in skip
        and type(p.default) in SETTABLE
    }


def accepts(fn: Callable) -> tuple[set[str], bool]:
    """(keyword names the factory takes, whether it takes ``**kwargs`` too)."""
    sig = signature_of(fn)
    if sig is None:
        return set(), True
    names = {
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return names, any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def profiles(
    full: dict[str, Any], quick: dict[str, Any] | None, model: str
) -> dict[str, dict[str, Any]]:
    """``{"full": full, "quick": full with quick's changes}``; ``quick`` may only change keys
    ``full`` declares (their types come from there)."""
    unknown = sorted(set(quick or {}) - set(full))
    if unknown:
        raise BenchError(
            f"model {model!r}: quick sets {', '.join(unknown)}, which its defaults do not declare; "
            f"declared: {', '.join(sorted(full)) or 'none'}"
        )
    return {"full": dict(full), "quick": {**full, **(quick or {})}}


def class_name(model: str, suffix: str) -> str:
    """A readable class name for a generated adapter: ``forest`` -> ``ForestSklearnAdapter``."""
    words = "".join(c if c.isalnum() else " " for c in model).split()
    return "".join(w[:1].upper() + w[1:] for w in words) + suffix
