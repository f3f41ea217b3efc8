"""HED's soft edge map as the one-pixel lines a person would sketch.

HED answers with ridges several pixels wide (blurred further when a large photo's map is scaled
back up), so a plain threshold gives thick halos and blocky fragments. :func:`thin_edges` keeps
the crest of each ridge (non-maximum suppression across the ridge), keeps faint crest pixels only
where they continue a strong one (hysteresis, as in Canny's detector), and drops fragments shorter
than a few pixels, which are texture rather than outlines.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.edges.layout import EDGE_THRESHOLD

LOW_THRESHOLD = 0.3  # crest pixels this strong are kept where they touch a strong (> EDGE_THRESHOLD) one
MIN_FRAGMENT_SHARE = 0.01  # fragments shorter than this share of the long side are dropped …
MIN_FRAGMENT_PX = 12  # … and never fewer pixels than this


def min_fragment_length(shape: tuple[int, int]) -> int:
    return max(MIN_FRAGMENT_PX, round(MIN_FRAGMENT_SHARE * max(shape)))


def ridge_normals(edge_map: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (x, y) across each ridge of ``edge_map``: the Hessian's strongest-curving direction."""
    smooth = cv2.GaussianBlur(edge_map, (0, 0), 1.0)
    dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3)
    # Eigenvector angle of [[dxx, dxy], [dxy, dyy]] for the most negative curvature (a crest).
    angle = 0.5 * np.arctan2(2.0 * dxy, dxx - dyy)
    curvature_along = dxx * np.cos(angle) ** 2 + 2 * dxy * np.sin(angle) * np.cos(angle) + dyy * np.sin(angle) ** 2
    curvature_across = dxx + dyy - curvature_along
    # ``angle`` points along the larger eigenvalue; the crest's normal is along the smaller one.
    turn = curvature_across < curvature_along
    angle = np.where(turn, angle + np.pi / 2, angle)
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)


def crest(edge_map: np.ndarray) -> np.ndarray:
    """bool: pixels at least as strong as both neighbours one pixel across their ridge."""
    height, width = edge_map.shape
    normal_x, normal_y = ridge_normals(edge_map)
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    keep = np.ones(edge_map.shape, bool)
    for sign in (1.0, -1.0):
        neighbour = cv2.remap(edge_map, columns + sign * normal_x, rows + sign * normal_y,
                              cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        keep &= edge_map >= neighbour
    return keep


def _components(pixels: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(pixels.view(np.uint8), connectivity=8)
    return count, labels, stats[:, cv2.CC_STAT_AREA]


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """The 8-connected parts of ``weak`` that hold at least one ``strong`` pixel."""
    count, labels, _ = _components(weak)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[strong & weak])] = True
    keep[0] = False
    return keep[labels]


def drop_short(lines: np.ndarray, min_length: int) -> np.ndarray:
    """``lines`` without the 8-connected fragments of fewer than ``min_length`` pixels."""
    count, labels, areas = _components(lines)
    keep = areas >= min_length
    keep[0] = False
    return keep[labels]


def thin_edges(edge_map: np.ndarray, high: float = EDGE_THRESHOLD, low: float = LOW_THRESHOLD,
               min_length: int | None = None) -> np.ndarray:
    """bool (H, W): HED's edge probabilities as 1-px lines (crest, hysteresis ``low``/``high``, no short bits)."""
    edge_map = np.asarray(edge_map)
    if edge_map.ndim != 2 or not np.issubdtype(edge_map.dtype, np.floating):
        raise ValueError(f"thin_edges needs a 2-D float edge map, got {edge_map.dtype} {edge_map.shape}")
    probabilities = edge_map.astype(np.float32, copy=False)
    ridge = crest(probabilities) & (probabilities > low)
    lines = hysteresis(ridge, probabilities > high)
    length = min_fragment_length(edge_map.shape) if min_length is None else min_length
    return drop_short(lines, length)
