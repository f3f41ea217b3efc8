"""LBAM's two-column discriminator (training only; spec /work/shared/specs/lbam.md §6).

One column looks at the known region (``image * M``), the other at the hole region
(``image * (1 − M)``); their 512-channel maps at H/64 are concatenated and fused by a 4×4
convolution without padding and a sigmoid, one value per 256×256 image. Parameter names equal
the published ``DiscriminatorDoubleColumn`` (``globalConv.N``, ``localConv.N``, ``fusionLayer.0``).
"""

from __future__ import annotations

import torch
from torch import nn

from inference.engines.lbam.network import check_width, scaled_channels

COLUMN_CHANNELS = (64, 128, 256, 512, 512, 512)
LEAKY_SLOPE = 0.2


def _column(input_channels: int, channels: tuple[int, ...]) -> nn.Sequential:
    """Six 4×4 stride-2 convolutions with bias; BatchNorm on all but the first (indices as upstream)."""
    layers: list[nn.Module] = [
        nn.Conv2d(input_channels, channels[0], 4, stride=2, padding=1),
        nn.LeakyReLU(LEAKY_SLOPE),
    ]
    for cin, cout in zip(channels, channels[1:], strict=False):
        layers += [
            nn.Conv2d(cin, cout, 4, stride=2, padding=1),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(LEAKY_SLOPE),
        ]
    return nn.Sequential(*layers)


class LBAMDiscriminator(nn.Module):
    """``forward(image, mask)`` → [B, N] scores in (0, 1); ``mask`` 1 = known, 1 or 3 channels.

    ``width`` scales the column channels like the generator's (1 = published, 22,316,417 parameters).
    """

    def __init__(self, input_channels: int = 3, width: float = 1.0) -> None:
        super().__init__()
        check_width(width)
        channels = scaled_channels(COLUMN_CHANNELS, width)
        self.globalConv = _column(input_channels, channels)
        self.localConv = _column(input_channels, channels)
        self.fusionLayer = nn.Sequential(nn.Conv2d(2 * channels[-1], 1, kernel_size=4), nn.Sigmoid())

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        known = self.globalConv(image * mask)
        hole = self.localConv(image * (1 - mask))
        return self.fusionLayer(torch.cat((known, hole), dim=1)).flatten(1)


__all__ = ["LBAMDiscriminator"]
