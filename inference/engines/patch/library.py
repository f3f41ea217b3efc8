"""The ``patch_best`` engine: pypatchmatch (MIT, prebuilt wheels) crop by crop, where Cancel can stop it.

pypatchmatch fills object holes with better texture than our own ``patch`` engine (see
docs/quality.md) but is several times slower and ignores the Guide. Its native call cannot be
interrupted, so every crop runs in the helper process of :mod:`inference.engines.interruptible`,
which Cancel kills. The Sampling area becomes pypatchmatch's ``global_mask`` (pixels it neither
fills nor copies from), and the crops follow the Hole as in ``patch``, so a small Hole in a
24-megapixel photo costs what a small crop costs.
"""

from __future__ import annotations

import numpy as np

from inference.engines.contract import CancelCheck, Progress
from inference.engines.interruptible import call_interruptibly
from inference.engines.patch.sampling import SampledEngine
from inference.engines.regions import Box, fill_by_regions, plan_regions

PATCH_SIZE = 3  # pypatchmatch's patch side: 3 scored best on dev_eval crops (issue 12's table)
CONTEXT = 1.0  # context ring in Hole widths, as ``patch`` at high quality
MIN_CONTEXT = 48
MERGE_GAP = 64


def library_available() -> tuple[bool, str]:
    try:
        from patchmatch import patch_match  # noqa: F401
    except (ImportError, OSError) as error:  # OSError: its shared library failed to load
        return False, f"pypatchmatch cannot be loaded ({error})"
    return True, ""


def fill_with_library(crop: np.ndarray, hole: np.ndarray, excluded: np.ndarray | None, seed: int) -> np.ndarray:
    """One crop through pypatchmatch (runs in the helper process)."""
    from patchmatch import patch_match

    patch_match.set_random_seed(seed)
    hole_u8 = hole.astype(np.uint8) * 255
    if excluded is None or not excluded.any():
        return patch_match.inpaint(crop, hole_u8, patch_size=PATCH_SIZE)
    return patch_match.inpaint(crop, hole_u8, global_mask=excluded.astype(np.uint8) * 255, patch_size=PATCH_SIZE)


class LibraryPatchEngine(SampledEngine):
    name = "patch_best"
    accepts_guide = False

    def __init__(self, seed: int = 0) -> None:
        if int(seed) < 0:
            raise ValueError(f"seed must be 0 or more, got {seed}")
        self.seed = int(seed)

    @staticmethod
    def context_margin(box: Box) -> tuple[int, int]:
        margin = max(MIN_CONTEXT, int(round(CONTEXT * max(box.height, box.width))))
        return margin, margin

    def _fill_into(self, image: np.ndarray, result: np.ndarray, mask: np.ndarray, guide: np.ndarray | None,
                   should_cancel: CancelCheck, progress: Progress) -> None:
        area = self.checked_area(mask)
        regions = plan_regions(mask, self.context_margin, merge_gap=MERGE_GAP, should_cancel=should_cancel)
        position = iter(range(len(regions)))
        progress(0, len(regions))

        def fill_crop(crop: np.ndarray, crop_mask: np.ndarray, _guide: np.ndarray | None) -> np.ndarray:
            index = next(position)
            excluded = None
            if area is not None:
                # Excluded pixels outside the Hole: pypatchmatch neither fills nor copies them.
                excluded = ~area[regions[index].crop.slices] & ~crop_mask
            return call_interruptibly(fill_with_library, (crop, crop_mask, excluded, self.seed * 1009 + index),
                                      should_cancel)

        fill_by_regions(image, mask, None, fill_crop, regions, should_cancel=should_cancel, progress=progress,
                        out=result)


def library_patch_engine(seed: int = 0) -> LibraryPatchEngine:
    return LibraryPatchEngine(seed)
