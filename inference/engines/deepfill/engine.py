"""The DeepFill v2 engines: plain and guided (a sketch Guide inside the Hole).

Both are :class:`~inference.engines.neural.NeuralEngine` subclasses: crops of at most 512 px, padded to a
multiple of 8, pasted back with a 3 px feathered border. The stored weights' card says how to feed
the network: ``colour_order`` ("bgr" for the official weights) and ``input_channels`` (6 = guided:
[x_in, edge, ones, mask]). The edge channel is the user's Guide strokes inside the Hole, binarised
as upstream (value/255 > 0.6); the plain engine gives 6-channel weights an all-zero edge.
"""

from __future__ import annotations

import numpy as np
import torch

from inference.engines.contract import CancelCheck, Progress
from inference.engines.deepfill.network import Generator
from inference.engines.deepfill.selection import guided_weights, plain_weights
from inference.engines.neural import NeuralEngine
from inference.engines.registry import IMPORT_HINT, TRAIN_HINT, EngineUnavailable
from inference.weights.importer import load_network
from inference.weights.store import StoredWeights

EDGE_THRESHOLD = 0.6


class DeepFillEngine(NeuralEngine):
    """DeepFill v2 on the weights in ``stored``; ``guided`` makes it use the Guide."""

    working_size = 512
    multiple = 8
    feather_px = 3

    def __init__(
        self, stored: StoredWeights, guided: bool = False, device: str | None = None, fp16: bool | None = None
    ) -> None:
        super().__init__(device=device, fp16=fp16)
        self.stored = stored
        self.accepts_guide = guided
        self.name = "deepfill_v2_guided" if guided else "deepfill_v2"
        self.bgr = stored.card.get("colour_order") == "bgr"

    def _fill_into(
        self,
        image: np.ndarray,
        result: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None,
        should_cancel: CancelCheck,
        progress: Progress,
    ) -> None:
        if guide is not None:
            # Binarise at full resolution (upstream: value/255 > 0.6) before any crop is scaled, so a
            # faint line counts the same at every zoom (scaling keeps any non-zero line pixel).
            guide = np.where(guide > EDGE_THRESHOLD * 255, 255, 0).astype(np.uint8)
        super()._fill_into(image, result, mask, guide, should_cancel, progress)

    def load_model(self) -> torch.nn.Module:
        return load_network(self.stored)

    def run_crop(
        self, model: torch.nn.Module, image: torch.Tensor, mask: torch.Tensor, guide: torch.Tensor | None
    ) -> torch.Tensor:
        assert isinstance(model, Generator)
        x = image * 2.0 - 1.0
        if self.bgr:
            x = x.flip(1)
        edge = None
        if model.config.guided:
            edge = torch.zeros_like(mask) if guide is None else (guide > EDGE_THRESHOLD).to(mask.dtype) * mask
        _, x_stage2 = model(x, mask, edge, hole_only=True)  # only the hole's pixels are used
        completed = Generator.complete(x_stage2.to(x.dtype), x, mask)
        if self.bgr:
            completed = completed.flip(1)
        return (completed + 1.0) * 0.5


def _missing(kind: str) -> EngineUnavailable:
    return EngineUnavailable(
        f"no {kind} weights found; {IMPORT_HINT}, {TRAIN_HINT.format(model='deepfill')}"
    )


def plain_engine() -> DeepFillEngine:
    stored = plain_weights()
    if stored is None:
        raise _missing("DeepFill v2")
    return DeepFillEngine(stored, guided=False)


def guided_engine() -> DeepFillEngine:
    stored = guided_weights()
    if stored is None:
        raise _missing("guided (6-channel) DeepFill v2")
    return DeepFillEngine(stored, guided=True)
