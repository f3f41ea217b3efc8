"""The one region helper shared by every engine.

An engine never looks at the whole photo: the Hole is split into its connected parts (merged when
close), each part is cropped with a margin of known context clamped at the image edges, the engine
fills the crop, and only the Hole pixels of that part are pasted back. Neural engines add
:func:`fit_to_model` (scale down to the network's working size, pad to a multiple) and a feathered
paste, all here, so no engine writes its own crop logic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from inference.engines.contract import CancelCheck, Cancelled, Progress, hole_bounds


@dataclass(frozen=True)
class Box:
    """Half-open pixel rectangle: rows top..bottom-1, columns left..right-1."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def union(self, other: Box) -> Box:
        return Box(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )

    def gap_to(self, other: Box) -> int:
        """Chebyshev distance in pixels between the two rectangles (0 when they touch or overlap)."""
        dy = max(other.top - self.bottom, self.top - other.bottom, 0)
        dx = max(other.left - self.right, self.left - other.right, 0)
        return max(dy, dx)

    def expanded(self, margin_y: int, margin_x: int, shape: tuple[int, ...]) -> Box:
        """This box grown by the margins, clamped to an image of ``shape`` (H, W, ...)."""
        return Box(
            max(0, self.top - margin_y),
            max(0, self.left - margin_x),
            min(shape[0], self.bottom + margin_y),
            min(shape[1], self.right + margin_x),
        )


@dataclass(frozen=True)
class Region:
    """One part of the Hole: ``hole`` bounds its pixels, ``crop`` adds the context around them."""

    hole: Box
    crop: Box


def hole_boxes(mask: np.ndarray, merge_gap: int = 0, should_cancel: CancelCheck | None = None) -> list[Box]:
    """Bounding boxes of the mask's connected parts, merged while two are ``merge_gap`` px apart or less."""
    # Label only the Hole's bounding box: on a 24-megapixel photo that is the difference
    # between a small crop and the whole frame.
    rows, cols = hole_bounds(mask)
    window = mask[rows, cols]
    if window.size == 0:
        return []
    count, _, stats, _ = cv2.connectedComponentsWithStats(window.astype(np.uint8), connectivity=8)
    top, left = rows.start, cols.start
    boxes = [
        Box(int(top + y), int(left + x), int(top + y + h), int(left + x + w))
        for x, y, w, h, _ in stats[1:count].tolist()
    ]
    return _merge_close(boxes, merge_gap, should_cancel)


def _merge_close(boxes: list[Box], merge_gap: int, should_cancel: CancelCheck | None = None) -> list[Box]:
    """Merge boxes ``merge_gap`` px apart or less, repeating while a grown box comes close to another.

    The result is the finest grouping whose boxes are all more than ``merge_gap`` apart (every
    merge is forced, so the order of merging does not matter). Each round finds close pairs
    through a grid of cells, so a round costs about the number of boxes, not its square.
    """
    while True:
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        groups = _close_groups(boxes, merge_gap, should_cancel)
        if len(groups) == len(boxes):
            return sorted(boxes, key=lambda b: (b.top, b.left))
        boxes = [_union_all([boxes[i] for i in group]) for group in groups]


def _union_all(boxes: list[Box]) -> Box:
    return Box(min(b.top for b in boxes), min(b.left for b in boxes),
               max(b.bottom for b in boxes), max(b.right for b in boxes))


def _close_groups(boxes: list[Box], gap: int, should_cancel: CancelCheck | None) -> list[list[int]]:
    """Indices of ``boxes`` grouped by the transitive "at most ``gap`` apart" relation (union-find)."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    cell = max(2 * gap + 1, 32)
    grid: dict[tuple[int, int], list[int]] = {}
    for index, box in enumerate(boxes):
        if should_cancel is not None and index % 2048 == 2047 and should_cancel():
            raise Cancelled()
        # A box within ``gap`` (touching counts as 0) has a pixel in rows top-gap-1 .. bottom+gap
        # and columns left-gap-1 .. right+gap.
        first_row, last_row = (box.top - gap - 1) // cell, (box.bottom + gap) // cell
        first_col, last_col = (box.left - gap - 1) // cell, (box.right + gap) // cell
        for row in range(first_row, last_row + 1):
            for col in range(first_col, last_col + 1):
                for other in grid.get((row, col), ()):
                    if box.gap_to(boxes[other]) <= gap:
                        parent[root(other)] = root(index)
        for row in range(box.top // cell, (box.bottom - 1) // cell + 1):
            for col in range(box.left // cell, (box.right - 1) // cell + 1):
                grid.setdefault((row, col), []).append(index)
    groups: dict[int, list[int]] = {}
    for index in range(len(boxes)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def plan_regions(
    mask: np.ndarray,
    margin: Callable[[Box], tuple[int, int]],
    merge_gap: int,
    should_cancel: CancelCheck | None = None,
) -> list[Region]:
    """Regions of the Hole with their context crops; ``margin(hole_box)`` gives (margin_y, margin_x).

    ``should_cancel`` is checked while planning (tens of thousands of specks take a while) and raises
    :class:`Cancelled`.
    """
    regions = []
    for box in hole_boxes(mask, merge_gap, should_cancel):
        margin_y, margin_x = margin(box)
        regions.append(Region(box, box.expanded(margin_y, margin_x, mask.shape)))
    return regions


CropFiller = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


def fill_by_regions(
    image: np.ndarray,
    mask: np.ndarray,
    guide: np.ndarray | None,
    fill_crop: CropFiller,
    regions: list[Region],
    *,
    feather: int = 0,
    should_cancel: CancelCheck | None = None,
    progress: Progress | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Fill every region's crop with ``fill_crop`` and paste its Hole pixels back into a copy of ``image``
    (or into ``out``, which must hold the same pixels as ``image``; it is returned).

    Regions are filled in order on the growing result, so a later crop sees the earlier fills as context.
    ``should_cancel`` is checked before each crop and raises :class:`Cancelled`.
    """
    result = image.copy() if out is None else out
    for index, region in enumerate(regions):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        rows, cols = region.crop.slices
        crop_mask = mask[rows, cols]
        crop_guide = None if guide is None else guide[rows, cols]
        filled = fill_crop(result[rows, cols], crop_mask, crop_guide)
        own = np.zeros_like(crop_mask)
        hole_rows = slice(region.hole.top - region.crop.top, region.hole.bottom - region.crop.top)
        hole_cols = slice(region.hole.left - region.crop.left, region.hole.right - region.crop.left)
        own[hole_rows, hole_cols] = crop_mask[hole_rows, hole_cols]
        paste_inside_hole(result[rows, cols], filled, own, feather, known=~crop_mask)
        if progress is not None:
            progress(index + 1, len(regions))
    return result


def paste_inside_hole(
    target: np.ndarray,
    filled: np.ndarray,
    hole: np.ndarray,
    feather: int = 0,
    known: np.ndarray | None = None,
) -> None:
    """Write ``filled`` into ``target`` (in place) where ``hole`` is True, and nowhere else.

    With ``feather`` > 0 the outermost ``feather`` px of the Hole are blended towards the nearest
    known pixel (``known``, default: everything outside ``hole``), so a fill computed at a lower
    resolution meets the sharp photo without a seam.
    """
    if not hole.any():
        return
    if feather <= 0:
        np.copyto(target, filled, where=hole[..., None])
        return
    known = ~hole if known is None else known
    if not known.any():
        target[hole] = filled[hole]
        return
    # Distance of each pixel to the known region, and the index of the nearest known pixel.
    distance, labels = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    nearest_known = _nearest_known_colours(target, known, labels)
    alpha = np.clip(distance / (feather + 1), 0.0, 1.0)[..., None]
    blended = alpha * filled.astype(np.float32) + (1.0 - alpha) * nearest_known
    target[hole] = np.clip(np.rint(blended[hole]), 0, 255).astype(np.uint8)


def _nearest_known_colours(image: np.ndarray, known: np.ndarray, labels: np.ndarray) -> np.ndarray:
    # distanceTransformWithLabels numbers the zero (known) pixels 1..n in row-major order.
    known_colours = image[known].astype(np.float32)
    index = np.clip(labels - 1, 0, len(known_colours) - 1)
    return known_colours[index]


@dataclass(frozen=True)
class ModelFit:
    """How a crop was scaled and padded for a network, so the output can be mapped back."""

    original_size: tuple[int, int]
    scaled_size: tuple[int, int]

    def restore(self, output: np.ndarray) -> np.ndarray:
        """Remove the padding and scale ``output`` back to the crop's original size."""
        h, w = self.scaled_size
        output = output[:h, :w]
        if (h, w) == self.original_size:
            return output
        return cv2.resize(output, self.original_size[::-1], interpolation=cv2.INTER_CUBIC)


def fit_to_model(
    image: np.ndarray,
    mask: np.ndarray,
    guide: np.ndarray | None,
    max_side: int,
    multiple: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ModelFit]:
    """Scale a crop down (never up) so its long side is at most ``max_side``, then reflect-pad
    to a multiple of ``multiple``. The mask is scaled so that any covered pixel stays a Hole, and
    padded like the image (padding that mirrors the Hole is Hole, the rest known); a guide keeps
    its thin lines by max-pooling-like area resize.
    """
    h, w = mask.shape
    scale = min(1.0, max_side / max(h, w))
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    if (sh, sw) != (h, w):
        image = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0
        if guide is not None:
            guide = cv2.resize(guide, (sw, sh), interpolation=cv2.INTER_AREA)
            guide = np.where(guide > 0, 255, 0).astype(np.uint8)
    pad_h, pad_w = (-sh) % multiple, (-sw) % multiple
    if pad_h or pad_w:
        padding = ((0, pad_h), (0, pad_w))
        mode = "reflect" if sh > pad_h and sw > pad_w else "edge"
        image = np.pad(image, padding + ((0, 0),), mode=mode)
        # Mirror the mask with the image: padding that reflects Hole pixels must stay Hole, or
        # the hidden pixels would reach the network as known context.
        mask = np.pad(mask, padding, mode=mode)
        if guide is not None:
            guide = np.pad(guide, padding, mode="constant", constant_values=0)
    return image, mask, guide, ModelFit((h, w), (sh, sw))
