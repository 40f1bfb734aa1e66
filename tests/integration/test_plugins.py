"""The registry's routes in (an installed distribution's entry point, ``--plugin FILE.py``) and
its refusals: each bad plugin is one ``error:`` line naming the plugin and the cause, exit 2,
nothing written; a broken entry point breaks only what needs it. The built-in families are
never found through the working directory (a ``models/`` or ``bench/`` folder of the user's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, run_cli

QUICK = (
    "--dataset",
    "digits",
    "--profile",
    "quick",
    "--robustness",
    "off",
    "--infer-min-seconds",
    "0.05",
    "--infer-min-repeats",
    "3",
    "--no-plots",
)
FAST = (*QUICK, "--no-save-models")  # the plugins' jobs: no saved model, no cold start
BUILTINS = ("logreg", "svm", "xgboost", "mlp", "cnn-small", "cnn-deep")

# an adapter of the plugin's own: the built-in logistic regression under another name, out of
# the default suite (a subclass inherits default_suite=True otherwise)
MINE = """
from mnist_bench_models.linear import LogisticRegressionAdapter


class MyLogreg(LogisticRegressionAdapter):
    name = "{name}"
    description = "{description}"
    default_suite = False
"""


def _listed(stdout: str) -> set[str]:
    """The model names of ``bench list``'s table."""
    return {line.split()[0] for line in stdout.split("\n\n")[0].splitlines()[2:] if line.strip()}


def _distribution(site: Path, dist: str, entry_points: str, modules: dict[str, str]) -> Path:
    """A distribution as pip leaves it in site-packages: ``DIST-0.1.dist-info`` with METADATA and
    entry_points.txt, beside its modules; ``importlib.metadata`` finds it on ``sys.path``."""
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    for module, text in modules.items():
        (site / f"{module}.py").write_text(text)
    return site


def _site_env(site: Path) -> dict:
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def test_an_installed_distributions_entry_point_lists_and_runs_its_model(tmp_path):
    site = _distribution(
        tmp_path / "site",
        "mydist",
        "[mnist_bench.models]\nmy-logreg = mydist_models:MyLogreg\n",
        {"mydist_models": MINE.format(name="my-logreg", description="my own logistic regression")},
    )
    env = _site_env(site)
    listed = run_cli("list", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    assert _listed(listed.stdout) >= {*BUILTINS, "my-logreg"}
    assert "my own logistic regression" in listed.stdout and "warning" not in listed.stderr
    # the job's worker finds the entry point too, and the record says where the model came from
    out = tmp_path / "o"
    proc = run_cli(
        "run",
        "my-logreg",
        *FAST,
        "--set",
        "my-logreg.max_iter=30",
        "--out",
        str(out),
        env_extra=env,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (path,) = (out / "runs").glob("*.json")
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok" and rec["job"]["model"] == "my-logreg"
    assert rec["job"]["origin"]["entry_point"] == "my-logreg = mydist_models:MyLogreg"
    assert rec["job"]["origin"]["distribution"] == "mydist 0.1"


def test_a_broken_entry_point_breaks_only_its_own_model(tmp_path):
    entry_points = "[mnist_bench.models]\nbroken-model = brokendist_models:Model\n"
    site = _distribution(
        tmp_path / "site",
        "brokendist",
        entry_points,
        {"brokendist_models": "raise ImportError('No module named torchvision')\n"},
    )
    env = _site_env(site)
    listed = run_cli("list", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    assert _listed(listed.stdout) >= set(BUILTINS) and "broken-model" not in _listed(listed.stdout)
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "broken-model" in warnings[0] and "torchvision" in warnings[0], (
        listed.stderr
    )
    out = tmp_path / "o"
    proc = run_cli("run", "broken-model", *FAST, "--out", str(out), env_extra=env)
    assert_one_line_error(
        proc,
        "broken-model = brokendist_models:Model",
        "brokendist 0.1",
        "ImportError: No module named torchvision",
    )
    assert not out.exists()
    # the other models still run beside it
    fine = run_cli(
        "run", "logreg", *FAST, "--set", "logreg.max_iter=30", "--out", str(out), env_extra=env
    )
    assert fine.returncode == 0, fine.stdout[-2000:] + fine.stderr[-2000:]


MISSING_PROBA = """
from bench.adapters import Adapter, ParamCount, TrainingLog, register


@register
class NoProba(Adapter):
    name = "no-proba"
    family = "linear"
    view = "flat"
    defaults = {"full": {}, "quick": {}}

    def fit(self, x, y, **kw):
        return TrainingLog.single("solve", 0.0, len(x))

    def n_params(self):
        return ParamCount(0, 0, "none")

    def serialized_size(self):
        return 0
"""

REGISTERS = """
from bench.adapters import register
from mnist_bench_models.linear import LogisticRegressionAdapter


@register
class Mine(LogisticRegressionAdapter):
    name = "{name}"
    description = "from {stem}"
    default_suite = False
"""

BAD_PLUGINS = {
    "syntax": ({"bad.py": "def broken(:\n    pass\n"}, "bad.py", ["syntax error at line 1"]),
    "missing-method": (
        {"noproba.py": MISSING_PROBA},
        "noproba.py",
        ["class NoProba breaks the adapter contract", "method predict_proba() not implemented"],
    ),
    "factory-raises": (
        {"raises.py": "raise RuntimeError('cannot reach the weights server')\n"},
        "raises.py",
        ["importing it raised RuntimeError: cannot reach the weights server"],
    ),
    "registers-nothing": ({"empty.py": "X = 1\n"}, "empty.py", ["registers no model"]),
    "same-name-twice": (
        {
            "a.py": REGISTERS.format(name="twin", stem="a"),
            "b.py": REGISTERS.format(name="twin", stem="b"),
        },
        "b.py",
        ["model name 'twin' registered twice", "a.py", "rename one of them"],
    ),
    "a-builtin-name": (
        {"shadow.py": REGISTERS.format(name="logreg", stem="shadow")},
        "shadow.py",
        ["model name 'logreg' registered twice", "builtin = mnist_bench_models:families"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PLUGINS))
def test_a_bad_plugin_file_is_one_error_line_naming_it(tmp_path, case):
    files, culprit, fragments = BAD_PLUGINS[case]
    flags = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        flags += ["--plugin", str(tmp_path / name)]
    first = assert_one_line_error(run_cli("list", *flags), str(tmp_path / culprit), *fragments)
    out = tmp_path / "o"
    model = "twin" if case == "same-name-twice" else "logreg"
    again = assert_one_line_error(run_cli("run", model, *flags, *FAST, "--out", str(out)))
    assert again == first  # the same refusal whatever the command
    assert not out.exists()


def test_a_plugin_file_registers_its_model_for_every_command(tmp_path):
    plugin = tmp_path / "mine.py"
    plugin.write_text(REGISTERS.format(name="my-file-logreg", stem="mine"))
    listed = run_cli("list", "--plugin", str(plugin))
    assert listed.returncode == 0, listed.stderr
    assert _listed(listed.stdout) >= {*BUILTINS, "my-file-logreg"}
    # the job's worker registers the file again (checked against its sha256)
    out = tmp_path / "o"
    proc = run_cli(
        "run",
        "my-file-logreg",
        "--plugin",
        str(plugin),
        *FAST,
        "--set",
        "my-file-logreg.max_iter=30",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (path,) = (out / "runs").glob("*.json")
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok" and rec["job"]["origin"]["kind"] == "plugin-file"
    assert rec["job"]["origin"]["path"] == str(plugin.resolve())
    # without the flag it is unknown, and the error says how to load the file
    unknown = assert_one_line_error(
        run_cli("run", "mine.py", *FAST, "--out", str(tmp_path / "x")),
        "unknown model 'mine.py'",
        "--plugin mine.py",
    )
    assert "my-file-logreg" not in unknown
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("models_init", [False, True])
def test_a_models_and_bench_folder_in_the_working_directory_hide_nothing(tmp_path, models_init):
    """A user's ``models/`` (saved weights, or a package of their own) and ``bench/`` folder:
    the built-in families come from the entry point, never from the working directory."""
    for folder in ("models", "bench"):
        (tmp_path / folder).mkdir()
    (tmp_path / "models" / "weights.h5").write_bytes(b"not a module")
    if models_init:
        (tmp_path / "models" / "__init__.py").write_text(
            "raise ImportError('the user models package was imported')\n"
        )
    proc = run_cli("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _listed(proc.stdout) >= set(BUILTINS)
    assert "warning" not in proc.stderr


def _console_script() -> str | None:
    return shutil.which("mnist-bench", path=str(Path(sys.executable).parent)) or shutil.which(
        "mnist-bench"
    )


@pytest.mark.skipif(
    _console_script() is None, reason="the mnist-bench console script is not installed"
)
def test_the_console_script_ignores_a_bench_package_in_the_working_directory(tmp_path):
    """A ``bench/__init__.py`` in the working directory shadows ``python -m bench`` by Python's
    own rules; ``mnist-bench`` keeps working, its job workers and probes included (they are
    started with ``python -P``)."""
    for folder in ("models", "bench"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text(
            f"raise ImportError('the user {folder} package was imported')\n"
        )
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # as a user runs it: the installed harness alone
    listed = subprocess.run(
        [_console_script(), "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    assert _listed(listed.stdout) >= set(BUILTINS)
    proc = subprocess.run(
        [_console_script(), "run", "logreg", *QUICK, "--set", "logreg.max_iter=30", "--out", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (path,) = (tmp_path / "out" / "runs").glob("*.json")
    assert json.loads(path.read_text())["status"] == "ok"


RAISING_FACTORIES = {
    "keras": (
        "from bench.adapters import keras_model\n\n"
        "def net(width: int = 8):\n"
        "    raise RuntimeError('weights server unreachable')\n\n"
        "keras_model('broken-net', net)\n"
    ),
    "sklearn": (
        "from bench.adapters import sklearn_model\n\n"
        "def forest(n_estimators: int = 10):\n"
        "    raise RuntimeError('weights server unreachable')\n\n"
        "sklearn_model('broken-forest', forest)\n"
    ),
}


@pytest.mark.parametrize("kind", sorted(RAISING_FACTORIES))
def test_a_generic_factory_that_raises_is_refused_before_any_job(tmp_path, kind):
    plugin = tmp_path / f"{kind}_factory.py"
    plugin.write_text(RAISING_FACTORIES[kind])
    name = "broken-net" if kind == "keras" else "broken-forest"
    out = tmp_path / "o"
    line = assert_one_line_error(
        run_cli("run", name, "--plugin", str(plugin), *FAST, "--out", str(out)),
        name,
        "RuntimeError",
        "weights server unreachable",
    )
    assert "factory" in line
    assert not out.exists()
