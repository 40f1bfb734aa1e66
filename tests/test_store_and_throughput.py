"""A remote job's files that cannot be stored fail that job alone (its record keeps the job's
machine, and a model path out of the results folder is refused); ``--infer-batch 1`` keeps the
throughput and the latency apart, and tables read old and new throughput keys."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import measure, records
from bench.core.errors import BenchError
from bench.measure.profiles import PROFILES
from bench.report import tables
from bench.run import plan, progress, runner, supervise
from bench.run.executors.base import Finished
from tests.conftest import ROOT

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
FAST = ("--infer-min-seconds", "0.05", "--infer-min-repeats", "3")
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
        self.scratch, self.block, self.tamper, self.escape = scratch, set(block), set(tamper), set(escape)
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


def test_a_job_whose_files_cannot_be_stored_fails_alone_and_the_suite_goes_on(tmp_path):
    inference = PROFILES["quick"].inference.overridden(None, 3, 0.05).as_dict()
    jobs = plan.plan(["logreg"], ["digits"], "quick", "cpu", [0, 1, 2], ["logreg.max_iter=30"], False,
                     inference=inference)
    results = tmp_path / "results"
    executor = ScratchExecutor(tmp_path, block={1}, tamper={2})
    lines = []
    outcomes = runner.run_suite(jobs, results / "runs", 300, executor=executor, progress=progress.Plain(lines.append))
    assert [o.status for o in outcomes] == ["failed", "failed", "ok"]
    blocked, tampered, fine = outcomes
    assert "could not be stored" in blocked.record["error"] and "NotADirectoryError" in blocked.record["error"]
    assert "sha256 mismatch" in tampered.record["error"]
    stored = {r["run_id"]: r for r in records.read_all(results / "runs")}
    assert {r["status"] for r in stored.values()} == {"failed", "ok"} and len(stored) == 3
    assert stored[blocked.record["run_id"]]["error"] == blocked.record["error"]  # on disk, under the job's run id
    # the ok job's model folder is complete; the failed ones left no folder and no hidden part
    models = results / "models"
    assert (models / fine.record["run_id"] / "model.json").is_file()
    assert sorted(p.name for p in models.iterdir()) == sorted([blocked.record["run_id"], fine.record["run_id"]])
    assert (models / blocked.record["run_id"]).read_text() == "a file in the way"  # not ours: left alone
    assert any("failed: finished, but its results could not be stored" in line for line in lines)


def test_a_stored_failure_keeps_the_jobs_machine_and_a_path_out_of_the_results_is_refused(tmp_path):
    """The failed record of a remote job says where the job ran (its record's env and
    where), not the client's machine; a model path such as ``../x`` is never written."""
    from bench.core import hardware

    inference = PROFILES["quick"].inference.overridden(None, 3, 0.05).as_dict()
    jobs = plan.plan(["logreg"], ["digits"], "quick", "cpu", [0, 1], ["logreg.max_iter=30"], False,
                     inference=inference)
    other = {**hardware.cached(), "id": "another-machine", "title": "Another CPU · 2 cores", "model_name": "Another CPU"}
    elsewhere = {"hardware": other, "cpu": "Another CPU", "cores": 2}
    results = tmp_path / "results"
    executor = ScratchExecutor(tmp_path, block={1}, escape={2}, elsewhere=elsewhere)  # 1-based
    outcomes = runner.run_suite(jobs, results / "runs", 300, executor=executor, progress=progress.Plain(lambda _: None))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    for index, outcome in enumerate(outcomes, start=1):
        sent = executor.sent[index]
        assert outcome.record["run_id"] == sent["run_id"]
        assert outcome.record["env"]["hardware"] == other != hardware.cached()
        assert outcome.record["env"] == sent["env"]
        assert outcome.record["where"] == sent["where"] and sent["where"]["jobs_sharing_host"] == 1
    escaped = outcomes[1].record
    assert f"the path must be models/{escaped['run_id']}" in escaped["error"]
    assert not (results.parent / escaped["run_id"]).exists() and not (results / escaped["run_id"]).exists()
    assert sorted(p.name for p in (results / "models").iterdir()) == [outcomes[0].record["run_id"]]  # the blocker


@pytest.mark.parametrize("path", ["../x", "/tmp/x", "models/../x", "models/x/y", "models/..", "x", "models/", "runs/R1"])
def test_store_files_refuses_a_path_that_is_not_models_run_id(tmp_path, path):
    from bench.use import artifacts

    with pytest.raises(BenchError, match="the path must be models/R1"):
        artifacts.store_files(tmp_path / "results", {"path": path, "sha256": "0"}, {"model.json": b"{}"}, "R1")
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere
    with pytest.raises(BenchError, match="the path must be models/R2"):
        artifacts.store_files(tmp_path / "results", {"path": "models/R1", "sha256": "0"}, {}, "R2")


# -- b. --infer-batch 1 ------------------------------------------------------------------

def test_infer_batch_1_keeps_the_throughput_and_the_latency_apart():
    import numpy as np

    x = np.zeros((50, 28, 28), dtype=np.float32)
    seen = []
    protocol = measure.InferenceProtocol(1, measure.TimingRule(warmup=0, min_repeats=4, min_seconds=0.0),
                                         measure.TimingRule(warmup=0, min_repeats=7, min_seconds=0.0))
    out = measure.measure_inference(lambda batch, n: seen.append(len(batch)), x, protocol)
    assert len(seen) == 4 + 7 and set(seen) == {1}
    assert out["large"]["calls"] == 4 and out["batch_1"]["calls"] == 7  # two measurements, not one
    assert out["large"]["batch_size"] == 1 and measure.throughput(out) is out["large"]
    wide = measure.measure_inference(lambda batch, n: None, x, measure.InferenceProtocol(10, protocol.large,
                                                                                          protocol.single))
    assert wide["batch_10"] == wide["large"] and wide["large"]["batch_size"] == 10
    assert measure.throughput({"batch_1000": {"images_per_s": 5.0}, "batch_1": {"images_per_s": 1.0}}) == \
        {"images_per_s": 5.0}  # a record from before ``large``
    assert measure.throughput({"batch_1": {"images_per_s": 1.0}}) is None


def _logreg_row(runs: Path):
    [group] = tables.groups(records.load(runs))
    return next(r for r in tables.row_stats(group) if r.model == "logreg")


def test_a_table_reads_old_and_new_throughput_keys_per_record(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    old, new = sorted(FIXTURE_RUNS.glob("*-logreg-cpu-s*.json"))
    shutil.copy(old, runs)
    rec = json.loads(new.read_text())
    (before_key,) = [k for k in rec["timing"]["inference"] if k != "batch_1"]
    rec["timing"]["inference"] = {"large": {**rec["timing"]["inference"][before_key], "images_per_s": 1234.0},
                                  "batch_1": rec["timing"]["inference"]["batch_1"]}
    (runs / new.name).write_text(json.dumps(rec))
    first = json.loads(old.read_text())["timing"]["inference"][before_key]["images_per_s"]
    assert _logreg_row(runs).values["infer_ips"] == pytest.approx((first + 1234.0) / 2)


def test_committed_rows_keep_their_throughput():
    """Every row of the committed records shows the mean of its records' large-batch images/s
    (``batch_1000``; ``batch_359`` on digits, whose test set is that small), read here
    straight from the JSON files."""
    runs = ROOT / "results" / "runs"
    raw = {json.loads(p.read_text())["run_id"]: json.loads(p.read_text()) for p in runs.glob("*.json")}
    checked = 0
    for group in tables.groups(records.load(runs)):
        for row in tables.row_stats(group):
            ids = group.ok[group.ok["row.key"] == row.key]["run_id"]
            n = min(1000, int(group.ok["data.n_test"].iloc[0]))
            ips = [raw[i]["timing"]["inference"][f"batch_{n}"]["images_per_s"] for i in ids]
            assert row.values["infer_ips"] == pytest.approx(sum(ips) / len(ips)), row.label
            checked += 1
    assert checked >= 6
