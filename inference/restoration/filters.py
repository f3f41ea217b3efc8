"""Local statistics the detectors share: luminance, median background, texture, component stats.

Everything here works on one grey channel: damage on old photos is a change of brightness (a
scraped emulsion is white, a crack or dust dark), and a colour cast from age would only add
noise.
"""

from __future__ import annotations

import cv2
import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
LARGEST_MEDIAN = 31  # medians with larger windows run on a shrunk copy (same result to a grey level or two)


def luminance(image: np.ndarray) -> np.ndarray:
    """Grey levels (H, W) uint8 of an RGB uint8 Image."""
    return np.clip(image.astype(np.float32) @ LUMA + 0.5, 0, 255).astype(np.uint8)


def odd(value: float) -> int:
    """The nearest odd integer ≥ 3."""
    size = max(3, int(round(value)))
    return size if size % 2 else size + 1


def median_background(grey: np.ndarray, window: int) -> np.ndarray:
    """The local median of ``grey`` over a ``window``-px square: the photo with specks and lines removed."""
    window = odd(window)
    if window <= LARGEST_MEDIAN:
        return cv2.medianBlur(grey, window)
    factor = window / LARGEST_MEDIAN
    height, width = grey.shape
    small = cv2.resize(grey, (max(1, round(width / factor)), max(1, round(height / factor))),
                       interpolation=cv2.INTER_AREA)
    background = cv2.medianBlur(small, LARGEST_MEDIAN)
    return cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)


def local_texture(difference: np.ndarray, exclude: np.ndarray, window: int) -> np.ndarray:
    """Mean |difference| over a ``window``-px square, leaving out the ``exclude`` pixels (candidates).

    Flat surroundings give ≈ the grain level; hair, foliage or fabric give much more, which is what
    lets a threshold scale with how busy the neighbourhood is.
    """
    keep = (~exclude).astype(np.float32)
    magnitude = np.abs(difference).astype(np.float32) * keep
    size = (odd(window), odd(window))
    total = cv2.boxFilter(magnitude, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT)
    count = cv2.boxFilter(keep, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT)
    return total / np.maximum(count, 1.0)


def disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask
    return cv2.dilate(mask.astype(np.uint8), disc(radius)).astype(bool)


def shrink_factor(shape: tuple[int, int], work_side: int) -> float:
    """How much to shrink an Image so that its shorter side is at most ``work_side`` (1 = not at all)."""
    return max(1.0, min(shape) / work_side)


def resized(array: np.ndarray, factor: float, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    if factor == 1.0:
        return array
    height, width = array.shape[:2]
    return cv2.resize(array, (max(1, round(width / factor)), max(1, round(height / factor))),
                      interpolation=interpolation)


def mask_to_size(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A bool Mask found on a shrunk copy, brought back to the Image's size."""
    if mask.shape == tuple(shape):
        return mask
    scaled = cv2.resize(mask.astype(np.uint8) * 255, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return scaled >= 64


def check_inputs(image: np.ndarray, sensitivity: float) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
    if not 0.0 <= float(sensitivity) <= 1.0:
        raise ValueError(f"sensitivity must be between 0 and 1, got {sensitivity}")


def lerp(low: float, high: float, sensitivity: float) -> float:
    """``low`` at sensitivity 0, ``high`` at 1."""
    return low + (high - low) * float(sensitivity)
