"""``refine_stroke``: the defect a person painted roughly over, found inside the Stroke.

A person paints a fat Stroke over a crack, a scratch or a blotch; inside it most pixels are clean
and a minority differ from their surroundings. Per connected part of the Stroke:

1. the background is the local median over a window twice the Stroke's width, so a crack and a
   blotch up to the Stroke's size are both outvoted by the clean pixels around them;
2. the grain level is measured on a ring just outside the Stroke (clean by assumption), and the
   threshold is a multiple of it, never below a minimum contrast;
3. bright or dark is chosen by which side has more mass beyond the threshold (``kind="auto"``);
   with ``"auto"`` the same is done on warmth (red minus blue), and a brown cast wider than a
   speck that stands out clearly more than the brightness does is taken instead (a stain);
4. weak pixels are kept only when connected to strong ones (hysteresis), small gaps are closed,
   and the result is grown by ``grow`` px so that a fill also covers the soft halo of the defect.

Only pixels inside the Stroke are ever returned (before growing).
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.restoration.damage import WORK_SIDE as TORN_WORK_SIDE
from inference.restoration.damage import torn_corners
from inference.restoration.detector import detector_for
from inference.restoration.filters import (
    check_inputs,
    disc,
    grow,
    lerp,
    luminance,
    mask_to_size,
    median_background,
    resized,
    shrink_factor,
)
from inference.restoration.learned import stroke_marks

STROKE_KINDS = ("auto", "dark", "bright")
RING = 5  # px of clean surroundings used to measure the grain
MIN_SIGMA = 1.5
CORE_DEPTH = 0.5  # share of the Stroke's half-width that counts as its middle
RIM_STRICTNESS = 2.6  # how many times the contrast a pixel at the rim needs
CRUMB = 0.1  # pieces smaller than this share of the largest piece are texture the Stroke grazed
FLOOR = (20.0, 6.0)  # least contrast of a defect, grey levels, at sensitivity 0 and 1
GRAIN_FACTOR = (6.0, 2.0)  # contrast a defect needs as a multiple of the grain
CEILING = (120.0, 50.0)  # largest threshold at sensitivity 0 and 1
WARMTH_PREFERENCE = 1.5  # how much more a brown cast must stand out than brightness to be chosen
SMALLEST_CAST = 150  # px of a stain's middle beyond the threshold


def refine_stroke(image: np.ndarray, stroke_mask: np.ndarray, sensitivity: float = 0.5,
                  kind: str = "auto", grow_px: int = 2, method: str = "auto") -> np.ndarray:
    """The defect pixels (bool (H, W)) inside ``stroke_mask``: dark, bright or whichever stands out.

    ``method`` "auto" uses the trained detector when its weights are there, else the rules below.
    """
    check_inputs(image, sensitivity)
    if stroke_mask.shape != image.shape[:2]:
        raise ValueError(f"stroke mask is {stroke_mask.shape} but the image is {image.shape[:2]}")
    if kind not in STROKE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(STROKE_KINDS)}, got {kind!r}")
    detector = detector_for(method)
    if detector is not None:
        return stroke_marks(detector, image, stroke_mask.astype(bool, copy=False), sensitivity, kind, grow_px)
    found = np.zeros(stroke_mask.shape, bool)
    rows, columns = np.flatnonzero(stroke_mask.any(axis=1)), np.flatnonzero(stroke_mask.any(axis=0))
    if not len(rows):
        return found
    # Work on the Stroke's box plus the widest margin a part of it can need (a median window
    # twice its width, the ring and the growth), so a Stroke costs the same on any photo size.
    margin = min(rows[-1] - rows[0], columns[-1] - columns[0]) + RING + grow_px + 4
    top, bottom = max(0, rows[0] - margin), min(found.shape[0], rows[-1] + 1 + margin)
    left, right = max(0, columns[0] - margin), min(found.shape[1], columns[-1] + 1 + margin)
    window = (slice(top, bottom), slice(left, right))
    crop, stroke = image[window], stroke_mask[window].astype(np.uint8)
    local = np.zeros(stroke.shape, bool)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(stroke, connectivity=8)
    for label in range(1, count):
        x, y, w, h, _area = stats[label]
        _refine_part(crop, labels, label, (x, y, w, h), sensitivity, kind, local)
    found[window] = grow(local, grow_px)
    box = (columns[0], rows[0], columns[-1] + 1 - columns[0], rows[-1] + 1 - rows[0])
    if _covers_a_corner(found.shape, box):
        # A median cannot see a tear that fills the corner: look for bare paper there instead.
        found |= grow(_torn_corner_in(image, stroke_mask.astype(bool), sensitivity), grow_px)
    return found


def _refine_part(image, labels, label, box, sensitivity, kind, found) -> None:
    x, y, w, h = box
    part_crop = labels[y:y + h, x:x + w] == label
    radius = float(cv2.distanceTransform(np.pad(part_crop, 1).astype(np.uint8), cv2.DIST_L2, 3).max())
    window = 4 * max(radius, 2.0) + 1
    margin = int(window) // 2 + RING + 1
    top, left = max(0, y - margin), max(0, x - margin)
    bottom, right = min(labels.shape[0], y + h + margin), min(labels.shape[1], x + w + margin)
    part = labels[top:bottom, left:right] == label
    crop = image[top:bottom, left:right]
    # A person paints along the defect: its middle decides bright or dark, and a pixel near the
    # Stroke's rim needs up to RIM_STRICTNESS times the contrast (what the brush only grazed).
    depth = cv2.distanceTransform(part.astype(np.uint8), cv2.DIST_L2, 3) / max(radius, 1.0)
    core = part & (depth >= CORE_DEPTH)
    strictness = 1.0 + (RIM_STRICTNESS - 1.0) * np.clip(1.0 - depth, 0.0, 1.0)
    signed, threshold = _contrast(luminance(crop), part, core, window, sensitivity, kind)
    if kind == "auto":
        # A water or chemical stain is a brown cast that may barely change the brightness: when
        # the warmth (red minus blue) stands out more in the Stroke's middle, that is the defect.
        warm_signed, warm_threshold = _contrast(_warmth(crop), part, core, window, sensitivity, kind)
        # Only a cast wider than a speck: dust is slightly warm too, and its brightness is what counts.
        wide = int(((warm_signed > warm_threshold) & core).sum()) >= SMALLEST_CAST
        if wide and _excess(warm_signed, warm_threshold, core) > WARMTH_PREFERENCE * _excess(signed, threshold, core):
            signed, threshold = warm_signed, warm_threshold
    defect = _drop_crumbs(_through_the_middle(_hysteresis(signed, part, threshold * strictness), core))
    if defect.any():
        defect = cv2.morphologyEx(defect.astype(np.uint8), cv2.MORPH_CLOSE, disc(1)).astype(bool) & part
        found[top:bottom, left:right] |= defect


def _contrast(grey, part, core, window, sensitivity, kind):
    """The difference from the local median, turned so that the defect is positive, and its threshold."""
    difference = grey.astype(np.float32) - median_background(grey, window).astype(np.float32)
    ring = grow(part, RING) & ~part
    # Grain from the clean ring outside, or from the Stroke itself when a thin defect leaves most of
    # it clean: whichever is calmer (a ring that grazes eyelashes or hair overstates the grain).
    sigma = min(_robust_sigma(difference[ring]) if ring.any() else np.inf, _robust_sigma(difference[part]))
    floor = lerp(*FLOOR, sensitivity)
    # Over hair or foliage the grain alone would ask for more contrast than any defect has; past
    # the ceiling the person's choice of where to paint is trusted.
    threshold = min(max(floor, lerp(*GRAIN_FACTOR, sensitivity) * sigma), lerp(CEILING[0], CEILING[1], sensitivity))
    return _choose_polarity(difference, core, threshold, kind), threshold


def _warmth(image: np.ndarray) -> np.ndarray:
    """Red minus blue (uint8, 128 = neutral): how brown a pixel is."""
    rgb = image.astype(np.int16)
    return np.clip(128 + (rgb[..., 0] - rgb[..., 2]) // 2, 0, 255).astype(np.uint8)


def _excess(signed: np.ndarray, threshold: float, core: np.ndarray) -> float:
    """How far the Stroke's middle stands out beyond the threshold, in thresholds."""
    return float(np.clip(signed[core] / threshold - 1.0, 0, None).sum()) if core.any() else 0.0


def _covers_a_corner(shape, box) -> bool:
    x, y, w, h = box
    return (x == 0 or x + w == shape[1]) and (y == 0 or y + h == shape[0])


def _torn_corner_in(image, part, sensitivity) -> np.ndarray:
    factor = shrink_factor(image.shape[:2], TORN_WORK_SIDE)
    paper = torn_corners(luminance(resized(image, factor)), sensitivity)
    return mask_to_size(paper, image.shape[:2]) & part


def _robust_sigma(values: np.ndarray) -> float:
    deviation = np.abs(values - np.median(values))
    return max(MIN_SIGMA, 1.4826 * float(np.median(deviation)))


def _choose_polarity(difference, part, threshold, kind) -> np.ndarray:
    """The difference turned so that the defect is positive."""
    if kind == "bright":
        return difference
    if kind == "dark":
        return -difference
    inside = difference[part] if part.any() else difference
    bright = np.clip(inside - threshold, 0, None).sum()
    dark = np.clip(-inside - threshold, 0, None).sum()
    return difference if bright >= dark else -difference


def _through_the_middle(defect: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Only pieces that reach the Stroke's middle: the brush was centred on the defect, not on its rim."""
    count, labels = cv2.connectedComponents(defect.astype(np.uint8), connectivity=8)
    if count <= 1 or not core.any():
        return defect
    keep = np.zeros(count, bool)
    keep[np.unique(labels[core & defect])] = True
    keep[0] = False
    return keep[labels]


def _drop_crumbs(defect: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(defect.astype(np.uint8), connectivity=8)
    if count <= 2:
        return defect
    areas = stats[:, cv2.CC_STAT_AREA].copy()
    areas[0] = 0
    keep = areas >= CRUMB * areas.max()
    keep[0] = False
    return keep[labels]


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
