"""``run``: train and measure models (the names, ``--all`` or ``--suite`` chosen here)."""

from __future__ import annotations

from bench.core.errors import BenchError
from bench.run.suite import execute, positive_int


def _model_names(args) -> list[str]:
    from bench.adapters import registry

    chosen = [flag for flag, on in (("model names", bool(args.models)), ("--all", args.all),
                                    ("--suite", getattr(args, "suite", None) is not None)) if on]
    if len(chosen) > 1:
        raise BenchError(f"give one of model names, --all or --suite, not {' and '.join(chosen)}")
    if getattr(args, "suite", None) is not None:
        return registry.suite(args.suite)
    names = list(registry.DEFAULT_SUITE) if args.all else args.models
    if not names:
        raise BenchError(f"name models to run or use --all or --suite; models: {', '.join(registry.names())}")
    for name in names:
        registry.get(name)  # unknown name -> one-line error listing the valid ones
    return names


def cmd_run(args) -> int:
    names = _model_names(args)
    seeds = positive_int(args.seeds, "--seeds")
    outcomes = execute(args, names, args.dataset or ["mnist"], args.profile, args.device, seeds, args.out,
                       resume=args.resume)
    return 1 if any(o.status in ("failed", "timeout") for o in outcomes) else 0
