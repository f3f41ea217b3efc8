"""``refine_stroke``: the defect a person painted roughly over, found inside the Stroke.

A person paints a fat Stroke over a crack, a scratch or a blotch; inside it most pixels are clean
and a minority differ from their surroundings. Per connected part of the Stroke:

1. the background is the local median over a window twice the Stroke's width, so a crack and a
   blotch up to the Stroke's size are both outvoted by the clean pixels around them;
2. the grain level is measured on a ring just outside the Stroke (clean by assumption), and the
   threshold is a multiple of it, never below a minimum contrast;
3. bright or dark is chosen by which side has more mass beyond the threshold (``kind="auto"``);
4. weak pixels are kept only when connected to strong ones (hysteresis), small gaps are closed,
   and the result is grown by ``grow`` px so that a fill also covers the soft halo of the defect.

Only pixels inside the Stroke are ever returned (before growing).
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.restoration.filters import check_inputs, disc, grow, lerp, luminance, median_background

STROKE_KINDS = ("auto", "dark", "bright")
RING = 5  # px of clean surroundings used to measure the grain
MIN_SIGMA = 1.5


def refine_stroke(image: np.ndarray, stroke_mask: np.ndarray, sensitivity: float = 0.5,
                  kind: str = "auto", grow_px: int = 1) -> np.ndarray:
    """The defect pixels (bool (H, W)) inside ``stroke_mask``: dark, bright or whichever stands out."""
    check_inputs(image, sensitivity)
    if stroke_mask.shape != image.shape[:2]:
        raise ValueError(f"stroke mask is {stroke_mask.shape} but the image is {image.shape[:2]}")
    if kind not in STROKE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(STROKE_KINDS)}, got {kind!r}")
    stroke = stroke_mask.astype(np.uint8)
    found = np.zeros(stroke.shape, bool)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(stroke, connectivity=8)
    for label in range(1, count):
        x, y, w, h, _area = stats[label]
        _refine_part(image, labels, label, (x, y, w, h), sensitivity, kind, found)
    return grow(found, grow_px) if grow_px > 0 else found


def _refine_part(image, labels, label, box, sensitivity, kind, found) -> None:
    x, y, w, h = box
    part_crop = labels[y:y + h, x:x + w] == label
    radius = float(cv2.distanceTransform(np.pad(part_crop, 1).astype(np.uint8), cv2.DIST_L2, 3).max())
    window = 4 * max(radius, 2.0) + 1
    margin = int(window) // 2 + RING + 1
    top, left = max(0, y - margin), max(0, x - margin)
    bottom, right = min(labels.shape[0], y + h + margin), min(labels.shape[1], x + w + margin)
    part = labels[top:bottom, left:right] == label
    grey = luminance(image[top:bottom, left:right])
    difference = grey.astype(np.float32) - median_background(grey, window).astype(np.float32)
    ring = grow(part, RING) & ~part
    sigma = _robust_sigma(difference[ring]) if ring.any() else MIN_SIGMA
    threshold = max(lerp(26.0, 8.0, sensitivity), lerp(7.0, 2.5, sensitivity) * sigma)
    signed = _choose_polarity(difference, part, threshold, kind)
    defect = _hysteresis(signed, part, threshold)
    if defect.any():
        defect = cv2.morphologyEx(defect.astype(np.uint8), cv2.MORPH_CLOSE, disc(1)).astype(bool) & part
        found[top:bottom, left:right] |= defect


def _robust_sigma(values: np.ndarray) -> float:
    deviation = np.abs(values - np.median(values))
    return max(MIN_SIGMA, 1.4826 * float(np.median(deviation)))


def _choose_polarity(difference, part, threshold, kind) -> np.ndarray:
    """The difference turned so that the defect is positive."""
    if kind == "bright":
        return difference
    if kind == "dark":
        return -difference
    inside = difference[part]
    bright = np.clip(inside - threshold, 0, None).sum()
    dark = np.clip(-inside - threshold, 0, None).sum()
    return difference if bright >= dark else -difference


def _hysteresis(signed, part, threshold) -> np.ndarray:
    weak = ((signed > 0.6 * threshold) & part).astype(np.uint8)
    strong = (signed > threshold) & part
    if not strong.any():
        return np.zeros(part.shape, bool)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return keep[labels]
