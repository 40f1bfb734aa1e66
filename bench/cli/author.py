"""``check-adapter``: the conformance checker for adapter authors (``bench.adapters.conformance``)."""

from __future__ import annotations

import contextlib
import json
import sys


def cmd_check_adapter(args) -> int:
    """One line per rule (``ok``/``FAIL``/``skip``), or ``--json``; exit 0 when every rule
    holds, 1 otherwise. The model is resolved after ``--plugin`` files were loaded (``main``);
    an unknown name is a ``BenchError`` (one ``error:`` line, exit 2). Whatever the adapter
    prints goes to stderr, so stdout holds the report alone."""
    from bench.adapters import conformance, registry

    cls = registry.get(args.model)
    with contextlib.redirect_stdout(sys.stderr):
        findings = conformance.check_adapter(cls, seed=args.seed)
    passed = all(f.ok for f in findings)
    if args.json:
        print(
            json.dumps(
                {"model": cls.name, "ok": passed, "findings": [f.as_dict() for f in findings]},
                indent=1,
            )
        )
    else:
        for finding in findings:
            print(finding.line())
    return 0 if passed else 1
