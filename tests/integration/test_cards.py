"""Model cards: every saved model gets a README.md in Hugging Face's model-card form whose
front matter holds the record's figures exactly, parses back through huggingface_hub, and
whose commands work; ``bench card`` rewrites them; missing figures are left out."""

import copy
import json
import math
import re
import shlex
import shutil

import pytest
import scipy.stats
import yaml

from bench.cli.parser import build_parser
from bench.run import plan, worker
from bench.use import card
from tests.conftest import assert_one_line_error, run_cli

RUN = (
    "run",
    "logreg",
    "--dataset",
    "digits",
    "--profile",
    "quick",
    "--infer-min-seconds",
    "0.05",
    "--set",
    "logreg.C=0.5",
)
Z95 = 1.959963984540054  # two-sided 95% normal quantile


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real quick run on the digits set into ``<tmp>/results`` (so that the card's
    ``results/models/<id>`` paths hold from ``<tmp>``): (tmp, record, model folder)."""
    base = tmp_path_factory.mktemp("cards")
    proc = run_cli(*RUN, "--out", str(base / "results"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [path] = (base / "results" / "runs").glob("*.json")
    rec = json.loads(path.read_text())
    return base, rec, base / "results" / rec["artifact"]["path"]


def front_matter(text: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, text[:200]
    return yaml.safe_load(match.group(1))


def metrics_of(meta: dict) -> dict:
    """``(dataset config, metric type) -> value`` over the model-index, read by hand."""
    [entry] = meta["model-index"]
    return {
        (r["dataset"].get("config"), m["type"]): m["value"]
        for r in entry["results"]
        for m in r["metrics"]
    }


def wilson_by_hand(p: float, n: float) -> tuple[float, float]:
    z2 = Z95**2
    centre, half = (
        (p + z2 / (2 * n)) / (1 + z2 / n),
        Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n),
    )
    return centre - half, centre + half


def no_missing_words(text: str) -> None:
    assert not re.search(r"\b(nan|NaN|None|null|inf)\b", text), re.findall(
        r".*\b(?:nan|NaN|None|null|inf)\b.*", text
    )


def test_the_job_writes_a_card_whose_front_matter_holds_the_records_figures_exactly(trained):
    _, rec, folder = trained
    text = (folder / "README.md").read_text()
    meta = front_matter(text)
    assert meta["library_name"] == "scikit-learn" and meta["pipeline_tag"] == "image-classification"
    assert meta["tags"] == ["image-classification", "mnist-bench", "digits"]
    assert (
        "license" not in meta and "datasets" not in meta
    )  # no project license; digits is not on the Hub
    got = metrics_of(meta)
    assert got[None, "accuracy"] == rec["metrics"]["accuracy"]  # exact, not rounded
    n = rec["data"]["n_test"]
    k = n - len(rec["outcomes"]["wrong_index"])  # correct test images, counted from the outcomes
    # digits has no writers: each image its own cluster, so the cluster-robust variance of one
    # seed's accuracy is p(1-p)/(n-1), its half-width t(n-1) times that, and the interval
    # Wilson's at the effective n = p(1-p) (z/h)^2 = (n-1) (z/t)^2
    p, t = k / n, scipy.stats.t.ppf(0.975, n - 1)
    low, high = wilson_by_hand(p, (n - 1) * (Z95 / t) ** 2)
    assert got[None, "accuracy_ci95_low"] == pytest.approx(low, abs=1e-12)
    assert got[None, "accuracy_ci95_high"] == pytest.approx(high, abs=1e-12)
    assert f"unit: image, {n:,} images" in text
    assert (
        got[None, "ece"] == rec["calibration"]["ece"]
        and got[None, "brier"] == rec["calibration"]["brier"]
    )
    assert got["mnist-c", "accuracy"] == rec["robustness"]["mean_accuracy"]
    assert set(meta["metrics"]) == {t for _, t in got}
    no_missing_words(text)


def test_the_model_index_round_trips_through_huggingface_hubs_parsers(trained):
    from huggingface_hub import ModelCard, metadata_load
    from huggingface_hub.repocard_data import model_index_to_eval_results

    _, rec, folder = trained
    name, results = model_index_to_eval_results(metadata_load(folder / "README.md")["model-index"])
    assert rec["run_id"] in name
    by = {(r.dataset_config, r.metric_type): r for r in results}
    assert by[None, "accuracy"].metric_value == rec["metrics"]["accuracy"]
    assert by["mnist-c", "accuracy"].metric_value == rec["robustness"]["mean_accuracy"]
    assert {r.task_type for r in results} == {"image-classification"} and {
        r.dataset_split for r in results
    } == {"test"}
    loaded = ModelCard.load(folder / "README.md")
    assert loaded.data.eval_results == results and loaded.data.library_name == "scikit-learn"
    assert "## Limitations" in loaded.text and "## Use it with mnist-bench" in loaded.text


def test_the_cards_predict_and_evaluate_commands_work_as_written(trained):
    from PIL import Image

    from bench import data

    base, rec, folder = trained
    text = (folder / "README.md").read_text()
    lines = [line for line in text.splitlines() if line.startswith("python -m bench ")]
    predict = next(line for line in lines if " predict " in line)
    evaluate = next(line for line in lines if " evaluate " in line)
    assert predict == f"python -m bench predict results/models/{rec['run_id']} image.png"
    s = data.load("digits").splits
    Image.fromarray(s.x_test[0]).save(base / "image.png")
    proc = run_cli(*shlex.split(predict)[3:], cwd=base)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"model: logreg (run {rec['run_id']}, trained on digits)" in proc.stdout
        and "image.png" in proc.stdout
    )
    proc = run_cli(
        *shlex.split(evaluate)[3:], cwd=base
    )  # finds the record under the default --out results/
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("| equal") == 3 and "DIFFERENT" not in proc.stdout


def test_the_reproduce_command_parses_back_to_the_jobs_hyper_parameters(trained):
    from bench.adapters import registry

    _, rec, folder = trained
    line = next(
        ln
        for ln in (folder / "README.md").read_text().splitlines()
        if ln.startswith("python -m bench run")
    )
    assert line == card.reproduce_command(rec)
    args = build_parser().parse_args(shlex.split(line)[3:])
    assert (args.models, args.dataset, args.profile, args.seeds) == (
        ["logreg"],
        ["digits"],
        "quick",
        "1",
    )
    assert (
        args.set == ["logreg.C=0.5"]
        and args.infer_min_seconds == "0.05"
        and args.threads == str(rec["job"]["threads"])
    )
    overrides = plan.parse_overrides(args.set, ["logreg"])
    assert (
        plan.resolve_params(registry.get("logreg"), "quick", overrides["logreg"], "digits")
        == rec["job"]["params"]
    )
    later = copy.deepcopy(rec)  # seed 2, a float that only its repr gives back exactly
    later["job"].update(seed=2, params={**rec["job"]["params"], "C": 0.1 + 0.2})
    args = build_parser().parse_args(shlex.split(card.reproduce_command(later))[3:])
    assert args.seeds == "3" and args.set == [f"logreg.C={0.1 + 0.2!r}"]
    assert (
        plan.resolve_params(
            registry.get("logreg"),
            "quick",
            plan.parse_overrides(args.set, ["logreg"])["logreg"],
            "digits",
        )["C"]
        == 0.1 + 0.2
    )
    assert "`--seeds 3` trains seeds 0 to 2" in card.card_text(later)
    trees = registry.get("xgboost")  # a bool hyper-parameter: --set reads true/false back
    params = {**trees.defaults_for("quick", "digits")[0], "zero_is_missing": False}
    job = {**rec["job"], "model": "xgboost", "family": "trees", "params": params}
    args = build_parser().parse_args(shlex.split(card.reproduce_command({**rec, "job": job}))[3:])
    assert args.set == ["xgboost.zero_is_missing=false"]
    assert (
        plan.resolve_params(
            trees, "quick", plan.parse_overrides(args.set, ["xgboost"])["xgboost"], "digits"
        )
        == params
    )


def test_a_record_without_robustness_or_calibration_gets_a_card_without_them(trained):
    _, rec, _ = trained
    bare = copy.deepcopy(rec)
    del bare["calibration"]
    bare["robustness"] = {"error": "OSError: read-only data folder"}
    text = card.card_text(bare)
    got = metrics_of(front_matter(text))
    assert set(got) == {
        (None, "accuracy"),
        (None, "accuracy_ci95_low"),
        (None, "accuracy_ci95_high"),
    }
    assert "MNIST-C" not in text and "ECE" not in text and "Calibration" not in text
    no_missing_words(text)
    del bare["robustness"]
    assert card.card_text(bare) == text  # absent and unmeasurable read the same
    assert card.card_text(rec) == card.card_text(copy.deepcopy(rec))  # deterministic


def test_non_finite_accuracy_is_left_out_and_a_diverged_record_gets_no_card(
    trained, tmp_path, capsys
):
    _, rec, folder = trained
    nan = copy.deepcopy(rec)
    nan["metrics"]["accuracy"] = float("nan")
    text = card.card_text(nan)
    got = metrics_of(front_matter(text))
    assert not {t for _, t in got} & {"accuracy_ci95_low", "accuracy_ci95_high"}
    assert (None, "accuracy") not in got and "Test accuracy" not in text.split("## Model")[0]
    no_missing_words(text)
    diverged = copy.deepcopy(rec)  # as the worker writes it: no model saved, accuracy null
    diverged.update(status="diverged", error="training diverged at epoch 1: loss nan")
    diverged["metrics"]["accuracy"] = None
    del diverged["artifact"]
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "x.json").write_text(json.dumps(diverged))
    shutil.copytree(
        folder, tmp_path / "models" / rec["run_id"], ignore=shutil.ignore_patterns("README.md")
    )
    assert (
        card.write_all(tmp_path) == []
        and not (tmp_path / "models" / rec["run_id"] / "README.md").exists()
    )
    worker._write_card(
        {"runs_dir": str(tmp_path / "runs")}, diverged
    )  # no artifact: nothing, silently
    assert capsys.readouterr().out == ""


def test_a_card_that_cannot_be_written_is_one_log_line_not_a_failure(trained, tmp_path, capsys):
    _, rec, _ = trained
    (tmp_path / "models").write_text("a file where the models folder should be")
    worker._write_card({"runs_dir": str(tmp_path / "runs")}, rec)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("model card not written: ")


def test_bench_card_rewrites_a_deleted_card_byte_for_byte(trained):
    base, _, folder = trained
    before = (folder / "README.md").read_bytes()
    (folder / "README.md").unlink()
    proc = run_cli("card", "--results", str(base / "results"))
    assert proc.returncode == 0, proc.stderr
    assert str(folder / "README.md") in proc.stdout and "1 model card(s) written" in proc.stdout
    assert (
        folder / "README.md"
    ).read_bytes() == before  # the stored record gives the worker's card


def test_bench_card_on_a_folder_that_is_not_a_results_folder_is_one_error_line(tmp_path):
    assert_one_line_error(
        run_cli("card", "--results", str(tmp_path / "missing")), "not a results folder"
    )
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run_cli("card", "--out", str(tmp_path / "file")), "not a results folder")
    (tmp_path / "empty" / "runs").mkdir(parents=True)
    proc = run_cli("card", "--results", str(tmp_path / "empty"))
    assert proc.returncode == 0 and "no saved model" in proc.stdout
