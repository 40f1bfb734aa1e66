"""Photos, scans and drawings of digits brought into MNIST's form, as its authors describe
it (LeCun, Cortes and Burges, "The MNIST database"): the digit is size-normalised to fit a
20x20 box keeping its aspect ratio, anti-aliased, and placed in a 28x28 image so that the
centre of mass of its pixels sits at the centre.

``read_image(path)`` -> grayscale float array (Pillow reads PNG, JPEG, BMP and GIF, its
decompression-bomb guard on and turned into an error); ``to_mnist(gray)`` -> uint8
(28, 28), ink bright on a black background like MNIST. Scaling pixels for a model stays
the job of ``bench.prep.preprocess``; this module only draws the digit where MNIST would.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from bench.core.errors import BenchError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_PIXELS = 40_000_000  # a phone photo is ~12 MP; beyond this it is refused, not resized
BOX, SIZE = 20, 28
MIN_CONTRAST = 40  # ink must stand this far (of 255) above the background


def image_files(paths: list[str]) -> list[Path]:
    """The files named, folders expanded to their image files (sorted); ``BenchError`` for
    a missing path or a folder without images."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                raise BenchError(
                    f"{p}: no images in this folder (looked for {', '.join(SUFFIXES)})"
                )
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise BenchError(f"{p}: no such file or folder")
    return out


def read_image(path: Path) -> np.ndarray:
    """Grayscale float64 pixels 0..255 of the image's first frame; transparent areas count
    as white paper. One ``BenchError`` line for anything that is not a readable image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h == 0:
                    raise BenchError(f"{path}: the image has no pixels ({w}x{h})")
                if w * h > MAX_PIXELS:
                    raise BenchError(
                        f"{path}: {w}x{h} is too large ({w * h:,} pixels; at most {MAX_PIXELS:,})"
                    )
                im.load()
                if im.mode in ("RGBA", "LA", "PA") or (
                    im.mode == "P" and "transparency" in im.info
                ):
                    rgba = im.convert("RGBA")
                    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    im = Image.alpha_composite(paper, rgba)
                return np.asarray(im.convert("L"), dtype=np.float64)
    except BenchError:
        raise
    except UnidentifiedImageError:
        raise BenchError(f"{path}: not an image Pillow can read (PNG, JPEG, BMP or GIF)") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise BenchError(f"{path}: refused as a possible decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BenchError(
            f"{path}: truncated or corrupt image ({' '.join(str(exc).split())})"
        ) from None


def to_mnist(gray: np.ndarray, name: str = "image") -> np.ndarray:
    """uint8 (28, 28) in MNIST's form from grayscale pixels (any size, either polarity)."""
    from PIL import Image

    g = np.asarray(gray, dtype=np.float64)
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    background = float(np.median(border))
    ink = (
        (background - g) if background > 127 else (g - background)
    )  # dark ink on light paper: invert
    ink = np.clip(ink, 0, None)
    if ink.max() < MIN_CONTRAST:
        raise BenchError(
            f"{name}: no digit found (blank, or too little contrast against the background)"
        )
    ink = ink * (255.0 / ink.max())
    rows, cols = np.nonzero(ink > 0.25 * 255)  # the ink's bounding box, ignoring faint noise
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS)
    )
    small = np.clip(small, 0, 255)
    # place so that the centre of mass lands on the centre of the 28x28 frame
    canvas = np.zeros((SIZE * 2, SIZE * 2))
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(small.shape[0])) / total
    cx = (small.sum(axis=0) @ np.arange(small.shape[1])) / total
    top, left = int(round(SIZE - cy)), int(round(SIZE - cx))
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(
        np.rint(canvas[SIZE // 2 : SIZE // 2 + SIZE, SIZE // 2 : SIZE // 2 + SIZE]), 0, 255
    ).astype(np.uint8)


def load_images(paths: list[str]) -> tuple[list[Path], np.ndarray]:
    """(files, uint8 (N, 28, 28)) for the images named; every file is checked before any
    result is returned, so one bad file stops the command with its name."""
    files = image_files(paths)
    return files, np.stack([to_mnist(read_image(f), str(f)) for f in files])
