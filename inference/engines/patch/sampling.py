"""What both content-aware engines share: a Sampling area to copy from, and a seed for "another result"."""

from __future__ import annotations

import copy

import numpy as np

from inference.engines.contract import Engine


class SampledEngine(Engine):
    """An Engine that copies patches from a Sampling area (None = anywhere) and is seeded."""

    seed = 0
    sampling_area: np.ndarray | None = None  # bool (H, W): True = may copy from here

    def restricted_to(self, sampling_area: np.ndarray | None):
        """A copy of this engine that copies patches only from ``sampling_area`` (None = anywhere)."""
        if sampling_area is not None and (
            not isinstance(sampling_area, np.ndarray) or sampling_area.dtype != np.bool_ or sampling_area.ndim != 2
        ):
            raise ValueError("the sampling area must be a bool array of the photo's height and width")
        engine = copy.copy(self)
        engine.sampling_area = sampling_area
        return engine

    def with_seed(self, seed: int):
        engine = copy.copy(self)
        engine.seed = int(seed)
        return engine

    def checked_area(self, mask: np.ndarray) -> np.ndarray | None:
        """The Sampling area, after checking it has the photo's size."""
        area = self.sampling_area
        if area is not None and area.shape != mask.shape:
            raise ValueError(f"the sampling area is {area.shape[::-1]} px, the photo {mask.shape[::-1]}")
        return area
