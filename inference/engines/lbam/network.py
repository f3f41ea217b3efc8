"""LBAM generator (Xie et al., ICCV 2019: learnable bidirectional attention maps).

Written from /work/shared/specs/lbam.md. A U-Net without bottleneck: seven encoder stages of
4×4 stride-2 bias-free convolutions gated by *forward* attention maps computed from the known-pixel
mask, six decoder stages of transposed convolutions whose skip half is gated by the forward map
and whose upsampled half by a *reverse* attention map computed from the hole mask.

Conventions (spec §2): RGB in [0, 1]; inside the network ``M = 1`` marks known pixels; the mask is
a 3-channel tensor; the 4-channel input is ``cat(image * M, M[:, :1])``; H and W are multiples of
128. Parameter and buffer names equal the published ``state_dict`` (``lbam_keys.json``), so the
authors' files load with ``strict=True``. ``width`` scales every channel count (1 = published).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import nn

VARIANTS = ("current", "batchnorm")
SIZE_MULTIPLE = 128  # 7 stride-2 stages, and every decoder stage must meet its skip exactly
ENCODER_CHANNELS = (64, 128, 256, 512, 512, 512, 512)
MASK_UPDATE_EXPONENT = 0.8
LEAKY_SLOPE = 0.2
# (a, mu, sigma1, sigma2) initial values, spec §3.1.
FORWARD_GAUSS_INIT = (1.1, 2.0, 1.0, 1.0)
REVERSE_GAUSS_INIT = (1.1, 1.0, 0.5, 0.5)
# Clamp ranges applied in place before every use and after loading (spec §3.1).
GAUSS_CLAMP = {"a": (1.01, 6.0), "mu": (0.1, 3.0), "sigma1": (0.5, 2.0), "sigma2": (0.5, 2.0)}


@dataclass(frozen=True)
class LBAMConfig:
    """``width`` multiplies every channel count and must be a positive multiple of 1/64, so each
    layer keeps an exact integer width and the width can be read back from the first layer."""

    width: float = 1.0
    variant: str = "current"

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        check_width(self.width)

    @property
    def batchnorm(self) -> bool:
        return self.variant == "batchnorm"

    @property
    def encoder_channels(self) -> tuple[int, ...]:
        return scaled_channels(ENCODER_CHANNELS, self.width)


def check_width(width: float) -> None:
    units = width * 64
    if not (width > 0 and abs(units - round(units)) < 1e-9):
        raise ValueError(f"width must be a positive multiple of 1/64 (1 = published), got {width}")


def scaled_channels(channels: tuple[int, ...], width: float) -> tuple[int, ...]:
    factor = Fraction(round(width * 64), 64)
    return tuple(int(c * factor) for c in channels)


def conv4x4(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=4, stride=2, padding=1, bias=False)


def conv_transpose4x4(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1, bias=False)


class GaussActivation(nn.Module):
    """Asymmetric Gaussian g_A: ``a·exp(−σ1(x−μ)²)`` left of μ, ``1 + (a−1)·exp(−σ2(x−μ)²)`` from μ on.

    ``sigma1`` / ``sigma2`` are the left/right sharpness coefficients (γ_l, γ_r in the paper).
    Like the reference code, the parameters are clamped *in place* (not through autograd) before
    each use, so an optimiser step that leaves the range is pulled back and gradients are taken at
    the clamped value.
    """

    def __init__(self, a: float, mu: float, sigma1: float, sigma2: float) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(float(a)))
        self.mu = nn.Parameter(torch.tensor(float(mu)))
        self.sigma1 = nn.Parameter(torch.tensor(float(sigma1)))
        self.sigma2 = nn.Parameter(torch.tensor(float(sigma2)))
        self.register_load_state_dict_post_hook(_clamp_after_load)

    def clamp_parameters(self) -> None:
        with torch.no_grad():
            for name, (low, high) in GAUSS_CLAMP.items():
                getattr(self, name).clamp_(low, high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.clamp_parameters()
        squared = (x - self.mu) ** 2
        left = self.a * torch.exp(-self.sigma1 * squared)
        right = 1 + (self.a - 1) * torch.exp(-self.sigma2 * squared)
        return torch.where(x < self.mu, left, right)


def _clamp_after_load(module: nn.Module, _incompatible_keys: object) -> None:
    module.clamp_parameters()


def mask_update(x: torch.Tensor) -> torch.Tensor:
    """g_M(x) = ReLU(x)^0.8 (out of place: g_A has to see the raw mask convolution too)."""
    return torch.relu(x) ** MASK_UPDATE_EXPONENT


class ForwardAttentionConv(nn.Module):
    """Feature conv and learnable mask conv of one encoder stage (keys ``ecN.conv.*``)."""

    def __init__(self, cin: int, cmask: int, cout: int) -> None:
        super().__init__()
        self.conv = conv4x4(cin, cout)
        self.maskConv = conv4x4(cmask, cout)
        self.activationFuncG_A = GaussActivation(*FORWARD_GAUSS_INIT)


class EncoderStage(nn.Module):
    """Forward attention stage: returns (features, next mask, raw conv skip, forward attention map)."""

    def __init__(self, cin: int, cmask: int, cout: int, batchnorm: bool) -> None:
        super().__init__()
        self.conv = ForwardAttentionConv(cin, cmask, cout)
        if batchnorm:
            self.bn = nn.BatchNorm2d(cout)
        self.activation = nn.LeakyReLU(LEAKY_SLOPE)

    def forward(
        self, features: torch.Tensor, mask: torch.Tensor, update_mask: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor]:
        raw = self.conv.conv(features)
        mask_features = self.conv.maskConv(mask)
        attention = self.conv.activationFuncG_A(mask_features)
        gated = raw * attention
        if hasattr(self, "bn"):
            gated = self.bn(gated)
        next_mask = mask_update(mask_features) if update_mask else None
        return self.activation(gated), next_mask, raw, attention


class ReverseMaskStage(nn.Module):
    """Reverse attention map from the (soft) hole mask: returns (attention map, next hole mask)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.reverseMaskConv = conv4x4(cin, cout)
        self.activationFuncG_A = GaussActivation(*REVERSE_GAUSS_INIT)

    def forward(
        self, hole: torch.Tensor, update_mask: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        mask_features = self.reverseMaskConv(hole)
        attention = self.activationFuncG_A(mask_features)
        return attention, (mask_update(mask_features) if update_mask else None)


class DecoderStage(nn.Module):
    """Reverse attention stage: upsample, put the encoder skip first, gate both halves, activate."""

    def __init__(self, cin: int, cout: int, batchnorm: bool) -> None:
        super().__init__()
        self.conv = conv_transpose4x4(cin, cout)
        if batchnorm:
            self.bn = nn.BatchNorm2d(2 * cout)
        self.activation = nn.LeakyReLU(LEAKY_SLOPE)

    def forward(
        self, skip: torch.Tensor, decoded: torch.Tensor, attention: torch.Tensor
    ) -> torch.Tensor:
        gated = torch.cat((skip, self.conv(decoded)), dim=1) * attention
        if hasattr(self, "bn"):
            gated = self.bn(gated)
        return self.activation(gated)


class LBAMGenerator(nn.Module):
    """``forward(inputs, mask)`` → raw output [B,3,H,W] in [0,1] (compose with :func:`compose`).

    ``inputs`` = ``cat(image * M, M[:, :1])`` [B,4,H,W]; ``mask`` = M [B,3,H,W], 1 = known.
    """

    def __init__(self, config: LBAMConfig | None = None) -> None:
        super().__init__()
        self.config = config or LBAMConfig()
        enc = self.config.encoder_channels
        bn = self.config.batchnorm
        # ec1 sees the 4-channel input and the 3-channel mask and never had BatchNorm.
        self.ec1 = EncoderStage(4, 3, enc[0], batchnorm=False)
        for index in range(1, 7):
            setattr(self, f"ec{index + 1}", EncoderStage(enc[index - 1], enc[index - 1], enc[index], bn))
        self.reverseConv1 = ReverseMaskStage(3, enc[0])
        for index in range(1, 6):
            setattr(self, f"reverseConv{index + 1}", ReverseMaskStage(enc[index - 1], enc[index]))
        # dcK outputs as many channels as its skip (Fc of ec(7−K)); its input is the previous
        # stage's concatenation (twice that stage's output), or ec7's features for dc1.
        self.dc1 = DecoderStage(enc[6], enc[5], bn)
        for k in range(2, 7):
            setattr(self, f"dc{k}", DecoderStage(2 * enc[7 - k], enc[6 - k], bn))
        self.dc7 = conv_transpose4x4(2 * enc[0], 3)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        check_input_shapes(inputs, mask)
        features, soft_mask = inputs, mask
        skips, forward_maps = [], []
        for index in range(1, 8):
            stage = getattr(self, f"ec{index}")
            # ec7's mask update and forward map are never consumed (spec §4), so skip the former.
            features, soft_mask, raw, attention = stage(features, soft_mask, update_mask=index < 7)
            skips.append(raw)
            forward_maps.append(attention)
        hole = 1 - mask
        reverse_maps = []
        for index in range(1, 7):
            attention, hole = getattr(self, f"reverseConv{index}")(hole, update_mask=index < 6)
            reverse_maps.append(attention)
        decoded = features
        for k in range(1, 7):
            level = 6 - k  # dc1 meets ec6 / reverseConv6, ..., dc6 meets ec1 / reverseConv1
            attention = torch.cat((forward_maps[level], reverse_maps[level]), dim=1)
            decoded = getattr(self, f"dc{k}")(skips[level], decoded, attention)
        logits = torch.tanh(self.dc7(decoded))
        if self.config.batchnorm:
            return torch.abs(logits)  # the earlier code's head
        return (logits + 1) / 2


def check_input_shapes(inputs: torch.Tensor, mask: torch.Tensor) -> None:
    if inputs.ndim != 4 or inputs.shape[1] != 4:
        raise ValueError(f"inputs must be [B,4,H,W], got {tuple(inputs.shape)}")
    if mask.shape != (inputs.shape[0], 3, *inputs.shape[2:]):
        raise ValueError(f"mask must be [B,3,H,W] matching inputs, got {tuple(mask.shape)}")
    height, width = inputs.shape[2:]
    if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(
            f"LBAM needs H and W to be multiples of {SIZE_MULTIPLE}, got {height}x{width} "
            "(pad or resize before calling the network)"
        )


def network_inputs(image: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, mask) for the network from an RGB batch in [0,1] and a known-pixel mask.

    ``known`` is [B,1,H,W] or [B,3,H,W] with 1 = known; holes in the input become black.
    """
    mask = known.expand(-1, 3, -1, -1) if known.shape[1] == 1 else known
    mask = mask.to(image.dtype)
    return torch.cat((image * mask, mask[:, :1]), dim=1), mask


def compose(output: torch.Tensor, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Network output in the hole, the input's known pixels elsewhere (spec §2)."""
    return output * (1 - mask) + inputs[:, :3] * mask


def build_generator(width: float = 1.0, variant: str = "current", seed: int | None = None) -> LBAMGenerator:
    """A generator with the given width and variant; ``seed`` makes the random init reproducible."""
    if seed is not None:
        torch.manual_seed(seed)
    return LBAMGenerator(LBAMConfig(width=width, variant=variant))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = [
    "ENCODER_CHANNELS", "GAUSS_CLAMP", "SIZE_MULTIPLE", "VARIANTS", "GaussActivation", "LBAMConfig",
    "LBAMGenerator", "build_generator", "check_width", "compose", "mask_update", "network_inputs",
    "parameter_count", "scaled_channels",
]
