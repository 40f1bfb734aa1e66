"""The example plugins in examples/plugins/ work as their docs say: the installable forest
package through its entry point, the one-file Keras residual network through --plugin."""

import json
import shutil
import subprocess
import sys

from bench import records
from tests.conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples" / "plugins"
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


def _only_record(out):
    recs = records.read_all(out / "runs")
    assert len(recs) == 1, recs
    return recs[0]


def test_installed_forest_package_appears_and_benchmarks(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(
        EXAMPLES / "forest", source
    )  # pip builds in the source folder: keep the repo clean
    site = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    env = {"PYTHONPATH": str(site)}

    listed = run_cli("list", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:2] == ["forest", "trees"] for line in listed.stdout.splitlines()), (
        listed.stdout
    )

    out = tmp_path / "out"  # built-in models plus mine: a row each, the forest's among them
    proc = run_cli(
        "run",
        "logreg",
        "cnn-small",
        "--with",
        "forest",
        "--set",
        "cnn-small.epochs=1",
        *QUICK,
        "--no-save-models",
        "--out",
        str(out),
        env_extra=env,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    recs = {r["job"]["model"]: r for r in records.read_all(out / "runs")}
    assert sorted(recs) == ["cnn-small", "forest", "logreg"]
    assert all(r["status"] == "ok" for r in recs.values())
    rec = recs["forest"]
    assert rec["metrics"]["accuracy"] > 0.85
    assert rec["job"]["params"]["n_estimators"] == 50  # the plugin's quick profile
    assert rec["job"]["origin"]["kind"] == "entry-point" and rec["job"]["library"] == "scikit-learn"
    assert rec["job"]["origin"]["distribution"].startswith("mnist-bench-forest ")
    assert rec["size"]["total"] > 0 and "50 trees" in rec["size"]["detail"]
    assert rec["extra"]["probabilities"] == "predict_proba" and rec["extra"]["uses_seed"] is True
    board = (out / "LEADERBOARD.md").read_text()
    assert sum(line.startswith("| forest [plugin]") for line in board.splitlines()) >= 1
    paired = run_cli(
        "compare",
        str(out / "runs"),
        str(out / "runs"),
        "--models",
        "forest",
        "cnn-small",
        env_extra=env,
    )
    assert paired.returncode == 0, paired.stderr
    assert any(
        line.startswith("| forest") and "+0 / -0" in line for line in paired.stdout.splitlines()
    )


def _count_params_of_the_factory_model() -> int:
    """Keras' own count for the plugin's factory model, in a fresh process (no registry)."""
    code = (
        "import runpy, json; from bench.adapters.keras_tools import import_keras; import_keras(); "
        f"ns = runpy.run_path({str(EXAMPLES / 'keras_resnet.py')!r}); "
        "print(json.dumps(ns['resnet_small'](width=16, blocks=2).count_params()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_one_file_keras_plugin_trains_with_keras_parameter_count(tmp_path):
    out = tmp_path / "out"
    proc = run_cli(
        "run",
        "resnet-small",
        "--plugin",
        str(EXAMPLES / "keras_resnet.py"),
        *QUICK,
        "--no-save-models",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rec = _only_record(out)
    assert rec["status"] == "ok" and rec["metrics"]["accuracy"] > 0.5
    assert rec["job"]["params"]["width"] == 16 and rec["job"]["params"]["epochs"] == 5
    assert len(rec["history"]) == 5 and all(p["train_s"] > 0 for p in rec["history"])
    assert rec["size"]["total"] == _count_params_of_the_factory_model()
    assert rec["size"]["flops_per_image"] > 0  # standard layers only: counted from the graph
    assert rec["env"]["runtime"]["outputs"] == "logits (the harness applies softmax)"
