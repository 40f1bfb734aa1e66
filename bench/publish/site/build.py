"""``publish_site``: the whole static site from the run records, built beside its folder and
moved into place at the end.

The build writes into a temporary sibling of ``out_dir`` (same filesystem); only when every
file is written is the previous site renamed away and the new folder renamed in, so a failed
or interrupted build leaves the previous site as it was (and removes its temporary folder).
A folder that holds anything but a site this module made is never replaced. The same records
(and the same plotly) give the same bytes: no clock, rows and files in sorted order.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench import records
from bench.analysis import ranking, rowstats
from bench.core import atomic
from bench.core.errors import BenchError
from bench.data import recorded
from bench.publish import leaderboard, ranking_plot
from bench.publish.site import assets, index, model_page
from bench.publish.site.html import GENERATOR


def _is_site(folder: Path) -> bool:
    """``folder`` holds a site this module made (its ``index.html`` names the generator)."""
    page = folder / "index.html"
    try:
        return (
            page.is_file()
            and f'content="{GENERATOR}"'
            in page.read_text(encoding="utf-8", errors="replace")[:2000]
        )
    except OSError:
        return False


def check_out(runs_dir: Path, out_dir: Path) -> None:
    """Refuse, with one ``BenchError`` naming the folder, an ``out_dir`` that is not a folder,
    that holds the records, that is a non-empty folder but not a site made here (it would be
    replaced), or whose parent cannot be created or written."""
    out, runs = Path(out_dir).absolute(), Path(runs_dir).resolve()
    if out.exists() and not out.is_dir():
        raise BenchError(f"cannot write the site into {out_dir}: it exists and is not a folder")
    if out.resolve() == runs or out.resolve() in runs.parents:
        raise BenchError(
            f"cannot write the site into {out_dir}: it holds the records ({runs_dir}), which the site "
            "would replace; choose another folder"
        )
    if out.is_dir() and any(out.iterdir()) and not _is_site(out):
        raise BenchError(
            f"cannot write the site into {out_dir}: the folder holds other files and is not a site made "
            "by `bench report --format html` (it would be replaced); choose a new or empty folder"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from exc
    for folder in (out.parent, out):
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            raise BenchError(f"cannot write the site into {out_dir}: {folder} is not writable")


def _tables(df) -> list[index.Table]:
    """One ``index.Table`` per leaderboard table, the leaderboard's order (MNIST full first),
    with a unique page name per row."""
    out, taken = [], set()
    for group in leaderboard.front_first(rowstats.groups(df)):
        t = index.Table(group, rowstats.row_stats(group))
        for r in t.rows:
            name = model_page.page_name(group, r)
            if name in taken:  # slugs are truncated: two long labels may share one
                name = (
                    name.removesuffix(".html") + f"-{records.params_hash({'key': r.key})[:8]}.html"
                )
            taken.add(name)
            t.pages[r.key] = f"models/{name}"
        out.append(t)
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(df, folder: Path, dataset_loader=recorded.test_images) -> Path:
    """Write the whole site of the records ``df`` into ``folder`` (empty or new): assets,
    model pages, the ranking diagrams and ``index.html`` (returned). ``dataset_loader``
    (``recorded.test_images``'s signature) gives each table's test images for the
    mistakes, or None."""
    folder = Path(folder)
    assets.write_assets(folder / "assets")
    site_tables = _tables(df)
    for t in site_tables:
        images = None
        if t.rows:
            images = dataset_loader(t.group.dataset, t.group.ok["data.digest"].iloc[-1])
        for r in t.rows:
            _write(folder / t.pages[r.key], model_page.render(t.group, t.rows, r, images))
    rankings, notes = ranking.compute(df) if site_tables else ([], [])
    diagrams = {}
    for r in rankings:
        path = ranking_plot.diagram_path(r, folder / "ranking")
        path.parent.mkdir(parents=True, exist_ok=True)
        ranking_plot.cd_diagram(r, path)
        diagrams[r.slug] = path.relative_to(folder).as_posix()
    page = folder / "index.html"
    _write(page, index.render(site_tables, rankings, notes, diagrams))
    return page


def _swap(new: Path, out: Path) -> None:
    """Put the finished folder ``new`` at ``out``: the old site renamed away first (both
    renames within one folder), then removed."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.replace(out, old / "site")
    try:
        os.replace(new, out)
    except OSError:
        if old is not None:  # put the previous site back
            os.replace(old / "site", out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _recover(out: Path) -> None:
    """Clear what an interrupted build left beside ``out`` (call with the lock held, when no
    other build runs): a previous site renamed away but not replaced goes back to ``out``,
    then every temporary ``.<name>.*.building`` / ``.old`` folder is removed."""
    stale = sorted(out.parent.glob(f".{out.name}.*.building")) + sorted(
        out.parent.glob(f".{out.name}.*.old")
    )
    for folder in stale:
        if folder.suffix == ".old" and not out.exists() and (folder / "site").is_dir():
            os.replace(folder / "site", out)
        shutil.rmtree(folder, ignore_errors=True)


def publish_site(
    runs_dir: Path,
    out_dir: Path,
    tta_target: float = rowstats.DEFAULT_TTA_TARGET,
    dataset_loader=recorded.test_images,
) -> Path:
    """Build the site of the records in ``runs_dir`` as the folder ``out_dir``; returns
    ``out_dir/index.html``. ``tta_target``: the "time to X (val)" column's validation
    accuracy. Raises ``BenchError`` (one message naming the folder) for an ``out_dir`` that
    cannot be the site (``check_out``) or cannot be written; the previous site is then, as
    after any failure, left as it was. Holds ``<parent>/.publish.lock`` meanwhile."""
    runs_dir, out = Path(runs_dir), Path(out_dir)
    check_out(runs_dir, out)
    df = leaderboard.load_frame(runs_dir, tta_target)
    try:
        # the parent's (git-ignored) lock that ``leaderboard.publish`` takes too: one publish at a time there
        with atomic.locked(out.parent / ".publish.lock"):
            _recover(out)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=out.parent))
            try:
                os.chmod(
                    tmp, 0o777 & ~_umask()
                )  # mkdtemp makes 0700; a published site follows the umask
                build(df, tmp, dataset_loader)
                _swap(tmp, out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise BenchError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from exc
    return out / "index.html"
