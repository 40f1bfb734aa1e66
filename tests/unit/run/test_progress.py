"""The suite's progress display: plain lines for logs, a live view on a terminal."""

import io

from bench.run import plan, progress, supervise


def _job(seed):
    return plan.Job("mlp", "neural", "digits", "quick", "cpu", seed, {"epochs": 3})


def _outcome(job, acc=0.95):
    rec = {"status": "ok", "metrics": {"accuracy": acc}, "timing": {"fit_s": 1.5}}
    return supervise.Outcome(job, "ok", rec, None, 3.0)


def test_plain_lines_name_the_job_when_jobs_run_side_by_side():
    lines = []
    p = progress.Plain(lines.append)
    p.begin(2, [(1, _job(0)), (2, _job(1))], parallel=True)
    p.started(1, _job(0), "tcp://127.0.0.1:1234")
    p.line(1, 2.5, "epoch 1/3 loss 0.4")
    p.finished(1, _outcome(_job(0)))
    assert lines[0].startswith("[1/2] mlp on digits (quick, cpu, seed 0)") and lines[0].endswith(
        "on tcp://127.0.0.1:1234"
    )
    assert lines[1] == "    [#1    2.5s] epoch 1/3 loss 0.4"
    assert lines[2] == "    -> [1/2] ok: accuracy 95.00%, fit 1.5s, job 3s"


def test_live_view_shows_done_running_left_eta_and_each_jobs_epoch():
    from rich.console import Console

    buf = io.StringIO()
    live = progress.Live(Console(file=buf, force_terminal=True, width=160, color_system=None))
    todo = [(i, _job(i - 1)) for i in (1, 2, 3)]
    live.begin(3, todo, parallel=True)
    live.started(1, todo[0][1], "tcp://w1")
    live.started(2, todo[1][1], "tcp://w2")
    live.line(1, 1.0, "epoch 2/3 loss 0.2 accuracy 0.93")
    live.line(2, 1.0, "some chatter that is not a step")
    view = Console(file=io.StringIO(), width=160, color_system=None)
    view.print(live._render())
    text = view.file.getvalue()
    assert "0 done · 2 running · 1 left · ETA …" in text
    assert "epoch 2/3 loss 0.2" in text and "tcp://w1" in text
    assert "some chatter" not in text  # only steps replace the job's status
    live.finished(1, _outcome(todo[0][1]))
    assert live.eta_s() is not None and live.eta_s() >= 0
    view = Console(file=io.StringIO(), width=160, color_system=None)
    view.print(live._render())
    assert "1 done · 1 running · 1 left" in view.file.getvalue()
    live.close()
    assert (
        "[1/3]" in buf.getvalue() and "ok: accuracy 95.00%" in buf.getvalue()
    )  # finished jobs stay printed
