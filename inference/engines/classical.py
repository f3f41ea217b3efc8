"""OpenCV's classical fills (Telea's fast marching, Navier–Stokes), run crop by crop.

No torch on this path: these engines start instantly and work on any machine.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.engines.contract import CancelCheck, Engine, Progress
from inference.engines.interruptible import call_interruptibly
from inference.engines.regions import fill_by_regions, plan_regions

DEFAULT_RADIUS = 5
# cv2.inpaint only looks ``radius`` px around each pixel, so 2×radius plus a few px of context
# reproduces the whole-image result exactly while the cost follows the Hole, not the photo.
_EXTRA_CONTEXT = 4
# cv2.inpaint costs about (Hole pixels) × radius² and cannot be interrupted. Above this budget
# (a 300×300 Hole at radius 5, a third of a second) a large radius works on the crop scaled by
# EXACT_RADIUS / radius, where it spans the same share of the picture: a radius-100 fill of a
# 300×300 Hole takes a fraction of a second instead of minutes, and cancelling stays prompt.
EXACT_RADIUS = 8
_EXACT_BUDGET = 300 * 300 * 25
# Above this cost (Hole pixels × radius², about a tenth of a second) a crop is filled in a helper
# process, so that Cancel stops it at once instead of leaving a core busy until OpenCV returns.
_INTERRUPTIBLE_COST = 100 * 100 * 25


class OpenCVEngine(Engine):
    """``cv2.inpaint`` with a configurable radius; ``method`` is cv2.INPAINT_TELEA or cv2.INPAINT_NS."""

    def __init__(self, name: str, method: int, radius: int = DEFAULT_RADIUS) -> None:
        if not 1 <= int(radius) <= 100:
            raise ValueError(f"radius must be between 1 and 100 px, got {radius}")
        self.name = name
        self.method = method
        self.radius = int(radius)

    @property
    def context_margin(self) -> int:
        return 2 * self.radius + _EXTRA_CONTEXT

    def _fill_into(
        self,
        image: np.ndarray,
        result: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None,
        should_cancel: CancelCheck,
        progress: Progress,
    ) -> None:
        margin = self.context_margin
        regions = plan_regions(mask, lambda _box: (margin, margin), merge_gap=2 * margin,
                               should_cancel=should_cancel)
        progress(0, len(regions))

        def fill_crop(crop: np.ndarray, crop_mask: np.ndarray, _guide: np.ndarray | None) -> np.ndarray:
            return self.fill_crop(crop, crop_mask, should_cancel)

        fill_by_regions(
            image, mask, None, fill_crop, regions,
            should_cancel=should_cancel, progress=progress, out=result,
        )

    def fill_crop(self, crop: np.ndarray, crop_mask: np.ndarray,
                  should_cancel: CancelCheck = lambda: False) -> np.ndarray:
        """``cv2.inpaint`` on one crop; OpenCV is channel-order agnostic, so RGB goes in as is."""
        hole_pixels = int(crop_mask.sum())
        exact = self.radius <= EXACT_RADIUS or hole_pixels * self.radius ** 2 <= _EXACT_BUDGET
        arguments = (crop, crop_mask, self.radius, self.method)
        call = inpaint_crop if exact else inpaint_crop_scaled
        cost = hole_pixels * min(self.radius, EXACT_RADIUS) ** 2
        if cost > _INTERRUPTIBLE_COST:
            return call_interruptibly(call, arguments, should_cancel)
        return call(*arguments)


def inpaint_crop(crop: np.ndarray, crop_mask: np.ndarray, radius: int, method: int) -> np.ndarray:
    return cv2.inpaint(crop, crop_mask.astype(np.uint8), radius, method)


def inpaint_crop_scaled(crop: np.ndarray, crop_mask: np.ndarray, radius: int, method: int) -> np.ndarray:
    """A large radius on a large Hole: the crop scaled by EXACT_RADIUS / radius, filled, scaled back."""
    scale = EXACT_RADIUS / radius
    height, width = crop_mask.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    # Any covered pixel stays Hole, so no Hole colour leaks into the context.
    small_mask = cv2.resize(crop_mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    filled = cv2.inpaint(small, small_mask.astype(np.uint8), EXACT_RADIUS, method)
    return cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR)


def telea(radius: int = DEFAULT_RADIUS) -> OpenCVEngine:
    return OpenCVEngine("telea", cv2.INPAINT_TELEA, radius)


def navier_stokes(radius: int = DEFAULT_RADIUS) -> OpenCVEngine:
    return OpenCVEngine("ns", cv2.INPAINT_NS, radius)


__all__ = ["DEFAULT_RADIUS", "OpenCVEngine", "navier_stokes", "telea"]
