import json

import pytest

from bench import records


def sample(status="ok"):
    job = {
        "model": "logreg",
        "family": "linear",
        "dataset": "digits",
        "profile": "quick",
        "device": "cpu",
        "seed": 0,
        "params": {"C": 1.0},
    }
    rec = records.empty(records.new_run_id(), job, status)
    if status == "ok":
        rec["metrics"] = {
            "accuracy": 0.9,
            "log_loss": 0.3,
            "macro_f1": 0.89,
            "per_class": {},
            "confusion": [[1]],
        }
        rec["timing"] = {"fit_s": 1.5, "inference": {"batch_1": {"images_per_s": 10.0}}}
    return rec


def test_round_trip(tmp_path):
    rec = sample()
    path = records.write(tmp_path, rec)
    assert path.name.startswith(rec["run_id"]) and path.name.endswith(
        "digits-quick-logreg-cpu-s0.json"
    )
    assert records.read(path) == json.loads(json.dumps(rec))
    df = records.load(tmp_path)
    assert len(df) == 1 and df["metrics.accuracy"].iloc[0] == 0.9
    assert df["timing.inference.batch_1.images_per_s"].iloc[0] == 10.0
    assert df["job.params"].iloc[0] == {"C": 1.0}


def test_invalid_records_are_refused():
    rec = sample()
    del rec["metrics"]["accuracy"]
    with pytest.raises(records.RecordError, match="accuracy"):
        records.validate(rec)
    with pytest.raises(records.RecordError, match="status"):
        records.validate({**sample(), "status": "great"})
    with pytest.raises(records.RecordError, match="schema"):
        records.validate({**sample(), "schema": 99})


def test_foreign_and_corrupt_files_are_skipped_with_a_warning(tmp_path, capsys):
    records.write(tmp_path, sample())
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text('{"hello": 1}')
    assert len(records.read_all(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "garbage.json" in err and "foreign.json" in err


def test_run_ids_are_unique():
    assert len({records.new_run_id() for _ in range(1000)}) == 1000
