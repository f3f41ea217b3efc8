"""HED (Holistically-Nested Edge Detection) and its VGG16 trunk in PyTorch, as in shared/specs/hed.md.

The published weights were trained in Keras with ``padding='same'`` max pooling and TF bilinear
resizing; ``ceil_mode=True`` pooling and ``align_corners=False`` interpolation reproduce both exactly,
including on odd image sizes (floor-mode pooling is off by up to 0.81 there).

Both networks take RGB and convert to the Caffe convention (BGR, 0..255, minus the mean) inside, so no
BGR tensor leaves this module.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from inference.edges.layout import (
    BGR_MEAN,
    TRUNK_BLOCKS,
    VGG_BLOCKS,
    all_layers,
    expected_shapes,
    trunk_layers,
    trunk_weights_path,
)


def rgb255_to_caffe(rgb: torch.Tensor) -> torch.Tensor:
    """[B,3,H,W] RGB on 0..255 -> BGR minus the Caffe mean (the networks' own input convention)."""
    mean = torch.tensor(BGR_MEAN, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return rgb.flip(1) - mean


def vgg_pool(features: torch.Tensor) -> torch.Tensor:
    # Keras 'same' 2x2/2 pooling: output ceil(n/2), the partial last window keeps its max.
    return F.max_pool2d(features, kernel_size=2, stride=2, ceil_mode=True)


class VGGBlock(nn.Module):
    """``count`` 3x3 convs with ReLU, named conv1..convN so keys read ``blockK.convN.weight``."""

    def __init__(self, in_channels: int, out_channels: int, count: int):
        super().__init__()
        self.count = count
        for index in range(1, count + 1):
            self.add_module(f"conv{index}", nn.Conv2d(in_channels, out_channels, 3, padding=1))
            in_channels = out_channels

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        for index in range(1, self.count + 1):
            features = F.relu(getattr(self, f"conv{index}")(features))
        return features


def _vgg_blocks(owner: nn.Module, block_count: int) -> list[VGGBlock]:
    """Attach VGG16 blocks 1..block_count to ``owner`` as block1.. and return them in order."""
    blocks = []
    in_channels = 3
    for number, (count, channels) in enumerate(VGG_BLOCKS[:block_count], start=1):
        block = VGGBlock(in_channels, channels, count)
        owner.add_module(f"block{number}", block)
        blocks.append(block)
        in_channels = channels
    return blocks


class HED(nn.Module):
    """VGG16 conv backbone with five 1x1 side outputs and a learned 1x1 fusion.

    ``forward`` takes RGB on the 0..255 scale, [B,3,H,W] of any size, and returns the fused edge
    probability [B,1,H,W]. ``logits`` gives the six pre-sigmoid maps (side1..side5, fused), all at HxW.
    """

    def __init__(self):
        super().__init__()
        self.blocks = _vgg_blocks(self, len(VGG_BLOCKS))
        for number, (_, channels) in enumerate(VGG_BLOCKS, start=1):
            self.add_module(f"side{number}", nn.Conv2d(channels, 1, 1))
        self.fuse = nn.Conv2d(len(VGG_BLOCKS), 1, 1)

    def logits(self, rgb255: torch.Tensor) -> list[torch.Tensor]:
        size = rgb255.shape[-2:]
        features = rgb255_to_caffe(rgb255)
        sides = []
        for number, block in enumerate(self.blocks, start=1):
            if number > 1:
                features = vgg_pool(features)
            features = block(features)
            side = getattr(self, f"side{number}")(features)
            if number > 1:
                # Straight to the input size (no learned deconvolution in these Keras-trained weights).
                side = F.interpolate(side, size=size, mode="bilinear", align_corners=False)
            sides.append(side)
        return sides + [self.fuse(torch.cat(sides, dim=1))]

    def forward(self, rgb255: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(rgb255)[-1])


class VGGTrunk(nn.Module):
    """HED's VGG16 conv1_1..conv3_3, frozen: a perceptual feature network (e.g. for LBAM losses).

    Input: RGB in [0, 1], [B,3,H,W]; the Caffe conversion happens inside. Output: the features after
    pool1, pool2 and pool3 (64, 128 and 256 channels at 1/2, 1/4, 1/8 size, ceil-rounded). Parameters
    do not require grad, but gradients still flow to the input.
    """

    def __init__(self):
        super().__init__()
        self.blocks = _vgg_blocks(self, TRUNK_BLOCKS)
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_file(cls, path: str | Path | None = None, device: str | torch.device = "cpu") -> VGGTrunk:
        """Load the trunk written by ``export_vgg_trunk`` (default: the weights folder's copy)."""
        if path is None:
            path = trunk_weights_path()
        trunk = cls()
        load_checked(trunk, Path(path), expected_shapes(trunk_layers()))
        return trunk.to(device)

    def forward(self, rgb01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = rgb255_to_caffe(rgb01 * 255.0)
        pooled = []
        for block in self.blocks:
            features = vgg_pool(block(features))
            pooled.append(features)
        return pooled[0], pooled[1], pooled[2]


def load_checked(network: nn.Module, path: Path, shapes: dict[str, tuple[int, ...]]) -> None:
    """Load a safetensors file into ``network`` after checking it holds exactly ``shapes``."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `python main.py fetch-hed`")
    state = load_file(str(path))
    found = {key: tuple(tensor.shape) for key, tensor in state.items()}
    if found != shapes:
        missing = sorted(set(shapes) - set(found))
        unexpected = sorted(set(found) - set(shapes))
        wrong = sorted(key for key in set(found) & set(shapes) if found[key] != shapes[key])
        raise ValueError(
            f"{path.name} does not match the network: missing {missing}, unexpected {unexpected}, "
            f"wrong shape {wrong}"
        )
    network.load_state_dict(state)


def load_hed(path: Path, device: str | torch.device = "cpu") -> HED:
    """A HED network in eval mode with the weights in ``path``."""
    network = HED()
    load_checked(network, path, expected_shapes(all_layers()))
    return network.eval().to(device)
