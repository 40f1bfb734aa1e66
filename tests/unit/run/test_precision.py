"""``--precision``: a real bf16 Keras job on the digits set forms its own configuration and
row, says so in its label and its reproduce command, and carries the machine's peaks and
its stage timings; precisions a model or this processor cannot run are refused in one line."""

import pytest

from tests.conftest import COMMITTED, run_cli

RUN = (
    "run",
    "cnn-small",
    "--dataset",
    "digits",
    "--profile",
    "quick",
    "--set",
    "cnn-small.epochs=2",
    "--infer-min-seconds",
    "0.05",
    "--infer-min-repeats",
    "3",
    "--robustness",
    "off",
    "--no-plots",
)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """fp32 and bf16 jobs of one command (or, on a processor without bfloat16, the refusal)."""
    out = tmp_path_factory.mktemp("precision") / "results"
    proc = run_cli(*RUN, "--precision", "fp32", "--precision", "bf16", "--out", str(out))
    return out, proc


def test_the_committed_baseline_still_matches_its_fp32_records_beside_newer_bf16_ones():
    """Baselines written before ``precision`` existed mean fp32: ``check`` keeps judging the
    fp32 records against them, not a newer bf16 configuration of the same model."""
    import copy

    from bench import records
    from bench.gate import check

    baseline = check.read_baseline(COMMITTED / "baselines" / "mnist-quick.json")
    entry = baseline["models"]["cnn-small"]
    assert entry["identity"]["precision"] == "fp32"
    recs = [r for r in records.read_all(COMMITTED / "runs") if r["run_id"] in set(entry["records"])]
    assert recs, "the baseline's own records are committed"
    newer = []
    for r in recs:
        b = copy.deepcopy(r)
        b["job"]["precision"], b["started_at"], b["run_id"] = (
            "bf16",
            "2099-01-01T00:00:00+00:00",
            r["run_id"] + "b",
        )
        newer.append(b)
    prefer = {m: e["identity"] for m, e in baseline["models"].items()}
    picked = check.newest(recs + newer, "mnist", "quick", "cpu", prefer)["cnn-small"]
    assert {r["job"].get("precision", "fp32") for r in picked} == {"fp32"}
    assert (
        check.newest(recs + newer, "mnist", "quick", "cpu")["cnn-small"][0]["job"]["precision"]
        == "bf16"
    )
