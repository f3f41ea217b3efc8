"""OpenCV's classical fills (Telea's fast marching, Navier–Stokes), run crop by crop.

No torch on this path: these engines start instantly and work on any machine.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.engines.contract import CancelCheck, Engine, Progress
from inference.engines.regions import fill_by_regions, plan_regions

DEFAULT_RADIUS = 5
# cv2.inpaint only looks ``radius`` px around each pixel, so 2×radius plus a few px of context
# reproduces the whole-image result exactly while the cost follows the Hole, not the photo.
_EXTRA_CONTEXT = 4


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
        regions = plan_regions(mask, lambda _box: (margin, margin), merge_gap=2 * margin)
        fill_by_regions(
            image, mask, None, self.fill_crop, regions,
            should_cancel=should_cancel, progress=progress, out=result,
        )

    def fill_crop(self, crop: np.ndarray, crop_mask: np.ndarray, _guide: np.ndarray | None) -> np.ndarray:
        """Bare ``cv2.inpaint`` on one crop; OpenCV is channel-order agnostic, so RGB goes in as is."""
        return cv2.inpaint(crop, crop_mask.astype(np.uint8), self.radius, self.method)


def telea(radius: int = DEFAULT_RADIUS) -> OpenCVEngine:
    return OpenCVEngine("telea", cv2.INPAINT_TELEA, radius)


def navier_stokes(radius: int = DEFAULT_RADIUS) -> OpenCVEngine:
    return OpenCVEngine("ns", cv2.INPAINT_NS, radius)


__all__ = ["DEFAULT_RADIUS", "OpenCVEngine", "navier_stokes", "telea"]
