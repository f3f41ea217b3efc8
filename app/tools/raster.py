"""Drawing into a layer in image coordinates: round brush segments, rectangles, lassos.

Each function paints in place and returns the :class:`Box` it may have changed (None when the
shape lies outside the layer), so callers back up and repaint exactly that region. Bool layers
(the Mask) are painted through a uint8 view: OpenCV writes 0/1, which are valid bools.
No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from app.patches import clamp_box
from inference.engines.regions import Box

_SHIFT = 4  # OpenCV fixed-point bits: strokes follow the pointer to 1/16 px
_ONE = 1 << _SHIFT

Point = tuple[float, float]  # (x, y) in image pixels


def _drawable(layer: np.ndarray) -> np.ndarray:
    return layer.view(np.uint8) if layer.dtype == np.bool_ else layer


def _fixed(point: Point) -> tuple[int, int]:
    return round(point[0] * _ONE), round(point[1] * _ONE)


def segment_box(start: Point, end: Point, diameter: float) -> Box:
    """Pixels a round brush of ``diameter`` can touch going from ``start`` to ``end`` (unclamped)."""
    reach = diameter / 2.0 + 2.0
    return Box(
        math.floor(min(start[1], end[1]) - reach),
        math.floor(min(start[0], end[0]) - reach),
        math.ceil(max(start[1], end[1]) + reach) + 1,
        math.ceil(max(start[0], end[0]) + reach) + 1,
    )


def draw_segment(layer: np.ndarray, start: Point, end: Point, diameter: float, value: int) -> Box | None:
    """A round brush of ``diameter`` px dragged from ``start`` to ``end`` (a dot when they coincide).

    Pixel centres sit at integer coordinates + 0.5 in the canvas, so points are shifted by half a
    pixel to land on OpenCV's pixel-centre grid.
    """
    box = clamp_box(segment_box(start, end, diameter), layer.shape)
    if box is None:
        return None
    thickness = max(1, round(diameter))
    target = _drawable(layer)
    a = _fixed((start[0] - 0.5, start[1] - 0.5))
    b = _fixed((end[0] - 0.5, end[1] - 0.5))
    if thickness == 1:
        cv2.line(target, a, b, int(value), 1, cv2.LINE_8, _SHIFT)
    else:
        # cv2.line's thick caps are coarse polygons; explicit discs plus a polygon body stay round.
        radius = round(diameter / 2.0 * _ONE)
        cv2.circle(target, a, radius, int(value), -1, cv2.LINE_8, _SHIFT)
        cv2.circle(target, b, radius, int(value), -1, cv2.LINE_8, _SHIFT)
        body = _segment_body(a, b, diameter / 2.0 * _ONE)
        if body is not None:
            cv2.fillConvexPoly(target, body, int(value), cv2.LINE_8, _SHIFT)
    return box


def _segment_body(a: tuple[int, int], b: tuple[int, int], radius: float) -> np.ndarray | None:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length < 1e-6:
        return None
    nx, ny = -dy / length * radius, dx / length * radius
    corners = [(a[0] + nx, a[1] + ny), (b[0] + nx, b[1] + ny), (b[0] - nx, b[1] - ny), (a[0] - nx, a[1] - ny)]
    return np.array([[round(x), round(y)] for x, y in corners], dtype=np.int32)


def rectangle_box(corner_a: Point, corner_b: Point) -> Box:
    """The pixels whose centres lie inside the rectangle spanned by two points."""
    left, right = sorted((corner_a[0], corner_b[0]))
    top, bottom = sorted((corner_a[1], corner_b[1]))
    return Box(round(top), round(left), round(bottom), round(right))


def fill_rectangle(layer: np.ndarray, corner_a: Point, corner_b: Point, value: int) -> Box | None:
    box = clamp_box(rectangle_box(corner_a, corner_b), layer.shape)
    if box is None:
        return None
    layer[box.slices] = value
    return box


def polygon_box(points: Sequence[Point]) -> Box:
    xs = [point[0] for point in points]
    ys = [point[1] for point in points]
    return Box(math.floor(min(ys)) - 1, math.floor(min(xs)) - 1, math.ceil(max(ys)) + 2, math.ceil(max(xs)) + 2)


def fill_polygon(layer: np.ndarray, points: Sequence[Point], value: int) -> Box | None:
    """Fill the closed lasso through ``points`` (at least three)."""
    if len(points) < 3:
        return None
    box = clamp_box(polygon_box(points), layer.shape)
    if box is None:
        return None
    fixed = np.array([_fixed((x - 0.5, y - 0.5)) for x, y in points], dtype=np.int32)
    cv2.fillPoly(_drawable(layer), [fixed], int(value), cv2.LINE_8, _SHIFT)
    return box


def thin_lines(lines: np.ndarray, max_rounds: int = 64) -> np.ndarray:
    """One-pixel-wide centre lines of a bool image (Zhang–Suen thinning), e.g. thick HED edges."""
    image = np.pad(lines.astype(np.uint8), 1)
    for _ in range(max_rounds):
        removed_any = False
        for second_pass in (False, True):
            removed = _thinning_pass(image, second_pass)
            if removed.any():
                image[1:-1, 1:-1][removed] = 0
                removed_any = True
        if not removed_any:
            break
    return image[1:-1, 1:-1].astype(bool)


def _thinning_pass(image: np.ndarray, second_pass: bool) -> np.ndarray:
    # Neighbours clockwise from north: P2 P3 P4 P5 P6 P7 P8 P9.
    p2, p3, p4 = image[:-2, 1:-1], image[:-2, 2:], image[1:-1, 2:]
    p5, p6, p7 = image[2:, 2:], image[2:, 1:-1], image[2:, :-2]
    p8, p9 = image[1:-1, :-2], image[:-2, :-2]
    ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
    count = sum(ring[:8])
    transitions = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.uint8) for i in range(8))
    if second_pass:
        keep_a, keep_b = p2 * p4 * p8, p2 * p6 * p8
    else:
        keep_a, keep_b = p2 * p4 * p6, p4 * p6 * p8
    return ((image[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (transitions == 1)
            & (keep_a == 0) & (keep_b == 0))
