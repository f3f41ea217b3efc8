"""Numba kernels of PatchMatch completion: patch distance, NNF search, NNF upsampling and voting.

Conventions shared by every kernel:

* ``feat`` float32 (H, W, C): channels 0-2 are colour (the only ones voting rewrites), channels 3..
  are fixed guidance (Guide lines and known edges) weighted per target pixel by ``aux_w``;
* ``valid`` bool (H, W): pixels that may be the centre of a source patch; every pixel of such a
  patch lies inside the image and inside the sampling area, and none is a Hole pixel;
* ``target`` bool (H, W): pixels whose patch overlaps the Hole; only they carry an NNF entry;
* ``box`` (top, left, bottom, right): bounds of ``target``; loops never leave it;
* ``nnf`` int32 (H, W, 2): absolute (row, column) of the source centre matched to a target pixel;
  ``cost`` float32 (H, W): its unnormalised sum of squared differences.

Parallel loops never read what another thread writes in the same pass (propagation along a line
is sequential inside one thread, across lines it reads a snapshot), so the result depends on the
seed only, not on thread timing.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@nb.njit(cache=True, inline="always")
def _mix(z):
    # splitmix64 finaliser: a stateless, well-spread hash of a 64-bit counter.
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def _stream(seed, a, b):
    """Start of a random stream keyed by (seed, a, b)."""
    return _mix(np.uint64(seed) * _GOLDEN + _mix(np.uint64(a) * _MIX1 + np.uint64(b)))


@nb.njit(cache=True, inline="always")
def _uniform(state, n):
    """(next state, integer in [0, n))."""
    state = state + _GOLDEN
    return state, np.int64(_mix(state) % np.uint64(n))


@nb.njit(cache=True, inline="always")
def patch_distance(feat, aux_w, ty, tx, sy, sx, r, limit):
    """Sum of squared differences between the target patch at (ty, tx) and the source at (sy, sx).

    Target pixels outside the image are skipped (the source is valid, so it is always inside);
    the sum stops early once it passes ``limit``, the best cost found so far.
    """
    height, width, channels = feat.shape
    total = 0.0
    for dy in range(-r, r + 1):
        y = ty + dy
        if y < 0 or y >= height:
            continue
        yy = sy + dy
        for dx in range(-r, r + 1):
            x = tx + dx
            if x < 0 or x >= width:
                continue
            xx = sx + dx
            for c in range(3):
                d = feat[y, x, c] - feat[yy, xx, c]
                total += d * d
            if channels > 3:
                weight = aux_w[y, x]
                for c in range(3, channels):
                    d = feat[y, x, c] - feat[yy, xx, c]
                    total += weight * d * d
        if total > limit:
            return total
    return total


@nb.njit(cache=True, parallel=True)
def random_init(feat, aux_w, target, box, valid_ys, valid_xs, nnf, cost, r, seed):
    """Give every target pixel a random valid source and its cost."""
    top, left, bottom, right = box
    count = valid_ys.shape[0]
    for y in nb.prange(top, bottom):
        state = _stream(seed, 1, y)
        for x in range(left, right):
            if not target[y, x]:
                continue
            state, k = _uniform(state, count)
            nnf[y, x, 0] = valid_ys[k]
            nnf[y, x, 1] = valid_xs[k]
            cost[y, x] = patch_distance(feat, aux_w, y, x, valid_ys[k], valid_xs[k], r, np.inf)


@nb.njit(cache=True, parallel=True)
def upsample_nnf(coarse_nnf, coarse_target, target, box, valid, valid_ys, valid_xs, nnf, seed):
    """Fine NNF from the coarse one: a coarse match at (sy, sx) becomes (2 sy, 2 sx) plus the
    pixel's offset in its 2×2 block; matches that are not valid at this scale get a random source."""
    height, width = target.shape
    top, left, bottom, right = box
    coarse_h, coarse_w = coarse_target.shape
    count = valid_ys.shape[0]
    for y in nb.prange(top, bottom):
        state = _stream(seed, 2, y)
        cy = min(y // 2, coarse_h - 1)
        for x in range(left, right):
            if not target[y, x]:
                continue
            cx = min(x // 2, coarse_w - 1)
            sy, sx = -1, -1
            if coarse_target[cy, cx]:
                sy = 2 * coarse_nnf[cy, cx, 0] + (y - 2 * cy)
                sx = 2 * coarse_nnf[cy, cx, 1] + (x - 2 * cx)
            if sy < 0 or sy >= height or sx < 0 or sx >= width or not valid[sy, sx]:
                state, k = _uniform(state, count)
                sy, sx = valid_ys[k], valid_xs[k]
            nnf[y, x, 0] = sy
            nnf[y, x, 1] = sx


@nb.njit(cache=True, parallel=True)
def compute_costs(feat, aux_w, target, box, nnf, cost, r):
    top, left, bottom, right = box
    for y in nb.prange(top, bottom):
        for x in range(left, right):
            if target[y, x]:
                cost[y, x] = patch_distance(feat, aux_w, y, x, nnf[y, x, 0], nnf[y, x, 1], r, np.inf)


@nb.njit(cache=True, inline="always")
def _try(feat, aux_w, valid, nnf, cost, y, x, sy, sx, r):
    height, width = valid.shape
    if sy < 0 or sy >= height or sx < 0 or sx >= width or not valid[sy, sx]:
        return
    if sy == nnf[y, x, 0] and sx == nnf[y, x, 1]:
        return
    d = patch_distance(feat, aux_w, y, x, sy, sx, r, cost[y, x])
    if d < cost[y, x]:
        cost[y, x] = d
        nnf[y, x, 0] = sy
        nnf[y, x, 1] = sx


@nb.njit(cache=True, parallel=True)
def patchmatch_pass(feat, aux_w, valid, target, box, nnf, cost, r, along_rows, forward, max_radius, seed):
    """One PatchMatch pass: propagation from the previous pixel of each line (sequential in one
    thread) and from the neighbouring line (read from a snapshot), then random search in windows
    halving from ``max_radius`` down to one pixel. Lines are rows or columns, run in parallel."""
    height, width = target.shape
    top, left, bottom, right = box
    snapshot = nnf.copy()
    first = top if along_rows else left
    lines = bottom - top if along_rows else right - left
    start = left if along_rows else top
    length = right - left if along_rows else bottom - top
    step = 1 if forward else -1
    for index in nb.prange(lines):
        line = np.int64(first + index)  # prange indices may be unsigned; mixing those with int64 gives floats
        state = _stream(seed, 3, line)
        for k in range(length):
            j = np.int64(start + k) if forward else np.int64(start + length - 1 - k)
            y = line if along_rows else j
            x = j if along_rows else line
            if not target[y, x]:
                continue
            # Along the line: the pixel just before in scan order, already improved this pass.
            py = y if along_rows else y - step
            px = x - step if along_rows else x
            if 0 <= py < height and 0 <= px < width and target[py, px]:
                _try(feat, aux_w, valid, nnf, cost, y, x, nnf[py, px, 0] + (y - py), nnf[py, px, 1] + (x - px), r)
            # Across lines: the neighbouring line as it was when the pass began.
            qy = y - step if along_rows else y
            qx = x if along_rows else x - step
            if 0 <= qy < height and 0 <= qx < width and target[qy, qx]:
                _try(feat, aux_w, valid, nnf, cost, y, x,
                     snapshot[qy, qx, 0] + (y - qy), snapshot[qy, qx, 1] + (x - qx), r)
            radius = max_radius
            while radius >= 1:
                state, oy = _uniform(state, 2 * radius + 1)
                state, ox = _uniform(state, 2 * radius + 1)
                sy = min(max(nnf[y, x, 0] + oy - radius, r), height - 1 - r)
                sx = min(max(nnf[y, x, 1] + ox - radius, r), width - 1 - r)
                _try(feat, aux_w, valid, nnf, cost, y, x, sy, sx, r)
                radius //= 2


@nb.njit(cache=True, parallel=True)
def patch_weights(cost, target, box, spread, weights):
    """Voting weight of every target patch: falls by e per ``spread`` of cost (capped, so the
    weights around a pixel never all underflow to zero)."""
    top, left, bottom, right = box
    for y in nb.prange(top, bottom):
        for x in range(left, right):
            if target[y, x]:
                weights[y, x] = np.exp(-min(cost[y, x] / spread, 60.0))


@nb.njit(cache=True, parallel=True)
def vote(feat, hole, target, box, nnf, weights, r):
    """Rewrite the colour of every Hole pixel as the weighted mean of what the overlapping target
    patches copy there (weights from :func:`patch_weights`).

    Sources are never Hole pixels, so writing the Hole in place reads nothing this pass writes.
    """
    height, width = hole.shape
    top, left, bottom, right = box
    for y in nb.prange(top, bottom):
        for x in range(left, right):
            if not hole[y, x]:
                continue
            acc0 = 0.0
            acc1 = 0.0
            acc2 = 0.0
            total = 0.0
            for dy in range(-r, r + 1):
                qy = y + dy
                if qy < 0 or qy >= height:
                    continue
                for dx in range(-r, r + 1):
                    qx = x + dx
                    if qx < 0 or qx >= width or not target[qy, qx]:
                        continue
                    sy = nnf[qy, qx, 0] - dy
                    sx = nnf[qy, qx, 1] - dx
                    w = weights[qy, qx]
                    acc0 += w * feat[sy, sx, 0]
                    acc1 += w * feat[sy, sx, 1]
                    acc2 += w * feat[sy, sx, 2]
                    total += w
            if total > 0.0:
                feat[y, x, 0] = acc0 / total
                feat[y, x, 1] = acc1 / total
                feat[y, x, 2] = acc2 / total
