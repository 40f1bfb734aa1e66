"""``bench.run.host_sharing``: the count of jobs sharing a host, against real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.run import host_sharing

HAS_PROC = Path("/proc/self/stat").exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def test_the_folder_is_the_environment_variable(isolated_host_jobs_dir):
    assert host_sharing.folder() == isolated_host_jobs_dir


def test_two_watches_in_one_process_are_two_jobs(isolated_host_jobs_dir):
    with host_sharing.Watch("run-a", every_s=60) as a:
        assert a.most == 1  # alone so far
        with host_sharing.Watch("run-b", every_s=60) as b:
            assert b.most == 2  # one file = one job, even with the same pid
            assert a.most == 2  # b's count was taken while a was open
            assert host_sharing.count() == 2
            assert sorted(p.name for p in isolated_host_jobs_dir.glob("*.pid")) == [
                "run-a.pid",
                "run-b.pid",
            ]
        assert host_sharing.count() == 1 and a.most == 2  # the largest count stays
    assert list(isolated_host_jobs_dir.iterdir()) == []  # registrations removed, no temp files left


def test_registration_holds_pid_and_start_time(isolated_host_jobs_dir):
    with host_sharing.Watch("run-a", every_s=60):
        text = (isolated_host_jobs_dir / "run-a.pid").read_text().split()
    assert int(text[0]) == os.getpid()
    if HAS_PROC:  # field 22 of /proc/<pid>/stat, read independently here
        stat = Path(f"/proc/{os.getpid()}/stat").read_text()
        assert text[1] == stat[stat.rfind(")") + 2 :].split()[19]
        assert len(text) == 2


@pytest.mark.skipif(not HAS_PROC, reason="start times come from /proc")
def test_a_reused_pid_with_another_start_time_is_not_counted(isolated_host_jobs_dir):
    isolated_host_jobs_dir.mkdir()
    real = host_sharing.start_time(os.getpid())
    assert real is not None
    reused = isolated_host_jobs_dir / "old.pid"
    reused.write_text(
        f"{os.getpid()} {int(real) + 1}"
    )  # this pid, but a process started at another time
    same = isolated_host_jobs_dir / "same.pid"
    same.write_text(f"{os.getpid()} {real}")
    assert host_sharing.count() == 1
    assert not reused.exists() and same.exists()


@pytest.mark.parametrize("text", ["", "   ", "not-a-pid", "0", "-4", "12 34 56"])
def test_an_empty_or_unparsable_file_is_skipped_and_kept(isolated_host_jobs_dir, text):
    isolated_host_jobs_dir.mkdir()
    odd = isolated_host_jobs_dir / "odd.pid"
    odd.write_text(text)
    with host_sharing.Watch("run-a", every_s=60) as a:
        assert host_sharing.count() == 1 and a.most == 1
    assert odd.exists() and odd.read_text() == text


def test_a_pid_only_file_counts_while_its_process_lives(isolated_host_jobs_dir):
    """Registrations written where /proc was absent hold a pid only: signal 0 decides."""
    isolated_host_jobs_dir.mkdir()
    (isolated_host_jobs_dir / "old-style.pid").write_text(str(os.getpid()))
    assert host_sharing.count() == 1


def test_an_unwritable_folder_measures_nothing(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")  # a file where the folder should be: unwritable even for root
    monkeypatch.setenv("BENCH_HOST_JOBS_DIR", str(blocker))
    with host_sharing.Watch("run-a", every_s=0.01) as w:
        assert w.most is None
    assert w.most is None and blocker.read_text() == "in the way"


def test_the_thread_counts_jobs_that_start_later(isolated_host_jobs_dir):
    """A job registered after the watch began is seen by the watch's own polling thread."""
    with host_sharing.Watch("run-a", every_s=0.01) as a:
        assert a.most == 1
        seen = threading.Event()
        isolated_host_jobs_dir.joinpath("other.pid").write_text(str(os.getpid()))
        for _ in range(3000):  # up to 30 s: polls a condition, orders nothing
            if a.most == 2:
                seen.set()
                break
            seen.wait(0.01)
        assert seen.is_set()
