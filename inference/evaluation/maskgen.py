"""Seeded random Masks for training and for simulated damage in the compare view.

Every function takes a ``numpy.random.Generator``, so the same seed gives the same Mask on any
machine; nothing here touches global random state. Masks are bool (H, W), True = Hole.

Kinds (``generate_mask(kind, ...)``):

* ``"freeform"`` - DeepFill v2's brush strokes (official ``brush_stroke_mask``, see
  docs in ``../shared/specs/deepfill_v2.md`` §10): 1-3 strokes; each a polyline of 4-11 segments
  whose directions alternate around 2π/5 ± U(0, 2π/15); segment length
  ``clip(N(r, r//2), 0, 2r)`` with ``r = sqrt(H² + W²) / 8``; width ``int(U(12, 40))``; a disc of
  that diameter at every vertex. The widths are DeepFill's pixel values at 256², scaled by
  ``min(H, W) / 256`` for other sizes (the length already follows the diagonal).
* ``"box"`` - DeepFill v2's random box: a box of half the image size placed uniformly, each side
  then shrunk by U{0 .. size/16} (at 256²: side 96-128 px, as in the official ``random_bbox``).
* ``"thin"`` / ``"medium"`` / ``"thick"`` - LaMa's evaluation masks (``configs/data_gen/
  random_{thin,medium,thick}_{256,512}.yaml`` with ``make_random_irregular_mask`` and
  ``make_random_rectangle_mask``): ``min..max`` strokes, each 1-5 straight segments of length
  ``10 + U{0..max_len-1}`` and width ``5 + U{0..max_width-1}`` at an angle of ``0.01 + U{0..3}``
  radians (mirrored for every other stroke). medium and thick draw boxes instead of strokes with
  probability 0.3/1.3, as LaMa's mixed generator does. Like LaMa's dataset generation
  (``max_tamper_area: 0.5``), masks with more than half of the Image in the Hole are redrawn.
  Parameters come from the 256 config when ``min(H, W) < 384``, else from the 512 config, and
  lengths / widths / box sizes are scaled by ``min(H, W) / config size``.

``mixed_mask`` draws a target hole ratio uniformly in [5 %, 60 %], picks one stroke kind
(plus, with probability 0.3, a box first) and adds strokes of that kind until the target is
reached; a mask that overshoots the target by more than 5 points, or 60 %, is redrawn with a new
target. Ratios therefore spread over 5-60 % (2000 masks at 256²: 5 % in 5-10 %, then 17-22 % in
each 10-point bucket up to 60 %; see docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

KINDS = ("freeform", "box", "thin", "medium", "thick")
MIXED_MIN_RATIO = 0.05
MIXED_MAX_RATIO = 0.60
LAMA_MAX_HOLE_RATIO = 0.5
_MAX_REDRAWS = 50


@dataclass(frozen=True)
class LamaStrokes:
    """One ``irregular_kwargs`` + ``box_kwargs`` block of LaMa's data_gen configs (pixel values)."""

    min_times: int
    max_times: int
    max_width: int
    max_len: int
    box_probability: float = 0.0  # relative weight next to strokes (1.0); 0.3 in medium / thick
    box_margin: int = 0
    box_min: int = 0
    box_max: int = 0
    box_min_times: int = 1
    box_max_times: int = 0
    max_angle: int = 4


LAMA_CONFIGS: dict[str, dict[int, LamaStrokes]] = {
    "thin": {
        256: LamaStrokes(min_times=4, max_times=50, max_width=10, max_len=40),
        512: LamaStrokes(min_times=4, max_times=70, max_width=20, max_len=100),
    },
    "medium": {
        256: LamaStrokes(4, 5, 50, 100, 0.3, box_margin=0, box_min=10, box_max=50, box_max_times=5),
        512: LamaStrokes(4, 10, 100, 200, 0.3, box_margin=0, box_min=30, box_max=150, box_max_times=5),
    },
    "thick": {
        256: LamaStrokes(1, 5, 100, 200, 0.3, box_margin=10, box_min=30, box_max=150, box_max_times=3),
        512: LamaStrokes(1, 5, 250, 450, 0.3, box_margin=10, box_min=30, box_max=300, box_max_times=4),
    },
}

# DeepFill v2 inpaint.yml / inpaint_ops.py constants, in pixels at the 256² training size.
DEEPFILL_SIZE = 256
DEEPFILL_STROKES = (1, 3)
DEEPFILL_SEGMENTS = (4, 11)
DEEPFILL_WIDTH = (12.0, 40.0)
DEEPFILL_MEAN_ANGLE = 2 * math.pi / 5
DEEPFILL_ANGLE_RANGE = 2 * math.pi / 15


def _blank(height: int, width: int) -> np.ndarray:
    if height < 8 or width < 8:
        raise ValueError(f"masks need at least 8×8 pixels, got {height}×{width}")
    return np.zeros((height, width), np.uint8)


# --- DeepFill v2 -------------------------------------------------------------------------------


def _deepfill_stroke(canvas: np.ndarray, rng: np.random.Generator) -> None:
    height, width = canvas.shape
    radius = math.sqrt(height * height + width * width) / 8
    scale = min(height, width) / DEEPFILL_SIZE
    segments = int(rng.integers(DEEPFILL_SEGMENTS[0], DEEPFILL_SEGMENTS[1] + 1))
    angle_low = DEEPFILL_MEAN_ANGLE - rng.uniform(0, DEEPFILL_ANGLE_RANGE)
    angle_high = DEEPFILL_MEAN_ANGLE + rng.uniform(0, DEEPFILL_ANGLE_RANGE)
    x, y = int(rng.integers(width)), int(rng.integers(height))
    vertices = [(x, y)]
    for step in range(segments):
        angle = rng.uniform(angle_low, angle_high)
        if step % 2 == 0:  # zig-zag: every other segment turns back
            angle = 2 * math.pi - angle
        length = float(np.clip(rng.normal(radius, radius // 2), 0, 2 * radius))
        # Each vertex is truncated to whole pixels before the next step, as in the official code.
        x = int(np.clip(x + length * math.cos(angle), 0, width))
        y = int(np.clip(y + length * math.sin(angle), 0, height))
        vertices.append((x, y))
    thickness = max(1, int(int(rng.uniform(*DEEPFILL_WIDTH)) * scale))
    for start, end in zip(vertices[:-1], vertices[1:], strict=True):
        cv2.line(canvas, start, end, 1, thickness)
    for vertex in vertices:
        cv2.circle(canvas, vertex, thickness // 2, 1, -1)


def _deepfill_box(canvas: np.ndarray, rng: np.random.Generator) -> None:
    height, width = canvas.shape
    box_height, box_width = height // 2, width // 2
    top = int(rng.integers(height - box_height))
    left = int(rng.integers(width - box_width))
    shrink_y = int(rng.integers(height // 16 + 1))
    shrink_x = int(rng.integers(width // 16 + 1))
    canvas[top + shrink_y: top + box_height - shrink_y, left + shrink_x: left + box_width - shrink_x] = 1


def _freeform(canvas: np.ndarray, rng: np.random.Generator) -> None:
    for _ in range(int(rng.integers(DEEPFILL_STROKES[0], DEEPFILL_STROKES[1] + 1))):
        _deepfill_stroke(canvas, rng)


# --- LaMa --------------------------------------------------------------------------------------


def lama_config(kind: str, height: int, width: int) -> tuple[LamaStrokes, float]:
    """The LaMa config used at this size and the factor its pixel values are scaled by."""
    side = min(height, width)
    reference = 256 if side < 384 else 512
    return LAMA_CONFIGS[kind][reference], side / reference


def _lama_stroke(canvas: np.ndarray, config: LamaStrokes, scale: float, index: int,
                 rng: np.random.Generator) -> None:
    height, width = canvas.shape
    x, y = int(rng.integers(width)), int(rng.integers(height))
    for _ in range(1 + int(rng.integers(5))):
        angle = 0.01 + int(rng.integers(config.max_angle))
        if index % 2 == 0:  # LaMa mirrors the angle of every other stroke, not segment
            angle = 2 * math.pi - angle
        length = (10 + int(rng.integers(config.max_len))) * scale
        thickness = max(1, round((5 + int(rng.integers(config.max_width))) * scale))
        end_x = int(np.clip(x + length * math.sin(angle), 0, width))
        end_y = int(np.clip(y + length * math.cos(angle), 0, height))
        cv2.line(canvas, (x, y), (end_x, end_y), 1, thickness)
        x, y = end_x, end_y


def _lama_boxes(canvas: np.ndarray, config: LamaStrokes, scale: float, rng: np.random.Generator) -> None:
    height, width = canvas.shape
    margin = round(config.box_margin * scale)
    largest = min(round(config.box_max * scale), height - 2 * margin, width - 2 * margin)
    smallest = min(max(1, round(config.box_min * scale)), largest - 1)
    for _ in range(int(rng.integers(config.box_min_times, config.box_max_times + 1))):
        box_width = int(rng.integers(smallest, largest))
        box_height = int(rng.integers(smallest, largest))
        left = int(rng.integers(margin, width - margin - box_width + 1))
        top = int(rng.integers(margin, height - margin - box_height + 1))
        canvas[top: top + box_height, left: left + box_width] = 1


def _lama_once(canvas: np.ndarray, kind: str, rng: np.random.Generator) -> None:
    config, scale = lama_config(kind, *canvas.shape)
    box_chance = config.box_probability / (1.0 + config.box_probability)
    if config.box_probability > 0 and rng.random() < box_chance:
        _lama_boxes(canvas, config, scale, rng)
        return
    for index in range(int(rng.integers(config.min_times, config.max_times + 1))):
        _lama_stroke(canvas, config, scale, index, rng)


def _lama(kind: str) -> Callable[[np.ndarray, np.random.Generator], None]:
    def draw(canvas: np.ndarray, rng: np.random.Generator) -> None:
        for _ in range(_MAX_REDRAWS):
            canvas[:] = 0
            _lama_once(canvas, kind, rng)
            if 0 < cv2.countNonZero(canvas) <= LAMA_MAX_HOLE_RATIO * canvas.size:
                return
        # Unreachable in practice: at most a third of the draws (thick) exceed half the Image.

    return draw


_DRAWERS: dict[str, Callable[[np.ndarray, np.random.Generator], None]] = {
    "freeform": _freeform,
    "box": _deepfill_box,
    "thin": _lama("thin"),
    "medium": _lama("medium"),
    "thick": _lama("thick"),
}


def generate_mask(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One random Mask of ``kind`` (see :data:`KINDS`) as bool (height, width), True = Hole."""
    if kind not in _DRAWERS:
        raise ValueError(f"unknown mask kind {kind!r}; kinds: {', '.join(KINDS)}")
    canvas = _blank(height, width)
    _DRAWERS[kind](canvas, rng)
    return canvas.astype(bool)


def deepfill_training_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """DeepFill v2's training Mask: its random box OR its free-form strokes."""
    canvas = _blank(height, width)
    _deepfill_box(canvas, rng)
    _freeform(canvas, rng)
    return canvas.astype(bool)


# --- mixed ---------------------------------------------------------------------------------------

MIXED_STROKE_KINDS = ("freeform", "thin", "medium", "thick")
MIXED_BOX_PROBABILITY = 0.3
MIXED_OVERSHOOT = 0.05
_MAX_STROKES = 1000


def _one_stroke_of(kind: str, height: int, width: int) -> Callable[[np.ndarray, np.random.Generator], None]:
    if kind == "freeform":
        return _deepfill_stroke
    config, scale = lama_config(kind, height, width)
    return lambda canvas, rng: _lama_stroke(canvas, config, scale, int(rng.integers(2)), rng)


def _grow_to(canvas: np.ndarray, target: float, rng: np.random.Generator) -> None:
    kind = MIXED_STROKE_KINDS[int(rng.integers(len(MIXED_STROKE_KINDS)))]
    stroke = _one_stroke_of(kind, *canvas.shape)
    if rng.random() < MIXED_BOX_PROBABILITY:
        _lama_boxes(canvas, *lama_config("medium", *canvas.shape), rng)
    wanted = target * canvas.size
    for _ in range(_MAX_STROKES):
        if cv2.countNonZero(canvas) >= wanted:
            return
        stroke(canvas, rng)


def mixed_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A Mask whose hole ratio is spread evenly over 5-60 %, mixing the stroke kinds (and boxes)."""
    canvas = _blank(height, width)
    for _ in range(_MAX_REDRAWS):
        canvas[:] = 0
        target = rng.uniform(MIXED_MIN_RATIO, MIXED_MAX_RATIO)
        _grow_to(canvas, target, rng)
        # A big last stroke can overshoot the target; redrawing those keeps small ratios common.
        if cv2.countNonZero(canvas) <= min(MIXED_MAX_RATIO, target + MIXED_OVERSHOOT) * canvas.size:
            break
    return canvas.astype(bool)
