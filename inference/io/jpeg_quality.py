"""The quality a JPEG was saved at, read back from its quantisation tables.

A JPEG does not store its quality number, but the common encoders (libjpeg, Pillow, GIMP,
Photoshop's "save for web", phone cameras built on libjpeg) scale the standard luminance table of
the JPEG specification (Annex K) by the IJG rule. Finding the quality whose scaled table is closest
to the file's gives the number to save at again, so an edited q90 photo is not re-written at q95
and a third larger. Tables no quality reproduces well (custom encoders) give None.
"""

from __future__ import annotations

import numpy as np

# JPEG specification Annex K.1, luminance, in natural (row-major) order.
STANDARD_LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)
MAX_MEAN_ERROR = 1.0  # mean absolute step difference above which the table is not IJG-scaled


def ijg_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes at ``quality`` (1–100), baseline-clamped to 1..255."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((STANDARD_LUMINANCE * scale + 50) / 100), 1, 255)


_TABLES = {quality: ijg_table(quality) for quality in range(1, 101)}


def quality_from_table(table) -> int | None:
    """The IJG quality whose luminance table is nearest ``table`` (64 steps), or None when none is near.

    The steps are compared sorted, so a table in zig-zag order matches as well as one in natural order.
    """
    steps = np.sort(np.asarray(list(table), dtype=np.float64))
    if steps.size != 64:
        return None
    errors = {quality: float(np.abs(np.sort(candidate) - steps).mean()) for quality, candidate in _TABLES.items()}
    best = min(errors, key=lambda quality: (errors[quality], -quality))
    return best if errors[best] <= MAX_MEAN_ERROR else None


def jpeg_quality(image) -> int | None:
    """The quality of an open Pillow JPEG ``image`` (its first table is luminance), or None."""
    tables = getattr(image, "quantization", None)
    if not tables:
        return None
    first = tables.get(0, next(iter(tables.values())))
    return quality_from_table(first)


def jpeg_subsampling(image) -> int | None:
    """Pillow's subsampling code of an open JPEG (0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0), or None."""
    from PIL import JpegImagePlugin

    try:
        code = JpegImagePlugin.get_sampling(image)
    except (AttributeError, KeyError, TypeError):
        return None
    return code if code in (0, 1, 2) else None
