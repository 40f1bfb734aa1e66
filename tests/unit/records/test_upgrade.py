"""Every older record shape becomes today's through the one ``records.upgrade``.

``history.json`` holds one record of each shape ``results/runs`` had in this repository's
history (28 shapes from 7 commits, the first full MNIST run on). Each is upgraded, checked
against the declared shape (``records.validate``), and its filled fields are compared with
what the record itself says, read here field by field, not through the code under test.
"""

import copy
import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bench import records

HISTORY = json.loads((Path(__file__).parent / "history.json").read_text())["records"]
IDS = [f"{h['commit'][:7]}-{h['record']['job']['model']}-{i}" for i, h in enumerate(HISTORY)]
# the library each built-in family saves its models with, written out by hand
LIBRARY = {
    "neural": "keras",
    "linear": "scikit-learn",
    "kernel": "scikit-learn",
    "trees": "xgboost",
}


def test_the_history_holds_every_older_shape():
    assert len(HISTORY) == 28 and len({h["commit"] for h in HISTORY}) == 7
    assert {h["record"]["schema"] for h in HISTORY} == {1}
    assert records.SCHEMA == 3


@pytest.mark.parametrize("entry", HISTORY, ids=IDS)
def test_each_older_shape_reads_as_todays(entry):
    raw = entry["record"]
    before = copy.deepcopy(raw)
    up = records.upgrade(raw)
    assert raw == before  # the record given is left as it was
    assert records.validate(up) is up and up["schema"] == records.SCHEMA
    assert records.upgrade(up) is up  # today's shape passes through untouched
    job, was = up["job"], raw["job"]
    threads = was.get("threads", (raw.get("threads") or {}).get("requested"))
    assert job["threads"] == threads
    protocol = was.get("inference") or raw["timing"].get("inference_protocol")
    assert job["inference"] == protocol
    assert job["precision"] == was.get("precision", "fp32")
    assert job["runtime"] == "native"
    assert job["val_split"] == was.get("val_split", "images")
    assert job["library"] == (was.get("library") or LIBRARY[was["family"]])
    hw = up["env"]["hardware"]
    if "hardware" in raw["env"]:
        assert hw == raw["env"]["hardware"]
    else:
        assert hw["legacy"] is True and hw["model_name"] == raw["env"]["cpu"]
        assert "recorded before hardware fingerprints" in hw["title"]
    inference = raw["timing"]["inference"]
    large = inference.get("large") or next(
        v for k, v in sorted(inference.items()) if k.startswith("batch_") and k != "batch_1"
    )
    assert up["timing"]["inference"]["large"] == large
    assert "train_flops_per_image" in up["size"]


def test_every_shape_loads_into_one_frame_with_identities():
    recs = [h["record"] for h in HISTORY]
    frame = records.load("unused", recs=recs)
    assert len(frame) == len(HISTORY)
    assert frame["identity.precision"].eq("fp32").all()
    stated = [h["record"]["job"].get("val_split", "images") for h in HISTORY]
    assert frame["identity.val_split"].tolist() == stated and "writers" in stated
    assert frame["timing.inference.large.images_per_s"].notna().all()
    assert frame["identity.hardware"].notna().all()


def test_slots_per_host_takes_the_name_older_records_gave_it():
    rec = copy.deepcopy(HISTORY[-1]["record"])
    rec["where"] = {"executor": "dask", "host": "h1", "jobs_per_host": 3}
    assert records.upgrade(rec)["where"]["slots_per_host"] == 3
    assert records.identity.of_record(records.upgrade(rec)).slots == 3


def test_a_plugin_record_without_a_library_gets_none_of_a_family():
    rec = copy.deepcopy(HISTORY[-1]["record"])
    rec["job"]["origin"] = {"kind": "entry-point", "distribution": "x 1.0"}
    rec["job"].pop("library", None)
    assert records.upgrade(rec)["job"]["library"] == ""


def test_a_version_2_record_reads_as_served_natively():
    """Version 2 records (what ``records.write`` stored before ``--runtime``; here each
    older shape brought to version 2 by its own step) read as version 3, ``native``, with
    every other field as they hold it."""
    from bench.records.upgrade import v1_to_v2

    for entry in HISTORY:
        was = v1_to_v2(entry["record"])
        before = copy.deepcopy(was)
        up = records.upgrade(was)
        assert was == before and was["schema"] == 2 and "runtime" not in was["job"]
        assert records.validate(up) is up and up["job"]["runtime"] == "native"
        assert {k: v for k, v in up.items() if k not in ("schema", "job")} == {
            k: v for k, v in was.items() if k not in ("schema", "job")
        }
        assert {k: v for k, v in up["job"].items() if k != "runtime"} == was["job"]


def test_reading_a_file_never_rewrites_it(tmp_path):
    raw = HISTORY[0]["record"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(raw))
    stamp, data = path.stat().st_mtime_ns, path.read_bytes()
    rec = records.read(path)
    assert rec["schema"] == records.SCHEMA and rec["job"]["precision"] == "fp32"
    assert path.read_bytes() == data and path.stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    "version, fragment",
    [(4, "written by a newer one"), ("1", "schema '1'"), (True, "schema True"), (0, "schema 0")],
)
def test_a_version_it_cannot_read_is_named(version, fragment):
    rec = {**HISTORY[0]["record"], "schema": version}
    with pytest.raises(records.RecordError, match=fragment):
        records.upgrade(rec)


def test_a_record_that_writes_is_of_todays_version(tmp_path):
    path = records.write(tmp_path, HISTORY[0]["record"])  # an old record stored again: today's
    stored = json.loads(path.read_text())
    assert stored["schema"] == records.SCHEMA and stored["job"]["library"] == "scikit-learn"


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda r: r.update(history={}), "history is dict, expected a list"),
        (lambda r: r["job"].update(seed="0"), "job seed is str, expected an integer"),
        (lambda r: r["job"].update(seed=True), "job seed is bool, expected an integer"),
        (lambda r: r["metrics"].update(accuracy="0.9"), "metrics.accuracy is '0.9'"),
        (lambda r: r["job"].pop("dataset"), "job missing fields ['dataset']"),
        (lambda r: r.pop("env"), "missing fields ['env']"),
    ],
)
def test_a_record_off_the_declared_shape_is_refused_by_name(change, fragment):
    rec = records.upgrade(HISTORY[-1]["record"])
    change(rec)
    with pytest.raises(records.RecordError) as err:
        records.validate(rec)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, 0.0),
        (-2, -2.0),
        (1.5, 1.5),
        (np.float32(0.25), 0.25),
        (np.int64(7), 7.0),
        (Decimal("2.5"), 2.5),
        (None, None),
        (math.nan, None),
        (np.float64("nan"), None),
        (math.inf, None),
        (-math.inf, None),
        (True, None),
        (np.bool_(True), None),
        ("1.5", None),
        ([1.0], None),
        (np.array([1.0]), None),
        ({}, None),
    ],
)
def test_one_rule_says_what_a_number_is(value, expected):
    assert (
        records.number(value) == expected if expected is not None else records.number(value) is None
    )
