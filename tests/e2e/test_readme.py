"""The README's commands, run as written, in the order it shows them, in a scratch folder laid
out as its text assumes (``examples/`` of the repository, the committed gate baseline, a
trained ``my_model.onnx``, a ``digit.png``, records in ``results/runs`` and ``other/runs``).

How each kind runs, and why where it is not exactly as written:

- ``python -m bench run ...``: with ``--dry-run`` added: every check, plugin load and dataset
  fetch of the run, the jobs listed, nothing trained (the suites they start take from minutes
  to half an hour; the training itself is what the rest of the e2e tier runs).
- any other ``python -m bench ...``: as written. ``check --run`` among them is the CI gate on
  real MNIST (six families, quick profile, against the committed baseline): this test is the
  project's gate test, and ``.ci/run`` has no gate step of its own.
- ``pip install`` of the harness itself (``.``, ``-e .``, with extras): ``--dry-run`` added
  (the environment running this test is that install); of another folder (a plugin): into a
  folder of the scratch space (``--target``, ``--no-deps``: its dependencies are the
  harness's), put on the ``PYTHONPATH`` of the commands after it.
- ``python -m pytest``: the command that runs this test; ``.ci/run`` runs it as written.
- ``mkdocs serve``: started on a free port (``--dev-addr``), read until it serves the manual's
  front page and its generated CLI reference, then stopped.

A command of another program, or a ``python -m bench`` line this test does not know how to
check, fails the test: a new README command comes with its check here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bench import records
from tests.conftest import ROOT
from tests.helpers import documented_commands

README = ROOT / "README.md"
PROGRAMS = ("python -m bench ", "python -m pytest", "pip install ", "mkdocs ")
FASHION_MISSING = "apt-get install dataset-fashion-mnist"
NOISE = re.compile(r"oneDNN|absl|cpu_feature_guard|AVX|rebuild TensorFlow|^WARNING: All log")


def readme_commands() -> list[str]:
    """The README's command lines of the programs above, in page order (code blocks, then
    inline code), each once."""
    found = [c for c in documented_commands(README.read_text()) if c.startswith(PROGRAMS)]
    return list(dict.fromkeys(found))


def _onnx_model(path: Path, mnist) -> None:
    """A logistic regression on 3,000 MNIST training images, exported with skl2onnx: a model
    trained elsewhere, as ``evaluate`` expects one (flat [0, 1] float input)."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x = mnist.splits.x_train[:3000].reshape(3000, -1).astype(np.float32) / 255
    model = LogisticRegression(max_iter=200).fit(x, mnist.splits.y_train[:3000])
    path.write_bytes(to_onnx(model, x[:1], options={"zipmap": False}).SerializeToString())


def _digit_png(path: Path, mnist) -> int:
    """The first MNIST test image as a PNG; returns its label."""
    from PIL import Image

    Image.fromarray(mnist.splits.x_test[0].reshape(28, 28).astype(np.uint8)).save(path)
    return int(mnist.splits.y_test[0])


@pytest.fixture
def workspace(tmp_path, use_mnist):
    """The folder the README's commands run in, with what they name."""
    ws = tmp_path / "ws"
    shutil.copytree(
        ROOT / "examples", ws / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "results" / "baselines", ws / "results" / "baselines")
    _onnx_model(ws / "my_model.onnx", use_mnist)
    label = _digit_png(ws / "digit.png", use_mnist)
    for out in ("results", "other"):  # records of one's own, and of another machine or branch
        proc = _bench(
            ws, {}, "run", "logreg", "--dataset", "digits", "--profile", "quick", "--out", out
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return ws, label


def _bench(ws: Path, env: dict, *argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return _run(ws, env, [sys.executable, "-m", "bench", *argv], timeout)


def _run(
    cwd: Path, env: dict, argv: list[str], timeout: float = 900
) -> subprocess.CompletedProcess:
    full = dict(os.environ, **env)
    full["PYTHONPATH"] = os.pathsep.join(
        [*env.get("PYTHONPATH", "").split(os.pathsep), str(ROOT)]
    ).strip(os.pathsep)
    return subprocess.run(
        argv,
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _tail(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if not NOISE.search(line)]
    return "\n".join(lines[-25:])


@pytest.mark.slow
def test_every_readme_command_runs_as_written(workspace):
    ws, label = workspace
    commands = readme_commands()
    assert len(commands) >= 15, commands
    env: dict[str, str] = {}
    bad, unavailable = [], []
    for command in commands:
        try:
            problem = _check_command(command, ws, env, label)
        except subprocess.TimeoutExpired as e:
            problem = f"still running after {e.timeout:.0f} s"
        except Unavailable as e:
            unavailable.append(f"`{command}` needs {e}")
            continue
        if problem:
            bad.append(f"{command}\n    {problem}")
    assert bad == [], "README commands that fail:\n" + "\n".join(bad)
    if unavailable:
        pytest.skip("every other README command ran; " + "; ".join(unavailable))


class Unavailable(Exception):
    """A command needs an optional system package this machine lacks (and need not have)."""


def _check_command(command: str, ws: Path, env: dict, label: int) -> str | None:
    """Run one README command (as the module docstring says); None when it did what it
    should, else what went wrong."""
    if command.startswith("python -m pytest"):
        ci = (ROOT / ".ci" / "run").read_text()
        return None if f"&& env -u PYTHONUNBUFFERED {command}" in ci else ".ci/run does not run it"
    if command.startswith("pip install "):
        return _pip(command, ws, env)
    if command.startswith("mkdocs "):
        return _mkdocs(command)
    argv = shlex.split(command.replace("<run id>", _newest_model(ws)))[3:]
    if argv[0] == "run":
        return _dry_run(ws, env, argv)
    proc = _bench(ws, env, *argv, timeout=1500)
    if proc.returncode != 0 or "Traceback" in proc.stderr:
        return f"exit {proc.returncode}:\n{_tail(proc)}"
    return CHECKS.get(argv[0], _unknown)(argv, proc, ws, label)


def _pip(command: str, ws: Path, env: dict) -> str | None:
    words = shlex.split(command)[2:]
    harness = [w for w in words if w != "-e"] in (
        [
            ".",
        ],
        [".[test]"],
        [".[docs]"],
    )
    if harness:
        argv, cwd = [sys.executable, "-m", "pip", "install", "-q", "--dry-run", *words], ROOT
    else:
        site = ws / "site"
        argv = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        argv += ["--target", str(site), *[str(ws / w) if (ws / w).exists() else w for w in words]]
        cwd = ws
        env["PYTHONPATH"] = str(site)
    proc = _run(cwd, {}, argv, timeout=600)
    return None if proc.returncode == 0 else f"exit {proc.returncode}:\n{_tail(proc)}"


def _dry_run(ws: Path, env: dict, argv: list[str]) -> str | None:
    """``run`` with ``--dry-run``: it lists a job for every model and dataset it names."""
    proc = _bench(ws, env, *argv, "--dry-run")
    if proc.returncode != 0 and FASHION_MISSING in proc.stderr and not _fashion_required():
        raise Unavailable("Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    if proc.returncode != 0:
        return f"exit {proc.returncode}:\n{_tail(proc)}"
    jobs = re.findall(r"^  \d+/\d+ (\S+) ", proc.stdout, re.M)
    named = [
        w
        for i, w in enumerate(argv[1:], 1)
        if not w.startswith("-") and not argv[i - 1].startswith("-")
    ]
    named += [argv[i + 1] for i, w in enumerate(argv) if w == "--with"]
    datasets = [argv[i + 1] for i, w in enumerate(argv) if w == "--dataset"] or ["mnist"]
    missing = [n for n in named if n not in jobs]
    missing += [
        d for d in datasets if not any(f" on {d} (" in line for line in proc.stdout.splitlines())
    ]
    seeds = int(argv[argv.index("--seeds") + 1]) if "--seeds" in argv else 1
    if missing or not jobs or len(jobs) % seeds:
        return f"the plan lacks {missing} ({len(jobs)} jobs):\n{_tail(proc)}"
    return None


def _fashion_required() -> bool:
    """``.ci/run`` installs Debian's Fashion-MNIST package and sets BENCH_REQUIRE_FASHION=1:
    there its absence fails; on a machine without it a command naming it is a skip."""
    return os.environ.get("BENCH_REQUIRE_FASHION") == "1"


def _newest_model(ws: Path) -> str:
    """``<run id>``: the newest model saved under results/models (by its run id's time)."""
    saved = sorted(p.name for p in (ws / "results" / "models").iterdir())
    return saved[-1] if saved else "<none saved>"


def _check_gate(argv, proc, ws, label) -> str | None:
    """``check --run``: six families trained on real MNIST, each well above chance, none
    regressed against the committed baseline."""
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and " pp " in line]
    now = {r.split("|")[1].strip(): float(r.split("|")[3].strip().rstrip("%")) for r in rows}
    families = ["cnn-deep", "cnn-small", "logreg", "mlp", "svm", "xgboost"]
    if sorted(now) != families or any("REGRESSED" in r for r in rows) or min(now.values()) <= 85:
        return f"gate table {now}:\n{proc.stdout[-3000:]}"
    print(proc.stdout)
    return None


def _check_evaluate(argv, proc, ws, label) -> str | None:
    recs = [r for r in records.read_all(ws / "results" / "runs") if r["job"]["model"] == argv[1]]
    ok = len(recs) == 1 and recs[0]["status"] == "ok" and recs[0]["metrics"]["accuracy"] > 0.8
    return (
        None if ok else f"records of {argv[1]}: {[(r['status'], r.get('metrics')) for r in recs]}"
    )


def _check_adapter(argv, proc, ws, label) -> str | None:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    checks = [line for line in lines if line.startswith(("ok ", "FAIL"))]
    return None if checks and all(c.startswith("ok ") for c in checks) else proc.stdout[-2000:]


def _check_report(argv, proc, ws, label) -> str | None:
    page = ws / "results" / ("site/index.html" if "html" in argv else "LEADERBOARD.md")
    return None if page.is_file() and "logreg" in page.read_text() else f"{page} lacks the records"


def _check_compare(argv, proc, ws, label) -> str | None:
    return None if "| logreg" in proc.stdout else proc.stdout[-2000:]


def _check_predict(argv, proc, ws, label) -> str | None:
    """The newest saved model is ``evaluate``'s MNIST model: it reads the digit right."""
    row = [line for line in proc.stdout.splitlines() if line.startswith("| digit.png |")]
    return None if row and row[0].split("|")[2].strip() == str(label) else proc.stdout[-2000:]


def _unknown(argv, proc, ws, label) -> str:
    return f"this test has no check for `{argv[0]}`: add one to CHECKS"


CHECKS = {
    "check": _check_gate,
    "evaluate": _check_evaluate,
    "check-adapter": _check_adapter,
    "report": _check_report,
    "compare": _check_compare,
    "predict": _check_predict,
}


def _mkdocs(command: str) -> str | None:
    """``mkdocs serve`` on a free port: it serves the front page and the generated CLI reference."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", *shlex.split(command), "--dev-addr", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        front = _get(f"http://127.0.0.1:{port}/", server)
        cli = _get(f"http://127.0.0.1:{port}/reference/cli/", server)
    finally:
        server.terminate()
        err = server.communicate(timeout=60)[1]
    if front is None or cli is None:
        return f"mkdocs serve: no page (exit {server.returncode}):\n{err[-2000:]}"
    return (
        None
        if "mnist-bench" in front and "--dry-run" in cli
        else "the served pages lack their content"
    )


def _get(url: str, server: subprocess.Popen, deadline_s: float = 300) -> str | None:
    """The page at ``url`` once the server answers (polled until ``deadline_s``); None when
    the server exits or never answers."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # polling a server that is still building, not ordering events
    return None
