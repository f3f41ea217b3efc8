"""Training Guides for guided DeepFill v2 that look like people's sketches.

Start from the ground truth's HED edges binarised with the spec's rule (p > 0.6, deepfill_v2.md §7)
inside the Hole only, then imitate a sparse hand-drawn sketch: sometimes thin the lines to a
one-pixel skeleton and redraw them 1-3 px wide, drop whole segments at random, and for about a
third of the samples give no Guide at all, so that one model also serves as plain DeepFill.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.edges.detect import edges_for_guide

_THINNING_PASSES = 32  # HED lines at 256 px are a few pixels wide; each pass peels one layer per side
_DROP_RADIUS = 4  # wide lines lose the pixels this close to a dropped skeleton segment


@dataclass(frozen=True)
class GuideStyle:
    none_probability: float = 1 / 3  # samples trained without any Guide
    drop_range: tuple[float, float] = (0.0, 0.6)  # per sample, each segment is dropped with U(range)
    thin_probability: float = 0.5  # samples whose lines become a skeleton redrawn at a random width
    thin_widths: tuple[int, ...] = (1, 2, 3)


def synthesize_guide(
    edges: np.ndarray, hole: np.ndarray, rng: np.random.Generator, style: GuideStyle = GuideStyle()
) -> np.ndarray:
    """A sketch-like Guide (uint8 (H, W), 255 = line, 0 elsewhere, zero outside the Hole).

    ``edges`` is the crop's soft edge map (uint8 = 255 p), ``hole`` the bool Mask (True = Hole).
    """
    # Draw every random number first, in a fixed order, so the stream does not depend on the image.
    no_guide = rng.random() < style.none_probability
    thin = rng.random() < style.thin_probability
    width = int(style.thin_widths[int(rng.integers(len(style.thin_widths)))])
    drop_probability = float(rng.uniform(*style.drop_range))
    segment_seed = int(rng.integers(2**31))
    if no_guide:
        return np.zeros(hole.shape, np.uint8)
    lines = edges_for_guide(edges, hole) > 0
    if not lines.any():
        return np.zeros(hole.shape, np.uint8)
    segments = split_at_junctions(thin_lines(lines))
    kept = drop_segments(segments, np.random.default_rng(segment_seed), drop_probability)
    if thin:
        lines = widen(kept, width) & hole
    else:
        # Remove the original (wide) pixels around the dropped parts of the skeleton.
        lines &= ~widen(segments & ~kept, _DROP_RADIUS * 2 + 1)
    return np.where(lines, 255, 0).astype(np.uint8)


def _neighbours(image: np.ndarray) -> list[np.ndarray]:
    """The 8 neighbours P2..P9 of every pixel (N, NE, E, SE, S, SW, W, NW), zero beyond the border."""
    padded = np.pad(image, 1)
    height, width = image.shape
    offsets = ((0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0))
    return [padded[dy:dy + height, dx:dx + width] for dy, dx in offsets]


def _transitions(p: list[np.ndarray]) -> np.ndarray:
    """Number of 0 -> 1 changes walking once around P2..P9: 1 at a line end, 2 on a line, >= 3 at a branch."""
    ring = (*p, p[0])
    return sum(((a == 0) & (b == 1)).astype(np.uint8) for a, b in zip(ring[:-1], ring[1:], strict=True))


def thin_lines(lines: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a one-pixel-wide, still connected skeleton of a bool line image."""
    image = lines.astype(np.uint8)
    for _ in range(_THINNING_PASSES):
        changed = False
        for first_pass in (True, False):
            neighbours = _neighbours(image)
            p2, _, p4, _, p6, _, p8, _ = neighbours
            count = sum(neighbours)
            if first_pass:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (image == 1) & (count >= 2) & (count <= 6) & (_transitions(neighbours) == 1) & side
            if remove.any():
                image[remove] = 0
                changed = True
        if not changed:
            break
    return image.astype(bool)


def split_at_junctions(skeleton: np.ndarray) -> np.ndarray:
    """The skeleton without its branch points, so each remaining piece is one stroke-like segment."""
    return skeleton & (_transitions(_neighbours(skeleton.astype(np.uint8))) < 3)


def drop_segments(lines: np.ndarray, rng: np.random.Generator, probability: float) -> np.ndarray:
    """``lines`` without the 8-connected segments that lose a coin flip of ``probability`` each."""
    count, labels = cv2.connectedComponents(lines.astype(np.uint8), connectivity=8)
    if count <= 1 or probability <= 0:
        return lines.copy()
    keep = rng.random(count) >= probability
    keep[0] = False  # label 0 is the background
    return keep[labels]


def widen(lines: np.ndarray, width: int) -> np.ndarray:
    """Redraw one-pixel lines ``width`` pixels wide."""
    if width <= 1:
        return lines.copy()
    kernel = np.ones((width, width), np.uint8)
    return cv2.dilate(lines.astype(np.uint8), kernel).astype(bool)
