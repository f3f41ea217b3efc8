"""Masks: loading, saving and the operations the editor offers (grow, shrink, invert, fill holes).

A Mask is a bool array (H, W), True marking the Hole. On disk it is an 8-bit single-channel PNG,
non-zero = Hole (255 when we write it), so nothing is lost in a round trip.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inference.io.images import ImageError, open_image, write_atomically


class MaskError(ValueError):
    """A mask cannot be used with its image; the message is one sentence naming the cause."""


def load_mask(path: str | os.PathLike, expected_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file (any image; non-zero in any channel = Hole) as bool (H, W).

    "Non-zero" is judged in the file's own bit depth: a 16-bit mask of 0/1 marks a Hole.

    With ``expected_shape`` (H, W) a mask of another size is refused, naming both sizes.
    """
    path = Path(path)
    try:
        loaded = open_image(path)
    except ImageError as error:
        raise MaskError(str(error)) from None
    mask = _nonzero(loaded)
    if expected_shape is not None and mask.shape != tuple(expected_shape):
        raise MaskError(
            f"{path} is {mask.shape[1]}×{mask.shape[0]} but the image is "
            f"{expected_shape[1]}×{expected_shape[0]}; a mask must have the size of its image."
        )
    return mask


def check_fillable(mask: np.ndarray, path: str | os.PathLike) -> None:
    """Refuse a mask that leaves nothing to fill, or nothing to fill from (one sentence naming ``path``)."""
    if not mask.any():
        raise MaskError(f"{path} marks no hole (all zero); there is nothing to fill.")
    if mask.all():
        raise MaskError(f"{path} marks the whole image as the hole; there is no known context to fill from.")


def _nonzero(loaded) -> np.ndarray:
    if loaded.samples is None:
        return loaded.pixels.max(axis=2) > 0
    # Before any scaling to 8 bits, which would turn small 16-bit values into 0.
    samples = loaded.samples.samples
    if samples.ndim == 3:
        samples = samples[..., :3]
    hole = np.nan_to_num(samples, nan=0.0) != 0 if samples.dtype.kind == "f" else samples != 0
    return hole if hole.ndim == 2 else hole.any(axis=2)


def save_mask(path: str | os.PathLike, mask: np.ndarray) -> None:
    """Write ``mask`` as an 8-bit single-channel PNG, 255 = Hole (atomically)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise MaskError(f"{path}: masks are saved as PNG so that they stay lossless.")
    image = Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L")
    write_atomically(path, lambda stream: image.save(stream, format="PNG"))


def _disc(pixels: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The Hole widened by ``pixels`` in every direction (round structuring element)."""
    if pixels <= 0:
        return mask.copy()
    return cv2.dilate(mask.astype(np.uint8), _disc(pixels)).astype(bool)


def shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The Hole narrowed by ``pixels``; the image border does not count as outside the Hole."""
    if pixels <= 0:
        return mask.copy()
    eroded = cv2.erode(mask.astype(np.uint8), _disc(pixels), borderType=cv2.BORDER_REPLICATE)
    return eroded.astype(bool)


def invert(mask: np.ndarray) -> np.ndarray:
    return ~mask


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The Hole with every enclosed gap filled: known pixels not connected to the image border join it."""
    known = (~mask).astype(np.uint8)
    count, labels = cv2.connectedComponents(known, connectivity=4)
    border_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    touching = np.isin(labels, border_labels[border_labels > 0])
    return mask | (known.astype(bool) & ~touching)


def hole_ratio(mask: np.ndarray) -> float:
    """Fraction of pixels in the Hole, 0..1."""
    return float(mask.mean()) if mask.size else 0.0


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """The mask scaled to (height, width) with nearest-neighbour sampling, so it stays binary."""
    if mask.shape == (height, width):
        return mask.copy()
    resized = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return resized > 0
