"""Robustness, calibration, memory and cold start in real records (issue 22): digits runs
for the fast checks, a quick cnn-small run on MNIST for the whole record."""

from pathlib import Path

import numpy as np
import pytest

from bench import records
from tests.conftest import DIGITS_QUICK, assert_one_line_error, run_cli

FAST = (
    *DIGITS_QUICK,
    "--no-plots",
)
NAMES = (
    "shot_noise",
    "impulse_noise",
    "glass_blur",
    "motion_blur",
    "shear",
    "scale",
    "rotate",
    "brightness",
    "translate",
    "stripe",
    "fog",
    "spatter",
    "dotted_line",
    "zigzag",
    "canny_edges",
)


def only_record(out: Path) -> dict:
    recs = records.read_all(out / "runs")
    assert len(recs) == 1, [r["status"] for r in recs]
    return recs[0]


@pytest.fixture(scope="module")
def on_off(tmp_path_factory):
    root = tmp_path_factory.mktemp("robust")
    for tag, extra in (("on", ()), ("off", ("--robustness", "off"))):
        proc = run_cli("run", "logreg", *FAST, *extra, "--out", str(root / tag))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return only_record(root / "on"), only_record(root / "off")


def test_robustness_leaves_the_clean_figures_exactly_as_they_were(on_off):
    on, off = on_off
    assert "robustness" not in off and off["job"]["robustness"] is False
    assert (
        on["metrics"]["accuracy"] == off["metrics"]["accuracy"]
        and on["outcomes"] == off["outcomes"]
    )
    rob = on["robustness"]
    assert (
        sorted(rob["corruptions"]) == sorted(NAMES)
        and rob["n_per_corruption"] == on["data"]["n_test"] == 359
    )  # digits: its whole test set
    for name, c in rob["corruptions"].items():
        o = c["outcomes"]
        assert o["n"] == 359 and o["test_digest"] == f"{rob['digest']}:{name}"
        assert c["accuracy"] == pytest.approx(1 - len(o["wrong_index"]) / 359)
        assert c["low"] <= c["accuracy"] <= c["high"]
    assert rob["mean_accuracy"] == pytest.approx(
        np.mean([c["accuracy"] for c in rob["corruptions"].values()])
    )
    assert rob["clean_accuracy"] == pytest.approx(
        on["metrics"]["accuracy"]
    )  # all 359: the same images
    assert rob["mean_accuracy"] < rob["clean_accuracy"]


def test_every_record_has_calibration_memory_and_cold_start(on_off):
    for rec in on_off:
        cal = rec["calibration"]
        assert (
            sum(cal["bins"]["count"]) == rec["data"]["n_test"]
            and 0 <= cal["ece"] <= 1
            and 0 <= cal["brier"] <= 2
        )
        mem = rec["memory"]
        assert 0 < mem["before_train_mb"] <= mem["train_peak_mb"] and mem["inference_peak_mb"] > 0
        # what inference adds, on top of what was resident before it (training's leftovers included)
        assert (
            0 <= mem["inference_added_mb"] < mem["before_inference_mb"] <= mem["inference_peak_mb"]
        )
        assert mem["before_inference_mb"] + mem["inference_added_mb"] == pytest.approx(
            mem["inference_peak_mb"]
        )
        cold = rec["cold_start"]
        assert cold["file_cache"] == "warm"
        assert cold["load_s"] == pytest.approx(cold["read_s"] + cold["first_predict_s"])
        assert 0 < cold["load_s"] < cold["process_s"]


def test_bad_robustness_value_is_one_line_and_writes_nothing(tmp_path):
    proc = run_cli("run", "logreg", *FAST, "--robustness", "maybe", "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, "--robustness", "on or off", "'maybe'")
    assert not (tmp_path / "out").exists()


def test_data_corrupt_builds_then_loads_and_rebuilds_a_truncated_cache(isolated_data_dir):
    built = run_cli("data", "corrupt", "digits")
    assert (
        built.returncode == 0 and "built in" in built.stdout and "359 test images" in built.stdout
    ), built.stderr
    digest = built.stdout.split("quick profile: 359 images per corruption, digest ")[1].split()[0]
    cached = run_cli("data", "corrupt", "digits")
    assert cached.returncode == 0 and "(cache " in cached.stdout and digest in cached.stdout
    npz = next((isolated_data_dir / "corrupted").glob("*.npz"))
    npz.write_bytes(npz.read_bytes()[:1000])  # truncated
    again = run_cli("data", "corrupt", "digits")
    assert again.returncode == 0 and "built in" in again.stdout and digest in again.stdout
    warnings = [line for line in again.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "corrupt" in warnings[0] and "rebuilding" in warnings[0]


def test_resume_with_robustness_on_measures_records_made_without_it(tmp_path):
    out = str(tmp_path / "out")
    assert run_cli("run", "logreg", *FAST, "--robustness", "off", "--out", out).returncode == 0
    again = run_cli("run", "logreg", *FAST, "--resume", "--out", out)  # robustness on (the default)
    assert again.returncode == 0, again.stdout[-2000:]
    recs = records.read_all(tmp_path / "out" / "runs")
    assert len(recs) == 2 and "robustness" not in recs[0] and "robustness" in recs[1]
    done = run_cli("run", "logreg", *FAST, "--resume", "--out", out)
    assert (
        done.returncode == 0 and len(records.read_all(tmp_path / "out" / "runs")) == 2
    )  # now it is done
    off = run_cli("run", "logreg", *FAST, "--resume", "--robustness", "off", "--out", out)
    assert off.returncode == 0 and len(records.read_all(tmp_path / "out" / "runs")) == 2
