"""Half-size copies of a layer for drawing it zoomed out, kept current region by region.

Level 0 is the layer itself (not copied); level k is the layer averaged over 2^k × 2^k blocks.
A zoomed-out view draws from the level closest to the screen's resolution, so a 24-megapixel
photo never has to be scaled as a whole, and a Stroke only recomputes the blocks it touched.
Overlay layers (Mask, Guide, edges) become coverage levels: uint8 0..255 = share of the block
that is "on", which draws as a smooth, translucent edge when zoomed out. No Qt here.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inference.engines.regions import Box

SMALLEST_SIDE = 192  # stop halving once the longer side is below this


def _half(region: np.ndarray) -> np.ndarray:
    """2×2 block means of ``region`` (odd edges repeat their last row/column)."""
    height, width = region.shape[:2]
    if height % 2 or width % 2:
        region = cv2.copyMakeBorder(region, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    return cv2.resize(region, (region.shape[1] // 2, region.shape[0] // 2), interpolation=cv2.INTER_AREA)


class Pyramid:
    """Levels of one layer. ``coverage`` turns a bool / non-zero-is-on layer into 0..255 levels."""

    def __init__(self, source: np.ndarray, coverage: bool = False) -> None:
        self.source = source
        self.coverage = coverage
        self.levels: list[np.ndarray] = [source]
        shape = source.shape
        while max(shape[0], shape[1]) > SMALLEST_SIDE:
            shape = (math.ceil(shape[0] / 2), math.ceil(shape[1] / 2), *shape[2:])
            self.levels.append(np.empty(shape, dtype=np.uint8))
        if len(self.levels) > 1:
            self.update(Box(0, 0, source.shape[0], source.shape[1]))

    def _level_zero_values(self, box: Box) -> np.ndarray:
        region = self.source[box.slices]
        if not self.coverage:
            return region
        if region.dtype == np.bool_:
            return region.view(np.uint8) * np.uint8(255)
        return np.where(region > 0, np.uint8(255), np.uint8(0))

    def update(self, box: Box) -> None:
        """Recompute every level over ``box`` (level-0 pixels) after the layer changed there."""
        for index in range(1, len(self.levels)):
            below = self.levels[index - 1]
            # Align to even coordinates so each level pixel is rebuilt from its whole 2×2 block.
            top, left = box.top // 2 * 2, box.left // 2 * 2
            bottom = min(below.shape[0], -(-box.bottom // 2) * 2)
            right = min(below.shape[1], -(-box.right // 2) * 2)
            if bottom <= top or right <= left:
                return
            aligned = Box(top, left, bottom, right)
            region = self._level_zero_values(aligned) if index == 1 else below[aligned.slices]
            halved = _half(region)
            box = Box(top // 2, left // 2, top // 2 + halved.shape[0], left // 2 + halved.shape[1])
            self.levels[index][box.slices] = halved

    def level_for(self, scale: float) -> int:
        """The coarsest level still at least as detailed as the screen at ``scale`` (device px per px)."""
        if scale >= 1.0:
            return 0
        level = int(math.floor(math.log2(1.0 / scale) + 1e-9))
        return max(0, min(level, len(self.levels) - 1))

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for level in self.levels[1:])
