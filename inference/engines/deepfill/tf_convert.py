"""Official TensorFlow checkpoint tensors → our state dicts (spec §8), and the BGR↔RGB weight flip.

The official checkpoints need TensorFlow to read; whoever has it can dump the variables to an
``.npz`` (name → array) and import that. Kernels are HWIO in TF and OIHW here; the gate/feature
split needs no reordering. Optimiser slots (``…/Adam``), ``global_step`` and the like are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from inference.engines.deepfill.layers import PLAIN, layer_table
from inference.weights.store import WeightsError

TF_PREFIX = "inpaint_net/"
TF_DISCRIMINATOR_SCOPE = "discriminator/sn_patch_gan/"
DISCRIMINATOR_LAYERS = 6


def tf_generator_names(input_channels: int = 5, layout: str = "states_tf") -> list[tuple[str, str, tuple[int, ...]]]:
    """(TF name, our key, TF shape) for the 84 generator tensors, in forward order."""
    rows = []
    for spec in layer_table(input_channels).all():
        scope = spec.tf_variable_scope()
        prefix = spec.key_prefix(layout)
        kernel_shape = (spec.kernel, spec.kernel, spec.in_channels, spec.conv_out)
        rows.append((f"{scope}/kernel", f"{prefix}.weight", kernel_shape))
        rows.append((f"{scope}/bias", f"{prefix}.bias", (spec.conv_out,)))
    return rows


def convert_tf_generator(tensors: Mapping[str, object], layout: str = "states_tf") -> dict[str, torch.Tensor]:
    """Our generator state dict from TF tensors named ``inpaint_net/<scope>/{kernel,bias}``."""
    kernel = tensors.get(TF_PREFIX + "conv1/kernel")
    if kernel is None:
        raise WeightsError(f"missing TF tensor {TF_PREFIX}conv1/kernel")
    input_channels = int(np.shape(kernel)[2])
    state = {}
    for tf_name, key, shape in tf_generator_names(input_channels, layout):
        state[key] = _converted(tensors, tf_name, shape)
    return state


def convert_tf_discriminator(tensors: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """Our discriminator state dict (keys ``convN.conv_sn.{weight,bias,weight_u}``) from TF tensors."""
    first = tensors.get(TF_DISCRIMINATOR_SCOPE + "conv1/kernel")
    if first is None:
        raise WeightsError(f"missing TF tensor {TF_DISCRIMINATOR_SCOPE}conv1/kernel")
    channels = [int(np.shape(first)[2]), 64, 128, 256, 256, 256, 256]
    state = {}
    for index in range(1, DISCRIMINATOR_LAYERS + 1):
        scope = f"{TF_DISCRIMINATOR_SCOPE}conv{index}/"
        c_in, c_out = channels[index - 1], channels[index]
        key = f"conv{index}.conv_sn."
        state[key + "weight"] = _converted(tensors, scope + "kernel", (5, 5, c_in, c_out))
        state[key + "bias"] = _converted(tensors, scope + "bias", (c_out,))
        state[key + "weight_u"] = _converted(tensors, scope + "kernel_sn/u", (1, c_out)).t().contiguous()
    return state


def _converted(tensors: Mapping[str, object], name: str, shape: tuple[int, ...]) -> torch.Tensor:
    if name not in tensors:
        raise WeightsError(f"missing TF tensor {name}")
    array = np.asarray(tensors[name].numpy() if isinstance(tensors[name], torch.Tensor) else tensors[name])
    if tuple(array.shape) != shape:
        raise WeightsError(f"TF tensor {name} has shape {list(array.shape)}, expected {list(shape)}")
    array = array.astype(np.float32, copy=False)
    if array.ndim == 4:  # HWIO -> OIHW
        array = array.transpose(3, 2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array))


def flip_colour_order(state: Mapping[str, torch.Tensor], layout: str) -> dict[str, torch.Tensor]:
    """Weights that take and give the other colour order (BGR ↔ RGB), spec §8.

    Reverses image input channels 0–2 of the three layers that read an image (conv1, xconv1,
    pmconv1; channels 3+ of conv1 stay) and the output channels of the two RGB heads.
    """
    flipped = dict(state)
    for spec in layer_table().all():
        prefix = spec.key_prefix(layout)
        if spec.tf_scope in ("conv1", "xconv1", "pmconv1"):
            weight = state[prefix + ".weight"].clone()
            weight[:, :3] = weight[:, :3].flip(1)
            flipped[prefix + ".weight"] = weight
        elif spec.kind == PLAIN:
            flipped[prefix + ".weight"] = state[prefix + ".weight"].flip(0).contiguous()
            flipped[prefix + ".bias"] = state[prefix + ".bias"].flip(0).contiguous()
    return flipped
