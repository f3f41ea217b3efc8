"""LBAM for the weights importer: recognising, validating and building (``ARCHITECTURE``).

The authors' ``LBAM_*.pth`` files are bare state dicts (``torch.save(model.state_dict())``); the
importer reads them with ``weights_only=True`` and strips a ``module.`` prefix. The variant comes
from the keys (BatchNorm statistics such as ``ec2.bn.running_mean`` only exist in the earlier code)
and the width from the first convolution (64 output channels at width 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from inference.engines.lbam.network import ENCODER_CHANNELS, VARIANTS, LBAMConfig, LBAMGenerator
from inference.weights.importer import Architecture
from inference.weights.store import WeightsError

NAME = "lbam"
FIRST_CONV = "ec1.conv.conv.weight"
SIGNATURE_KEYS = (FIRST_CONV, "reverseConv1.reverseMaskConv.weight", "dc7.weight")
BATCHNORM_MARKER = "ec2.bn.running_mean"
LICENCE = (
    "LBAM by C. Xie et al. (Vious/LBAM_Pytorch): code under the MIT licence (Copyright 2019 Vious); "
    "the README states no separate terms for the pretrained weights."
)


class LBAMArchitecture(Architecture):
    name = NAME

    def detect(self, state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
        if not all(key in state for key in SIGNATURE_KEYS):
            return None
        first = state[FIRST_CONV]
        width = int(first.shape[0]) / ENCODER_CHANNELS[0] if first.ndim == 4 else 0.0
        return {
            "architecture": NAME,
            "layout": "lbam_pytorch",
            "variant": "batchnorm" if BATCHNORM_MARKER in state else "current",
            "width": width,
            "licence": LICENCE,
        }

    def config(self, info: Mapping[str, Any]) -> LBAMConfig:
        """The network a card describes; WeightsError (naming the first layer) when it cannot exist."""
        variant = info.get("variant")
        if variant not in VARIANTS:
            raise WeightsError(f"model card variant must be one of {VARIANTS}, got {variant!r}")
        try:
            return LBAMConfig(width=float(info.get("width", 0)), variant=str(variant))
        except (TypeError, ValueError) as error:
            raise WeightsError(
                f"key {FIRST_CONV} implies width {info.get('width')!r}, which LBAM cannot have: {error}"
            ) from error

    def expected_shapes(self, info: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        config = self.config(info)
        # Shapes only: the meta device skips allocating 68 M parameters just to read their sizes.
        with torch.device("meta"):
            model = LBAMGenerator(config)
        return {key: tuple(value.shape) for key, value in model.state_dict().items()}

    def validate(self, state: Mapping[str, torch.Tensor], info: Mapping[str, Any]) -> None:
        super().validate(state, info)
        for key, value in state.items():
            if not (value.is_floating_point() or key.endswith("num_batches_tracked")):
                raise WeightsError(f"key {key} holds {value.dtype}, expected floating-point weights")

    def build(self, info: Mapping[str, Any]) -> LBAMGenerator:
        return LBAMGenerator(self.config(info))

    def default_name(self, info: Mapping[str, Any]) -> str:
        return NAME


ARCHITECTURE = LBAMArchitecture()

__all__ = ["ARCHITECTURE", "LBAMArchitecture"]
