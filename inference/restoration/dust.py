"""``propose_dust``: small specks where the surroundings are flat enough for a speck to be unambiguous.

Dust on a print or a scan is a small compact spot much brighter or darker than the median of its
neighbourhood. Hair, foliage, fabric and catchlights in eyes are too, which is why a candidate must
also sit in flat surroundings (low texture and no strong edge nearby) and be compact (not a line).
The work happens on a copy whose shorter side is at most ``WORK_SIDE`` px, so a 12-megapixel scan
costs about what a 1-megapixel photo does, and speck sizes are relative to that copy.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.restoration.detector import detector_for
from inference.restoration.filters import (
    check_inputs,
    grow,
    lerp,
    local_texture,
    luminance,
    mask_to_size,
    median_background,
    resized,
    shrink_factor,
)
from inference.restoration.learned import dust_marks, grown

WORK_SIDE = 1024
LARGEST_SPECK = 0.016  # of the working copy's shorter side: 8 px at 512, 16 px at 1024
FLOOR = (45.0, 18.0)  # least contrast of a speck, grey levels, at sensitivity 0 and 1
TEXTURE_FACTOR = (30.0, 9.0)  # contrast a speck needs as a multiple of the texture around it
MAX_EDGES = (10.0, 26.0)  # largest mean gradient around a speck (flat surroundings)


def propose_dust(image: np.ndarray, sensitivity: float = 0.5, region: np.ndarray | None = None,
                 grow_px: int = 1, method: str = "auto") -> np.ndarray:
    """Dust specks (bool (H, W)), each grown by ``grow_px``; only inside ``region`` when one is given.

    ``method`` "auto" uses the trained detector when its weights are there, else the rules below.
    """
    check_inputs(image, sensitivity)
    if region is not None and region.shape != image.shape[:2]:
        raise ValueError(f"region is {region.shape} but the image is {image.shape[:2]}")
    detector = detector_for(method)
    if detector is not None:
        found = grown(dust_marks(detector, image, sensitivity), grow_px)
        return found & region.astype(bool) if region is not None else found
    factor = shrink_factor(image.shape[:2], WORK_SIDE)
    grey = luminance(resized(image, factor))
    largest = max(4, int(round(LARGEST_SPECK * min(grey.shape))))
    background = median_background(grey, 2 * largest + 1)
    difference = grey.astype(np.int16) - background.astype(np.int16)
    edges = _edge_strength(background, largest)
    specks = np.zeros(grey.shape, bool)
    for signed in (difference, -difference):
        specks |= _specks_of_one_polarity(signed, edges, largest, sensitivity)
    found = grow(mask_to_size(specks, image.shape[:2]), grow_px)
    return found & region.astype(bool) if region is not None else found


def _specks_of_one_polarity(signed, edges, largest, sensitivity) -> np.ndarray:
    floor = lerp(*FLOOR, sensitivity)
    loose = signed > 0.5 * floor
    texture = local_texture(signed, loose, 6 * largest + 1)
    threshold = np.maximum(floor, lerp(*TEXTURE_FACTOR, sensitivity) * texture)
    strong = signed > threshold
    weak = (signed > 0.5 * threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    if count <= 1:
        return np.zeros(signed.shape, bool)
    has_strong = np.bincount(labels[strong], minlength=count) > 0
    widths, heights, areas = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    compact = areas >= 0.3 * widths * heights
    small = (np.maximum(widths, heights) <= largest) & (areas >= 2)
    flat_at = _value_at_components(labels, count, edges)
    flat = flat_at <= lerp(*MAX_EDGES, sensitivity)
    keep = has_strong & compact & small & flat
    keep[0] = False
    return keep[labels]


def _edge_strength(background: np.ndarray, largest: int) -> np.ndarray:
    """Mean gradient of the speck-free photo around each pixel: high near edges and in texture."""
    background = background.astype(np.float32)
    gx = cv2.Sobel(background, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(background, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = cv2.magnitude(gx, gy) / 8.0
    return cv2.blur(magnitude, (2 * largest + 1, 2 * largest + 1))


def _value_at_components(labels: np.ndarray, count: int, values: np.ndarray) -> np.ndarray:
    """The largest of ``values`` over each component's pixels."""
    peak = np.zeros(count, np.float32)
    foreground = labels > 0
    np.maximum.at(peak, labels[foreground], values[foreground])
    return peak
