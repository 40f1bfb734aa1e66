"""The reference suite: exact tutorial architectures, and a Kaggle-layout CSV through it."""

import pytest

from bench import records
from bench.adapters import registry
from mnist_bench_models.keras_base import import_keras
from tests.conftest import run_cli
from tests.helpers import write_csv

TABLE = {"ref-conv32-dense128": 693_962, "ref-3conv": 81_066, "ref-mlp-256-128": 235_146,
         "ref-keras-convnet": 34_826}


def test_suite_lists_the_four_tutorial_models():
    assert sorted(registry.suite("reference")) == sorted(TABLE)
    assert not set(TABLE) & set(registry.suite("default"))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_parameter_count_equals_the_published_architecture(name):
    cls = registry.get(name)
    assert cls.static_param_count(cls.defaults["full"]) == TABLE[name] == cls.published["params"]
    import_keras()
    built = cls(dict(cls.defaults["full"])).build()
    assert built.count_params() == TABLE[name]


@pytest.mark.slow
def test_kaggle_csv_runs_through_the_reference_suite(use_mnist, tmp_path):
    s = use_mnist.splits
    path = write_csv(tmp_path / "train.csv", s.x_train[:3000], s.y_train[:3000])
    out = tmp_path / "results"
    sets = [arg for name in TABLE for arg in ("--set", f"{name}.epochs=1")]
    proc = run_cli("run", "--suite", "reference", "--dataset", f"csv:{path}", "--profile", "quick", *sets,
                   "--out", str(out), "--infer-min-seconds", "0.1", "--infer-min-repeats", "3")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recs = records.read_all(out / "runs")
    assert sorted(r["job"]["model"] for r in recs) == sorted(TABLE)
    for r in recs:
        assert r["status"] == "ok" and r["data"]["n_test"] == 600  # the documented 20% of 3,000 rows
        assert r["size"]["total"] == TABLE[r["job"]["model"]]
        assert r["reference"]["accuracy"] == registry.get(r["job"]["model"]).published["accuracy"]
        assert r["metrics"]["accuracy"] > 0.5
    board = (out / "LEADERBOARD.md").read_text()
    assert "published %" in board and "| ref-conv32-dense128 epochs=1 (ref) " in board and "98.26" in board


def test_suite_and_names_are_exclusive(tmp_path):
    from tests.conftest import assert_one_line_error

    assert_one_line_error(run_cli("run", "logreg", "--suite", "reference", "--out", str(tmp_path)), "not model names")
    assert_one_line_error(run_cli("run", "--suite", "famous", "--out", str(tmp_path)), "unknown suite 'famous'")
