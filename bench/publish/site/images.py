"""Test images as inline PNGs: a grayscale PNG encoder (zlib, no imaging library, the same
pixels give the same bytes) and the gallery of a row's most confident mistakes, chosen as
``figures`` chooses them for the PNG gallery (its first seed's stored ``mistakes``, the first
``figures.GALLERY_SIZE``, captioned "true → predicted (probability)")."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

from bench.analysis import rowstats
from bench.publish import figures
from bench.publish.site.html import esc

SHOWN_PX = 56  # each 28 x 28 image drawn at twice its size, pixels kept square (site.css)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def to_uint8(image) -> np.ndarray:
    """``image`` as a 2-D uint8 array (a flat square reshaped): floats all within [0, 1] are
    scaled to 0..255, everything else rounded and clipped to 0..255, NaN as 0."""
    src = np.asarray(image)
    a = np.nan_to_num(src.astype(float))
    if a.ndim == 1:
        side = round(np.sqrt(a.size))
        a = a.reshape(side, side)
    if a.ndim != 2:
        raise ValueError(f"a grayscale image is 2-D; got shape {src.shape}")
    if np.issubdtype(src.dtype, np.floating) and a.size and float(a.max()) <= 1.0:
        a = a * 255.0
    return np.clip(a, 0, 255).round().astype(np.uint8)


def png_gray(image) -> bytes:
    """An 8-bit grayscale PNG of ``image`` (``to_uint8``)."""
    a = to_uint8(image)
    h, w = a.shape
    raw = b"".join(b"\x00" + a[y].tobytes() for y in range(h))  # filter type 0 on every line
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def data_uri(image) -> str:
    """``image`` as a ``data:image/png;base64,`` URI, drawn dark on light like the Markdown
    gallery (``gray_r``): 255 - pixel."""
    inverted = 255 - to_uint8(image).astype(np.int16)
    return "data:image/png;base64," + base64.b64encode(png_gray(inverted)).decode("ascii")


def mistakes(group: rowstats.Group, r: rowstats.Row, images) -> tuple[str, str]:
    """(heading text, HTML) of the row's most confident mistakes; the HTML says why there is
    no gallery when ``images`` (the group's test images, or None) or the record's mistakes
    are missing."""
    g = group.ok[group.ok["row.key"] == r.key].sort_values("job.seed")
    first = g.iloc[0]
    seed = int(first["job.seed"])
    title = f"Most confident mistakes (true → predicted, probability), seed {seed}"
    stored = first.get("mistakes") if "mistakes" in g.columns else None
    if not isinstance(stored, list) or not stored:
        return title, "<p>The record holds no mistakes (none made, or not stored).</p>"
    if images is None:
        return title, (
            "<p>The test images are not available where the site was built (or differ from the "
            "recorded ones), so the mistakes cannot be shown.</p>"
        )
    out = []
    for i, t, p, c in stored[: figures.GALLERY_SIZE]:
        if not 0 <= int(i) < len(images):
            continue
        caption = f"{t} → {p} ({c:.2f})"
        out.append(
            f'<figure class="mistake"><img src="{data_uri(images[int(i)])}" width="{SHOWN_PX}" '
            f'height="{SHOWN_PX}" alt="test image {int(i)}: true {esc(t)}, predicted {esc(p)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    return title, '<div class="gallery">' + "".join(out) + "</div>"
