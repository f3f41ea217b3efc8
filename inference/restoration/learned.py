"""The three detectors on top of the trained network (:mod:`inference.restoration.detector`).

* inside a Stroke: the network is told where the Stroke is and looks at it with a margin of
  context; any kind of damage counts;
* dust: the "dust" output over the whole photo, on a copy whose shorter side is at most
  ``WORK_SIDE`` px (a 12-megapixel scan costs about what a 0.8-megapixel photo does); only compact
  specks, not blotches, that stand out of the texture around them by the card's ``speck_contrast``;
* damage: the line and tear outputs in the model card's channels (each channel its own threshold and
  seed; calibration may leave cracks out), keeping only parts long enough to be a line or large
  enough to be a tear (short fragments are where its false marks sit).

Both proposals use hysteresis: a part is traced above the card's threshold and kept only where it
reaches the card's seed threshold somewhere. Each function returns the raw marks; the public
functions grow them with :func:`grown`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

from inference.engines.regions import Box
from inference.restoration.detector import LINE_KINDS, Detector
from inference.restoration.filters import (
    grow,
    local_texture,
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
SPECK_CONTEXT = 31  # px of the working copy: the median a speck is measured against, and the texture around it
# The network was not scored on the pixel around each defect (its soft rim), and it marks that rim
# itself: its marks need one pixel less growth than the rules' to cover the same halo.
HALO = 1


def grown(marks: np.ndarray, grow_px: int, within: Box | None = None) -> np.ndarray:
    """The network's marks grown so that, with the rim it already marks, they reach ``grow_px`` past a defect.

    ``within``: the box all marks lie in, when known; only it (and the growth around it) is dilated,
    so a Stroke costs the same on a 12-megapixel scan as on a small photo.
    """
    radius = max(0, grow_px - HALO)
    if within is None:
        return grow(marks, radius)
    window = within.expanded(radius, radius, marks.shape).slices
    out = np.zeros(marks.shape, bool)
    out[window] = grow(marks[window], radius)
    return out


def stroke_marks(detector: Detector, image: np.ndarray, stroke: np.ndarray, sensitivity: float,
                 kind: str, grow_px: int) -> np.ndarray:
    """The marks inside ``stroke``, grown by ``grow_px``."""
    probability, box = stroke_probability(detector, image, stroke)
    marks = stroke_marks_from(probability, box, image, stroke, detector.kind_thresholds("refine_stroke", sensitivity),
                              kind, detector.speck_contrast(sensitivity, "refine_speck_contrast"))
    return grown(marks, grow_px, box)


def stroke_probability(detector: Detector, image: np.ndarray, stroke: np.ndarray):
    """(per-kind probabilities (kinds, h, w) over the Stroke's box plus context, that :class:`Box`), or (None, None)."""
    rows, columns = np.flatnonzero(stroke.any(axis=1)), np.flatnonzero(stroke.any(axis=0))
    if not len(rows):
        return None, None
    box = Box(rows[0], columns[0], rows[-1] + 1, columns[-1] + 1).expanded(CONTEXT, CONTEXT, stroke.shape)
    crop, part = image[box.slices], stroke[box.slices]
    factor = max(1.0, float(np.sqrt(crop.shape[0] * crop.shape[1] / LARGEST_STROKE_CROP)))
    small_crop = resized(crop, factor)
    small_part = mask_to_size(part, small_crop.shape[:2]) if factor > 1 else part
    probability = detector.probabilities(small_crop, small_part,
                                         (box.top == 0, box.bottom == stroke.shape[0], box.left == 0,
                                          box.right == stroke.shape[1]))
    return probability, box


def stroke_marks_from(probability, box: Box | None, image, stroke, thresholds, kind: str, speck_contrast: float = 0.0,
                      difference: np.ndarray | None = None, photo_side: int | None = None) -> np.ndarray:
    """Pixels of the Stroke where any kind's probability passes its threshold (one for all, or one
    per kind); marks no larger than a speck must also stand out of the texture around them by
    ``speck_contrast``. ``difference`` (:func:`speck_difference` of the box) and ``photo_side``
    (the photo's shorter side, else the Stroke's) are for callers that hold only the box."""
    found = np.zeros(stroke.shape, bool)
    if probability is None:
        return found
    window = box.slices
    part = stroke[window]
    limits = np.broadcast_to(np.asarray(thresholds, np.float32), (len(probability),))[:, None, None]
    marks = mask_to_size((probability > limits).any(axis=0), part.shape) & part
    if kind != "auto":
        marks = _of_polarity(marks, luminance(image[window]), kind)
    if speck_contrast > 0 and marks.any():
        largest = max(3, int(round(LARGEST_SPECK * (photo_side or min(stroke.shape)))))
        marks = _specks_standing_out(marks, speck_difference(image[window]) if difference is None else difference,
                                     speck_contrast, largest)
    found[window] = marks
    return found


def _specks_standing_out(marks: np.ndarray, difference: np.ndarray, contrast: float, largest: int) -> np.ndarray:
    """``marks`` without the speck-sized parts that do not stand out by ``contrast`` (grain in
    foliage or fabric that a Stroke over a real speck took in); lines and blotches stay."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    small = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) <= largest
    keep = ~small | (_standout(labels, count, difference) >= contrast)
    keep[0] = False
    return keep[labels]


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
    threshold, seed = detector.thresholds("propose_dust", sensitivity)
    parts = speck_parts(whole_photo(detector, image)[detector.kinds.index("dust")], threshold,
                        speck_difference(working_copy(image)))
    return mask_to_size(parts.marks(seed, detector.speck_contrast(sensitivity)), image.shape[:2])


def dust_marks_from(probability: np.ndarray, shape, detector: Detector, threshold: float,
                    seed: float | None = None) -> np.ndarray:
    """Specks, at ``shape``, with no contrast test: :class:`SpeckParts` of the dust output."""
    parts = speck_parts(probability[detector.kinds.index("dust")], threshold)
    return mask_to_size(parts.marks(seed), shape)


@dataclass
class SpeckParts:
    """The parts of the dust output above a threshold, with what decides which are specks: the
    highest probability in each (a part is kept when it reaches the seed: hysteresis), whether it is
    no larger than ``LARGEST_SPECK``, and how far it stands out of the texture around it."""

    labels: np.ndarray
    peak: np.ndarray
    small: np.ndarray
    standout: np.ndarray

    def marks(self, seed: float | None = None, contrast: float = 0.0) -> np.ndarray:
        """The specks (working copy) that reach ``seed`` and stand out by at least ``contrast``."""
        keep = self.small & (self.standout >= contrast)
        if seed is not None:
            keep &= self.peak > seed
        keep[0] = False
        return keep[self.labels]


def speck_parts(dust: np.ndarray, threshold: float, difference: np.ndarray | None = None) -> SpeckParts:
    """:class:`SpeckParts` of the dust output ``dust`` (working copy) above ``threshold``;
    ``difference``: :func:`speck_difference` of the working copy (without it nothing is measured
    and every part stands out)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((dust > threshold).astype(np.uint8), connectivity=8)
    peak = np.zeros(count, np.float32)
    inside = labels > 0  # a few per cent of the photo: np.maximum.at is slow on all of it
    np.maximum.at(peak, labels[inside], dust[inside])
    largest = max(3, int(round(LARGEST_SPECK * min(labels.shape))))
    small = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) <= largest
    return SpeckParts(labels, peak, small, _standout(labels, count, difference))


def speck_difference(work: np.ndarray) -> np.ndarray:
    """Grey levels of the working copy minus their local median: a speck's contrast, and grain or
    texture where there is none."""
    grey = luminance(work)
    return grey.astype(np.float32) - median_background(grey, SPECK_CONTEXT).astype(np.float32)


def _standout(labels: np.ndarray, count: int, difference: np.ndarray | None) -> np.ndarray:
    """Per part, its mean contrast over the mean texture around it (the parts left out of it).

    The issue's flatness limit, measured: a speck on a clear sky stands out many times over, a
    'speck' in foliage, hair or fabric barely, and that is where the network's false dust sits.
    """
    if difference is None:
        return np.full(count, np.inf, np.float32)
    texture = local_texture(difference, labels > 0, SPECK_CONTEXT)
    flat = labels.ravel()
    area = np.maximum(np.bincount(flat, minlength=count), 1)
    contrast = np.abs(np.bincount(flat, difference.ravel(), count)) / area
    around = np.bincount(flat, texture.ravel(), count) / area
    return (contrast / np.maximum(around, 0.5)).astype(np.float32)


def damage_marks(detector: Detector, image: np.ndarray, sensitivity: float) -> np.ndarray:
    """The marks of every one of the card's damage channels, joined."""
    probability = whole_photo(detector, image)
    marks = np.zeros(probability.shape[1:], bool)
    for kinds, threshold, seed in detector.damage_channels(sensitivity):
        marks |= long_parts(outputs_of(probability, detector, kinds), threshold, seed)
    return mask_to_size(marks, image.shape[:2])


def damage_marks_from(probability: np.ndarray, shape, detector: Detector, threshold: float,
                      seed: float | None = None, kinds: tuple[str, ...] = LINE_KINDS) -> np.ndarray:
    """One channel of damage, at ``shape``: :func:`long_parts` of the ``kinds`` outputs."""
    return mask_to_size(long_parts(outputs_of(probability, detector, kinds), threshold, seed), shape)


def outputs_of(probability: np.ndarray, detector: Detector, kinds: tuple[str, ...]) -> np.ndarray:
    """The highest probability of the ``kinds`` outputs at each pixel."""
    return probability[[detector.kinds.index(kind) for kind in kinds]].max(axis=0)


def long_parts(probability: np.ndarray, threshold: float, seed: float | None = None) -> np.ndarray:
    """Lines and tears (on the working copy): parts above ``threshold`` that reach ``seed`` and are at
    least ``SHORTEST_DAMAGE`` long."""
    labels, stats, seeded = _seeded_parts(probability, threshold, seed)
    shortest = SHORTEST_DAMAGE * min(labels.shape)
    keep = seeded & (np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= shortest)
    return keep[labels]


def _seeded_parts(probability: np.ndarray, threshold: float, seed: float | None):
    """(labels, stats, seeded) of the parts above ``threshold``; ``seeded[label]`` is True for the
    parts that somewhere reach ``seed`` (never for the background, label 0).

    Hysteresis: a defect is traced out to its faint ends, while a faint haze over texture with no
    confident pixel in it is left alone. Without a ``seed`` above ``threshold`` every part counts.
    """
    _count, labels, stats, _ = cv2.connectedComponentsWithStats((probability > threshold).astype(np.uint8),
                                                                connectivity=8)
    if seed is None or seed <= threshold:
        seeded = np.ones(len(stats), bool)
    else:
        seeded = np.zeros(len(stats), bool)
        seeded[np.unique(labels[probability > seed])] = True
    seeded[0] = False
    return labels, stats, seeded


def working_copy(image: np.ndarray) -> np.ndarray:
    """The copy whole-photo searches look at: shorter side at most ``WORK_SIDE``."""
    return np.ascontiguousarray(resized(image, shrink_factor(image.shape[:2], WORK_SIDE)))


def whole_photo(detector: Detector, image: np.ndarray) -> np.ndarray:
    """Per-kind probabilities (read-only) on the working copy (shorter side ≤ ``WORK_SIDE``), averaged
    with those of its mirror image: a whole-photo search has no Stroke to lean on, and a mark both
    views agree on is less often grain (twice the time, still well under a second for a 12 MP scan).

    The last result is kept: dust and damage proposals of the same photo (``restore`` asks for both,
    the editor's Detect dust then Detect damage) share one pass of the network.
    """
    global _last_whole_photo
    work = working_copy(image)
    key = (work.shape, hashlib.blake2b(work.data, digest_size=16).digest())
    last = _last_whole_photo
    if last is not None and last[0] is detector and last[1] == key:
        return last[2]
    mirrored = detector.probabilities(np.ascontiguousarray(work[:, ::-1]))[:, :, ::-1]
    probability = (detector.probabilities(work) + mirrored) / 2
    probability.setflags(write=False)
    _last_whole_photo = (detector, key, probability)
    return probability


_last_whole_photo: tuple | None = None  # (detector, fingerprint of the working copy, probabilities)


def forget_whole_photo() -> None:
    """Drop the kept result, so that the next whole-photo search runs the network (benchmarks time that)."""
    global _last_whole_photo
    _last_whole_photo = None
