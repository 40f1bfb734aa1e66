"""Issue 21's smaller items, each for real: storing a remote job's files, ``--infer-batch 1``,
the hint after an interrupt, ``baseline update MODEL``, ``evaluate`` on a corrupt record,
``--timeout 1.5``, the README's Keras options, ``check --run``'s temporary folder and stale
plot files."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench import measure, records
from bench.core.errors import BenchError
from bench.gate import check
from bench.measure.profiles import PROFILES
from bench.report import leaderboard, tables
from bench.run import plan, progress, runner, suite, supervise
from bench.run.executors.base import Finished
from tests.conftest import ROOT, assert_one_line_error, run_cli

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
    """Every row of the committed records shows the mean of its records' ``batch_1000``
    images/s, read here straight from the JSON files."""
    runs = ROOT / "results" / "runs"
    raw = {json.loads(p.read_text())["run_id"]: json.loads(p.read_text()) for p in runs.glob("*.json")}
    checked = 0
    for group in tables.groups(records.load(runs)):
        for row in tables.row_stats(group):
            ids = group.ok[group.ok["row.key"] == row.key]["run_id"]
            ips = [raw[i]["timing"]["inference"]["batch_1000"]["images_per_s"] for i in ids]
            assert row.values["infer_ips"] == pytest.approx(sum(ips) / len(ips)), row.label
            checked += 1
    assert checked >= 6


# -- c. the hint after an interrupt ------------------------------------------------------

def _parses(command: str) -> list[str]:
    """The arguments of a printed ``python -m bench ...`` command, parsed by the real parser."""
    from bench.cli.parser import build_parser

    argv = shlex.split(command.split("python -m bench ", 1)[1])
    build_parser().parse_args(argv)  # a BenchError (unknown flag) fails the test
    return argv


def test_the_hint_names_resume_only_for_run():
    run_hint = suite.again_hint(["run", "logreg", "--resume", "--out", "r"], resumable=True)
    assert _parses(run_hint)[-1] == "--resume" and run_hint.count("--resume") == 1
    for argv in (["baseline", "update", "logreg", "--out", "r"], ["check", "--run", "--models", "logreg"]):
        hint = suite.again_hint(argv, resumable=False)
        assert _parses(hint) == argv


def _start(args, env_extra):
    env = dict(os.environ, **FAULTS, **env_extra, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "bench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt(proc) -> str:
    """SIGINT once the slow fit has started; returns stderr (exit 130 asserted)."""
    for line in proc.stdout:
        if "slow fit started" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    return err


def _handmade_baseline(path: Path, models: dict, digest: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema": 1, "dataset": "digits", "profile": "quick", "device": "cpu",
                                "data_digest": digest, "floor": 0.005, "k": 3.0, "models": models}))
    return path


ENTRY = {"accuracy": 0.5, "macro_f1": 0.5, "accuracy_std": 0.0, "n": 3, "tolerance": 0.01, "params": {},
         "records": [], "seeds": [0, 1, 2]}


def test_interrupted_baseline_and_check_print_a_command_that_parses(tmp_path):
    slow = ("--set", "fault-slow.seconds=30")
    base = ["baseline", "update", "fault-slow", *QUICK, "--seeds", "1", "--out", str(tmp_path / "b"), *slow]
    err = _interrupt(_start(base, {}))
    hint = next(line for line in err.splitlines() if "python -m bench" in line)
    assert "--resume" not in _parses(hint) and "run it again" in hint
    # check --run: the same, and its temporary results folder is gone (h)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    baseline = _handmade_baseline(tmp_path / "fs.json", {"fault-slow": ENTRY})
    err = _interrupt(_start(["check", "--run", "--baseline", str(baseline), *slow, *FAST], {"TMPDIR": str(tmp)}))
    hint = next(line for line in err.splitlines() if "python -m bench" in line)
    assert "--resume" not in _parses(hint) and "discarded with the temporary results folder" in err
    assert not list(tmp.glob("mnist-bench-check-*"))


# -- d. baseline update MODEL ------------------------------------------------------------

def test_baseline_update_of_one_model_refreshes_it_and_keeps_the_others(tmp_path):
    from bench import data

    out = tmp_path / "results"
    (out / "runs").mkdir(parents=True)
    for p in FIXTURE_RUNS.glob("*-cnn-small-cpu-*.json"):  # records of another model in the folder
        shutil.copy(p, out / "runs")
    digest = data.load("digits").splits.digest()
    path = _handmade_baseline(out / "baselines" / "digits-quick.json", {"cnn-small": ENTRY}, digest)
    proc = run_cli("baseline", "update", "logreg", *QUICK, "--seeds", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    b = json.loads(path.read_text())
    assert sorted(b["models"]) == ["cnn-small", "logreg"]
    assert b["models"]["cnn-small"] == ENTRY  # kept as it was, not rebuilt from the records
    logreg_ids = [r["run_id"] for r in records.read_all(out / "runs") if r["job"]["model"] == "logreg"]
    assert b["models"]["logreg"]["records"] == logreg_ids and b["models"]["logreg"]["n"] == 1
    assert "cnn-small" in proc.stdout and "kept from the existing baseline" in proc.stdout


def test_baseline_merge_refuses_other_data_and_a_corrupt_file_stops_before_training(tmp_path):
    new = {"dataset": "digits", "profile": "quick", "device": "cpu", "data_digest": "a", "floor": 0.005, "k": 3.0,
           "models": {"logreg": ENTRY}}
    merged = check.merge_baseline({**new, "models": {"svm": ENTRY, "logreg": {**ENTRY, "accuracy": 0.1}}}, new)
    assert merged["models"] == {"logreg": ENTRY, "svm": ENTRY}
    with pytest.raises(BenchError, match="data_digest"):
        check.merge_baseline({**new, "data_digest": "b"}, new)
    out = tmp_path / "results"
    (out / "baselines").mkdir(parents=True)
    (out / "baselines" / "digits-quick.json").write_text("{not json")
    assert_one_line_error(run_cli("baseline", "update", "logreg", *QUICK, "--out", str(out)), "corrupt baseline")
    assert not (out / "runs").exists()
    _handmade_baseline(out / "baselines" / "digits-quick.json", {"svm": ENTRY})  # floor 0.005, k 3
    assert_one_line_error(run_cli("baseline", "update", "logreg", *QUICK, "--k", "2", "--out", str(out)),
                          "cannot keep the other models", "k differ")
    assert not (out / "runs").exists()


# -- e. evaluate on a corrupt record -----------------------------------------------------

@pytest.fixture(scope="module")
def saved_logreg(tmp_path_factory):
    """One real logreg run on digits with its saved model: (results folder, run id)."""
    out = tmp_path_factory.mktemp("saved") / "results"
    env = {"BENCH_DATA_DIR": str(out.parent / "data")}
    proc = run_cli("run", "logreg", *QUICK, "--out", str(out), env_extra=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [rec] = records.read_all(out / "runs")
    return out, rec["run_id"]


@pytest.mark.parametrize("corrupt", ["{not json", json.dumps({"schema": 1}), "metrics-null"])
def test_evaluate_skips_a_corrupt_record_with_one_warning(saved_logreg, tmp_path, corrupt):
    out = tmp_path / "results"
    shutil.copytree(saved_logreg[0], out)
    [path] = (out / "runs").glob("*.json")
    if corrupt == "metrics-null":
        corrupt = json.dumps({**json.loads(path.read_text()), "metrics": None})
    path.write_text(corrupt)
    proc = run_cli("evaluate", saved_logreg[1], "--out", str(out))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: skipping {path}"), proc.stderr
    assert re.search(r"\| accuracy +\| [0-9.]+ +\| - ", proc.stdout), proc.stdout


def test_evaluate_on_a_record_with_a_broken_model_pointer_is_one_line(saved_logreg, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(saved_logreg[0], out)
    [path] = (out / "runs").glob("*.json")
    path.write_text(json.dumps({**json.loads(path.read_text()), "artifact": "models/x"}))
    assert_one_line_error(run_cli("evaluate", str(path), "--out", str(out)), "artifact pointer")


# -- f. --timeout 1.5 --------------------------------------------------------------------

def test_a_fractional_timeout_is_accepted_and_applied(tmp_path):
    out = tmp_path / "t"
    proc = run_cli("run", "fault-sleep", *QUICK, "--timeout", "1.5", "--out", str(out), env_extra=FAULTS)
    assert proc.returncode == 1, proc.stderr
    [rec] = records.read_all(out / "runs")
    assert rec["status"] == "timeout" and rec["error"].startswith("timed out after 1.5s")


@pytest.mark.parametrize("value", ["0", "-2", "soon", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_one_line(tmp_path, value):
    assert_one_line_error(run_cli("run", "logreg", *QUICK, f"--timeout={value}", "--out", str(tmp_path)),
                          "--timeout must be a positive number", repr(value))


# -- g. the README's Keras options -------------------------------------------------------

def test_readme_names_exactly_the_models_with_label_smoothing_and_shift():
    from bench.adapters import registry

    text = " ".join((ROOT / "README.md").read_text().split())
    sentence = re.search(r"Options the Keras models (.*?) have: `label_smoothing`", text)
    assert sentence, "the README sentence on label_smoothing/shift names its models"
    named = set(re.findall(r"`([a-z0-9-]+)`", sentence.group(1)))
    having = {n for n in registry.names()
              if all({"label_smoothing", "shift"} <= set(registry.get(n).defaults.get(p, {})) for p in PROFILES)}
    assert named == having
    assert "reference models" in text and "have neither" in text
    for n in registry.suite("reference"):
        assert "label_smoothing" not in registry.get(n).defaults["quick"]


# -- h. check --run's temporary folder ---------------------------------------------------

def test_check_run_removes_its_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    baseline = _handmade_baseline(tmp_path / "b.json", {"logreg": {**ENTRY, "accuracy": 0.9, "tolerance": 0.2}})
    proc = run_cli("check", "--run", "--baseline", str(baseline), *FAST, env_extra={"TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not list(tmp.glob("mnist-bench-check-*"))
    assert "PASS" in proc.stdout and "leaderboard:" not in proc.stdout  # none drawn for a folder to be removed
    kept = tmp_path / "kept"  # with --out the folder is the user's: kept
    proc = run_cli("check", "--run", "--baseline", str(baseline), "--out", str(kept), *FAST,
                   env_extra={"TMPDIR": str(tmp)})
    assert proc.returncode == 0 and len(records.read_all(kept / "runs")) == 1 and (kept / "LEADERBOARD.md").is_file()


# -- i. stale plot files -----------------------------------------------------------------

def _linked_pngs(results: Path) -> set[str]:
    return {Path(m).name for m in re.findall(r"\((plots/[^)]+\.png)\)", (results / "LEADERBOARD.md").read_text())}


def test_publish_removes_plot_files_it_did_not_draw(tmp_path):
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    for p in [*FIXTURE_RUNS.glob("*-logreg-cpu-*.json"), *FIXTURE_RUNS.glob("*-cnn-small-cpu-*.json")]:
        shutil.copy(p, results / "runs")
    plots = results / "plots"
    plots.mkdir()
    (plots / "digits-quick-cpu-renamed-model-curves.png").write_bytes(b"\x89PNG stale")
    (plots / "notes.txt").write_text("not a figure: left alone")
    leaderboard.write_leaderboard(results)
    first = {p.name for p in plots.glob("*.png")}
    assert first == _linked_pngs(results) and any("cnn-small" in n for n in first)
    for p in (results / "runs").glob("*-cnn-small-*.json"):  # a row disappears: its figures must too
        p.unlink()
    leaderboard.write_leaderboard(results)
    second = {p.name for p in plots.glob("*.png")}
    assert second == _linked_pngs(results) and not any("cnn-small" in n for n in second)
    assert second < first and (plots / "notes.txt").read_text() == "not a figure: left alone"
    leaderboard.publish(results / "runs", results, plots=False)  # --no-plots: the folder stays as it is
    assert {p.name for p in plots.glob("*.png")} == second
