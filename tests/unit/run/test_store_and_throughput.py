"""A remote job's files that cannot be stored fail that job alone (its record keeps the job's
machine, and a model path out of the results folder is refused); ``--infer-batch 1`` keeps the
throughput and the latency apart, and tables read old and new throughput keys."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import measure, records
from bench.analysis import rowstats
from bench.core.errors import BenchError
from bench.run import supervise
from bench.run.executors.base import Finished
from tests.conftest import COMMITTED, ROOT

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
FAST = ("--infer-min-seconds", "0.05", "--infer-min-repeats", "3", "--no-plots")
QUICK = ("--dataset", "digits", "--profile", "quick", *FAST)
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"


# -- a. one job's files that cannot be stored --------------------------------------------


class ScratchExecutor:
    """A real executor shaped like the Dask one, without a cluster: every job runs for real
    (``supervise.run_job``) in a private scratch folder, and its record and model files come
    back as bytes for the suite to store. For the indices in ``block`` a plain file is put
    where the job's model folder must go; for those in ``tamper`` one byte of the model file
    is changed on the way; for those in ``escape`` the record's model path points out of the
    results folder (``../<run id>``). Each makes storing that job fail for real. ``elsewhere``
    is laid over every record's env, as if the jobs ran on another machine; ``sent`` keeps
    each record as it came back."""

    name = "scratch"
    parallel = False

    def __init__(self, scratch: Path, block=(), tamper=(), escape=(), elsewhere=None):
        self.scratch, self.block, self.tamper, self.escape = (
            scratch,
            set(block),
            set(tamper),
            set(escape),
        )
        self.elsewhere, self.sent = elsewhere or {}, {}

    def run(self, todo, runs_dir: Path, timeout_s: float, save_models: bool, progress):
        for index, job in todo:
            progress.started(index, job)
            here = Path(tempfile.mkdtemp(dir=self.scratch))
            out = supervise.run_job(job, here / "runs", timeout_s, save_model=save_models)
            art = out.record["artifact"]
            files = {p.name: p.read_bytes() for p in sorted((here / art["path"]).iterdir())}
            if index in self.block:
                (runs_dir.parent / art["path"]).parent.mkdir(parents=True, exist_ok=True)
                (runs_dir.parent / art["path"]).write_text("a file in the way")
            if index in self.tamper:
                name = json.loads(files["model.json"])["file"]
                files[name] = bytes([files[name][0] ^ 1]) + files[name][1:]
            if index in self.escape:
                art["path"] = f"../{out.record['run_id']}"
            out.record["env"].update(self.elsewhere)
            self.sent[index] = json.loads(json.dumps(out.record))
            yield Finished(index, job, out.record, out.seconds, files=files)

    def cancel(self) -> None:
        pass


@pytest.mark.parametrize(
    "path", ["../x", "/tmp/x", "models/../x", "models/x/y", "models/..", "x", "models/", "runs/R1"]
)
def test_store_files_refuses_a_path_that_is_not_models_run_id(tmp_path, path):
    from bench.use import artifacts

    with pytest.raises(BenchError, match="the path must be models/R1"):
        artifacts.store_files(
            tmp_path / "results", {"path": path, "sha256": "0"}, {"model.json": b"{}"}, "R1"
        )
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere
    with pytest.raises(BenchError, match="the path must be models/R2"):
        artifacts.store_files(tmp_path / "results", {"path": "models/R1", "sha256": "0"}, {}, "R2")


# -- b. --infer-batch 1 ------------------------------------------------------------------


def test_infer_batch_1_keeps_the_throughput_and_the_latency_apart():
    import numpy as np

    x = np.zeros((50, 28, 28), dtype=np.float32)
    seen = []
    protocol = measure.InferenceProtocol(
        1,
        measure.TimingRule(warmup=0, min_repeats=4, min_seconds=0.0),
        measure.TimingRule(warmup=0, min_repeats=7, min_seconds=0.0),
    )
    out = measure.measure_inference(lambda batch, n: seen.append(len(batch)), x, protocol)
    assert len(seen) == 4 + 7 and set(seen) == {1}
    assert out["large"]["calls"] == 4 and out["batch_1"]["calls"] == 7  # two measurements, not one
    assert out["large"]["batch_size"] == 1 and "batch_1_large" not in out
    wide = measure.measure_inference(
        lambda batch, n: None, x, measure.InferenceProtocol(10, protocol.large, protocol.single)
    )
    assert wide["batch_10"] == wide["large"] and wide["large"]["batch_size"] == 10
    assert set(out) == {"large", "batch_1"}  # n = 1: no second name for the same measurement


def _logreg_row(runs: Path):
    [group] = rowstats.groups(records.load(runs))
    return next(r for r in rowstats.row_stats(group) if r.model == "logreg")


def test_a_table_reads_old_and_new_throughput_keys_per_record(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    old, new = sorted(FIXTURE_RUNS.glob("*-logreg-cpu-s*.json"))
    shutil.copy(old, runs)
    rec = json.loads(new.read_text())
    (before_key,) = [k for k in rec["timing"]["inference"] if k != "batch_1"]
    rec["timing"]["inference"] = {
        "large": {**rec["timing"]["inference"][before_key], "images_per_s": 1234.0},
        "batch_1": rec["timing"]["inference"]["batch_1"],
    }
    (runs / new.name).write_text(json.dumps(rec))
    first = json.loads(old.read_text())["timing"]["inference"][before_key]["images_per_s"]
    assert _logreg_row(runs).values["infer_ips"] == pytest.approx((first + 1234.0) / 2)


def test_committed_rows_keep_their_throughput():
    """Every row of the committed records shows the mean of its records' large-batch images/s
    (``batch_1000``; ``batch_359`` on digits, whose test set is that small), read here
    straight from the JSON files."""
    runs = COMMITTED / "runs"
    raw = {
        json.loads(p.read_text())["run_id"]: json.loads(p.read_text()) for p in runs.glob("*.json")
    }
    checked = 0
    for group in rowstats.groups(records.load(runs)):
        for row in rowstats.row_stats(group):
            ids = group.ok[group.ok["row.key"] == row.key]["run_id"]
            n = min(1000, int(group.ok["data.n_test"].iloc[0]))
            ips = [raw[i]["timing"]["inference"][f"batch_{n}"]["images_per_s"] for i in ids]
            assert row.values["infer_ips"] == pytest.approx(sum(ips) / len(ips)), row.label
            checked += 1
    assert checked >= 6
