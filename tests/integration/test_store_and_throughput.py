"""A remote job's files that cannot be stored fail that job alone (its record keeps the job's
machine, and a model path out of the results folder is refused); ``--infer-batch 1`` keeps the
throughput and the latency apart, and tables read old and new throughput keys.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_store_and_throughput``."""

from __future__ import annotations

from bench import records
from bench.measure.profiles import PROFILES
from bench.run import plan, progress, runner
from tests.unit.run.test_store_and_throughput import ScratchExecutor


def test_a_job_whose_files_cannot_be_stored_fails_alone_and_the_suite_goes_on(tmp_path):
    inference = PROFILES["quick"].inference.overridden(None, 3, 0.05).as_dict()
    jobs = plan.plan(
        ["logreg"],
        ["digits"],
        "quick",
        "cpu",
        [0, 1, 2],
        ["logreg.max_iter=30"],
        False,
        inference=inference,
    )
    results = tmp_path / "results"
    executor = ScratchExecutor(tmp_path, block={1}, tamper={2})
    lines = []
    outcomes = runner.run_suite(
        jobs, results / "runs", 300, executor=executor, progress=progress.Plain(lines.append)
    )
    assert [o.status for o in outcomes] == ["failed", "failed", "ok"]
    blocked, tampered, fine = outcomes
    assert (
        "could not be stored" in blocked.record["error"]
        and "NotADirectoryError" in blocked.record["error"]
    )
    assert "sha256 mismatch" in tampered.record["error"]
    stored = {r["run_id"]: r for r in records.read_all(results / "runs")}
    assert {r["status"] for r in stored.values()} == {"failed", "ok"} and len(stored) == 3
    assert (
        stored[blocked.record["run_id"]]["error"] == blocked.record["error"]
    )  # on disk, under the job's run id
    # the ok job's model folder is complete; the failed ones left no folder and no hidden part
    models = results / "models"
    assert (models / fine.record["run_id"] / "model.json").is_file()
    assert sorted(p.name for p in models.iterdir()) == sorted(
        [blocked.record["run_id"], fine.record["run_id"]]
    )
    assert (
        models / blocked.record["run_id"]
    ).read_text() == "a file in the way"  # not ours: left alone
    assert any("failed: finished, but its results could not be stored" in line for line in lines)


def test_a_stored_failure_keeps_the_jobs_machine_and_a_path_out_of_the_results_is_refused(tmp_path):
    """The failed record of a remote job says where the job ran (its record's env and
    where), not the client's machine; a model path such as ``../x`` is never written."""
    from bench.core import hardware

    inference = PROFILES["quick"].inference.overridden(None, 3, 0.05).as_dict()
    jobs = plan.plan(
        ["logreg"],
        ["digits"],
        "quick",
        "cpu",
        [0, 1],
        ["logreg.max_iter=30"],
        False,
        inference=inference,
    )
    other = {
        **hardware.cached(),
        "id": "another-machine",
        "title": "Another CPU · 2 cores",
        "model_name": "Another CPU",
    }
    elsewhere = {"hardware": other, "cpu": "Another CPU", "cores": 2}
    results = tmp_path / "results"
    executor = ScratchExecutor(tmp_path, block={1}, escape={2}, elsewhere=elsewhere)  # 1-based
    outcomes = runner.run_suite(
        jobs, results / "runs", 300, executor=executor, progress=progress.Plain(lambda _: None)
    )
    assert [o.status for o in outcomes] == ["failed", "failed"]
    for index, outcome in enumerate(outcomes, start=1):
        sent = executor.sent[index]
        assert outcome.record["run_id"] == sent["run_id"]
        assert outcome.record["env"]["hardware"] == other != hardware.cached()
        assert outcome.record["env"] == sent["env"]
        assert outcome.record["where"] == sent["where"] and sent["where"]["jobs_sharing_host"] == 1
    escaped = outcomes[1].record
    assert f"the path must be models/{escaped['run_id']}" in escaped["error"]
    assert (
        not (results.parent / escaped["run_id"]).exists()
        and not (results / escaped["run_id"]).exists()
    )
    assert sorted(p.name for p in (results / "models").iterdir()) == [
        outcomes[0].record["run_id"]
    ]  # the blocker
