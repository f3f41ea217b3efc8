"""Seeded synthetic damage: scratches, cracks, dust, stains and torn corners on clean photos.

Restoration papers (e.g. "Bringing Old Photos Back to Life", Wan et al. 2020) learn and measure on
damage rendered onto clean photos because real damage has no ground truth. ``render_damage`` does
the same: every kind is drawn as an alpha map and blended onto the Image, and its Mask is exactly
the pixels the rendering changed visibly (alpha ≥ ``MASK_ALPHA`` and at least ``VISIBLE_STEP``
grey levels of change), so a scratch across a white sky that cannot be seen is not counted.

Sizes scale with ``min(H, W) / 512``. Everything takes a ``numpy.random.Generator``: the same seed
gives the same damage on any machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

KINDS = ("scratch", "crack", "dust", "stain", "torn")
MASK_ALPHA = 0.35
VISIBLE_STEP = 12.0


@dataclass
class DamagedPhoto:
    """A damaged copy of a clean Image and, per kind, the exact Mask of what was damaged."""

    image: np.ndarray
    masks: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def mask(self) -> np.ndarray:
        """Every kind together."""
        union = np.zeros(self.image.shape[:2], bool)
        for mask in self.masks.values():
            union |= mask
        return union


def render_damage(clean: np.ndarray, rng: np.random.Generator, kinds: tuple[str, ...] = KINDS) -> DamagedPhoto:
    """A copy of ``clean`` (RGB uint8) with each of ``kinds`` rendered on it, and their Masks."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown damage kind(s) {sorted(unknown)}; choose from {', '.join(KINDS)}")
    image = clean.astype(np.float32)
    masks = {}
    scale = min(clean.shape[:2]) / 512.0
    for kind in kinds:
        alpha, colour = _RENDERERS[kind](clean.shape[:2], rng, scale)
        before = image.copy()
        image = image * (1 - alpha[..., None]) + colour * alpha[..., None]
        change = np.abs(_luma(image) - _luma(before))
        masks[kind] = (alpha >= MASK_ALPHA) & (change >= VISIBLE_STEP)
    return DamagedPhoto(np.clip(np.rint(image), 0, 255).astype(np.uint8), masks)


def _luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114], np.float32)


def _tone(rng: np.random.Generator, shape: tuple[int, int], bright: bool) -> np.ndarray:
    """A near-white (bright) or near-black colour image, slightly warm like aged paper."""
    level = rng.uniform(215, 252) if bright else rng.uniform(8, 45)
    warmth = rng.uniform(0, 12)
    colour = np.array([level, level - warmth * 0.4, level - warmth], np.float32).clip(0, 255)
    return np.broadcast_to(colour, (*shape, 3))


def _scratches(shape, rng, scale):
    """1-3 long, nearly straight lines, 1-3 px wide, mostly bright (emulsion scraped off)."""
    height, width = shape
    alpha = np.zeros(shape, np.float32)
    bright = rng.random() < 0.7
    for _ in range(int(rng.integers(1, 4))):
        length = rng.uniform(0.3, 0.9) * math.hypot(height, width)
        points = _walk(rng, shape, length, step=12 * max(scale, 0.5), turn=0.03)
        thickness = max(1, int(round(rng.uniform(1, 3) * max(scale, 0.6))))
        layer = np.zeros(shape, np.float32)
        cv2.polylines(layer, [points], False, float(rng.uniform(0.65, 1.0)), thickness, cv2.LINE_AA)
        alpha = np.maximum(alpha, layer)
    return alpha, _tone(rng, shape, bright)


def _cracks(shape, rng, scale):
    """1-2 jagged, branching dark cracks (a broken emulsion), 1-2 px wide."""
    alpha = np.zeros(shape, np.float32)
    bright = rng.random() < 0.25
    for _ in range(int(rng.integers(1, 3))):
        length = rng.uniform(80, 300) * max(scale, 0.5)
        trunk = _walk(rng, shape, length, step=4 * max(scale, 0.5), turn=0.6)
        branches = [trunk]
        for _ in range(int(rng.integers(0, 3))):
            start = trunk[int(rng.integers(len(trunk)))].reshape(2)
            branches.append(_walk(rng, shape, length * rng.uniform(0.2, 0.5), 4 * max(scale, 0.5), 0.6, start))
        thickness = max(1, int(round(rng.uniform(1, 2) * max(scale, 0.6))))
        strength = float(rng.uniform(0.7, 1.0))
        cv2.polylines(alpha, branches, False, strength, thickness, cv2.LINE_AA)
    return alpha, _tone(rng, shape, bright)


def _dust(shape, rng, scale):
    """Specks: small solid ellipses (radius 0.7-3.5 px at 512 px), bright or dark, spread over the photo."""
    height, width = shape
    alpha = np.zeros(shape, np.float32)
    colour = np.zeros((*shape, 3), np.float32)
    count = int(rng.integers(15, 60) * height * width / 512.0**2) + 1
    for _ in range(count):
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        axes = tuple(max(1, int(round(rng.uniform(0.7, 3.5) * max(scale, 0.6)))) for _ in range(2))
        box = _box(centre, max(axes) + 2, shape)
        layer = np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)
        local = (centre[0] - box[0], centre[1] - box[1])
        speck = float(rng.uniform(0.75, 1.0))
        cv2.ellipse(layer, local, axes, float(rng.uniform(0, 180)), 0, 360, speck, -1, cv2.LINE_AA)
        region = (slice(box[1], box[3]), slice(box[0], box[2]))
        alpha[region] = np.maximum(alpha[region], layer)
        colour[region] = _tone(rng, (1, 1), rng.random() < 0.5)[0, 0]
    return alpha, colour


def _stains(shape, rng, scale):
    """1-3 soft blotches (water or chemical stains), radius 10-50 px at 512 px, partly transparent."""
    height, width = shape
    alpha = np.zeros(shape, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        radius = rng.uniform(10, 50) * max(scale, 0.5)
        centre = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        y, x = np.ogrid[0:height, 0:width]
        angle = np.arctan2(y - centre[1], x - centre[0])
        wobble = 1 + 0.25 * np.sin(3 * angle + rng.uniform(0, 6.3)) * np.cos(2 * angle + rng.uniform(0, 6.3))
        inside = (np.hypot(x - centre[0], y - centre[1]) < radius * wobble).astype(np.float32)
        soft = cv2.GaussianBlur(inside, (0, 0), max(1.0, radius * 0.12))
        alpha = np.maximum(alpha, soft * float(rng.uniform(0.45, 0.8)))
    brown = np.array([rng.uniform(120, 170), rng.uniform(85, 120), rng.uniform(40, 70)], np.float32)
    dark = rng.random() < 0.3
    return alpha, np.broadcast_to(brown * (0.3 if dark else 1.0), (*shape, 3))


def _torn_corner(shape, rng, scale):
    """One corner torn off: a jagged-edged triangle of bare paper (or of the dark scanner lid)."""
    height, width = shape
    across = rng.uniform(0.08, 0.22) * min(height, width)
    along = across * rng.uniform(0.7, 1.5)
    edge = np.array([[along, 0.0], [0.0, across]])
    steps = 24
    points = [edge[0] + (edge[1] - edge[0]) * t for t in np.linspace(0, 1, steps)]
    jag = rng.normal(0, across * 0.04, (steps, 2))
    jag[0] = jag[-1] = 0
    polygon = np.vstack([[[0.0, 0.0]], np.array(points) + jag])
    flip_x, flip_y = rng.random() < 0.5, rng.random() < 0.5
    if flip_x:
        polygon[:, 0] = width - 1 - polygon[:, 0]
    if flip_y:
        polygon[:, 1] = height - 1 - polygon[:, 1]
    alpha = np.zeros(shape, np.float32)
    cv2.fillPoly(alpha, [np.rint(polygon).astype(np.int32)], 1.0)
    paper = _tone(rng, shape, rng.random() < 0.75) + rng.normal(0, 2.0, (*shape, 1)).astype(np.float32)
    return alpha, paper


def _walk(rng, shape, length, step, turn, start=None) -> np.ndarray:
    """Points of a random walk of ``length`` px whose direction drifts by N(0, turn) per step."""
    height, width = shape
    point = np.array(start if start is not None else (rng.uniform(0, width), rng.uniform(0, height)), float)
    direction = rng.uniform(0, 2 * math.pi)
    points = [point.copy()]
    for _ in range(max(2, int(length / step))):
        direction += rng.normal(0, turn)
        point = point + step * np.array([math.cos(direction), math.sin(direction)])
        if not (0 <= point[0] < width and 0 <= point[1] < height):
            break  # a line that leaves the photo ends there, instead of running along the border
        points.append(point.copy())
    return np.rint(np.array(points)).astype(np.int32).reshape(-1, 1, 2)


def _box(centre, radius, shape):
    height, width = shape
    return (max(0, centre[0] - radius), max(0, centre[1] - radius),
            min(width, centre[0] + radius + 1), min(height, centre[1] + radius + 1))


_RENDERERS = {"scratch": _scratches, "crack": _cracks, "dust": _dust, "stain": _stains, "torn": _torn_corner}
