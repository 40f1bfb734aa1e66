"""The leaderboard's figures are drawn once per table: a second publish of the same records
rewrites no figure, and what it reuses are the same bytes a fresh drawing gives; a table
whose records changed, a missing file or a changed manifest is drawn again."""

import json
import shutil
from pathlib import Path

import pytest

from bench.publish import figure_cache
from bench.publish import leaderboard as report
from tests.conftest import COMMITTED, ROOT


def _digits_records(dest: Path, models=("logreg", "xgboost")) -> list[Path]:
    """A few committed digits records (full profile, seeds 0 and 1) copied into ``dest``."""
    dest.mkdir(parents=True)
    picked = [
        p
        for p in sorted((COMMITTED / "runs").glob("*-digits-full-*.json"))
        if any(f"-full-{m}-cpu-s" in p.name for m in models) and not p.name.endswith("-s2.json")
    ]
    assert len(picked) == 2 * len(models), picked
    return [Path(shutil.copy(p, dest / p.name)) for p in picked]


def _pngs(plots: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(plots.glob("*.png"))}


@pytest.fixture
def published(tmp_path):
    runs = tmp_path / "results" / "runs"
    _digits_records(runs)
    out = tmp_path / "results"
    report.publish(runs, out)
    return runs, out


def test_a_second_publish_reuses_every_figure_and_a_fresh_draw_gives_the_same_bytes(
    published, tmp_path
):
    runs, out = published
    first = _pngs(out / "plots")
    assert first, "the first publish drew figures"
    manifests = sorted(figure_cache.cache_dir(out / "plots").glob("*.json"))
    assert len(manifests) == 2 and manifests[-1].stem == "rankings"  # the table's and the rankings'
    listed = {
        n for m in manifests for n in figure_cache.paths(json.loads(m.read_text())["figures"])
    }
    assert listed == {Path(n) for n in first}  # every figure drawn is listed in a manifest
    board = (out / "LEADERBOARD.md").read_text()
    report.publish(runs, out)
    assert _pngs(out / "plots") == first  # not one file rewritten (same mtimes, same bytes)
    assert (out / "LEADERBOARD.md").read_text() == board
    fresh = tmp_path / "fresh"
    report.publish(runs, fresh)  # no manifest there: everything drawn anew
    assert {k: v[1] for k, v in _pngs(fresh / "plots").items()} == {
        k: v[1] for k, v in first.items()
    }


def test_a_changed_table_a_missing_file_or_another_digest_is_drawn_again(published):
    runs, out = published
    plots = out / "plots"
    first = _pngs(plots)
    victim = min(first)
    (plots / victim).unlink()
    report.publish(runs, out)
    assert (plots / victim).read_bytes() == first[victim][1]  # redrawn, the same figure
    [manifest] = [m for m in figure_cache.cache_dir(plots).glob("*.json") if m.stem != "rankings"]
    data = json.loads(manifest.read_text())
    data["digest"] = "0" * 64
    manifest.write_text(json.dumps(data))
    before = _pngs(plots)
    report.publish(runs, out)
    after = _pngs(plots)
    table = {n for n in figure_cache.paths(data["figures"])}
    assert all(
        after[n][0] != before[n][0] for n in before if Path(n) in table
    )  # the table's figures drawn again
    assert all(
        after[n][0] == before[n][0] for n in before if Path(n) not in table
    )  # the rankings' kept
    extra = max((COMMITTED / "runs").glob("*-digits-full-logreg-cpu-s2.json"))
    shutil.copy(extra, runs / extra.name)  # a third seed: the table's records changed
    report.publish(runs, out)
    assert json.loads(manifest.read_text())["digest"] != data["digest"]
    now = _pngs(plots)
    assert all(now[n][0] != after[n][0] for n in after if n in now and Path(n) in table)


def test_a_manifest_of_a_table_that_is_gone_is_removed(published):
    runs, out = published
    stale = figure_cache.cache_dir(out / "plots") / "gone-table.json"
    stale.write_text(json.dumps({"digest": "x", "figures": {}}))
    report.publish(runs, out)
    assert not stale.exists()
    assert list(figure_cache.cache_dir(out / "plots").glob("*.json"))


def test_the_digest_covers_the_analysis_and_the_drawing_modules():
    """A figure is redrawn when any module that computes or draws it changes: every module of
    bench/analysis and bench/publish (the site aside: it draws no PNG) is in the code digest."""
    hashed = {p.relative_to(ROOT / "bench").as_posix() for p in figure_cache.code_files()}
    for package in ("analysis", "publish"):
        modules = {
            p.relative_to(ROOT / "bench").as_posix()
            for p in (ROOT / "bench" / package).glob("*.py")
        }
        assert len(modules) >= 9 and modules <= hashed, sorted(modules - hashed)
    assert {
        "measure/peaks.py",
        "records/upgrade.py",
        "data/corruptions.py",
        "data/recorded.py",
    } <= hashed
