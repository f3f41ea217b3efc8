"""SN-PatchGAN discriminator of DeepFill v2 (spec §9), for training.

Six 5x5 stride-2 convolutions (64, 128, 256, 256, 256, 256 channels), each spectrally normalised
with one power iteration per forward, LeakyReLU(0.2) after each, output flattened to
``[B, 256·(H/64)·(W/64)]``. Input: image (3) + mask (1) = 4 channels, or + edge = 5 when guided.
State-dict keys equal nipponjo's: ``convN.conv_sn.weight``, ``.bias`` and the buffer ``.weight_u``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inference.engines.deepfill.layers import tf_same_padding

CHANNELS = (64, 128, 256, 256, 256, 256)
KERNEL, STRIDE = 5, 2
LEAKY_SLOPE = 0.2
_EPSILON = 1e-12


def _l2_normalised(x: torch.Tensor) -> torch.Tensor:
    return x / (x.norm() + _EPSILON)


class SpectralNormConv(nn.Module):
    """A 5x5 stride-2 convolution whose kernel is divided by its largest singular value.

    ``weight_u`` ``[out, 1]`` is the persistent power-iteration vector (TF's ``u`` transposed). The
    kernel is viewed as a matrix ``[out, in·kH·kW]``; the singular value does not depend on the
    order of its columns, so this equals TF's ``[kH·kW·in, out]`` view.
    """

    def __init__(self, in_channels: int, out_channels: int, mode: str = "tf") -> None:
        super().__init__()
        self.mode = mode
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KERNEL, KERNEL))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("weight_u", torch.empty(out_channels, 1))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        nn.init.trunc_normal_(self.weight_u, std=1.0, a=-2.0, b=2.0)

    def normalised_weight(self) -> torch.Tensor:
        matrix = self.weight.reshape(self.weight.shape[0], -1)
        with torch.no_grad():
            u = self.weight_u.t()  # [1, out]
            v = _l2_normalised(u @ matrix)  # [1, K]
            u = _l2_normalised(v @ matrix.t())  # [1, out]
            if not torch.is_inference_mode_enabled():
                self.weight_u.copy_(u.t())
        sigma = (v @ matrix.t() @ u.t()).squeeze()
        return self.weight / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "tf":
            top, bottom = tf_same_padding(x.shape[-2], KERNEL, STRIDE, 1)
            left, right = tf_same_padding(x.shape[-1], KERNEL, STRIDE, 1)
            x = F.pad(x, (left, right, top, bottom))
            return F.conv2d(x, self.normalised_weight(), self.bias, stride=STRIDE)
        return F.conv2d(x, self.normalised_weight(), self.bias, stride=STRIDE, padding=KERNEL // 2)


class _DiscriminatorLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, mode: str) -> None:
        super().__init__()
        self.conv_sn = SpectralNormConv(in_channels, out_channels, mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv_sn(x), LEAKY_SLOPE)


class Discriminator(nn.Module):
    """``forward(x) -> [B, 256·(H/64)·(W/64)]``; x = cat(image, mask) (+ edge when guided).

    ``mode`` "tf" pads like TF SAME (1 before, 2 after on even sizes), "pt" pads 2 on every side.
    """

    def __init__(self, in_channels: int = 4, mode: str = "tf") -> None:
        super().__init__()
        if in_channels not in (4, 5):
            raise ValueError(f"in_channels must be 4 (image+mask) or 5 (guided), got {in_channels}")
        widths = (in_channels, *CHANNELS)
        for index in range(len(CHANNELS)):
            self.add_module(f"conv{index + 1}", _DiscriminatorLayer(widths[index], widths[index + 1], mode))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.children():
            x = layer(x)
        return x.flatten(1)


def hinge_losses(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(discriminator loss, generator loss) of spec §10; ``fake_scores`` must carry the generator's
    gradient for the generator loss and be detached by the caller for the discriminator loss."""
    d_loss = 0.5 * F.relu(1.0 - real_scores).mean() + 0.5 * F.relu(1.0 + fake_scores).mean()
    g_loss = -fake_scores.mean()
    return d_loss, g_loss
