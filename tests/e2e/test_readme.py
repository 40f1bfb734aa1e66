"""The README's commands, run as written, in the order it shows them, in a scratch folder laid
out as its text assumes (``examples/`` of the repository, the committed gate baseline, a
trained ``my_model.onnx``, a ``digit.png``, records in ``results/runs`` and ``other/runs``).

How each kind runs, and why where it is not exactly as written:

- ``python -m bench run ...``: with ``--dry-run`` added: every check, plugin load and dataset
  fetch of the run, then its jobs listed, nothing trained (the suites these commands start
  are the size of a user's real run; the training itself is what the rest of the e2e tier
  runs). The listed jobs are checked against the command: one per model, dataset, grid
  point, precision, runtime and seed.
- ``python -m bench check --run``: the CI gate on real MNIST (six families, quick profile,
  against the committed baseline), in a test of its own, with ``--out`` added so that its
  records can be read (without it they go to a temporary folder the command removes). This
  is the project's gate test: ``.ci/run`` has no gate step of its own.
- any other ``python -m bench ...``: as written.
- ``pip install`` of the harness itself (``.``, ``-e .``, with extras): ``--dry-run`` added
  (the environment running this test is that install; pip resolves it against the package
  index); of another folder (a plugin): into a folder of the scratch space (``--target``,
  ``--no-deps``: its dependencies are the harness's), on the ``PYTHONPATH`` of the commands
  after it.
- ``python -m pytest``: the command that runs this test; ``.ci/run`` runs it as written.
- ``mkdocs serve``: started on a free port (``--dev-addr``), read until it serves the manual's
  front page and its generated CLI reference, then stopped.

Every line of the README's code blocks must be one of these programs, and every ``python -m
bench`` subcommand must have a check here: a new README command comes with its check.
"""

from __future__ import annotations

import itertools
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
from tests.helpers import block_commands, documented_commands

README = ROOT / "README.md"
PROGRAMS = ("python -m bench ", "python -m pytest", "pip install ", "mkdocs ")
GATE = "python -m bench check "
FASHION_PACKAGE = Path("/usr/share/datasets/fashion-mnist")
NOISE = re.compile(r"oneDNN|absl|cpu_feature_guard|AVX|rebuild TensorFlow|^WARNING: All log")


def readme_commands() -> list[str]:
    """The README's command lines, in page order (code blocks, then inline code of the
    programs above), each once."""
    text = README.read_text()
    inline = [c for c in documented_commands(text) if c.startswith(PROGRAMS)]
    return list(dict.fromkeys(block_commands(text) + inline))


def test_the_readme_code_blocks_hold_only_commands_this_module_runs():
    unknown = [c for c in block_commands(README.read_text()) if not c.startswith(PROGRAMS)]
    assert unknown == []
    assert len(readme_commands()) >= 15


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path, use_mnist):
    ws = _workspace(tmp_path, use_mnist)
    env: dict[str, str] = {}
    bad, unavailable = [], []
    for command in readme_commands():
        if command.startswith(GATE):
            continue  # the next test's
        try:
            problem = _check_command(command, ws, env)
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


@pytest.mark.slow
def test_the_readme_gate_trains_all_six_well_above_chance_and_passes(tmp_path, use_mnist):
    """``check --run`` trains the committed baseline's six families (quick profile, seed 0) on
    MNIST and checks them against it: every family well above chance, on MNIST's split by
    writers, and the gate passes (exit 0, no model regressed)."""
    gates = [c for c in readme_commands() if c.startswith(GATE)]
    assert gates == ["python -m bench check --run"]
    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "results" / "baselines", ws / "results" / "baselines")
    argv = shlex.split(gates[0])[3:]
    proc = _bench(ws, {}, *argv, "--out", "gate", timeout=1500)
    assert proc.returncode == 0, _tail(proc)
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and " pp " in line]
    assert len(rows) == 6 and not any("REGRESSED" in r for r in rows), proc.stdout
    recs = records.read_all(ws / "gate" / "runs")
    families = ["cnn-deep", "cnn-small", "logreg", "mlp", "svm", "xgboost"]
    assert sorted(r["job"]["model"] for r in recs) == families
    for r in recs:
        assert r["status"] == "ok" and r["job"]["profile"] == "quick", r["job"]
        assert (r["data"]["n_train"], r["data"]["n_val"], r["data"]["n_test"]) == (
            6000,
            1000,
            10000,
        )
        assert (
            r["data"]["val_split"] == r["job"]["val_split"] == "writers"
        )  # whole writers held out
        assert r["metrics"]["accuracy"] > 0.85, (r["job"]["model"], r["metrics"]["accuracy"])
    print(proc.stdout)


class Unavailable(Exception):
    """A command needs an optional system package this machine lacks (and need not have)."""


def _workspace(tmp_path: Path, mnist) -> Path:
    """The folder the README's commands run in, with what they name."""
    ws = tmp_path / "ws"
    shutil.copytree(
        ROOT / "examples", ws / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    _onnx_model(ws / "my_model.onnx", mnist)
    _digit_png(ws / "digit.png", mnist)
    for out in ("results", "other"):  # records of one's own, and of another machine or branch
        proc = _bench(
            ws, {}, "run", "logreg", "--dataset", "digits", "--profile", "quick", "--out", out
        )
        assert proc.returncode == 0, _tail(proc)
    return ws


def _onnx_model(path: Path, mnist) -> None:
    """A logistic regression on 3,000 MNIST training images, exported with skl2onnx: a model
    trained elsewhere, as ``evaluate`` expects one (flat [0, 1] float input)."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x = mnist.splits.x_train[:3000].reshape(3000, -1).astype(np.float32) / 255
    model = LogisticRegression(max_iter=200).fit(x, mnist.splits.y_train[:3000])
    path.write_bytes(to_onnx(model, x[:1], options={"zipmap": False}).SerializeToString())


def _digit_png(path: Path, mnist) -> None:
    """The first MNIST test image (a 7) as a PNG."""
    from PIL import Image

    Image.fromarray(mnist.splits.x_test[0].reshape(28, 28).astype(np.uint8)).save(path)


def _bench(ws: Path, env: dict, *argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return _run(ws, env, [sys.executable, "-m", "bench", *argv], timeout)


def _run(
    cwd: Path, env: dict, argv: list[str], timeout: float = 900
) -> subprocess.CompletedProcess:
    """``argv`` in ``cwd``, no stdin, with this repository (and ``env``'s PYTHONPATH) importable."""
    full = dict(os.environ, **env)
    paths = [*env.get("PYTHONPATH", "").split(os.pathsep), str(ROOT)]
    full["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
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
    return f"exit {proc.returncode}:\n" + "\n".join(lines[-25:])


def _check_command(command: str, ws: Path, env: dict) -> str | None:
    """Run one README command (as the module docstring says); None when it did what it
    should, else what went wrong."""
    if command.startswith("python -m pytest"):
        ci = (ROOT / ".ci" / "run").read_text()
        return None if f"&& env -u PYTHONUNBUFFERED {command}" in ci else ".ci/run does not run it"
    if command.startswith("pip install "):
        return _pip(command, ws, env)
    if command.startswith("mkdocs "):
        return _mkdocs(command, ws)
    argv = shlex.split(command.replace("<run id>", _evaluated_run_id(ws)))[3:]
    if argv[0] == "run":
        return _dry_run(ws, env, argv)
    prepare, check = CHECKS.get(argv[0], (None, _unknown))
    if prepare:
        prepare(argv, ws)
    proc = _bench(ws, env, *argv, timeout=1500)
    if proc.returncode != 0 or "Traceback" in proc.stderr:
        return _tail(proc)
    return check(argv, proc, ws)


def _pip(command: str, ws: Path, env: dict) -> str | None:
    words = shlex.split(command)[2:]
    if [w for w in words if w != "-e"] in (["."], [".[test]"], [".[docs]"]):  # the harness
        argv, cwd = [sys.executable, "-m", "pip", "install", "-q", "--dry-run", *words], ROOT
    else:
        site = ws / "site"
        argv = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        argv += ["--target", str(site), *words]
        cwd = ws
        env["PYTHONPATH"] = str(site)
    proc = _run(cwd, {}, argv, timeout=600)
    return None if proc.returncode == 0 else _tail(proc)


def _dry_run(ws: Path, env: dict, argv: list[str]) -> str | None:
    """``run`` with ``--dry-run``: exactly the jobs the command asks for."""
    proc = _bench(ws, env, *argv, "--dry-run")
    if proc.returncode != 0:
        if "fashion-mnist" in argv and not FASHION_PACKAGE.is_dir() and not _fashion_required():
            raise Unavailable(
                "Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
            )
        return _tail(proc)
    titles = re.findall(r"^  \d+/\d+ (.+?)(?:  \[.*\])?$", proc.stdout, re.M)
    expected = _expected_jobs(argv)
    got = sorted(re.sub(r" \(.*\)$", "", t) for t in titles)
    if got != expected:
        return f"the plan lists {got}, the command asks for {expected}:\n{_tail(proc)}"
    return None


def _expected_jobs(argv: list[str]) -> list[str]:
    """What ``run ARGV`` asks for, one ``MODEL [grid values] [precision] [runtime] on
    DATASET`` per job and seed, read from the command line (``--all`` is the default suite:
    ``registry.default_suite()``)."""
    from bench.adapters import registry
    from bench.cli.parser import build_parser

    args = build_parser().parse_args(argv)
    names = list(registry.default_suite()) if args.all else list(args.models)
    names += [n for n in args.with_models if n not in names]
    sweeps: dict[str, list[list[str]]] = {}
    for item in args.grid:
        target, values = item.split("=", 1)
        model, key = target.rsplit(".", 1)
        sweeps.setdefault(model, []).append([f"{key}={_typed(v)}" for v in values.split(",")])
    jobs = []
    for dataset in args.dataset or ["mnist"]:
        for name in names:
            points = [" ".join(p) for p in itertools.product(*sweeps.get(name, []))]
            for point in points:
                for precision in args.precision or ["fp32"]:
                    for runtime in args.runtime or ["native"]:
                        parts = [name, point, "" if precision == "fp32" else precision]
                        parts += ["" if runtime == "native" else runtime, f"on {dataset}"]
                        jobs += [" ".join(p for p in parts if p)] * int(args.seeds)
    return sorted(jobs)


def _typed(raw: str) -> str:
    """A grid value as a job's title shows it: typed (``1e-3`` is ``0.001``)."""
    for kind in (int, float):
        try:
            return str(kind(raw))
        except ValueError:
            pass
    return raw


def _fashion_required() -> bool:
    """``.ci/run`` installs Debian's Fashion-MNIST package and sets BENCH_REQUIRE_FASHION=1:
    there its absence fails; on a machine without it a command naming it is a skip."""
    return os.environ.get("BENCH_REQUIRE_FASHION") == "1"


def _evaluated_run_id(ws: Path) -> str:
    """``<run id>``: the saved model of ``evaluate my_model.onnx``'s record (an MNIST model)."""
    for rec in records.read_all(ws / "results" / "runs"):
        if rec["job"]["model"] == "my_model.onnx" and rec.get("artifact"):
            return rec["run_id"]
    return "<no model saved by evaluate yet>"


def _check_evaluate(argv, proc, ws) -> str | None:
    recs = [r for r in records.read_all(ws / "results" / "runs") if r["job"]["model"] == argv[1]]
    ok = len(recs) == 1 and recs[0]["status"] == "ok" and recs[0]["metrics"]["accuracy"] > 0.8
    return (
        None if ok else f"records of {argv[1]}: {[(r['status'], r.get('metrics')) for r in recs]}"
    )


def _check_adapter(argv, proc, ws) -> str | None:
    checks = [line for line in proc.stdout.splitlines() if re.match(r"(ok|FAIL)\b", line)]
    return None if checks and all(c.startswith("ok ") for c in checks) else proc.stdout[-2000:]


def _report_page(argv, ws) -> Path:
    return ws / "results" / ("site/index.html" if "html" in argv else "LEADERBOARD.md")


def _remove_report(argv, ws) -> None:
    """The page ``report`` writes is removed first (``run`` and ``evaluate`` write one too)."""
    _report_page(argv, ws).unlink(missing_ok=True)


def _check_report(argv, proc, ws) -> str | None:
    page = _report_page(argv, ws)
    ok = page.is_file() and "my_model.onnx" in page.read_text() and "logreg" in page.read_text()
    return None if ok else f"{page} lacks the workspace's records"


def _check_compare(argv, proc, ws) -> str | None:
    return (
        None
        if re.search(r"^\| logreg +\| digits/quick/cpu", proc.stdout, re.M)
        else proc.stdout[-2000:]
    )


def _check_predict(argv, proc, ws) -> str | None:
    """``evaluate``'s MNIST model reads the digit, a 7, right."""
    row = [line for line in proc.stdout.splitlines() if line.startswith("| digit.png |")]
    return None if row and row[0].split("|")[2].strip() == "7" else proc.stdout[-2000:]


def _unknown(argv, proc, ws) -> str:
    return f"this test has no check for `{argv[0]}`: add one to CHECKS"


CHECKS = {  # subcommand -> (what to do before it, what its outcome must show)
    "evaluate": (None, _check_evaluate),
    "check-adapter": (None, _check_adapter),
    "report": (_remove_report, _check_report),
    "compare": (None, _check_compare),
    "predict": (None, _check_predict),
}


def _mkdocs(command: str, ws: Path) -> str | None:
    """``mkdocs serve`` on a free port: it serves the front page and the generated CLI reference."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", *shlex.split(command), "--dev-addr", f"127.0.0.1:{port}"]
    log = ws / "mkdocs.log"
    with log.open("w") as err:
        server = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        try:
            front = _get(f"http://127.0.0.1:{port}/", server)
            cli = _get(f"http://127.0.0.1:{port}/reference/cli/", server)
        finally:
            server.terminate()
            server.wait(timeout=60)
    if front is None or cli is None:
        return f"mkdocs serve: no page (exit {server.returncode}):\n{log.read_text()[-2000:]}"
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
