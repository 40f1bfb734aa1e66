"""MNIST-C corruptions (bench.data.corruptions) and the cached corrupted test set
(bench.data.corrupted), on sklearn's digits and small arrays made here."""

from __future__ import annotations

import numpy as np
import pytest

from bench.core.errors import DataError
from bench.data import corrupted, corruptions
from bench.data import corruption_overlays as draw

N_SMALL = 60  # base images for the cache tests


@pytest.fixture(scope="module")
def digits_test():
    from bench import data

    s = data.load("digits").splits
    return s.x_test, s.y_test, s.test_digest()


@pytest.fixture(scope="module")
def full(digits_test):
    """Every corruption of all 359 digits test images."""
    return corrupted.build(*digits_test)


def rng(seed=0):
    return np.random.default_rng(seed)


def square(n=4, lo=9, hi=19, value=200):
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, lo:hi, lo:hi] = value
    return x


# --- every corruption -------------------------------------------------------------------


def test_names_in_the_mnist_c_order():
    assert corruptions.NAMES == (
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


@pytest.mark.parametrize("name", corruptions.NAMES)
def test_each_corruption_keeps_layout_changes_images_and_leaves_input(full, digits_test, name):
    x, y, _ = digits_test
    base = x[full.indices]
    before = base.copy()
    out = full.images[name]
    assert out.dtype == np.uint8 and out.shape == base.shape
    assert np.array_equal(base, before)
    changed = (out != base).reshape(len(base), -1).any(axis=1)
    assert changed.mean() > 0.95, (name, changed.mean())
    assert np.array_equal(full.labels, y[full.indices])
    # each corruption draws from its own generator [seed, position in NAMES]
    again = corruptions.apply(name, base, rng([corrupted.SEED, corruptions.NAMES.index(name)]))
    assert np.array_equal(again, out)
    assert np.array_equal(
        corruptions.apply(name, base[:20], rng(5)), corruptions.apply(name, base[:20], rng(5))
    )


@pytest.mark.parametrize("name", corruptions.NAMES)
def test_empty_batch_gives_empty_batch(name):
    out = corruptions.apply(name, np.zeros((0, 28, 28), np.uint8), rng())
    assert out.shape == (0, 28, 28) and out.dtype == np.uint8


@pytest.mark.parametrize(
    "bad, fragment",
    [
        (np.zeros((5, 32, 32), np.uint8), "(5, 32, 32)"),
        (np.zeros((5, 28, 28), np.float64), "float64 (5, 28, 28)"),
        (np.zeros((28, 28), np.uint8), "(28, 28)"),
        ([[0] * 28] * 28, "list"),
    ],
)
def test_anything_but_uint8_n_28_28_is_refused(bad, fragment):
    with pytest.raises(DataError) as err:
        corruptions.apply("shear", bad, rng())
    msg = str(err.value)
    assert fragment in msg and "(N, 28, 28)" in msg and "\n" not in msg


def test_unknown_name_is_refused():
    with pytest.raises(DataError, match="unknown corruption 'blur'"):
        corruptions.apply("blur", square(), rng())


def test_random_corruptions_depend_on_the_generator(digits_test):
    base = digits_test[0][:30]
    deterministic = {"scale", "brightness", "stripe", "canny_edges"}
    for name in corruptions.NAMES:
        a, b = corruptions.apply(name, base, rng(0)), corruptions.apply(name, base, rng(1))
        assert np.array_equal(a, b) == (name in deterministic), name


# --- values checked by hand ---------------------------------------------------------------


def test_brightness_stripe_by_hand(digits_test):
    x = digits_test[0][:50]
    bright = corruptions.apply("brightness", x, rng())
    assert np.array_equal(bright, np.minimum(x.astype(int) + 128, 255))
    striped = corruptions.apply("stripe", x, rng())
    cols = np.arange(28)
    outer = (cols < 7) | (cols >= 21)
    assert np.array_equal(striped[:, :, outer], 255 - x[:, :, outer])
    assert np.array_equal(striped[:, :, ~outer], x[:, :, ~outer])


def test_translate_is_a_shift_by_three_in_each_direction(digits_test):
    x = digits_test[0][:80]
    out = corruptions.apply("translate", x, rng(3))
    padded = np.pad(x, ((0, 0), (3, 3), (3, 3)))
    seen = set()
    for i in range(len(x)):
        # output[r, c] = input[r + dy, c + dx], zero outside
        hits = [
            (dx, dy)
            for dx in (-3, 3)
            for dy in (-3, 3)
            if np.array_equal(out[i], padded[i, 3 + dy : 31 + dy, 3 + dx : 31 + dx])
        ]
        assert len(hits) == 1, (i, hits)
        seen.add(hits[0])
    assert len(seen) == 4


def test_impulse_noise_replaces_17_percent_half_salt_half_pepper():
    x = np.full((200, 28, 28), 128, np.uint8)
    out = corruptions.apply("impulse_noise", x, rng(1))
    hit = out != 128
    n = hit.size
    assert set(np.unique(out[hit])) <= {0, 255}
    assert abs(hit.mean() - 0.17) < 5 * np.sqrt(0.17 * 0.83 / n)
    salt = (out[hit] == 255).mean()
    assert abs(salt - 0.5) < 5 * np.sqrt(0.25 / hit.sum())


def test_shot_noise_levels_and_mean_match_poisson(digits_test):
    from scipy.stats import poisson

    x = digits_test[0]
    out = corruptions.apply("shot_noise", x, rng(2))
    assert set(np.unique(out)) <= {0, 85, 170, 255}
    assert not out[x == 0].any()
    lam = 3 * x.astype(float) / 255
    pmf = np.stack([poisson.pmf(k, lam) for k in range(3)])  # P(K = 0, 1, 2)
    level = np.array([0.0, 85.0, 170.0])[:, None, None, None]
    mean = (level * pmf).sum(0) + 255.0 * (1 - pmf.sum(0))
    var = (level**2 * pmf).sum(0) + 255.0**2 * (1 - pmf.sum(0)) - mean**2
    assert abs(out.mean() - mean.mean()) < 5 * np.sqrt(var.sum()) / x.size


def test_canny_gives_an_edge_map_around_the_shape():
    x = np.concatenate([square(2), np.zeros((1, 28, 28), np.uint8)])
    out = corruptions.apply("canny_edges", x, rng())
    assert set(np.unique(out)) == {0, 255}
    assert not out[2].any()  # a blank image has no edge
    inside, ring = np.zeros((28, 28), bool), np.zeros((28, 28), bool)
    inside[12:16, 12:16] = True
    ring[7:21, 7:21] = True
    ring[11:17, 11:17] = False
    assert not out[0][inside].any() and not out[0][~ring].any()
    assert out[0][ring].sum() >= 255 * 30


def test_scale_rotate_shear_keep_the_centre_fixed():
    # a point-symmetric blob centred on (13.5, 13.5): its centroid stays, its symmetry too
    r, c = np.mgrid[0:28, 0:28]
    blob = np.exp(-((r - 13.5) ** 2 + (c - 13.5) ** 2 / 4) / 18) * 250
    blob = np.repeat(np.rint(blob).astype(np.uint8)[None], 6, axis=0)
    for name in ("scale", "rotate", "shear"):
        out = corruptions.apply(name, blob, rng(4)).astype(float)
        w = out.sum(axis=(1, 2))
        assert np.allclose((out * r).sum(axis=(1, 2)) / w, 13.5, atol=0.02), name
        assert np.allclose((out * c).sum(axis=(1, 2)) / w, 13.5, atol=0.02), name
        assert np.abs(out - out[:, ::-1, ::-1]).max() <= 1, name


def skimage_warp(image, matrix):
    """The reference: skimage.transform.warp with the inverse map ``matrix`` (3x3)."""
    from skimage.transform import AffineTransform, warp

    out = warp(image / 255.0, AffineTransform(matrix=matrix), order=1, mode="constant", cval=0.0)
    return np.rint(np.clip(out, 0, 1) * 255)


def about_centre(m2):
    m = np.eye(3)
    m[:2, :2] = m2
    m[:2, 2] = 13.5 - m2 @ np.full(2, 13.5)
    return m


def test_affine_corruptions_match_skimage_warp(digits_test):
    from skimage.transform import AffineTransform

    x = digits_test[0][:12]
    scaled = corruptions.apply("scale", x, rng())
    rotated = corruptions.apply("rotate", x, rng(6))
    sheared = corruptions.apply("shear", x, rng(6))
    signs = {"rotate": set(), "shear": set()}
    for i, img in enumerate(x):
        assert np.abs(scaled[i] - skimage_warp(img, about_centre(np.eye(2) / 0.7))).max() <= 1
        for sign in (-1, 1):
            rot = AffineTransform(rotation=0.4 * sign).params[
                :2, :2
            ]  # skimage's own rotation matrix
            if np.abs(rotated[i] - skimage_warp(img, about_centre(rot))).max() <= 1:
                signs["rotate"].add(sign)
            s = 0.4 * sign  # AffineTransform(shear=s) as scikit-image < 0.19 defined it
            if (
                np.abs(
                    sheared[i]
                    - skimage_warp(img, about_centre(np.array([[1, -np.sin(s)], [0, np.cos(s)]])))
                ).max()
                <= 1
            ):
                signs["shear"].add(sign)
    assert signs == {"rotate": {-1, 1}, "shear": {-1, 1}}


def test_motion_blur_matches_imagemagick_taps_by_hand():
    x = square(3, 8, 20, 180)
    x[:, 12:16, 12:16] = 40
    out = corruptions.apply("motion_blur", x, rng(7))
    angles = np.deg2rad(rng(7).uniform(-45, 45, 3))
    weights = np.exp(-(np.arange(21) ** 2) / 18.0)
    weights /= weights.sum()
    for k, a in enumerate(angles):
        ref = np.zeros((28, 28))
        for row in range(28):
            for col in range(28):
                for i, w in enumerate(weights):
                    rr = min(max(row + int(np.ceil(i * np.sin(a) - 0.5)), 0), 27)
                    cc = min(max(col + int(np.ceil(i * np.cos(a) - 0.5)), 0), 27)
                    ref[row, col] += w * x[k, rr, cc]
        assert np.abs(out[k] - np.rint(ref)).max() <= 1


def test_glass_blur_moves_intensity_but_keeps_it():
    x = square(20, 6, 22, 200)
    out = corruptions.apply("glass_blur", x, rng(8)).astype(float)
    assert (
        np.abs(out.sum(axis=(1, 2)) - x.sum(axis=(1, 2))).max() < 1.5 * 784
    )  # truncation + rounding
    assert not np.array_equal(out[0], out[1])


def test_fog_spatter_and_lines_stay_in_their_bounds(digits_test):
    x = digits_test[0][:100]
    xf = x / 255.0
    peak = xf.max(axis=(1, 2), keepdims=True)
    fogged = corruptions.apply("fog", x, rng(9)) / 255.0
    haze = fogged * (peak + 3) / peak - xf  # = 3 * F with F in [0, 1], up to rounding
    assert haze.min() > -0.01 and haze.max() < 3.01 and haze.std() > 0.05
    assert not corruptions.apply("fog", np.zeros((2, 28, 28), np.uint8), rng()).any()
    mud = corruptions.apply("spatter", x, rng(9)).astype(int)
    lo, hi = np.minimum(x.astype(int), 63) - 1, np.maximum(x.astype(int), 63) + 1
    assert ((mud >= lo) & (mud <= hi)).all() and (mud != x).any()
    dotted = corruptions.apply("dotted_line", x, rng(9))
    zig = corruptions.apply("zigzag", x, rng(9))
    assert (dotted >= x).all() and (zig >= x).all()
    gaps = (np.arange(28) // 2) % 2 == 0
    gaps[27] = True
    assert np.array_equal(dotted[:, :, gaps], x[:, :, gaps])
    assert np.array_equal(zig[:, :, [0, 1, 26, 27]], x[:, :, [0, 1, 26, 27]])


def test_plasma_maps_and_zigzag_path():
    maps = draw.plasma(rng(), 3, size=64)
    assert np.allclose(maps.min(axis=(1, 2)), 0) and np.allclose(maps.max(axis=(1, 2)), 1)
    for d in (23.0, np.hypot(23, 5)):  # the lengths the rises -5..4 give: always 6 teeth
        assert int((d - 2) // 4) + 1 == draw.ZIGZAG_TEETH
    cols, rows = draw.zigzag_path(np.array([10.0, 10.0]), np.array([0.0, -5.0]))
    assert np.allclose(cols[0], [2, 4, 8, 12, 16, 20, 24, 25]) and np.allclose(cols[:, 0], 2)
    assert np.allclose(rows[0], [10, 12, 8, 12, 8, 12, 8, 10 - 1 / 3])
    assert rows[1, -1] < 6  # the tilted path ends near r0 + rise


# --- the corrupted test set -------------------------------------------------------------


def test_build_is_deterministic_and_the_seed_matters(digits_test):
    a = corrupted.build(*digits_test, n_base=100)
    b = corrupted.build(*digits_test, n_base=100)
    c = corrupted.build(*digits_test, n_base=100, seed=1)
    assert a.digest == b.digest and a.digest != c.digest
    assert all(np.array_equal(a.images[n], b.images[n]) for n in corruptions.NAMES)
    assert not np.array_equal(a.indices, c.indices)
    assert len(a.indices) == 100 and np.all(np.diff(a.indices) > 0) and a.indices.dtype == np.int64
    assert a.names == corruptions.NAMES and a.source.startswith("built in")


def test_small_test_set_is_used_whole(full, digits_test):
    assert np.array_equal(full.indices, np.arange(len(digits_test[1])))


def test_subset_is_nested_stratified_with_its_own_digest(full):
    sub = full.subset(100)
    assert len(sub.indices) == 100 and np.isin(sub.indices, full.indices).all()
    assert np.all(np.diff(sub.indices) > 0)
    expected = np.bincount(full.labels, minlength=10) * 100 / len(full.labels)
    assert np.abs(np.bincount(sub.labels, minlength=10) - expected).max() < 1
    pos = np.searchsorted(full.indices, sub.indices)
    for name in corruptions.NAMES:
        assert np.array_equal(sub.images[name], full.images[name][pos])
    assert sub.digest != full.digest and sub.digest == full.subset(100).digest
    assert full.subset(len(full.indices)) is full and full.subset(10**6) is full
    assert len(full.subset(0).indices) == 0
    with pytest.raises(DataError):
        full.subset(-1)


def test_cache_round_trip(digits_test, capsys):
    first = corrupted.load(*digits_test, n_base=N_SMALL)
    npz, meta = corrupted.cache_paths(digits_test[2], N_SMALL)
    assert first.source.startswith("built in") and npz.exists() and meta.exists()
    assert npz.name == f"{digits_test[2][:16]}-n{N_SMALL}-v{corrupted.VERSION}.npz"
    second = corrupted.load(*digits_test, n_base=N_SMALL)
    assert second.source == f"cache {npz}"
    assert second.digest == first.digest
    assert all(np.array_equal(second.images[n], first.images[n]) for n in corruptions.NAMES)
    assert np.array_equal(second.labels, first.labels)
    assert capsys.readouterr().err == ""


def _truncate(npz, meta):
    blob = npz.read_bytes()
    npz.write_bytes(blob[: len(blob) // 2])


def _flip_byte(npz, meta):
    blob = bytearray(npz.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    npz.write_bytes(bytes(blob))


def _edit_pixels_keep_sha(npz, meta):
    import json

    from bench.data.sources import sha256_file

    with np.load(npz) as z:
        arrays = dict(z)
    arrays["fog"][0, 0, 0] ^= 1
    with open(npz, "wb") as fh:
        np.savez(fh, **arrays)
    m = json.loads(meta.read_text())
    m["sha256"] = sha256_file(npz)
    meta.write_text(json.dumps(m))


def _drop_sidecar(npz, meta):
    meta.unlink()


@pytest.mark.parametrize("damage", [_truncate, _flip_byte, _edit_pixels_keep_sha, _drop_sidecar])
def test_damaged_cache_is_rebuilt_with_one_warning(digits_test, capsys, damage):
    first = corrupted.load(*digits_test, n_base=N_SMALL)
    npz, meta = corrupted.cache_paths(digits_test[2], N_SMALL)
    damage(npz, meta)
    capsys.readouterr()
    again = corrupted.load(*digits_test, n_base=N_SMALL)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"warning: corrupted test set cache {npz} is corrupt (")
    assert lines[0].endswith("); rebuilding")
    assert again.source.startswith("built in") and again.digest == first.digest
    assert corrupted.load(*digits_test, n_base=N_SMALL).source.startswith("cache")


def test_build_refuses_bad_inputs(digits_test):
    x, y, digest = digits_test
    with pytest.raises(DataError, match=r"\(5, 32, 32\)"):
        corrupted.build(np.zeros((5, 32, 32), np.uint8), np.zeros(5, np.int64), digest)
    with pytest.raises(DataError, match="labels"):
        corrupted.build(x, y[:-1], digest)
