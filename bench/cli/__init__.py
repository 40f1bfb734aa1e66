"""``python -m bench``: list, data, run, report, compare, predict, evaluate, selfcheck, baseline, check.

Every user error (``BenchError``) is printed as one line, ``error: ...``, with exit code 2.
``run`` exits 1 when any job failed or timed out, 130 when interrupted.
"""

from __future__ import annotations

import sys

from bench.cli import gate, info, train, use, views
from bench.cli.parser import DEFAULT_RESULTS, build_parser  # noqa: F401 (re-exported)
from bench.core.errors import BenchError

COMMANDS = {"list": info.cmd_list, "data": info.cmd_data, "run": train.cmd_run, "report": views.cmd_report,
            "compare": views.cmd_compare, "predict": use.cmd_predict, "evaluate": use.cmd_evaluate,
            "selfcheck": info.cmd_selfcheck, "baseline": gate.cmd_baseline, "check": gate.cmd_check}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
