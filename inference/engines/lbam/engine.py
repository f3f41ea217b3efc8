"""The LBAM engine: the shared neural crop-around-hole fill with the LBAM generator.

Each part of the Hole is cropped with context (:class:`~inference.engines.neural.NeuralEngine`), the crop's
long side is scaled down to 256 px (the size LBAM was trained on) and padded to a multiple of 128
(the network's size rule), and the fill is pasted back inside the Hole with a feathered border.
"""

from __future__ import annotations

import torch

from inference.engines.lbam.network import SIZE_MULTIPLE, compose, network_inputs
from inference.engines.neural import NeuralEngine
from inference.weights.importer import load_network
from inference.weights.store import StoredWeights, WeightsError, find_weights

WORKING_SIZE = 256


class LBAMEngine(NeuralEngine):
    """LBAM inpainting from a stored weight file (``weights/lbam.safetensors`` preferred)."""

    name = "lbam"
    accepts_guide = False
    working_size = WORKING_SIZE
    multiple = SIZE_MULTIPLE

    def __init__(
        self,
        weights: StoredWeights | None = None,
        device: str | None = None,
        fp16: bool | None = None,
    ) -> None:
        super().__init__(device=device, fp16=fp16)
        weights = weights or find_weights("lbam", prefer="lbam")
        if weights is None:
            raise WeightsError(
                "no LBAM weights in the weights folder; import them with: python main.py weights import FILE"
            )
        self.weights = weights

    def load_model(self) -> torch.nn.Module:
        return load_network(self.weights)

    def run_crop(
        self,
        model: torch.nn.Module,
        image: torch.Tensor,
        mask: torch.Tensor,
        guide: torch.Tensor | None,
    ) -> torch.Tensor:
        # The engine's mask marks the Hole; LBAM's marks the known pixels (spec §2).
        inputs, known = network_inputs(image, 1 - mask)
        output = model(inputs, known)
        return compose(output.float(), inputs.float(), known.float())


def lbam_engine(device: str | None = None, fp16: bool | None = None) -> LBAMEngine:
    """Registry factory: the preferred stored LBAM weights, on the best available device."""
    return LBAMEngine(device=device, fp16=fp16)


__all__ = ["WORKING_SIZE", "LBAMEngine", "lbam_engine"]
