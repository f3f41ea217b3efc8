"""``propose_damage``: whole-photo proposals for long thin scratches and torn corners, precision first.

A false mark costs the user more than a miss (they must find and erase it), so only what is
unambiguous is proposed:

* **scratches and cracks** - pixels much brighter or darker than the median of a small window
  (a thin line does not survive the median), grouped into connected lines; a line is kept only
  when it is long (``MIN_LENGTH`` of the shorter side), thin (mean width ≤ ``MAX_WIDTH`` px) and
  stands out from the texture around it by a wide margin. Hair, branches and fabric fail the
  texture test more often than not;
* **torn corners** - a flat region of bare white paper (almost no grain)
  that contains a corner of the photo.

Work happens on a copy whose shorter side is at most ``WORK_SIDE`` px.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.restoration.detector import detector_for
from inference.restoration.filters import (
    check_inputs,
    grow,
    lerp,
    luminance,
    mask_to_size,
    median_background,
    odd,
    resized,
    shrink_factor,
)
from inference.restoration.learned import damage_marks, grown

WORK_SIDE = 1024
LINE_WINDOW = 9  # a median of 9 px removes lines up to 4 px wide
CANDIDATE_STEP = 12  # grey levels above the median that make a pixel part of a possible line
MIN_LENGTH = (0.3, 0.1)  # of the shorter side, at sensitivity 0 and 1 (scratches are long; hair is not)
MIN_ALONG = (90.0, 36.0)  # median contrast along the line, grey levels, at sensitivity 0 and 1
CAND_SHARE = 0.35  # lower, and a scratch merges with the hair it crosses; higher, and it breaks up
EDGE_ALIGNMENT = 0.05  # |sin| of the angle to a side below which a line counts as parallel (≈ 3°)
EDGE_MARGIN = 0.08  # share of the photo's size near a side where such lines are print edges
BORDER = 4  # px of the working copy's edge where no line is looked for
MAX_WIDTH = 5.0  # mean width in px of a kept line (at 512 px; scaled with the working copy)
LINE_LENGTH = 21  # px of the segment along which contrast is averaged (at 512 px)
ANGLES = 16  # 11° apart, drawn anti-aliased: a 1-px line stays within a pixel of the segment
TORN_MAX_SPREAD = 3.0  # grey-level std of bare paper
TORN_MIN_AREA, TORN_MAX_AREA = 0.002, 0.15  # of the photo
TORN_MAX_FILL = 0.75
PAPER_WHITE = 205
TORN_MAX_SIDE = 0.45  # a torn corner spans less than half of each side; bright sky spans the whole top


def propose_damage(image: np.ndarray, sensitivity: float = 0.5, grow_px: int = 1, method: str = "auto") -> np.ndarray:
    """Scratches, cracks and torn corners (bool (H, W)), grown by ``grow_px``.

    ``method`` "auto" uses the trained detector when its weights are there, else the rules below.
    """
    check_inputs(image, sensitivity)
    detector = detector_for(method)
    if detector is not None:
        return grown(damage_marks(detector, image, sensitivity), grow_px)
    factor = shrink_factor(image.shape[:2], WORK_SIDE)
    grey = luminance(resized(image, factor))
    window = LINE_WINDOW * max(1.0, min(grey.shape) / 512.0)
    difference = grey.astype(np.int16) - median_background(grey, window).astype(np.int16)
    found = np.zeros(grey.shape, bool)
    for signed in (difference, -difference):
        found |= _lines_of_one_polarity(signed, sensitivity)
    found |= torn_corners(grey, sensitivity)
    return grow(mask_to_size(found, image.shape[:2]), grow_px)


def _lines_of_one_polarity(signed: np.ndarray, sensitivity: float) -> np.ndarray:
    scale = max(1.0, min(signed.shape) / 512.0)
    along = oriented_line_response(signed, odd(LINE_LENGTH * scale))
    min_along = lerp(MIN_ALONG[0], MIN_ALONG[1], sensitivity)
    # Candidates need a share of the contrast a kept line needs.
    step = max(CANDIDATE_STEP, CAND_SHARE * min_along)
    candidates = ((along > step) & (signed > step)).astype(np.uint8)
    # The photo's own border (a frame, a scanner edge) is a long thin line too: never a scratch.
    candidates[:BORDER], candidates[-BORDER:], candidates[:, :BORDER], candidates[:, -BORDER:] = 0, 0, 0, 0
    # Bridge one-pixel gaps so that a scratch broken by a bright patch stays one line.
    bridged = cv2.dilate(candidates, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bridged, connectivity=8)
    min_length = lerp(MIN_LENGTH[0], MIN_LENGTH[1], sensitivity) * min(signed.shape)
    limits = (min_length, MAX_WIDTH * scale, min_along)
    extent = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = np.zeros(count, bool)
    for label in np.nonzero(extent >= min_length)[0]:
        if label:
            keep[label] = _is_line(labels, label, stats[label], candidates, along, limits)
    return keep[labels] & (candidates > 0)


def oriented_line_response(signed: np.ndarray, length: int) -> np.ndarray:
    """The largest mean of ``signed`` along a ``length``-px segment through each pixel, over ANGLES directions.

    Along a scratch the contrast adds up while texture, which has no long straight run, averages
    away: the classical line detector of crack and scratch finding.
    """
    positive = np.clip(signed, 0, 80).astype(np.float32)
    best = np.zeros(signed.shape, np.float32)
    centre = length // 2
    for angle in np.linspace(0, np.pi, ANGLES, endpoint=False):
        kernel = np.zeros((length, length), np.float32)
        dx, dy = np.cos(angle) * centre, np.sin(angle) * centre
        cv2.line(kernel, (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy)), 1.0, 1,
                 cv2.LINE_AA)
        kernel /= kernel.sum()
        np.maximum(best, cv2.filter2D(positive, -1, kernel, borderType=cv2.BORDER_REFLECT), out=best)
    return best


def _is_line(labels, label, stat, candidates, along, limits) -> bool:
    """Long, thin and contrasted: straight length and mean width from the spread of its pixels."""
    min_length, max_width, min_along = limits
    x, y, w, h = stat[:4]
    inside = (labels[y:y + h, x:x + w] == label) & (candidates[y:y + h, x:x + w] > 0)
    points = np.column_stack(np.nonzero(inside)).astype(np.float32)
    if len(points) < 8:
        return False
    eigen, vectors = np.linalg.eigh(np.cov(points.T))
    length = 4.0 * float(np.sqrt(max(eigen[-1], 1e-6)))  # ≈ the length of a straight segment
    if length < min_length or len(points) / length > max_width:
        return False
    centre = points.mean(axis=0) + (y, x)
    if _is_print_edge(vectors[:, -1], centre, labels.shape):
        return False
    return float(np.median(along[y:y + h, x:x + w][inside])) >= min_along


def _is_print_edge(direction: np.ndarray, centre: np.ndarray, shape: tuple[int, int]) -> bool:
    """A line parallel to a side of the photo and close to it: the edge of the print on its mount."""
    row, column = centre
    if abs(direction[0]) < EDGE_ALIGNMENT:  # horizontal (direction is (row, column))
        return min(row, shape[0] - row) < EDGE_MARGIN * shape[0]
    if abs(direction[1]) < EDGE_ALIGNMENT:  # vertical
        return min(column, shape[1] - column) < EDGE_MARGIN * shape[1]
    return False


def torn_corners(grey: np.ndarray, sensitivity: float = 0.5) -> np.ndarray:
    """Flat bare-paper regions (bool) that contain a corner of the photo."""
    height, width = grey.shape
    mean = cv2.blur(grey.astype(np.float32), (7, 7))
    spread = np.sqrt(np.maximum(cv2.blur(grey.astype(np.float32) ** 2, (7, 7)) - mean**2, 0))
    flat = spread <= TORN_MAX_SPREAD * lerp(0.7, 1.3, sensitivity)
    # Only bare white paper: dark flat corners (a jacket, a shadow, a backdrop) are too common to
    # tell from the scanner lid showing through, so dark tears are left to the Scratch brush.
    extreme = mean >= PAPER_WHITE
    count, labels, stats, _ = cv2.connectedComponentsWithStats((flat & extreme).astype(np.uint8), connectivity=4)
    found = np.zeros(grey.shape, bool)
    for corner in ((0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)):
        label = labels[corner]
        if label == 0:
            continue
        area = stats[label, cv2.CC_STAT_AREA] / float(height * width)
        region = labels == label
        w, h = stats[label, cv2.CC_STAT_WIDTH], stats[label, cv2.CC_STAT_HEIGHT]
        small = w <= TORN_MAX_SIDE * width and h <= TORN_MAX_SIDE * height
        # A tear cuts across the corner (about a triangle); a backdrop or a frame fills its box.
        small = small and stats[label, cv2.CC_STAT_AREA] <= TORN_MAX_FILL * w * h
        if small and TORN_MIN_AREA <= area <= TORN_MAX_AREA and _uniform(grey, region):
            found |= _closed(region)
    return found


def _uniform(grey: np.ndarray, region: np.ndarray) -> bool:
    """Bare paper is one tone: its grey levels spread by only a few levels."""
    values = grey[region]
    return float(np.percentile(values, 95) - np.percentile(values, 5)) <= 10


def _closed(region: np.ndarray) -> np.ndarray:
    """The region with its torn edge taken in (a 7-px blur leaves the last 3 px out of "flat")."""
    return grow(region, 3)
