"""Photos and drawings into MNIST's form, and ``bench predict``'s answers to bad images.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.use.test_image_to_mnist``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.unit.use.test_image_to_mnist import _as_photo


@pytest.mark.slow
def test_predict_gets_real_digits_drawn_other_ways_right(use_mnist, tmp_path):
    out = tmp_path / "r"
    proc = run_cli(
        "run", "cnn-small", "--profile", "quick", "--out", str(out), "--infer-min-seconds", "0.1"
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    s = use_mnist.splits
    images = tmp_path / "mine"
    images.mkdir()
    wanted = {}
    for digit in range(10):  # the first test image of each digit
        i = int(np.flatnonzero(s.y_test == digit)[0])
        suffix = (".png", ".png", ".bmp", ".jpg", ".gif")[digit % 5]
        photo = _as_photo(s.x_test[i], digit)
        path = images / f"digit-{digit}{suffix}"
        (photo.convert("RGB") if suffix == ".jpg" else photo).save(path)
        wanted[str(path)] = digit
    gallery = tmp_path / "seen.png"
    proc = run_cli(
        "predict", "best", str(images), "--out", str(out), "--json", "--gallery", str(gallery)
    )
    assert proc.returncode == 0, proc.stderr
    got = {p["image"]: p["top"][0]["digit"] for p in json.loads(proc.stdout)["predictions"]}
    right = sum(got[k] == v for k, v in wanted.items())
    print({k.rsplit("/", 1)[-1]: (v, got[k]) for k, v in wanted.items()})
    assert right >= 9, got
    assert gallery.stat().st_size > 5000
