"""The ``patch`` engine: content-aware fill by multi-scale PatchMatch, crop by crop.

Cost follows the Hole, not the photo: every part of the Hole is completed inside a crop holding a
context ring about as wide as the part itself, and patches are taken from that ring only (and from
the sampling area, when the caller restricts it). Deterministic for a given ``seed``; a new seed
gives "another result".
"""

from __future__ import annotations

import numpy as np

from inference.engines.contract import CancelCheck, Progress
from inference.engines.patch.completion import QUALITIES, complete
from inference.engines.patch.sampling import SampledEngine
from inference.engines.regions import Box, fill_by_regions, plan_regions

MIN_CONTEXT = 48  # px of context around even a one-pixel Hole
MERGE_GAP = 64  # Hole parts closer than this are completed in one crop
# Context ring width in Hole widths: patches come from this ring only, so on a 24-megapixel photo the
# cost follows the Hole. Half a Hole width loses ~0.15 dB on 256² crops and halves the time.
DEFAULT_CONTEXT = {"fast": 0.5, "high": 1.0}


class PatchEngine(SampledEngine):
    name = "patch"
    accepts_guide = True

    def __init__(self, quality: str = "fast", seed: int = 0, context: float | None = None) -> None:
        if quality not in QUALITIES:
            raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
        context = DEFAULT_CONTEXT[quality] if context is None else context
        if not 0.1 <= float(context) <= 8.0:
            raise ValueError(f"context must be between 0.1 and 8 Hole widths, got {context}")
        if int(seed) < 0:
            raise ValueError(f"seed must be 0 or more, got {seed}")
        self.quality = quality
        self.seed = int(seed)
        self.context = float(context)

    def context_margin(self, box: Box) -> tuple[int, int]:
        side = max(box.height, box.width)
        margin = max(MIN_CONTEXT, int(round(self.context * side)))
        return margin, margin

    def _fill_into(
        self,
        image: np.ndarray,
        result: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None,
        should_cancel: CancelCheck,
        progress: Progress,
    ) -> None:
        area = self.checked_area(mask)
        regions = plan_regions(mask, self.context_margin, merge_gap=MERGE_GAP, should_cancel=should_cancel)
        schedule = QUALITIES[self.quality]
        steps = 100  # progress units per region, shared out over its pyramid levels
        position = {"index": 0}

        def fill_crop(crop: np.ndarray, crop_mask: np.ndarray, crop_guide: np.ndarray | None) -> np.ndarray:
            index = position["index"]
            position["index"] += 1
            rows, cols = regions[index].crop.slices
            allowed = np.ones_like(crop_mask) if area is None else area[rows, cols]

            def level_done(done: int, total: int) -> None:
                progress(index * steps + done * steps // total, len(regions) * steps)

            return complete(crop, crop_mask, allowed, crop_guide, schedule,
                            self.seed * 1009 + index, should_cancel, level_done)

        fill_by_regions(image, mask, guide, fill_crop, regions, should_cancel=should_cancel, out=result)


def patch_engine(quality: str = "fast", seed: int = 0, context: float | None = None) -> PatchEngine:
    return PatchEngine(quality, seed, context)
