"""The integration tests of ``tests.unit.records.test_records``:"""

from __future__ import annotations


def test_git_state_sees_uncommitted_changes_to_the_harness(tmp_path):
    """``envinfo.git_state`` on a repository laid out like this one: clean after the commit,
    dirty once a tracked file under bench/ or models/ changes (and not for other files)."""
    import subprocess

    from bench.core import envinfo

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    (tmp_path / "bench").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "bench" / "a.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("n\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "init")
    assert envinfo.git_state(tmp_path)["dirty"] is False
    (tmp_path / "notes.txt").write_text("changed\n")
    assert envinfo.git_state(tmp_path)["dirty"] is False
    (tmp_path / "bench" / "a.py").write_text("x = 2\n")
    state = envinfo.git_state(tmp_path)
    assert state["dirty"] is True and len(state["commit"]) == 40
