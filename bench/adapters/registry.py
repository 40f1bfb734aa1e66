"""Model registry: name -> adapter class, filled by plugins, never through the working directory.

Four routes in, one registry:

- **entry points** of the group ``mnist_bench.models`` (``importlib.metadata``): every
  installed distribution may declare them, this one included (its built-in families, from
  the package ``mnist_bench_models``). The entry-point name is the model's name; the object
  it names is an ``Adapter`` subclass, a module whose ``@register`` lines register models, or
  a function returning adapter classes (``sklearn_model``/``keras_model`` do).
- **plugin files**: ``--plugin PATH.py`` on any command (``load_file``), for a file beside
  the user's notebook;
- ``BENCH_EXTRA_MODELS``: comma-separated importable module names (kept for compatibility;
  the test suite's fault-injecting adapters come this way);
- **already-trained files** (``.keras``, ``.onnx``, skops, XGBoost): ``add_file``, an
  inference-only adapter per file (``bench.adapters.trained``).

Entry points are loaded the first time the registry is asked, in every process (job workers
included). One that fails to load breaks only what needs it: its name is kept with the
reason (``broken()``), ``get`` of that name is one ``BenchError`` naming the plugin and the
cause, and every other model works. A plugin file or module the user named explicitly fails
at once, as one ``BenchError``. A class breaking the contract (``contract.check_class``) or a
name registered twice is refused with the plugin named.

Each registered class gets ``origin`` (see ``contract``): every job carries it, and a worker
process calls ``restore(origin)`` so that a plugin file or a trained file is registered there
too (a worker that cannot read the file says so, naming its host).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import sys
import types
from pathlib import Path

from bench.adapters.contract import Adapter, check_class
from bench.core.errors import BenchError

ENTRY_POINT_GROUP = "mnist_bench.models"
THIS_DISTRIBUTION = "mnist-bench"
SUITES = ("default", "reference")
REGISTRY: dict[str, type[Adapter]] = {}
_BROKEN: dict[str, str] = {}  # entry-point name -> why it could not be loaded
_STATE = {"loaded": False, "origin": None}


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: add ``cls`` to the registry under ``cls.name``, after checking it keeps
    the contract (``BenchError`` naming the class, its plugin and every broken rule)."""
    origin = _STATE["origin"] or {"kind": "module", "module": getattr(cls, "__module__", "?")}
    problems = check_class(cls)
    if problems:
        raise BenchError(
            f"{_plugin_words(origin)}: class {getattr(cls, '__name__', cls)} breaks the adapter "
            f"contract: {'; '.join(problems)}"
        )
    known = REGISTRY.get(cls.name)
    if known is not None and known is not cls:
        raise DuplicateName(
            cls.name,
            f"model name {cls.name!r} registered twice: by {_plugin_words(known.origin)} "
            f"and by {_plugin_words(origin)}; rename one of them",
        )
    if "origin" not in cls.__dict__:
        cls.origin = dict(origin)
    REGISTRY[cls.name] = cls
    return cls


class DuplicateName(BenchError):
    """Two plugins registered one model name (``name``)."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def _plugin_words(origin: dict) -> str:
    """A plugin named for people: ``plugin file my.py``, ``entry point rf = pkg:make (my-models 1.0)``."""
    kind = origin.get("kind")
    if kind == "plugin-file":
        return f"plugin file {origin.get('path')}"
    if kind in ("entry-point", "builtin") and origin.get("entry_point"):
        return f"entry point {origin['entry_point']} ({origin.get('distribution', '?')})"
    if kind == "env":
        return f"BENCH_EXTRA_MODELS module {origin.get('module')}"
    if kind == "file":
        return f"model file {origin.get('path')}"
    return f"module {origin.get('module', '?')}"


@contextlib.contextmanager
def _loading(origin: dict):
    """Stamp classes registered inside the block with ``origin``."""
    previous, _STATE["origin"] = _STATE["origin"], origin
    try:
        yield
    finally:
        _STATE["origin"] = previous


def _register_loaded(obj, origin: dict) -> None:
    """Register what an entry point named: a class, or a function's returned class(es); a
    module registered its own classes while it was imported."""
    if isinstance(obj, types.ModuleType):
        return
    if isinstance(obj, type) or callable(obj):
        made = [obj] if isinstance(obj, type) else obj()
        for cls in made if isinstance(made, (list, tuple)) else [made]:
            if REGISTRY.get(getattr(cls, "name", None)) is not cls:
                register(cls)
            elif (
                cls.origin.get("kind") == "module"
            ):  # imported directly before the registry loaded it
                cls.origin = dict(origin)
        return
    raise BenchError(
        f"{_plugin_words(origin)} names a {type(obj).__name__}, not an adapter class, module or "
        "function returning adapter classes"
    )


def _entry_points() -> list:
    from importlib.metadata import entry_points

    return sorted(
        entry_points(group=ENTRY_POINT_GROUP),
        key=lambda ep: (getattr(ep.dist, "name", "") != THIS_DISTRIBUTION,),
    )


def _load_entry_points() -> None:
    for ep in _entry_points():
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "?"
        kind = (
            "builtin"
            if ep.dist is not None and ep.dist.name == THIS_DISTRIBUTION
            else "entry-point"
        )
        origin = {"kind": kind, "entry_point": f"{ep.name} = {ep.value}", "distribution": dist}
        before = set(REGISTRY)
        try:
            with _loading(origin):
                _register_loaded(ep.load(), origin)
        except Exception as exc:  # noqa: BLE001 - a broken plugin breaks only what needs it
            for name in (
                set(REGISTRY) - before
            ):  # what it registered before failing is not usable either
                del REGISTRY[name]
            why = exc.args[0] if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            _BROKEN[ep.name] = (
                f"plugin {_plugin_words(origin)} failed to load: {' '.join(str(why).split())}"
            )
            _refuse_ambiguous(exc)


def _refuse_ambiguous(exc: Exception) -> None:
    """Two installed plugins with one model name: neither is used (which one came first is
    an accident of installation), unless the name is a built-in family's, which stays."""
    if (
        isinstance(exc, DuplicateName)
        and REGISTRY.get(exc.name) is not None
        and REGISTRY[exc.name].origin.get("kind") != "builtin"
    ):
        del REGISTRY[exc.name]
        _BROKEN[exc.name] = str(exc)


def _load_env() -> None:
    for module in [
        m.strip() for m in os.environ.get("BENCH_EXTRA_MODELS", "").split(",") if m.strip()
    ]:
        origin = {"kind": "env", "module": module}
        try:
            with _loading(origin):
                importlib.import_module(module)
        except BenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - any import failure is the user's module's
            raise BenchError(
                f"BENCH_EXTRA_MODELS: cannot import {module!r} ({type(exc).__name__}: {exc})"
            ) from None


def _load_all() -> None:
    if _STATE["loaded"]:
        return
    _STATE["loaded"] = True
    _load_entry_points()
    _load_env()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path, expect_sha256: str | None = None) -> list[str]:
    """Import the plugin file ``path`` (``--plugin``) and return the model names it registered.
    ``BenchError`` (one line) when it is missing, not Python, fails to import or registers
    nothing; ``expect_sha256``: also when its content is not that one (a worker reading the
    file a job was planned with). Loading the same content twice registers it once."""
    _load_all()
    path = Path(path).expanduser()
    where = f"--plugin {path}"
    if path.suffix != ".py":
        raise BenchError(
            f"{where}: expected a Python file (.py); for a trained model file use --with or evaluate"
        )
    try:
        text = path.read_bytes()
    except OSError as exc:
        on = (
            f" on {_host()}" if expect_sha256 else ""
        )  # a worker restoring a job's plugin says which one
        raise BenchError(f"{where}: cannot read it{on} ({exc.strerror or exc})") from None
    sha = hashlib.sha256(text).hexdigest()
    if expect_sha256 and sha != expect_sha256:
        raise BenchError(
            f"{where}: on {_host()} its content (sha256 {sha[:12]}) is not the one the job was "
            f"planned with ({expect_sha256[:12]}); give every worker the same file"
        )
    module_name = f"bench_plugin_{_identifier(path.stem)}_{sha[:12]}"
    if module_name in sys.modules:
        return list(sys.modules[module_name].__bench_models__)
    origin = {"kind": "plugin-file", "path": str(path.resolve()), "sha256": sha}
    try:
        code = compile(text, str(path), "exec")
    except SyntaxError as exc:
        raise BenchError(f"{where}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. NUL bytes: not a Python source file
        raise BenchError(f"{where}: not Python source ({exc})") from None
    module = types.ModuleType(module_name)
    module.__file__ = str(path.resolve())
    before = set(REGISTRY)
    sys.modules[module_name] = module  # dataclasses, pickling and Keras' serialization look it up
    if str(path.resolve().parent) not in sys.path:  # modules beside the plugin file import as usual
        sys.path.append(str(path.resolve().parent))  # last: an installed package is never shadowed
    try:
        with _loading(origin):
            exec(code, module.__dict__)  # noqa: S102 - the user's own plugin file, named on the command line
    except BenchError as exc:
        _forget(module_name, before)
        named = origin["path"] in str(exc) or str(path) in str(exc)
        raise BenchError(str(exc) if named else f"{where}: {exc}") from None
    except BaseException as exc:  # noqa: BLE001 - SystemExit or KeyboardInterrupt from a plugin too
        _forget(module_name, before)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise BenchError(
            f"{where}: importing it raised {type(exc).__name__}: {' '.join(str(exc).split())}"
        ) from None
    added = [n for n in REGISTRY if n not in before]
    if not added:
        _forget(module_name, before)
        raise BenchError(
            f"{where}: registers no model (decorate an Adapter subclass with @register, or call "
            "sklearn_model / keras_model from bench.adapters)"
        )
    module.__bench_models__ = added
    return added


def _forget(module_name: str, before: set) -> None:
    sys.modules.pop(module_name, None)
    for name in set(REGISTRY) - before:
        del REGISTRY[name]


def _identifier(stem: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in stem) or "plugin"


def _host() -> str:
    import socket

    return f"host {socket.gethostname()}"


def add_file(path, options: dict | None = None, expect_sha256: str | None = None) -> str:
    """Register an already-trained model file (``--with FILE``, ``evaluate FILE``) as an
    inference-only adapter (``bench.adapters.trained``) and return its model name."""
    from bench.adapters import trained

    _load_all()
    cls = trained.adapter_for(Path(path), options or {}, expect_sha256=expect_sha256)
    known = REGISTRY.get(cls.name)
    if known is not None and known.origin.get("sha256") == cls.origin.get("sha256"):
        return known.name
    with _loading(cls.origin):
        register(cls)
    return cls.name


def restore(origin: dict | None) -> None:
    """Register in this process the model a job's ``origin`` describes (a worker's first
    step): a plugin file or a trained file is loaded again, checked against its sha256;
    entry points and ``BENCH_EXTRA_MODELS`` modules are loaded by every process anyway."""
    _load_all()
    kind = (origin or {}).get("kind")
    if kind in ("plugin-file", "file") and any(
        c.origin.get("sha256") == origin.get("sha256") and c.origin.get("kind") == kind
        for c in REGISTRY.values()
    ):
        return  # the same content is registered already (``--plugin`` named it, maybe from elsewhere)
    if kind == "plugin-file":
        load_file(origin["path"], expect_sha256=origin.get("sha256"))
    elif kind == "file":
        add_file(origin["path"], origin.get("options"), expect_sha256=origin.get("sha256"))
    elif (
        kind == "env" and origin.get("module") not in sys.modules
    ):  # a worker without BENCH_EXTRA_MODELS
        try:
            with _loading(origin):
                importlib.import_module(origin["module"])
        except ImportError as exc:
            raise BenchError(
                f"model module {origin['module']!r} cannot be imported on {_host()} ({exc})"
            ) from None


def broken() -> dict[str, str]:
    """Entry-point plugins that could not be loaded: name -> the reason, one line."""
    _load_all()
    return dict(_BROKEN)


def names() -> list[str]:
    """All registered model names: the default suite first, then the others, each in the
    order they were registered (this distribution's entry points first)."""
    _load_all()
    return default_suite() + [n for n, cls in REGISTRY.items() if not cls.default_suite]


def default_suite() -> list[str]:
    """The models that declare ``default_suite = True`` (``run --all``), in registration order."""
    _load_all()
    return [n for n, cls in REGISTRY.items() if cls.default_suite]


def suite(name: str) -> list[str]:
    """Model names of a suite: ``default`` (the models declaring ``default_suite``) or
    ``reference`` (the models tagged ``reference``)."""
    if name == "default":
        return default_suite()
    if name == "reference":
        return [n for n in names() if "reference" in REGISTRY[n].tags]
    raise BenchError(f"unknown suite {name!r}; choose from: {', '.join(SUITES)}")


def get(name: str) -> type[Adapter]:
    """The adapter class for ``name``; ``BenchError`` naming a broken plugin's cause, or listing
    the valid names for an unknown one."""
    _load_all()
    if name in REGISTRY:
        return REGISTRY[name]
    if name in _BROKEN:
        raise BenchError(_BROKEN[name])
    hint = ""
    if name.endswith(".py"):
        hint = f" (to load a plugin file, pass --plugin {name})"
    elif Path(name).suffix in (".keras", ".onnx", ".skops", ".ubj", ".json"):
        hint = f" (to evaluate a trained model file, pass it with --with {name} or to `evaluate`)"
    if _BROKEN and not hint:
        hint = f" (plugins that failed to load: {'; '.join(sorted(set(_BROKEN.values())))})"
    raise BenchError(f"unknown model {name!r}{hint}; choose from: {', '.join(names())}")


def __getattr__(attr: str):
    if attr == "DEFAULT_SUITE":  # the default suite as a tuple, for callers of the old constant
        return tuple(default_suite())
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
