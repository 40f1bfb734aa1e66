"""The MNIST-C corruptions that paint over the digit: fog, spatter, dotted line, zigzag and
Canny edges (the rest, and the dispatch ``apply``, live in ``bench.data.corruptions``).

Parameters are those of the authors' ``corruptions.py`` (github.com/google-research/mnist-c)
at the severity of the published MNIST-C dataset; the code is our own, batched over the N
images. Every function takes uint8 (N, 28, 28) images and a ``numpy.random.Generator`` and
returns new uint8 (N, 28, 28) images; all randomness comes from that generator.
"""

from __future__ import annotations

import numpy as np

SIDE = 28
FOG_STRENGTH, FOG_DECAY = 3.0, 1.4  # fog severity 5: (3., 1.4)
PLASMA_SIZE = 256  # MNIST-C draws a 256x256 map and keeps its top-left 28x28
PLASMA_BATCH = 50  # maps generated at once (50 x 256 x 256 float64 = 26 MB)
SPATTER = (
    0.65,
    0.3,
    1.0,
    0.65,
    1.5,
)  # spatter severity 4: loc, scale, sigma, threshold, sigma (mud)
MUD = 63 / 255.0
LINE_REACH = 2.3  # a line's brightness is 1 + log(1 - d / 2.3) at vertical distance d
ZIGZAG_TOOTH = 2.0  # a = b = 2: half-period along the line and amplitude across it
ZIGZAG_START, ZIGZAG_END = 2.0, 25.0  # columns the zigzag spans
ZIGZAG_TEETH = 6  # int((d - a) // (2a)) + 1 for every length d in [23, 23.54] the rises give


def to_uint8(v: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] (clipped first) to uint8 0..255, rounded to nearest (half to even)."""
    return np.rint(np.clip(v, 0.0, 1.0) * 255.0).astype(np.uint8)


def plasma(
    rng: np.random.Generator, n: int, size: int = PLASMA_SIZE, decay: float = FOG_DECAY
) -> np.ndarray:
    """``n`` periodic diamond-square height maps (n, size, size), each rescaled to [0, 1].

    The scheme of MNIST-C's ``plasma_fractal``: the map starts as one corner value 0; at
    every level (step = size, size/2, ..., 2) each square's centre becomes the mean of its
    4 corners plus noise, then each edge midpoint the mean of its 2 corners and 2 adjacent
    centres (wrapping round the edges) plus noise; the noise is ``w * U(-w, w)`` with
    ``w = 100`` at the first level, divided by ``decay`` at each next one.
    """
    m = np.zeros((n, size, size))
    step, wibble = size, 100.0

    def noisy_mean(total: np.ndarray) -> np.ndarray:
        return total / 4.0 + wibble * rng.uniform(-wibble, wibble, total.shape)

    while step >= 2:
        half = step // 2
        corners = m[:, ::step, ::step]
        square = corners + np.roll(corners, -1, axis=1)
        square += np.roll(square, -1, axis=2)
        m[:, half::step, half::step] = noisy_mean(square)
        centres, corners = m[:, half::step, half::step], m[:, ::step, ::step]
        m[:, ::step, half::step] = noisy_mean(
            centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        )
        m[:, half::step, ::step] = noisy_mean(
            centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        )
        step, wibble = half, wibble / decay
    m -= m.min(axis=(1, 2), keepdims=True)
    return m / m.max(axis=(1, 2), keepdims=True)


def fog(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fog (MNIST-C severity 5: strength 3, plasma decay 1.4).

    With x in [0, 1] and p = max(x) per image: ``(x + 3 * F) * p / (p + 3)``, F the
    top-left 28x28 of a fresh 256x256 ``plasma`` map per image (normalised over the whole
    map, as the original does).
    """
    x = images / 255.0
    peak = x.max(axis=(1, 2), keepdims=True)
    haze = np.concatenate(
        [
            plasma(rng, min(PLASMA_BATCH, len(x) - start))[:, :SIDE, :SIDE]
            for start in range(0, len(x), PLASMA_BATCH)
        ]
    )
    return to_uint8((x + FOG_STRENGTH * haze) * peak / (peak + FOG_STRENGTH))


def spatter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mud spatter (MNIST-C severity 4: (0.65, 0.3, 1, 0.65, 1.5, mud)).

    A liquid layer N(0.65, 0.3) per pixel is blurred (Gaussian sigma 1); where it exceeds
    0.65 is wet; the wet mask is blurred (sigma 1.5) and kept where >= 0.8, giving the mud
    weight m; the image becomes ``x * (1 - m) + m * 63/255``. Blurs: ``mode='nearest'``,
    truncated at 4 sigma (skimage.filters.gaussian's defaults, which MNIST-C used).
    """
    from scipy import ndimage

    loc, scale, sigma_liquid, threshold, sigma_mud = SPATTER

    def blur(v: np.ndarray, sigma: float) -> np.ndarray:
        return ndimage.gaussian_filter(v, (0, sigma, sigma), mode="nearest", truncate=4.0)

    liquid = blur(rng.normal(loc, scale, images.shape), sigma_liquid)
    mud = blur((liquid > threshold).astype(np.float32), sigma_mud)
    mud[mud < 0.8] = 0.0
    return to_uint8(images / 255.0 * (1.0 - mud) + MUD * mud)


def line_layer(c0: np.ndarray, r0: np.ndarray, c1: np.ndarray, r1: np.ndarray) -> np.ndarray:
    """(N, 28, 28) brightness in [0, 1] of one straight stroke per image, as MNIST-C's
    ``line_from_points`` draws it from (column c0, row r0) to (c1, r1).

    A pixel at vertical distance d from the infinite line gets ``max(0, 1 + log(1 - d/2.3))``
    (1 on the line, 0 from d = 1.45 on); only columns floor(c0) <= c < ceil(c1) are drawn,
    and nothing when c0 == c1.
    """
    grid = np.arange(float(SIDE))
    run = c1 - c0
    slope = np.divide(r1 - r0, run, out=np.zeros(len(run)), where=run != 0)
    centre = (
        slope[:, None] * (grid[None, :] - c0[:, None]) + r0[:, None]
    )  # the line's row, per column
    dist = np.minimum(np.abs(grid[None, :, None] - centre[:, None, :]), LINE_REACH - 1e-10)
    layer = np.clip(np.log(1.0 - dist / LINE_REACH) + 1.0, 0.0, 1.0)
    drawn = (grid >= np.floor(c0)[:, None]) & (grid < np.ceil(c1)[:, None]) & (run != 0)[:, None]
    return layer * drawn[:, None, :]


def dotted_line(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A dashed line across the image (MNIST-C dotted_line; it has no severity).

    From (column 0, row r0) to (column 27, row r1), r0 and r1 uniform in 0..26; dashes two
    columns wide with two-column gaps, the first gap at columns 0-1 (so dashes at 2-3, 6-7,
    ..., 26; column 27 is outside the stroke as in the original). Added to the image, clipped.
    """
    n = len(images)
    r0, r1 = rng.integers(0, 27, size=(2, n)).astype(float)
    layer = line_layer(np.zeros(n), r0, np.full(n, SIDE - 1.0), r1)
    layer[:, :, (np.arange(SIDE) // 2) % 2 == 0] = 0.0
    return to_uint8(images / 255.0 + layer)


def zigzag_path(r0: np.ndarray, rise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (columns, rows), each (N, 8), of MNIST-C's zigzag from (2, r0) towards
    (25, r0 + rise): teeth of half-period 2 and amplitude 2 along a line of length
    d = 23 / cos(theta), theta = atan(rise / 23), then the original's closing vertex
    (d, r_last / (2 (d - 4 floor(d / 4)))); the path is rotated by theta about (2, r0)."""
    n = len(r0)
    theta = np.arctan(rise / (ZIGZAG_END - ZIGZAG_START))
    length = (ZIGZAG_END - ZIGZAG_START) / np.cos(theta)
    a = b = ZIGZAG_TOOTH
    along = [np.zeros(n)] + [np.full(n, (2 * i + 1) * a) for i in range(ZIGZAG_TEETH)] + [length]
    last = (-1) ** (ZIGZAG_TEETH - 1) * b
    across = (
        [np.zeros(n)]
        + [np.full(n, (-1) ** i * b) for i in range(ZIGZAG_TEETH)]
        + [last / (2 * (length - 2 * a * (length // (2 * a))))]
    )
    u, v = np.stack(along, axis=1), np.stack(across, axis=1)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    return cos * u - sin * v + ZIGZAG_START, sin * u + cos * v + r0[:, None]


def zigzag(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A zigzag stroke over the digit (MNIST-C zigzag; no severity).

    r0 uniform in 0..26, rise uniform in -5..4; the 7 segments of ``zigzag_path`` drawn with
    ``line_layer``, added to the image, clipped at 255.
    """
    n = len(images)
    r0 = rng.integers(0, 27, n).astype(float)
    rise = rng.integers(-5, 5, n).astype(float)
    cols, rows = zigzag_path(r0, rise)
    x = images / 255.0
    for k in range(cols.shape[1] - 1):
        x = x + line_layer(cols[:, k], rows[:, k], cols[:, k + 1], rows[:, k + 1])
    return to_uint8(x)


def canny_edges(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The Canny edge map of each image (MNIST-C canny_edges): ``skimage.feature.canny`` on
    x / 255 with its defaults (sigma 1, hysteresis thresholds 0.1 and 0.2); edges 255, the
    rest 0. Deterministic; ``rng`` is unused. One skimage call per image (it is 2-D only)."""
    from skimage.feature import canny

    out = np.zeros_like(images)
    for i, image in enumerate(images):
        out[i][canny(image / 255.0)] = 255
    return out
