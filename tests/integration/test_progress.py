"""The suite's progress display: plain lines for logs, a live view on a terminal.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_progress``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import ROOT


def test_logs_and_pipes_get_plain_lines():
    code = "from bench.run import progress; print(type(progress.choose()).__name__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.stdout.strip() == "Plain"


def test_a_result_line_reaches_a_pipe_while_the_suite_still_runs(tmp_path):
    """Without PYTHONUNBUFFERED, stdout to a pipe is block-buffered: every line used to arrive
    when the suite exited. The order checked: logreg's result line is read while mlp, the next
    job, has no record yet and the suite has not exited (mlp's record comes seconds later)."""
    out = tmp_path / "o"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = str(ROOT)
    with open(
        tmp_path / "stderr.txt", "w"
    ) as err:  # a file: stderr can never fill a pipe and stall the suite
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench",
                "run",
                "logreg",
                "mlp",
                "--dataset",
                "digits",
                "--profile",
                "quick",
                "--set",
                "mlp.epochs=2",
                "--out",
                str(out),
                "--no-save-models",
                "--robustness",
                "off",
                "--no-plots",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            cwd=ROOT,
        )
    seen, at_logreg = [], None
    deadline = time.monotonic() + 600
    try:
        for line in proc.stdout:  # each line as it arrives
            seen.append(line)
            if (
                at_logreg is None
                and line.lstrip().startswith("-> ok")
                and any("logreg on digits" in s for s in seen)
            ):
                at_logreg = (
                    proc.poll(),
                    sorted(p.name for p in (out / "runs").glob("*.json")),
                    len(seen),
                )
            assert time.monotonic() < deadline, "".join(seen)
        assert proc.wait(timeout=60) == 0, (
            "".join(seen) + (tmp_path / "stderr.txt").read_text()[-3000:]
        )
    finally:
        if proc.poll() is None:
            proc.kill()
    assert at_logreg is not None, "".join(seen)
    exited, records_then, lines_then = at_logreg
    assert exited is None, "logreg's result line arrived only once the suite had exited"
    assert len(records_then) == 1, (
        f"mlp had finished before logreg's result line arrived: {records_then}"
    )
    assert sum(s.lstrip().startswith("-> ok") for s in seen) == 2 and lines_then < len(seen)
    assert len(list((out / "runs").glob("*.json"))) == 2
