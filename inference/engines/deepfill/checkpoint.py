"""DeepFill v2 for the weights importer: recognising, validating and building (``ARCHITECTURE``).

Recognised layouts (spec §1, §8): nipponjo's ``states_tf_*`` (flat names, official TF graph
behaviour → mode "tf", BGR), ``states_pt_*`` (nested names, fine-tuned with symmetric padding →
mode "pt", RGB), and the official TensorFlow checkpoint's tensor names (converted to states_tf).
The number of input channels (5 plain, 6 guided) is read from the first convolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from inference.engines.deepfill.network import FUSE_WEIGHT_KEY, Generator, GeneratorConfig
from inference.engines.deepfill.tf_convert import TF_PREFIX, convert_tf_generator
from inference.weights.importer import Architecture, State
from inference.weights.store import WeightsError

NAME = "deepfill_v2"
_FIRST_CONV = {"states_pt": "stage1.conv1.conv.weight", "states_tf": "conv1.conv.weight"}
_LAST_CONV = {"states_pt": "stage2.conv_to_rgb.conv.weight", "states_tf": "allconv17.conv.weight"}
_TF_FIRST_KERNEL = TF_PREFIX + "conv1/kernel"

PUBLISHED_LICENCE = (
    "Derived from the DeepFill v2 models released by J. Yu et al. (JiahuiYu/generative_inpainting): "
    "CC BY-NC 4.0, for non-commercial research and education only; nipponjo's PyTorch conversions "
    "state no licence of their own. Do not use commercially."
)
COLOUR_NOTES = {
    "states_tf": "BGR assumed: the official weights are BGR-trained; whether nipponjo's states_tf "
    "conversion kept that is unverified (spec §11) - re-import with --colour-order rgb if colours look swapped.",
    "states_pt": "RGB: nipponjo fine-tuned these weights on RGB data.",
}


class DeepFillArchitecture(Architecture):
    name = NAME
    overridable = ("licence", "mode", "colour_order", "fuse")

    def detect(self, state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
        if _TF_FIRST_KERNEL in state:
            channels = int(state[_TF_FIRST_KERNEL].shape[2])
            return self._info("states_tf", channels, converted_from="tensorflow checkpoint")
        for layout in ("states_pt", "states_tf"):
            if _FIRST_CONV[layout] in state and _LAST_CONV[layout] in state:
                weight = state[_FIRST_CONV[layout]]
                channels = int(weight.shape[1]) if weight.ndim == 4 else 0
                return self._info(layout, channels)
        return None

    @staticmethod
    def _info(layout: str, input_channels: int, **extra: Any) -> dict[str, Any]:
        mode = "tf" if layout == "states_tf" else "pt"
        return {
            "architecture": NAME,
            "layout": layout,
            "mode": mode,
            "colour_order": "bgr" if mode == "tf" else "rgb",
            "colour_order_note": COLOUR_NOTES[layout],
            "input_channels": input_channels,
            "fuse": True,
            "licence": PUBLISHED_LICENCE,
            **extra,
        }

    def normalise(self, state: State, info: dict[str, Any]) -> tuple[State, dict[str, Any]]:
        if info.get("converted_from") == "tensorflow checkpoint" and _TF_FIRST_KERNEL in state:
            state = convert_tf_generator(state, layout="states_tf")
        if info.get("layout") == "states_pt" and FUSE_WEIGHT_KEY not in state:
            state[FUSE_WEIGHT_KEY] = torch.eye(3).view(1, 1, 3, 3)  # a constant some files omit
        return state, info

    def validate(self, state: Mapping[str, torch.Tensor], info: Mapping[str, Any]) -> None:
        channels = info.get("input_channels")
        if channels not in (5, 6):
            key = _FIRST_CONV.get(str(info.get("layout")), "conv1")
            raise WeightsError(
                f"key {key} takes {channels} input channels; DeepFill v2 takes 5 (plain) or 6 (guided)"
            )
        if info.get("colour_order") not in ("rgb", "bgr"):
            raise WeightsError(f"colour_order must be 'rgb' or 'bgr', got {info.get('colour_order')!r}")
        super().validate(state, info)
        if FUSE_WEIGHT_KEY in state and not torch.equal(
            state[FUSE_WEIGHT_KEY].float(), torch.eye(3).view(1, 1, 3, 3)
        ):
            raise WeightsError(f"key {FUSE_WEIGHT_KEY} must be the 3x3 identity (it is a constant)")

    def optional_keys(self, info: Mapping[str, Any]) -> set[str]:
        return {FUSE_WEIGHT_KEY}

    def build(self, info: Mapping[str, Any]) -> Generator:
        try:
            config = GeneratorConfig(
                input_channels=int(info["input_channels"]),
                mode=str(info["mode"]),
                layout=str(info["layout"]),
                fuse=bool(info.get("fuse", True)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise WeightsError(f"model card does not describe a DeepFill v2 network: {error}") from error
        return Generator(config)

    def default_name(self, info: Mapping[str, Any]) -> str:
        return "deepfill_v2_guided" if info.get("input_channels") == 6 else "deepfill_v2"


ARCHITECTURE = DeepFillArchitecture()
