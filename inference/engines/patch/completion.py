"""Multi-scale PatchMatch completion of one crop (Wexler, Shechtman & Irani 2007; Barnes et al. 2009).

The crop is halved until the Hole is a few patches wide. At the coarsest level the Hole starts
from a smooth fill; at every level a few EM iterations alternate a PatchMatch search (each patch
touching the Hole finds its most similar fully-known patch inside the sampling area) with voting
(each Hole pixel becomes the weighted mean of what the overlapping patches copy there). The
nearest-neighbour field is then carried up one level, so the finest level starts from real texture
instead of a blur and needs only a pass or two.

With a Guide, one extra channel joins the patch distance: the sketched lines merged with the edge
strength of the known photo. A Hole patch crossed by a sketched line then matches a known patch
with an edge in the same place, which continues the line through the Hole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numba
import numpy as np

from inference.engines.contract import CancelCheck, Cancelled, hole_bounds
from inference.engines.patch import kernels


@dataclass(frozen=True)
class Schedule:
    """How much work each level gets; see :data:`QUALITIES`."""

    patch_radius: int  # patches are (2r+1)² pixels
    coarse_iterations: int  # EM iterations on every level but the finest
    coarse_passes: int  # PatchMatch passes per EM iteration there
    fine_iterations: int  # the same on the finest level
    fine_passes: int
    coarsest_hole: int  # halve until the Hole's longer side is at most this many pixels
    fine_search: int  # random-search window (px) on levels above the coarsest
    big_level: int  # levels with more target pixels than this get at most 2 iterations of 1 pass


QUALITIES = {
    "fast": Schedule(2, 4, 2, 1, 1, 24, 48, 100_000),
    "high": Schedule(2, 8, 3, 2, 2, 16, 1 << 20, 400_000),
}

# Guide/edge channel scale against 0..255 colour. Along a sketched line a missed line must cost more
# than the colour of the line itself (the first estimate there is a smooth blur, not yet the line).
GUIDE_WEIGHT = 1000.0
KNOWN_GUIDE_WEIGHT = 0.01  # outside the Hole colour decides; edges only break ties
EDGE_STEP = 30.0  # grey-level change per pixel that counts as a full edge
SPREAD = 1.0  # voting weights fall by e per this multiple of the median patch cost
PARALLEL_MIN_PIXELS = 1_000_000
_MIN_SOURCES = 16  # a level needs at least this many source patches to be searched
LevelDone = Callable[[int, int], None]


@dataclass
class Level:
    colour: np.ndarray  # float32 (H, W, 3); Hole pixels hold the current estimate
    hole: np.ndarray  # bool (H, W)
    allowed: np.ndarray  # bool (H, W): may be copied from (sampling area, not Hole)
    lines: np.ndarray | None  # bool (H, W): sketched Guide lines, None without a Guide


def complete(
    image: np.ndarray,
    hole: np.ndarray,
    allowed: np.ndarray,
    guide: np.ndarray | None,
    schedule: Schedule,
    seed: int,
    should_cancel: CancelCheck,
    level_done: LevelDone,
) -> np.ndarray:
    """Fill ``hole`` of the RGB uint8 crop ``image`` copying only from ``allowed`` pixels; returns uint8.

    With Guide lines in the Hole the lines are synthesised first: a guided completion fills a band
    along them, then the rest of the Hole is completed from colour alone around that band. (One
    guided pass over the whole Hole lets the line term outweigh colour everywhere: the sea beside
    a sketched shoreline would be copied from the horizon.)
    """
    allowed = allowed & ~hole
    radius = _usable_radius(allowed, schedule.patch_radius)
    lines = None if guide is None or not (guide[hole] > 0).any() else guide > 0
    if lines is None:
        return _complete_once(image, hole, allowed, None, radius, schedule, seed, should_cancel, level_done)
    width = 2 * (4 * radius + 2) + 1
    band = hole & cv2.dilate(lines.astype(np.uint8), np.ones((width, width), np.uint8)).astype(bool)
    guided = _complete_once(image, hole, allowed, lines, radius, schedule, seed, should_cancel,
                            lambda done, total: level_done(done, 2 * total))
    staged = image.copy()
    staged[band] = guided[band]
    rest = hole & ~band
    if not rest.any():
        level_done(1, 1)
        return staged
    return _complete_once(staged, rest, allowed, None, radius, schedule, seed + 1, should_cancel,
                          lambda done, total: level_done(total + done, 2 * total))


def _complete_once(
    image: np.ndarray,
    hole: np.ndarray,
    allowed: np.ndarray,
    lines: np.ndarray | None,
    radius: int,
    schedule: Schedule,
    seed: int,
    should_cancel: CancelCheck,
    level_done: LevelDone,
) -> np.ndarray:
    pyramid = _pyramid(Level(image.astype(np.float32), hole, allowed, lines), radius, schedule.coarsest_hole)
    previous: tuple[Level, np.ndarray, np.ndarray] | None = None
    for depth in range(len(pyramid) - 1, -1, -1):
        level = pyramid[depth]
        finest = depth == 0
        iterations = schedule.fine_iterations if finest else schedule.coarse_iterations
        passes = schedule.fine_passes if finest else schedule.coarse_passes
        search = max(level.hole.shape) if previous is None else schedule.fine_search
        if not finest and _target_estimate(level, radius) > schedule.big_level:
            # On a big photo the coarser levels already settled the layout: refine, don't re-search.
            iterations, passes = min(iterations, 2), 1
        nnf, target = _solve_level(level, previous, radius, iterations, passes, search,
                                   seed * 7919 + depth, should_cancel)
        previous = (level, nnf, target)
        level_done(len(pyramid) - depth, len(pyramid))
    result = image.copy()
    filled = np.clip(np.rint(pyramid[0].colour), 0, 255).astype(np.uint8)
    result[hole] = filled[hole]
    return result


def _target_estimate(level: Level, radius: int) -> int:
    rows, cols = hole_bounds(level.hole)
    return (rows.stop - rows.start + 2 * radius) * (cols.stop - cols.start + 2 * radius)


def _usable_radius(allowed: np.ndarray, radius: int) -> int:
    # Small crops or a tight sampling area may hold no whole 7×7 patch: use smaller patches then.
    while radius > 0 and not _valid_centres(allowed, radius).any():
        radius -= 1
    if not allowed.any():
        raise ValueError("the sampling area leaves no pixel outside the Hole to copy from")
    return radius


def _valid_centres(allowed: np.ndarray, radius: int) -> np.ndarray:
    if radius == 0:
        return allowed.copy()
    size = 2 * radius + 1
    kernel = np.ones((size, size), np.uint8)
    # Outside the image counts as not allowed, so every source patch lies wholly inside.
    eroded = cv2.erode(allowed.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return eroded.astype(bool)


def _pyramid(base: Level, radius: int, coarsest_hole: int) -> list[Level]:
    levels = [base]
    while True:
        level = levels[-1]
        rows = np.flatnonzero(level.hole.any(axis=1))
        cols = np.flatnonzero(level.hole.any(axis=0))
        hole_side = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
        if hole_side <= coarsest_hole or min(level.hole.shape) // 2 < 4 * (2 * radius + 1):
            return levels
        coarser = _halve(level)
        if np.count_nonzero(_valid_centres(coarser.allowed, radius)) < _MIN_SOURCES:
            return levels
        levels.append(coarser)


def _halve(level: Level) -> Level:
    """The next coarser level: known colours averaged over known pixels only; a coarse pixel is
    Hole if any fine pixel under it is, and may be copied from only if all of them may."""
    height, width = level.hole.shape
    size = ((width + 1) // 2, (height + 1) // 2)
    known = (~level.hole).astype(np.float32)
    weight = _shrink(known, size)
    colour = _shrink(level.colour * known[..., None], size) / np.maximum(weight, 1e-6)[..., None]
    lines = None if level.lines is None else _shrink(level.lines.astype(np.float32), size) > 0
    return Level(
        np.ascontiguousarray(colour, dtype=np.float32),
        _shrink(level.hole.astype(np.float32), size) > 0,
        _shrink(level.allowed.astype(np.float32), size) > 1.0 - 1e-4,
        lines,
    )


def _shrink(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # Area averaging: each coarse pixel is the mean of the fine pixels it covers (partly, at odd sizes).
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def _solve_level(
    level: Level,
    previous: tuple[Level, np.ndarray, np.ndarray] | None,
    radius: int,
    iterations: int,
    passes: int,
    search: int,
    seed: int,
    should_cancel: CancelCheck,
) -> tuple[np.ndarray, np.ndarray]:
    valid = _valid_centres(level.allowed, radius)
    valid_ys, valid_xs = (index.astype(np.int32) for index in np.nonzero(valid))
    size = 2 * radius + 1
    target = cv2.dilate(level.hole.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)
    box = _bounds(target)
    numba.set_num_threads(_threads_for(int(np.count_nonzero(target))))
    feat, aux_w = _features(level, radius)
    height, width = level.hole.shape
    nnf = np.zeros((height, width, 2), np.int32)
    cost = np.zeros((height, width), np.float32)
    weights = np.zeros((height, width), np.float32)
    if previous is None:
        _smooth_start(level, feat)
        kernels.random_init(feat, aux_w, target, box, valid_ys, valid_xs, nnf, cost, radius, seed)
    else:
        coarse, coarse_nnf, coarse_target = previous
        upscaled = cv2.resize(coarse.colour, (width, height), interpolation=cv2.INTER_LINEAR)
        feat[level.hole, :3] = upscaled[level.hole]
        kernels.upsample_nnf(coarse_nnf, coarse_target, target, box, valid, valid_ys, valid_xs, nnf, seed)
        kernels.compute_costs(feat, aux_w, target, box, nnf, cost, radius)
        _vote(feat, level.hole, target, box, nnf, cost, weights, radius)
        kernels.compute_costs(feat, aux_w, target, box, nnf, cost, radius)
    search = max(1, min(search, max(height, width)))
    for iteration in range(iterations):
        if should_cancel():
            raise Cancelled()
        for step in range(passes):
            index = iteration * passes + step
            kernels.patchmatch_pass(feat, aux_w, valid, target, box, nnf, cost, radius,
                                    index % 2 == 0, index % 4 in (0, 3), search, seed * 131 + index)
        _vote(feat, level.hole, target, box, nnf, cost, weights, radius)
        if iteration + 1 < iterations:
            kernels.compute_costs(feat, aux_w, target, box, nnf, cost, radius)
    level.colour = np.ascontiguousarray(feat[..., :3])
    return nnf, target


def _threads_for(target_pixels: int) -> int:
    # Waking OpenMP threads costs more than a small level's whole pass, and on a busy machine
    # spinning threads slow everything tenfold: only big levels run in parallel.
    return numba.config.NUMBA_NUM_THREADS if target_pixels >= PARALLEL_MIN_PIXELS else 1


def _vote(feat, hole, target, box, nnf, cost, weights, radius) -> None:
    # Weights fall by e for every SPREAD × median cost: good matches dominate, poor ones still blend
    # seams. The median, not the mean: a few patches on a sketched line cost far more than the rest
    # and would flatten every weight (and blur the whole fill).
    costs = cost[target]
    step = max(1, costs.size // 65536)  # a strided sample is as good a median and keeps big levels cheap
    spread = SPREAD * float(np.median(costs[::step])) + 1.0
    kernels.patch_weights(cost, target, box, spread, weights)
    kernels.vote(feat, hole, target, box, nnf, weights, radius)


def _smooth_start(level: Level, feat: np.ndarray) -> None:
    """A smooth first guess for the coarsest Hole that never reads an excluded pixel."""
    colour = np.clip(np.rint(feat[..., :3]), 0, 255).astype(np.uint8)
    unknown = (~level.allowed).astype(np.uint8)
    smooth = cv2.inpaint(colour, unknown, 3, cv2.INPAINT_TELEA)
    feat[level.hole, :3] = smooth[level.hole]


def _features(level: Level, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The patch-distance channels and the per-pixel weight of the guidance channel."""
    height, width = level.hole.shape
    if level.lines is None:
        return np.ascontiguousarray(level.colour.copy()), np.zeros((height, width), np.float32)
    grey = cv2.cvtColor(np.clip(level.colour, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    near_hole = cv2.dilate(level.hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    edges = np.where(near_hole, 0.0, _edge_strength(grey))  # the Hole's own border is not an edge
    # Outside the Hole the photo itself says where its edges are (a sketch over plain texture must
    # not make that texture a line source); inside, the sketch says where they should be.
    line_strength = _line_strength(level.lines)
    guidance = np.where(level.hole, line_strength, edges) * GUIDE_WEIGHT
    # Inside the Hole only the sketched lines (and their blurred flanks) say anything; elsewhere a
    # Hole patch may take an edge or not, so texture is not forced to be flat.
    along_line = np.clip(2.0 * line_strength, 0.0, 1.0)
    aux_w = np.where(level.hole, along_line, KNOWN_GUIDE_WEIGHT).astype(np.float32)
    feat = np.concatenate([level.colour, guidance[..., None]], axis=2)
    return np.ascontiguousarray(feat, dtype=np.float32), aux_w


def _edge_strength(grey: np.ndarray) -> np.ndarray:
    """0..1 gradient strength, blurred so a thin dark line and its two borders make one ridge,
    as a sketched line does."""
    smooth = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    strength = np.clip(np.hypot(gx, gy) / (4.0 * EDGE_STEP), 0.0, 1.0)
    return cv2.GaussianBlur(strength, (0, 0), 1.5)


def _line_strength(lines: np.ndarray) -> np.ndarray:
    wide = cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    blurred = cv2.GaussianBlur(wide, (0, 0), 1.5)
    return np.clip(blurred / max(float(blurred.max()), 1e-6), 0.0, 1.0)


def _bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1
