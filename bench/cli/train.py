"""``run``: train and measure models (the names, ``--all`` or ``--suite`` chosen here, plus ``--with``
names and already-trained files)."""

from __future__ import annotations

from bench.adapters.trained import is_model_file
from bench.cli.parser import file_options, run_config
from bench.core.errors import BenchError
from bench.run.entry import execute, preview


def with_models(args) -> list[str]:
    """The models of ``--with`` (repeatable): a model name, checked, or a trained file,
    registered (``registry.add_file``: ``BenchError`` for a missing or unreadable file,
    before anything is written)."""
    from bench.adapters import registry

    out = []
    for ref in getattr(args, "with_models", None) or []:
        name = (
            registry.add_file(ref, file_options(args))
            if is_model_file(ref)
            else registry.get(ref).name
        )
        out += [name] if name not in out else []
    return out


def _model_names(args) -> list[str]:
    from bench.adapters import registry

    extra = with_models(args)
    chosen = [
        flag
        for flag, on in (
            ("model names", bool(args.models)),
            ("--all", args.all),
            ("--suite", getattr(args, "suite", None) is not None),
        )
        if on
    ]
    if len(chosen) > 1:
        raise BenchError(f"give one of model names, --all or --suite, not {' and '.join(chosen)}")
    if getattr(args, "suite", None) is not None:
        names = registry.suite(args.suite)
    else:
        names = registry.default_suite() if args.all else list(args.models)
    if not names and not extra:
        raise BenchError(
            f"name models to run or use --all or --suite; models: {', '.join(registry.names())}"
        )
    for name in names:
        registry.get(name)  # unknown name -> one-line error listing the valid ones
    return names + [n for n in extra if n not in names]


def cmd_run(args) -> int:
    names = _model_names(args)
    config = run_config(
        args,
        names,
        args.dataset or ["mnist"],
        args.profile,
        args.device,
        args.seeds,
        args.out,
        resume=args.resume,
    )
    if args.dry_run:
        preview(config)
        return 0
    outcomes = execute(config)
    return 1 if any(o.status in ("failed", "timeout") for o in outcomes) else 0
