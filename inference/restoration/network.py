"""The defect detector: a small U-Net that marks scratches, cracks, dust, stains and torn corners.

Built from a :class:`DetectorConfig` (the model card carries it), so tests can build it with random
weights at any width. Input: the Image as RGB in [-1, 1] plus three hint channels: the Stroke a
person painted (zeros when the whole photo is searched), a constant that says which of the two it
is, and the photo's own outermost pixels (so that a crop's cut edge does not look like a print's).
Output: one logit per damage kind and pixel.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from inference.restoration.synthetic import KINDS as DAMAGE_KINDS  # the kinds the renderer draws

HINT_CHANNELS = 3  # the Stroke; 1 when a Stroke is given (0: the whole photo); the photo's own border


@dataclass(frozen=True)
class DetectorConfig:
    """What the model card says about the network; the same config always builds the same layers."""

    widths: tuple[int, ...] = (16, 32, 48, 64)
    kinds: tuple[str, ...] = DAMAGE_KINDS

    @property
    def multiple(self) -> int:
        """Input sides must be a multiple of this (callers pad)."""
        return 2 ** (len(self.widths) - 1)

    def to_card(self) -> dict:
        return {key: list(value) for key, value in asdict(self).items()}

    @classmethod
    def from_card(cls, card: dict) -> DetectorConfig:
        try:
            widths = tuple(int(w) for w in card["widths"])
            kinds = tuple(str(k) for k in card["kinds"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"the detector's model card lacks widths/kinds: {error}") from None
        if len(widths) < 2 or min(widths) < 1 or not kinds:
            raise ValueError(f"the detector's model card has unusable widths {widths} or kinds {kinds}")
        return cls(widths, kinds)


def _pair(inputs: int, outputs: int) -> nn.Sequential:
    # Batch norm: without it, training from scratch on a CPU's small batches diverged once in 700 steps.
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs),
                         nn.LeakyReLU(0.1, inplace=True),
                         nn.Conv2d(outputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs),
                         nn.LeakyReLU(0.1, inplace=True))


class DefectNet(nn.Module):
    """U-Net: ``len(widths)`` levels of two 3x3 convolutions with batch norm, bilinear upsampling, skip concatenation."""

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        super().__init__()
        self.config = config
        widths = config.widths
        self.down = nn.ModuleList()
        inputs = 3 + HINT_CHANNELS
        for width in widths:
            self.down.append(_pair(inputs, width))
            inputs = width
        self.up = nn.ModuleList(_pair(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1)))
        self.head = nn.Conv2d(widths[0], len(config.kinds), 1)

    def forward(self, image: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        """``image`` (N, 3, H, W) in [-1, 1], ``hint`` (N, 3, H, W); H and W multiples of ``config.multiple``."""
        x = torch.cat([image, hint], 1)
        skips = []
        for index, block in enumerate(self.down):
            if index:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        return self.head(x)


def fused(network: DefectNet) -> DefectNet:
    """An inference copy of ``network`` with each batch norm folded into the convolution before it.

    Same outputs (to float rounding), about a fifth less time on a CPU: the detectors run on the
    UI thread for the Scratch brush. The original keeps its layout, so its state dict still loads
    and saves as the model card describes.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    quick = copy.deepcopy(network).eval()
    for pair in (*quick.down, *quick.up):
        for conv_at in (0, 3):
            pair[conv_at] = fuse_conv_bn_eval(pair[conv_at], pair[conv_at + 1])
            pair[conv_at + 1] = nn.Identity()
    return quick


def hints(stroke: torch.Tensor, modes: torch.Tensor, border: torch.Tensor) -> torch.Tensor:
    """The (N, 3, H, W) hint from Strokes (N, H, W), modes (N,) and photo-border maps (N, H, W)."""
    mode = modes.to(stroke.dtype).view(-1, 1, 1, 1).expand(-1, 1, *stroke.shape[-2:])
    return torch.cat([stroke.unsqueeze(1), mode, border.to(stroke.dtype).unsqueeze(1)], 1)


def image_tensor(images: torch.Tensor) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float in [-1, 1]."""
    return images.permute(0, 3, 1, 2).float() / 127.5 - 1.0

