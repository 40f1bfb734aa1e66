"""The 15 MNIST-C corruptions (Mu & Gilmer 2019, "MNIST-C: A Robustness Benchmark for
Computer Vision", arXiv:1906.02337) as batch transforms of uint8 (N, 28, 28) images.

Parameters come from the authors' ``corruptions.py`` (github.com/google-research/mnist-c):
each function there takes a severity whose default is the one the published dataset used
(their rendering notebook calls them without one); the value used is named in each
docstring below. The code is our own, vectorised over the N images with NumPy/SciPy and
scikit-image. Float results are clipped to [0, 1] and rounded to the nearest of 0..255, as
the authors' notebook rounds before saving (brightness alone adds 128: its exact +127.5 would
round half to even, a coin flip between neighbouring pixels). All randomness comes from the
``numpy.random.Generator`` passed to ``apply``: the output is a function of the images and
the generator's state. This module holds the noise, blur, affine and pointwise corruptions;
``bench.data.corruption_overlays`` the ones that paint (fog, spatter, lines, edges).
"""

from __future__ import annotations

import numpy as np

from bench.core.errors import DataError
from bench.data import corruption_overlays as draw
from bench.data.corruption_overlays import to_uint8

NAMES = (
    "shot_noise",
    "impulse_noise",
    "glass_blur",
    "motion_blur",
    "shear",
    "scale",
    "rotate",
    "brightness",
    "translate",
    "stripe",
    "fog",
    "spatter",
    "dotted_line",
    "zigzag",
    "canny_edges",
)
SHAPE = (28, 28)
CENTRE = 13.5  # MNIST-C's affine corruptions keep the point (13.5, 13.5) fixed
SHOT_PHOTONS = 3  # shot_noise severity 5
IMPULSE_AMOUNT = 0.17  # impulse_noise severity 4
GLASS = (0.7, 1, 2)  # glass_blur severity 1: sigma, max_delta, iterations
MOTION = (10, 3.0)  # motion_blur severity 1: ImageMagick radius, sigma
SHEAR = 0.4  # shear severity 2
ROTATION = 0.4  # rotate severity 2, radians (22.9 degrees)
SCALE = 0.7  # scale severity 3: the inverse map scales by 1 / 0.7
BRIGHTNESS_STEP = 128  # brightness severity 5: +0.5 of full scale = 127.5, rounded up
SHIFT = 3  # translate severity 3, pixels
STRIPE_COLUMNS = (slice(0, 7), slice(21, 28))


def check_images(images) -> np.ndarray:
    """``images`` itself if it is a uint8 array of shape (N, 28, 28); else ``DataError``."""
    if (
        isinstance(images, np.ndarray)
        and images.dtype == np.uint8
        and images.shape[1:] == SHAPE
        and images.ndim == 3
    ):
        return images
    got = (
        f"{images.dtype} {images.shape}"
        if isinstance(images, np.ndarray)
        else type(images).__name__
    )
    raise DataError(f"corruptions need uint8 images of shape (N, 28, 28); got {got}")


def apply(name: str, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The corruption ``name`` (one of ``NAMES``) of every image: uint8 (N, 28, 28) in, a new
    uint8 (N, 28, 28) array out, the input untouched; the same images and generator state
    give the same bytes. ``DataError`` for an unknown name or images of another dtype/shape."""
    images = check_images(images)
    if name not in TRANSFORMS:
        raise DataError(f"unknown corruption {name!r}; choose from: {', '.join(NAMES)}")
    if len(images) == 0:
        return images.copy()
    return TRANSFORMS[name](images, rng)


def shot_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photon noise (severity 5, c = 3): each pixel becomes min(k, 3) / 3 of full scale,
    k ~ Poisson(3 x / 255); the only levels are 0, 85, 170 and 255, and 0 stays 0."""
    k = rng.poisson(images * (SHOT_PHOTONS / 255.0))
    return to_uint8(k / SHOT_PHOTONS)


def impulse_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper (severity 4, amount 0.17, as ``skimage.util.random_noise(mode='s&p')``):
    each pixel independently, with probability 0.17, is set to 255 or 0 with equal odds."""
    out = images.copy()
    hit = rng.random(images.shape) < IMPULSE_AMOUNT
    salt = rng.random(images.shape) < 0.5
    out[hit & salt] = 255
    out[hit & ~salt] = 0
    return out


def glass_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Glass blur (severity 1: sigma 0.7, max_delta 1, 2 iterations).

    Blur, truncate to uint8, then twice sweep the positions (h, w), h and w from 27 down to
    2: at each, with probability 1/2, swap the pixel with its neighbour at (h + dy, w + dx),
    dx and dy uniform in {-1, 0} (``randint(-1, 1)``); blur again. As in the published data,
    the blur runs down the columns only (Gaussian sigma 0.7 along the row axis, none across):
    MNIST-C called ``skimage.filters.gaussian(..., multichannel=True)`` on a 2-D image, which
    took its last axis for colour channels. The swaps loop over positions, vectorised over
    the images (each image draws its own swap and offsets at every position).
    """
    from scipy import ndimage

    sigma, delta, iterations = GLASS

    def blur(v: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter1d(v, sigma, axis=1, mode="nearest", truncate=4.0)

    x = (blur(images / 255.0) * 255.0).astype(np.uint8)  # truncation, like the original np.uint8
    n = np.arange(len(x))
    positions = range(SHAPE[0] - delta, delta, -1)
    for _ in range(iterations):
        for h in positions:
            swap = rng.random((len(positions), len(x))) < 0.5
            offset = (
                rng.integers(-delta, delta, size=(len(positions), 2, len(x))) * swap[:, None, :]
            )
            for j, w in enumerate(positions):
                h2, w2 = h + offset[j, 1], w + offset[j, 0]
                held = x[:, h, w].copy()
                x[:, h, w] = x[n, h2, w2]
                x[n, h2, w2] = held
    return to_uint8(blur(x / 255.0))


def motion_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Motion blur (severity 1: radius 10, sigma 3, angle uniform in [-45, 45) degrees).

    MNIST-C used ImageMagick's MotionBlurImage (through Wand), which is not available here;
    this emulates that algorithm: a one-sided kernel of width 2 * radius + 1 = 21 with
    weights exp(-i^2 / (2 sigma^2)) (normalised), tap i reading the pixel at column offset
    ceil(i cos(angle) - 0.5) and row offset ceil(i sin(angle) - 0.5), outside pixels
    replaced by the nearest edge pixel (ImageMagick's default virtual pixels).
    """
    radius, sigma = MOTION
    taps = np.arange(2 * radius + 1)
    weights = np.exp(-(taps**2) / (2 * sigma**2))
    weights /= weights.sum()
    angle = np.deg2rad(rng.uniform(-45.0, 45.0, len(images)))
    dcol = np.ceil(taps[:, None] * np.cos(angle) - 0.5).astype(np.int64)  # (taps, N)
    drow = np.ceil(taps[:, None] * np.sin(angle) - 0.5).astype(np.int64)
    n = np.arange(len(images))[:, None, None]
    rows, cols = np.arange(SHAPE[0])[None, :, None], np.arange(SHAPE[1])[None, None, :]
    total = np.zeros(images.shape)
    for i, weight in enumerate(weights):
        r = np.clip(rows + drow[i][:, None, None], 0, SHAPE[0] - 1)
        c = np.clip(cols + dcol[i][:, None, None], 0, SHAPE[1] - 1)
        total += weight * images[n, r, c]
    return to_uint8(total / 255.0)


def warp(images: np.ndarray, matrices: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Bilinear resampling, zero outside: output pixel (row r, column c) of image k reads
    image k at (column, row) = matrices[k] @ (c, r) + offsets[k] (the inverse-map convention
    of ``skimage.transform.warp`` with ``order=1``, ``mode='constant'``, which MNIST-C used)."""
    from scipy import ndimage

    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float64)
    m, t = matrices[:, :, :, None, None], offsets[:, :, None, None]
    src_col = m[:, 0, 0] * cols + m[:, 0, 1] * rows + t[:, 0]
    src_row = m[:, 1, 0] * cols + m[:, 1, 1] * rows + t[:, 1]
    layer = np.broadcast_to(np.arange(len(images), dtype=np.float64)[:, None, None], src_col.shape)
    out = ndimage.map_coordinates(
        images / 255.0, [layer, src_row, src_col], order=1, mode="grid-constant", cval=0.0
    )
    return to_uint8(out)


def warp_about_centre(images: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """``warp`` with the offsets that keep the image centre (13.5, 13.5) where it is."""
    centre = np.full(2, CENTRE)
    return warp(images, matrices, centre - matrices @ centre)


def random_signs(rng: np.random.Generator, shape) -> np.ndarray:
    """-1.0 or +1.0 with equal odds (MNIST-C's ``np.random.choice([-1, 1])``)."""
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def shear(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shear (severity 2: 0.4, its sign random per image) about the centre: the inverse map
    (col, row) -> (col - sin(s) row, cos(s) row), the matrix of
    ``skimage.transform.AffineTransform(shear=s)`` in the scikit-image MNIST-C used (< 0.19)."""
    s = SHEAR * random_signs(rng, len(images))
    m = np.zeros((len(images), 2, 2))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 1] = 1.0, -np.sin(s), np.cos(s)
    return warp_about_centre(images, m)


def rotate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotation (severity 2: 0.4 rad = 22.9 degrees, its sign random per image) about the centre."""
    a = ROTATION * random_signs(rng, len(images))
    cos, sin = np.cos(a), np.sin(a)
    return warp_about_centre(
        images, np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    )


def scale(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shrink to 0.7 about the centre (severity 3: the inverse map scales by 1 / 0.7).
    Deterministic; ``rng`` is unused."""
    return warp_about_centre(images, np.broadcast_to(np.eye(2) / SCALE, (len(images), 2, 2)))


def translate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift by 3 pixels along each axis (severity 3), each direction's sign random per image:
    with (dx, dy) in {-3, 3}^2 drawn, output[r, c] = input[r + dy, c + dx], zero outside."""
    shifts = SHIFT * random_signs(rng, (len(images), 2))
    return warp(images, np.broadcast_to(np.eye(2), (len(images), 2, 2)), shifts)


def brightness(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness (severity 5: +0.5 to the HSV value). For a grey image MNIST-C's
    RGB -> HSV -> RGB -> grey round trip reduces to min(x + 127.5, 255); the half is
    rounded up, giving min(x + 128, 255). Deterministic; ``rng`` is unused."""
    return np.minimum(images.astype(np.int16) + BRIGHTNESS_STEP, 255).astype(np.uint8)


def stripe(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Invert columns 0-6 and 21-27 (x -> 255 - x; MNIST-C stripe, no severity).
    Deterministic; ``rng`` is unused."""
    out = images.copy()
    for cols in STRIPE_COLUMNS:
        out[:, :, cols] = 255 - out[:, :, cols]
    return out


TRANSFORMS = {
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "glass_blur": glass_blur,
    "motion_blur": motion_blur,
    "shear": shear,
    "scale": scale,
    "rotate": rotate,
    "brightness": brightness,
    "translate": translate,
    "stripe": stripe,
    "fog": draw.fog,
    "spatter": draw.spatter,
    "dotted_line": draw.dotted_line,
    "zigzag": draw.zigzag,
    "canny_edges": draw.canny_edges,
}
