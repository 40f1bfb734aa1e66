"""Photos and drawings into MNIST's form, and ``bench predict``'s answers to bad images."""

import numpy as np
import pytest
from PIL import Image

from bench.core.errors import BenchError
from bench.use import image_to_mnist


def _centre_of_mass(img):
    w = img.astype(float)
    ys, xs = np.indices(img.shape)
    return (ys * w).sum() / w.sum(), (xs * w).sum() / w.sum()


@pytest.mark.parametrize("background,ink", [(0, 255), (255, 0), (210, 40)])
def test_any_polarity_and_size_becomes_a_centred_20_pixel_digit(background, ink):
    canvas = np.full((300, 200), float(background))
    canvas[40:220, 120:150] = ink  # a tall bar ("1") far from the centre
    out = image_to_mnist.to_mnist(canvas)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    rows, cols = np.nonzero(out > 64)
    assert rows.max() - rows.min() + 1 in (20, 21)  # the longer side fits the 20x20 box
    assert cols.max() - cols.min() + 1 <= 6  # aspect ratio kept, not stretched to 20 wide
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert out[0].max() == 0 and out[:, 0].max() == 0  # background is black, like MNIST


def test_blank_image_is_refused():
    with pytest.raises(BenchError, match="no digit found"):
        image_to_mnist.to_mnist(np.full((50, 50), 255.0))
    with pytest.raises(BenchError, match="no digit found"):
        image_to_mnist.to_mnist(
            np.full((50, 50), 128.0) + np.random.default_rng(0).normal(0, 3, (50, 50))
        )


def test_zero_pixel_image_is_refused(tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "zero.png"
    path.write_bytes(png)
    with pytest.raises(BenchError, match="no pixels|not an image|corrupt"):
        image_to_mnist.load_images([str(path)])


def _as_photo(img: np.ndarray, variant: int) -> Image.Image:
    """An MNIST test digit redrawn as a user might hand it over: other sizes and offsets,
    dark ink on light paper, grey paper, a colour JPEG, a small GIF."""
    ink = Image.fromarray(img)
    if variant % 5 == 0:  # larger, off-centre, dark on white
        big = Image.fromarray(255 - img).resize((112, 112), Image.Resampling.BICUBIC)
        paper = Image.new("L", (260, 200), 255)
        paper.paste(big, (130, 20))
        return paper
    if variant % 5 == 1:  # bright ink on black, small and offset
        canvas = Image.new("L", (64, 48), 0)
        canvas.paste(ink.resize((40, 40), Image.Resampling.BILINEAR), (3, 5))
        return canvas
    if variant % 5 == 2:  # grey paper, grey ink
        arr = 200 - (np.asarray(ink.resize((84, 84), Image.Resampling.BICUBIC), dtype=float) * 0.6)
        paper = np.full((150, 120), 200.0)
        paper[30:114, 10:94] = arr
        return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    if variant % 5 == 3:  # a colour picture, blue ink on cream paper
        arr = (
            np.asarray(ink.resize((140, 140), Image.Resampling.BICUBIC), dtype=float)[..., None]
            / 255
        )
        paper = np.array([250, 245, 225], float) * (1 - arr) + np.array([20, 30, 120], float) * arr
        return Image.fromarray(paper.astype(np.uint8), "RGB")
    return Image.fromarray(255 - img).resize(
        (56, 70), Image.Resampling.BILINEAR
    )  # stretched, dark on white
