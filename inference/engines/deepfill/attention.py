"""Contextual attention of DeepFill v2 (spec §5), computed in chunks of foreground positions.

The layer compares every position of the foreground ``f`` with every 3x3 patch of the background
``b`` (both at half the feature resolution), fuses the scores along diagonals, takes a softmax over
the valid background patches and pastes the matching 4x4 full-resolution patches back. Its score
matrix has (h·w/4)² entries per image, so the foreground positions are processed in chunks sized to
a memory budget: the result is the same as one big computation (fusion only mixes a position with
its raster and column-major neighbours, which each chunk computes as extra columns).

Two resampling modes (spec §1): "tf" reads rows/columns with TF1's align-corners nearest rule and
down-scales the mask in two steps; "pt" keeps every 2nd (8th for the mask) row and column.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SOFTMAX_SCALE = 10.0
RATE = 2  # the foreground/background are matched at 1/RATE of the feature resolution
RAW_PATCH = 2 * RATE  # pasted patches are 4x4 at the feature resolution
MATCH_PATCH = 3  # ksize
MIN_NORM = 1e-4
# Memory for the score columns of one chunk (several copies are alive at once during the fusion).
DEFAULT_CHUNK_BYTES = 192 * 2**20
# Refuse sizes whose fixed buffers (patches, pasted columns) alone would not fit comfortably.
MAX_FIXED_BYTES = 1536 * 2**20
_SCORE_COPIES = 8


class AttentionTooLarge(MemoryError):
    """The features are too large for contextual attention to run within its memory limit."""


def align_corners_indices(n_in: int, n_out: int) -> torch.Tensor:
    """Source indices of TF1 ``resize_nearest_neighbor(align_corners=True)`` (float32 arithmetic)."""
    if n_out <= 1:
        return torch.zeros(max(n_out, 0), dtype=torch.long)
    scale = np.float32(n_in - 1) / np.float32(n_out - 1)
    positions = np.arange(n_out, dtype=np.float32) * scale
    # roundf rounds halves away from zero; all positions are >= 0 here.
    source = np.minimum(np.floor(positions + np.float32(0.5)).astype(np.int64), n_in - 1)
    return torch.from_numpy(source)


def resize_nearest_tf(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Nearest-neighbour resize of ``[B, C, H, W]`` with the align-corners index rule."""
    rows = align_corners_indices(x.shape[-2], height).to(x.device)
    cols = align_corners_indices(x.shape[-1], width).to(x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def downscale(x: torch.Tensor, mode: str) -> torch.Tensor:
    """Halve the feature resolution as the attention layer does (step 2)."""
    if mode == "tf":
        return resize_nearest_tf(x, x.shape[-2] // RATE, x.shape[-1] // RATE)
    return x[..., ::RATE, ::RATE]


def attention_mask(mask: torch.Tensor, feature_size: tuple[int, int], mode: str) -> torch.Tensor:
    """The full-resolution hole mask brought to the patch grid (half the feature resolution).

    "tf": two steps as the official graph (to the feature size after conv6, then halved), both with
    the align-corners rule; "pt": one plain nearest step by 1/8.
    """
    h, w = feature_size
    if mode == "tf":
        return downscale(resize_nearest_tf(mask, h, w), "tf")
    step_y, step_x = mask.shape[-2] // h * RATE, mask.shape[-1] // w * RATE
    return mask[..., ::step_y, ::step_x][..., : h // RATE, : w // RATE]


def contextual_attention(
    f: torch.Tensor,
    b: torch.Tensor,
    mask: torch.Tensor | None,
    *,
    mode: str = "tf",
    fuse: bool = True,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    only: torch.Tensor | None = None,
) -> torch.Tensor:
    """Contextual attention of foreground ``f`` on background ``b`` (both ``[B, C, h, w]``, h and w even).

    ``mask`` is the hole mask on the patch grid ``[B, 1, h/2, w/2]`` (see :func:`attention_mask`), 1 =
    hole; as upstream, only batch element 0's mask is used. Returns ``[B, C, h, w]``.
    ``only`` (bool ``[h/2, w/2]``) limits the work to those foreground positions; the output of the
    others is left at zero (see :func:`positions_near_hole`).
    """
    if f.shape[-2] % RATE or f.shape[-1] % RATE:
        raise ValueError(f"contextual attention needs even feature sizes, got {tuple(f.shape[-2:])}")
    check_memory(f, b)
    valid = _valid_patches(mask, b)
    positions = None if only is None else torch.nonzero(only.flatten()).flatten()
    outputs = []
    for index in range(f.shape[0]):
        one = _attend_one(f[index : index + 1], b[index : index + 1], valid, mode, fuse, chunk_bytes, positions)
        outputs.append(one)
    return torch.cat(outputs, dim=0)


def positions_near_hole(mask: torch.Tensor, grid: tuple[int, int], reach: int) -> torch.Tensor:
    """Patch-grid positions within ``reach`` cells of a cell holding any hole pixel (any batch element).

    ``mask`` is the full-resolution hole mask ``[B, 1, H, W]``. The generator's layers after the
    attention see only a few cells around each pixel, so the attention output further from the
    hole cannot change the pixels inside it.
    """
    cell_h, cell_w = mask.shape[-2] // grid[0], mask.shape[-1] // grid[1]
    hole = F.max_pool2d(mask.amax(dim=(0, 1))[None, None].float(), (cell_h, cell_w))
    near = F.max_pool2d(hole, 2 * reach + 1, stride=1, padding=reach)
    return near[0, 0, : grid[0], : grid[1]] > 0


def check_memory(f: torch.Tensor, b: torch.Tensor) -> None:
    """Raise :class:`AttentionTooLarge` before allocating when the fixed buffers exceed the limit."""
    channels = f.shape[1]
    positions_f = f.shape[-2] * f.shape[-1] // RATE**2
    positions_b = b.shape[-2] * b.shape[-1] // RATE**2
    per_position = channels * (MATCH_PATCH**2 + RAW_PATCH**2) * f.element_size()
    fixed = (positions_f + positions_b) * per_position + positions_b * _SCORE_COPIES * f.element_size()
    if fixed > MAX_FIXED_BYTES:
        raise AttentionTooLarge(
            f"contextual attention on {tuple(f.shape[-2:])} features would need more than "
            f"{fixed / 2**30:.1f} GiB; use a smaller working size"
        )


def _valid_patches(mask: torch.Tensor | None, b: torch.Tensor) -> torch.Tensor:
    """1 for background patches that lie entirely in the known region (step 4), shape ``[L]``."""
    grid_h, grid_w = b.shape[-2] // RATE, b.shape[-1] // RATE
    if mask is None:
        return torch.ones(grid_h * grid_w, device=b.device, dtype=b.dtype)
    patches = F.unfold(mask[:1].to(b.dtype), MATCH_PATCH, padding=MATCH_PATCH // 2)
    return (patches.mean(dim=1)[0] == 0).to(b.dtype)


def _attend_one(
    f: torch.Tensor,
    b: torch.Tensor,
    valid: torch.Tensor,
    mode: str,
    fuse: bool,
    chunk_bytes: int,
    positions: torch.Tensor | None,
) -> torch.Tensor:
    h, w = f.shape[-2:]
    # Step 1: the 4x4 full-resolution patches that get pasted, one column per background position.
    raw = F.unfold(b, RAW_PATCH, stride=RATE, padding=RATE // 2)[0]  # [C*16, L_b]
    # Steps 2–3: matching 3x3 patches at half resolution, normalised per patch (step 5).
    f_small = downscale(f, mode)
    b_small = f_small if b is f else downscale(b, mode)
    background = F.unfold(b_small, MATCH_PATCH, padding=MATCH_PATCH // 2)[0]  # [C*9, L_b]
    foreground = F.unfold(f_small, MATCH_PATCH, padding=MATCH_PATCH // 2)[0].t().contiguous()  # [L_f, C*9]
    filters = background / background.norm(dim=0, keepdim=True).clamp_min(MIN_NORM)
    grid = tuple(b_small.shape[-2:])
    neighbours = _column_major_neighbours(tuple(f_small.shape[-2:]), f.device) if fuse else None

    # Scores are kept as [foreground positions, background patches]: the background axis is
    # contiguous, so the fusion's background shifts are slice copies and the softmax runs along rows.
    if positions is None:
        positions = torch.arange(foreground.shape[0], device=f.device)
    chunk = max(1, chunk_bytes // (filters.shape[1] * f.element_size() * _SCORE_COPIES))
    columns = f.new_zeros((raw.shape[0], foreground.shape[0]))
    valid_row = valid[None, :]
    for start in range(0, positions.numel(), chunk):
        wanted = positions[start : start + chunk]
        if fuse:
            scores = _fused_scores(filters, foreground, wanted, grid, neighbours)
        else:
            scores = foreground[wanted] @ filters
        # Step 7: invalid patches get score 0 before the softmax and weight 0 after it (upstream rule).
        weights = torch.softmax(scores * valid_row * SOFTMAX_SCALE, dim=1) * valid_row
        # The scaled softmax is very peaked: many weights underflow into subnormal floats, which slow
        # the paste matmul down ~100x on x86 CPUs. Flushing them changes nothing above 1e-38.
        weights = weights.masked_fill_(weights < torch.finfo(weights.dtype).tiny, 0.0)
        # Step 8: paste back — the columns of a transposed convolution, folded once at the end.
        columns[:, wanted] = raw @ weights.to(raw.dtype).t()
    pasted = F.fold(columns[None], (h, w), RAW_PATCH, stride=RATE, padding=RATE // 2)
    return pasted / 4.0


def _column_major_neighbours(grid: tuple[int, int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Raster index of the previous / next position in column-major order (-1 beyond either end)."""
    rows, cols = grid
    raster = torch.arange(rows * cols, device=device)
    column_major = (raster % cols) * rows + raster // cols  # position -> its column-major index
    order = torch.empty_like(raster)
    order[column_major] = raster  # column-major index -> position
    last = rows * cols - 1
    previous = torch.where(column_major > 0, order[(column_major - 1).clamp_min(0)], -1)
    following = torch.where(column_major < last, order[(column_major + 1).clamp_max(last)], -1)
    return previous, following


def _fused_scores(
    filters: torch.Tensor,
    foreground: torch.Tensor,
    wanted: torch.Tensor,
    background_grid: tuple[int, int],
    foreground_neighbours: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Fused scores ``[len(wanted), L_b]`` (step 6) from only the foreground rows they depend on.

    The fusion adds, to each entry of the (background × foreground) score matrix, its two diagonal
    neighbours, first with both axes in raster order, then with both in column-major order.
    """
    count = foreground.shape[0]
    column_prev, column_next = (neighbour[wanted] for neighbour in foreground_neighbours)
    second = _unique_valid(wanted, column_prev, column_next)
    first = _unique_valid(second, second - 1, torch.where(second + 1 < count, second + 1, -1))

    raw_scores = foreground[first] @ filters
    raster_fused = _add_diagonals(
        raw_scores, _lookup(first, second, count), _lookup(first, second - 1, count),
        _lookup(first, second + 1, count), _shift_raster_prev, _shift_raster_next,
    )
    rows, cols = background_grid
    return _add_diagonals(
        raster_fused, _lookup(second, wanted, count), _lookup(second, column_prev, count),
        _lookup(second, column_next, count),
        lambda scores: _shift_column_prev(scores, cols), lambda scores: _shift_column_next(scores, cols),
    )


def _unique_valid(*index_sets: torch.Tensor) -> torch.Tensor:
    joined = torch.cat(index_sets)
    return torch.unique(joined[joined >= 0])


def _lookup(available: torch.Tensor, wanted: torch.Tensor, count: int) -> torch.Tensor:
    """Row of each ``wanted`` position within ``available``; positions beyond either end map to
    the zero row appended after the last one."""
    where = torch.full((count + 2,), available.numel(), dtype=torch.long, device=available.device)
    where[available] = torch.arange(available.numel(), device=available.device)
    # -1 and count (beyond either end) both land on a slot that still holds the zero row's index.
    return where[torch.where((wanted >= 0) & (wanted < count), wanted, count + 1)]


def _add_diagonals(scores, same, previous, following, shift_prev, shift_next) -> torch.Tensor:
    padded = torch.cat([scores, scores.new_zeros((1, scores.shape[1]))], dim=0)
    return padded[same] + shift_prev(padded[previous]) + shift_next(padded[following])


# Background shifts along the last axis: entry p takes entry prev(p) / next(p), zero beyond the ends.
def _shift_raster_prev(scores: torch.Tensor) -> torch.Tensor:
    shifted = torch.zeros_like(scores)
    shifted[:, 1:] = scores[:, :-1]
    return shifted


def _shift_raster_next(scores: torch.Tensor) -> torch.Tensor:
    shifted = torch.zeros_like(scores)
    shifted[:, :-1] = scores[:, 1:]
    return shifted


def _shift_column_prev(scores: torch.Tensor, cols: int) -> torch.Tensor:
    # Column-major predecessor of (y, x): (y-1, x); of the top row (0, x): the bottom row's (H-1, x-1).
    shifted = torch.zeros_like(scores)
    count = scores.shape[1]
    shifted[:, cols:] = scores[:, : count - cols]
    shifted[:, 1:cols] = scores[:, count - cols : count - 1]
    return shifted


def _shift_column_next(scores: torch.Tensor, cols: int) -> torch.Tensor:
    # Column-major successor of (y, x): (y+1, x); of the bottom row (H-1, x): the top row's (0, x+1).
    shifted = torch.zeros_like(scores)
    count = scores.shape[1]
    shifted[:, : count - cols] = scores[:, cols:]
    shifted[:, count - cols : count - 1] = scores[:, 1:cols]
    return shifted
