"""``python -m bench``: list, data, run, report, compare, predict, evaluate, card, machine, selfcheck,
baseline, check, check-adapter.

Every user error (``BenchError``) is printed as one line, ``error: ...``, with exit code 2.
``run`` exits 1 when any job failed or timed out, 130 when interrupted.

The top floor: may import every package of ``bench`` (``parser`` builds the command line,
one module per group of commands runs them); nothing imports it but ``bench.__main__``.
"""

from __future__ import annotations

import sys

from bench.cli import author, gate, info, results, train, use
from bench.cli.parser import DEFAULT_RESULTS, build_parser  # noqa: F401 (re-exported)
from bench.core.errors import BenchError

COMMANDS = {
    "list": info.cmd_list,
    "data": info.cmd_data,
    "run": train.cmd_run,
    "report": results.cmd_report,
    "compare": results.cmd_compare,
    "predict": use.cmd_predict,
    "evaluate": use.cmd_evaluate,
    "card": use.cmd_card,
    "machine": info.cmd_machine,
    "selfcheck": info.cmd_selfcheck,
    "baseline": gate.cmd_baseline,
    "check": gate.cmd_check,
    "check-adapter": author.cmd_check_adapter,
}


def flush_every_line() -> None:
    """Make stdout line-buffered: each line printed reaches a pipe (``| tee log``, CI) at once.

    Python buffers stdout in 8 KiB blocks when it is not a terminal, unless PYTHONUNBUFFERED
    is set, so a suite piped to ``tee`` showed nothing until it exited. One switch at the entry
    point covers every ``print`` below it (cli, suite, progress) where ``flush=True`` at each
    call would miss the next one added; line buffering, not none, because every progress line
    ends in a newline and a write per line is all it costs. stderr is line-buffered by Python
    already. A stdout without ``reconfigure`` (a ``StringIO`` swapped in by a caller) is left as is.
    """
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)


def load_plugins(files: list[str]) -> None:
    """Register the models of each ``--plugin`` file, before the command resolves any name
    (``BenchError``, one line, for a file that cannot be loaded)."""
    if files:
        from bench.adapters import registry

        for path in files:
            registry.load_file(path)


def main(argv: list[str] | None = None) -> int:
    flush_every_line()
    try:
        args = build_parser().parse_args(argv)
        load_plugins(getattr(args, "plugin", None) or [])
        return COMMANDS[args.command](args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
