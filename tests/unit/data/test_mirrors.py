"""The Keras-mirror sources, for real, against a mirror served on loopback.

The public mirror is not reachable from CI, so a local HTTP server plays it: the same
download, sha256 check, parse and cache code runs as against the real host.
"""

import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from bench import data
from bench.core.errors import DataError
from bench.data import sources
from bench.data.arrays import Expectation
from bench.data.userfiles import IDX_FILES
from tests.helpers import idx_bytes


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(sources, "KERAS_BASE", f"http://127.0.0.1:{server.server_port}/")
    yield root
    server.shutdown()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_npz_mirror_download_verify_and_cache(mirror, digits, monkeypatch):
    path = mirror / "mnist.npz"
    np.savez(
        path,
        x_train=digits.x_train,
        y_train=digits.y_train,
        x_test=digits.x_test,
        y_test=digits.y_test,
    )
    fake = data.Builtin(
        "tiny",
        (sources.KerasNpzMirror("mnist.npz", _sha(path.read_bytes())),),
        Expectation(len(digits.y_train), len(digits.y_test)),
    )
    ds = data.load_builtin(fake)
    assert ds.source == "keras-mirror" and ds.splits.digest() == digits.digest()
    path.unlink()  # the mirror goes away: the verified cache serves
    assert data.load_builtin(fake).source == "cache (from keras-mirror)"


def test_npz_mirror_with_wrong_bytes_falls_through_to_next_source(mirror, digits):
    (mirror / "mnist.npz").write_bytes(b"not what was pinned")

    class Backup:
        label = "backup"

        def fetch(self, workdir):
            return digits

    fake = data.Builtin(
        "tiny2",
        (sources.KerasNpzMirror("mnist.npz", "0" * 64), Backup()),
        Expectation(len(digits.y_train), len(digits.y_test)),
    )
    ds = data.load_builtin(fake)
    assert ds.source == "backup"
    assert any("does not match the pinned" in n for n in ds.notes)


def test_idx_mirror_download_verify(mirror, digits):
    (mirror / "fashion-mnist").mkdir()
    arrays = {
        "x_train": digits.x_train,
        "y_train": digits.y_train,
        "x_test": digits.x_test,
        "y_test": digits.y_test,
    }
    pins = {}
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        pins[key] = _sha(raw)
        (mirror / "fashion-mnist" / f"{stem}.gz").write_bytes(gzip.compress(raw))
    assert sources.KerasIdxMirror("fashion-mnist", pins).fetch(None).digest() == digits.digest()
    bad = dict(pins, y_test="f" * 64)
    with pytest.raises(DataError, match="t10k-labels"):
        sources.KerasIdxMirror("fashion-mnist", bad).fetch(None)


def test_missing_file_on_mirror_is_unavailable_not_fatal(mirror):
    with pytest.raises(sources.SourceUnavailable, match="(?i)404|not found"):
        sources.KerasNpzMirror("absent.npz", "0" * 64).fetch(None)
