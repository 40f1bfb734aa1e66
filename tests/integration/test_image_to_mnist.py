"""Photos and drawings into MNIST's form, and ``bench predict``'s answers to bad images.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.use.test_image_to_mnist``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bench.core.errors import BenchError
from bench.use import image_to_mnist
from tests.conftest import assert_one_line_error, run_cli


def test_bad_image_files_are_one_line_each(tmp_path):
    model = "20990101T000000Z-deadbeef"  # images are checked before the model is looked up
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    good = Image.fromarray(np.pad(np.full((20, 8), 255, np.uint8), 20))
    good.save(tmp_path / "ok.png")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes((tmp_path / "ok.png").read_bytes()[:60])
    white = tmp_path / "white.png"
    Image.new("L", (40, 40), 255).save(white)
    huge = tmp_path / "huge.png"
    Image.new("1", (8000, 6000), 1).save(huge)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    for path, fragment in (
        (text, "not an image"),
        (truncated, "truncated or corrupt"),
        (white, "no digit found"),
        (huge, "too large"),
        (empty_dir, "no images in this folder"),
        (tmp_path / "missing.png", "no such file"),
    ):
        with pytest.raises(BenchError, match=fragment):
            image_to_mnist.load_images([str(path)])
    assert_one_line_error(run_cli("predict", model, str(text)), "not an image")
    assert_one_line_error(
        run_cli("predict", model, str(tmp_path / "ok.png"), "--gallery", str(tmp_path / "g.jpg")),
        "give a .png",
    )
