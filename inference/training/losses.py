"""Training losses: DeepFill v2's (deepfill_v2.md §10) and LBAM's (lbam.md §7).

DeepFill's hinge GAN losses live with its discriminator (``inference.engines.deepfill.discriminator``);
this module adds the reconstruction term. LBAM's perceptual and style terms read three feature maps
of a frozen network: HED's VGG16 trunk (ImageNet VGG16 weights cannot be had here; HED's backbone
was initialised from them and then tuned for edges), or, in smoke runs, a tiny random stand-in.
Losses are computed in float32 even when the networks run under bf16 autocast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# DeepFill v2 inpaint.yml
DEEPFILL_L1_ALPHA = 1.0
DEEPFILL_GAN_ALPHA = 1.0


def deepfill_reconstruction(truth: torch.Tensor, coarse: torch.Tensor, refined: torch.Tensor) -> torch.Tensor:
    """l1_loss_alpha · (mean|truth − coarse| + mean|truth − refined|), means over the whole image."""
    truth = truth.float()
    return DEEPFILL_L1_ALPHA * ((truth - coarse.float()).abs().mean() + (truth - refined.float()).abs().mean())


@dataclass(frozen=True)
class LBAMWeights:
    """Loss weights of LBAM's InpaintingLoss and train.py (spec §7)."""

    hole: float = 6.0
    valid: float = 1.0
    perceptual: float = 0.01
    style: float = 120.0
    adversarial: float = 0.1
    gradient_penalty: float = 10.0


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix G = F Fᵀ / (C·H·W) per image, in float32."""
    batch, channels, height, width = features.shape
    flat = features.float().reshape(batch, channels, height * width)
    return flat @ flat.transpose(1, 2) / (channels * height * width)


def lbam_generator_losses(
    output: torch.Tensor,
    composite: torch.Tensor,
    truth: torch.Tensor,
    known: torch.Tensor,
    features: nn.Module,
    weights: LBAMWeights = LBAMWeights(),
) -> dict[str, torch.Tensor]:
    """The reconstruction, perceptual and style terms (weighted), images RGB in [0, 1], ``known`` 1 = known."""
    output, composite, truth, known = output.float(), composite.float(), truth.float(), known.float()
    hole = 1.0 - known
    losses = {
        "hole": weights.hole * F.l1_loss(hole * output, hole * truth),
        "valid": weights.valid * F.l1_loss(known * output, known * truth),
    }
    batch = truth.shape[0]
    with torch.no_grad():
        truth_features = [f.float() for f in features(truth)]
    both = features(torch.cat([output, composite], dim=0))
    perceptual = output.new_zeros(())
    style = output.new_zeros(())
    for mixed, target in zip(both, truth_features, strict=True):
        mixed = mixed.float()
        target_gram = gram(target)
        for part in (mixed[:batch], mixed[batch:]):
            perceptual = perceptual + F.l1_loss(part, target)
            style = style + F.l1_loss(gram(part), target_gram)
    losses["perceptual"] = weights.perceptual * perceptual
    losses["style"] = weights.style * style
    return losses


def wgan_gp_discriminator_loss(
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    known: torch.Tensor,
    weights: LBAMWeights = LBAMWeights(),
) -> dict[str, torch.Tensor]:
    """mean D(fake) − mean D(real) + λ·mean((‖∇D(x̂)‖₂ − 1)²) on per-sample interpolates (spec §7)."""
    real_scores = discriminator(real, known).float()
    fake_scores = discriminator(fake, known).float()
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    mixed_scores = discriminator(mixed, known).float()
    (gradient,) = torch.autograd.grad(mixed_scores.sum(), mixed, create_graph=True)
    penalty = ((gradient.float().flatten(1).norm(dim=1) - 1.0) ** 2).mean()
    return {
        "d_wasserstein": fake_scores.mean() - real_scores.mean(),
        "d_penalty": weights.gradient_penalty * penalty,
    }


def lbam_adversarial(fake_scores: torch.Tensor, weights: LBAMWeights = LBAMWeights()) -> torch.Tensor:
    """The generator's adversarial term, −0.1 · mean D(output).

    Upstream adds +0.1 · mean D(output) while its discriminator learns to make D(fake) small, so
    its generator term helps the discriminator (spec §7 flags the sign). We use the standard WGAN
    sign, which pushes the generator's output towards what the discriminator scores as real.
    """
    return -weights.adversarial * fake_scores.float().mean()


# Mean activation of the HED trunk's pool1, pool2, pool3 on photos (64 validation crops of the
# ../shared/data/train pack, 256 px, measured once). LBAM's weights (0.01, 120) were set for
# torchvision's VGG16; HED's trunk works on Caffe-scaled input and its layers differ in scale by 6x,
# so each layer is divided by its mean to weigh the three layers alike, as upstream's features do.
HED_TRUNK_FEATURE_MEANS = (24.4, 5.6, 4.2)


class ScaledFeatures(nn.Module):
    """A frozen feature network whose i-th output is divided by ``scales[i]``."""

    def __init__(self, trunk: nn.Module, scales: tuple[float, ...]) -> None:
        super().__init__()
        self.trunk = trunk
        self.scales = scales
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb01: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(f / scale for f, scale in zip(self.trunk(rgb01), self.scales, strict=True))


class TinyFeatures(nn.Module):
    """A small frozen random conv trunk with the VGG trunk's interface (three pooled feature maps),
    so smoke runs exercise the perceptual and style losses without VGG weights or VGG's cost."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 3, padding=1)
                                   for c_in, c_out in ((3, 8), (8, 16), (16, 32)))
        with torch.no_grad():
            for conv in self.convs:
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * 0.2)
                conv.bias.zero_()
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb01: torch.Tensor) -> tuple[torch.Tensor, ...]:
        pooled = []
        features = rgb01
        for conv in self.convs:
            features = F.max_pool2d(F.relu(conv(features)), 2)
            pooled.append(features)
        return tuple(pooled)


def feature_network(pack_folder: Path, smoke: bool) -> tuple[nn.Module, str]:
    """(frozen feature network, description for the model card)."""
    if smoke:
        return TinyFeatures(), "tiny random conv trunk (smoke run only)"
    from inference.edges.layout import trunk_weights_path
    from inference.edges.network import VGGTrunk
    from inference.training.pack import TRUNK_NAME

    candidates = [Path(pack_folder) / TRUNK_NAME, trunk_weights_path()]
    for path in candidates:
        if path.is_file():
            return ScaledFeatures(VGGTrunk.from_file(path), HED_TRUNK_FEATURE_MEANS), (
                "HED's VGG16 conv1_1..conv3_3 (ImageNet-initialised, then tuned for edges on BSDS500), "
                f"pool1..pool3 features divided by their mean activations {HED_TRUNK_FEATURE_MEANS}; "
                "ImageNet VGG16 weights were not available"
            )
    raise FileNotFoundError(
        "LBAM's perceptual/style losses need the VGG16 trunk: none in the pack "
        f"({candidates[0]}) or in weights/ ({candidates[1]}); run `python main.py fetch-hed` and rebuild the pack"
    )
