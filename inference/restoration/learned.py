"""The three detectors on top of the trained network (:mod:`inference.restoration.detector`).

* inside a Stroke: the network is told where the Stroke is and looks at it with a margin of
  context; any kind of damage counts;
* dust: the "dust" output over the whole photo, on a copy whose shorter side is at most
  ``WORK_SIDE`` px (a 12-megapixel scan costs about what a 0.8-megapixel photo does); only compact
  specks, not blotches;
* damage: the "scratch", "crack" and "torn" outputs, keeping only parts long enough to be a line
  or large enough to be a tear (short fragments are where its false marks sit).

Each returns the raw marks; the public functions grow them with :func:`grown`.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.engines.regions import Box
from inference.restoration.detector import Detector
from inference.restoration.filters import (
    grow,
    luminance,
    mask_to_size,
    median_background,
    resized,
    shrink_factor,
)

WORK_SIDE = 768
CONTEXT = 32  # px around a Stroke the network sees
LARGEST_STROKE_CROP = 1_000_000  # px; a larger Stroke box is looked at on a shrunk copy (the brush runs on the UI thread)
LARGEST_SPECK = 0.02  # of the working copy's shorter side
SHORTEST_DAMAGE = 0.04  # of the working copy's shorter side: shorter marks are dropped
POLARITY_WINDOW = 15
# The network was not scored on the pixel around each defect (its soft rim), and it marks that rim
# itself: its marks need one pixel less growth than the rules' to cover the same halo.
HALO = 1


def grown(marks: np.ndarray, grow_px: int) -> np.ndarray:
    """The network's marks grown so that, with the rim it already marks, they reach ``grow_px`` past a defect."""
    return grow(marks, max(0, grow_px - HALO))


def stroke_marks(detector: Detector, image: np.ndarray, stroke: np.ndarray, sensitivity: float,
                 kind: str) -> np.ndarray:
    probability, window = stroke_probability(detector, image, stroke)
    return stroke_marks_from(probability, window, image, stroke, detector.threshold("refine_stroke", sensitivity), kind)


def stroke_probability(detector: Detector, image: np.ndarray, stroke: np.ndarray):
    """(probability of any damage over the Stroke's box plus context, that box), or (None, None)."""
    rows, columns = np.flatnonzero(stroke.any(axis=1)), np.flatnonzero(stroke.any(axis=0))
    if not len(rows):
        return None, None
    box = Box(rows[0], columns[0], rows[-1] + 1, columns[-1] + 1).expanded(CONTEXT, CONTEXT, stroke.shape)
    window = box.slices
    crop, part = image[window], stroke[window]
    factor = max(1.0, float(np.sqrt(crop.shape[0] * crop.shape[1] / LARGEST_STROKE_CROP)))
    small_crop = resized(crop, factor)
    small_part = mask_to_size(part, small_crop.shape[:2]) if factor > 1 else part
    probability = detector.probabilities(small_crop, small_part,
                                         (box.top == 0, box.bottom == stroke.shape[0], box.left == 0,
                                          box.right == stroke.shape[1])).max(axis=0)
    return probability, window


def stroke_marks_from(probability, window, image, stroke, threshold: float, kind: str) -> np.ndarray:
    found = np.zeros(stroke.shape, bool)
    if probability is None:
        return found
    part = stroke[window]
    marks = mask_to_size(probability > threshold, part.shape) & part
    if kind != "auto":
        marks = _of_polarity(marks, luminance(image[window]), kind)
    found[window] = marks
    return found


def _of_polarity(marks: np.ndarray, grey: np.ndarray, kind: str) -> np.ndarray:
    """Only the marked parts that are, on the whole, brighter (or darker) than their surroundings.

    Judged per part, not per pixel: the rim the network marks beside a bright line is background,
    darker or brighter than the median only by grain.
    """
    difference = grey.astype(np.float32) - median_background(grey, POLARITY_WINDOW).astype(np.float32)
    count, labels = cv2.connectedComponents(marks.astype(np.uint8), connectivity=8)
    mean = np.bincount(labels.ravel(), difference.ravel(), count) / np.maximum(np.bincount(labels.ravel(), None, count), 1)
    keep = mean > 0 if kind == "bright" else mean < 0
    keep[0] = False
    return keep[labels]


def dust_marks(detector: Detector, image: np.ndarray, sensitivity: float) -> np.ndarray:
    return dust_marks_from(whole_photo(detector, image), image.shape[:2], detector,
                           detector.threshold("propose_dust", sensitivity))


def dust_marks_from(probability: np.ndarray, shape, detector: Detector, threshold: float) -> np.ndarray:
    marks = probability[detector.kinds.index("dust")] > threshold
    largest = max(3, int(round(LARGEST_SPECK * min(marks.shape))))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    keep = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) <= largest
    keep[0] = False
    return mask_to_size(keep[labels], shape)


def damage_marks(detector: Detector, image: np.ndarray, sensitivity: float) -> np.ndarray:
    return damage_marks_from(whole_photo(detector, image), image.shape[:2], detector,
                             detector.threshold("propose_damage", sensitivity))


def damage_marks_from(probability: np.ndarray, shape, detector: Detector, threshold: float) -> np.ndarray:
    lines = [detector.kinds.index(kind) for kind in ("scratch", "crack", "torn")]
    marks = probability[lines].max(axis=0) > threshold
    shortest = SHORTEST_DAMAGE * min(marks.shape)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    keep = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= shortest
    keep[0] = False
    return mask_to_size(keep[labels], shape)


def whole_photo(detector: Detector, image: np.ndarray) -> np.ndarray:
    """Per-kind probabilities on the working copy (shorter side ≤ ``WORK_SIDE``)."""
    return detector.probabilities(resized(image, shrink_factor(image.shape[:2], WORK_SIDE)))
