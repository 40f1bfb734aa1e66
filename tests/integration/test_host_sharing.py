"""``bench.run.host_sharing``: the count of jobs sharing a host, against real processes.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_host_sharing``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.run import host_sharing
from tests.unit.run.test_host_sharing import HAS_PROC, _dead_pid


def test_a_dead_pid_is_not_counted_and_its_file_is_removed(isolated_host_jobs_dir):
    isolated_host_jobs_dir.mkdir()
    stale = isolated_host_jobs_dir / "gone.pid"
    stale.write_text(str(_dead_pid()))
    assert host_sharing.count() == 0
    assert not stale.exists()
    with host_sharing.Watch("run-a", every_s=60) as a:
        stale.write_text(f"{_dead_pid()} 12345")
        assert host_sharing.count() == 1 and a.most == 1
    assert not stale.exists()


@pytest.mark.skipif(not HAS_PROC, reason="the state comes from /proc")
def test_a_zombie_is_not_a_live_job(isolated_host_jobs_dir):
    isolated_host_jobs_dir.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        (isolated_host_jobs_dir / "z.pid").write_text(
            f"{child.pid} {host_sharing.start_time(child.pid)}"
        )
        t0 = time.monotonic()  # it exits unreaped: a zombie until wait()
        while "\nState:\tZ" not in Path(f"/proc/{child.pid}/status").read_text():
            assert time.monotonic() - t0 < 30
            time.sleep(0.01)  # polls a condition, orders nothing
        assert host_sharing.count() == 0
    finally:
        child.wait()
