"""The 42 convolutions of the DeepFill v2 generator (spec §4) as one table, and the gated convolution.

Each row names the layer in all three naming schemes: the official TensorFlow scope, the module path
that produces nipponjo's flat ``states_tf`` keys, and the path that produces the nested ``states_pt``
keys. The network, the key validation and the TensorFlow converter are all driven by this table.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

GATED, GATED_RELU, UPSAMPLE_GATED, PLAIN = "gated", "gated_relu", "upsample_gated", "plain"


@dataclass(frozen=True)
class LayerSpec:
    tf_scope: str  # e.g. "conv13_upsample" (upsampling layers nest a "<scope>_conv" scope in TF)
    pt_path: str  # module path in the states_pt layout, e.g. "stage1.up_block1.conv1_upsample"
    in_channels: int
    features: int  # output channels after the gate split (= conv output for PLAIN layers)
    kernel: int = 3
    stride: int = 1
    dilation: int = 1
    kind: str = GATED

    @property
    def conv_out(self) -> int:
        return self.features if self.kind == PLAIN else 2 * self.features

    def module_path(self, layout: str) -> str:
        """Path of the :class:`GatedConv` module; its ``conv`` child holds the weights."""
        base = self.tf_scope if layout == "states_tf" else self.pt_path
        return base + ".conv" if self.kind == UPSAMPLE_GATED else base

    def key_prefix(self, layout: str) -> str:
        return self.module_path(layout) + ".conv"

    def tf_variable_scope(self) -> str:
        if self.kind == UPSAMPLE_GATED:
            return f"inpaint_net/{self.tf_scope}/{self.tf_scope}_conv"
        return f"inpaint_net/{self.tf_scope}"


def _stage1(input_channels: int) -> list[LayerSpec]:
    s = "stage1."
    return [
        LayerSpec("conv1", s + "conv1", input_channels, 24, kernel=5),
        LayerSpec("conv2_downsample", s + "down_block1.conv1_downsample", 24, 48, stride=2),
        LayerSpec("conv3", s + "down_block1.conv2", 48, 48),
        LayerSpec("conv4_downsample", s + "down_block2.conv1_downsample", 48, 96, stride=2),
        LayerSpec("conv5", s + "down_block2.conv2", 96, 96),
        LayerSpec("conv6", s + "conv_bn1", 96, 96),
        LayerSpec("conv7_atrous", s + "conv_bn2", 96, 96, dilation=2),
        LayerSpec("conv8_atrous", s + "conv_bn3", 96, 96, dilation=4),
        LayerSpec("conv9_atrous", s + "conv_bn4", 96, 96, dilation=8),
        LayerSpec("conv10_atrous", s + "conv_bn5", 96, 96, dilation=16),
        LayerSpec("conv11", s + "conv_bn6", 96, 96),
        LayerSpec("conv12", s + "conv_bn7", 96, 96),
        LayerSpec("conv13_upsample", s + "up_block1.conv1_upsample", 96, 48, kind=UPSAMPLE_GATED),
        LayerSpec("conv14", s + "up_block1.conv2", 48, 48),
        LayerSpec("conv15_upsample", s + "up_block2.conv1_upsample", 48, 24, kind=UPSAMPLE_GATED),
        LayerSpec("conv16", s + "up_block2.conv2", 24, 12),
        LayerSpec("conv17", s + "conv_to_rgb", 12, 3, kind=PLAIN),
    ]


def _stage2_dilated_branch() -> list[LayerSpec]:
    s = "stage2."
    return [
        LayerSpec("xconv1", s + "conv_conv1", 3, 24, kernel=5),
        LayerSpec("xconv2_downsample", s + "conv_down_block1.conv1_downsample", 24, 24, stride=2),
        LayerSpec("xconv3", s + "conv_down_block1.conv2", 24, 48),
        LayerSpec("xconv4_downsample", s + "conv_down_block2.conv1_downsample", 48, 48, stride=2),
        LayerSpec("xconv5", s + "conv_down_block2.conv2", 48, 96),
        LayerSpec("xconv6", s + "conv_conv_bn1", 96, 96),
        LayerSpec("xconv7_atrous", s + "conv_conv_bn2", 96, 96, dilation=2),
        LayerSpec("xconv8_atrous", s + "conv_conv_bn3", 96, 96, dilation=4),
        LayerSpec("xconv9_atrous", s + "conv_conv_bn4", 96, 96, dilation=8),
        LayerSpec("xconv10_atrous", s + "conv_conv_bn5", 96, 96, dilation=16),
    ]


def _stage2_attention_branch() -> tuple[list[LayerSpec], list[LayerSpec]]:
    s = "stage2."
    before = [
        LayerSpec("pmconv1", s + "ca_conv1", 3, 24, kernel=5),
        LayerSpec("pmconv2_downsample", s + "ca_down_block1.conv1_downsample", 24, 24, stride=2),
        LayerSpec("pmconv3", s + "ca_down_block1.conv2", 24, 48),
        LayerSpec("pmconv4_downsample", s + "ca_down_block2.conv1_downsample", 48, 96, stride=2),
        LayerSpec("pmconv5", s + "ca_down_block2.conv2", 96, 96),
        LayerSpec("pmconv6", s + "ca_conv_bn1", 96, 96, kind=GATED_RELU),
    ]
    after = [
        LayerSpec("pmconv9", s + "ca_conv_bn4", 96, 96),
        LayerSpec("pmconv10", s + "ca_conv_bn5", 96, 96),
    ]
    return before, after


def _stage2_decoder() -> list[LayerSpec]:
    s = "stage2."
    return [
        LayerSpec("allconv11", s + "conv_bn6", 192, 96),
        LayerSpec("allconv12", s + "conv_bn7", 96, 96),
        LayerSpec("allconv13_upsample", s + "up_block1.conv1_upsample", 96, 48, kind=UPSAMPLE_GATED),
        LayerSpec("allconv14", s + "up_block1.conv2", 48, 48),
        LayerSpec("allconv15_upsample", s + "up_block2.conv1_upsample", 48, 24, kind=UPSAMPLE_GATED),
        LayerSpec("allconv16", s + "up_block2.conv2", 24, 12),
        LayerSpec("allconv17", s + "conv_to_rgb", 12, 3, kind=PLAIN),
    ]


@dataclass(frozen=True)
class LayerTable:
    stage1: list[LayerSpec]
    dilated: list[LayerSpec]
    attention_before: list[LayerSpec]
    attention_after: list[LayerSpec]
    decoder: list[LayerSpec]

    def all(self) -> list[LayerSpec]:
        """The 42 layers in forward order."""
        return self.stage1 + self.dilated + self.attention_before + self.attention_after + self.decoder


def layer_table(input_channels: int = 5) -> LayerTable:
    before, after = _stage2_attention_branch()
    return LayerTable(_stage1(input_channels), _stage2_dilated_branch(), before, after, _stage2_decoder())


def tf_same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TF "SAME" zero padding (before, after) along one axis: the extra pixel goes after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


class GatedConv(nn.Module):
    """Conv to 2c channels, split, act(features) · sigmoid(gates); a PLAIN layer is a bare conv.

    ``mode`` "tf" pads like TF "SAME" (asymmetric for stride 2), "pt" pads ``dilation*(k-1)//2``
    on every side; an UPSAMPLE_GATED layer first doubles the size with nearest neighbour.
    """

    def __init__(self, spec: LayerSpec, mode: str) -> None:
        super().__init__()
        self.spec = spec
        self.mode = mode
        symmetric = spec.dilation * (spec.kernel - 1) // 2
        self.explicit_padding = mode == "tf" and spec.stride > 1
        self.conv = nn.Conv2d(
            spec.in_channels, spec.conv_out, spec.kernel, spec.stride,
            padding=0 if self.explicit_padding else symmetric, dilation=spec.dilation,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        if spec.kind == UPSAMPLE_GATED:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        if self.explicit_padding:
            top, bottom = tf_same_padding(x.shape[-2], spec.kernel, spec.stride, spec.dilation)
            left, right = tf_same_padding(x.shape[-1], spec.kernel, spec.stride, spec.dilation)
            x = F.pad(x, (left, right, top, bottom))
        x = self.conv(x)
        if spec.kind == PLAIN:
            return x
        features, gates = torch.split(x, spec.features, dim=1)
        features = F.relu(features) if spec.kind == GATED_RELU else F.elu(features)
        return features * torch.sigmoid(gates)
