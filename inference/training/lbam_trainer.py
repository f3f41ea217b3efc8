"""Training LBAM with its published losses and optimisers (lbam.md §6, §7), at a reduced ``width``.

* Generator: our LBAM at ``width`` (default 0.5: 17 M parameters, a 34 MB fp16 file, under the
  40 MB we ship), RGB in [0, 1], the mask as known-pixel map (1 = known).
* Generator loss: 6 · hole L1 + 1 · valid L1 + 0.01 · perceptual + 120 · style on the pool1..pool3
  features of a frozen VGG16 trunk (HED's, see :mod:`inference.training.losses`), for both the raw
  output and the composite, + 0.1 · adversarial (standard WGAN sign, see ``lbam_adversarial``).
* Discriminator: the two-column LBAM discriminator at the same width, WGAN loss with gradient
  penalty 10. Adam: G lr 1e-4 betas (0.5, 0.9); D lr 1e-5 betas (0.0, 0.9). One D step per G step.
* One Mask per image (LBAM has no batch-wide layer), hole ratios spread over 5–60 %; no Guide.
"""

from __future__ import annotations

from typing import Any

import torch

from inference.engines.lbam.discriminator import LBAMDiscriminator
from inference.engines.lbam.network import LBAMConfig, LBAMGenerator, compose, network_inputs
from inference.training.losses import (
    feature_network,
    lbam_adversarial,
    lbam_generator_losses,
    wgan_gp_discriminator_loss,
)
from inference.training.runtime import Trainer, guide_panel
from inference.training.sampling import BatchSpec, CropSpec

DEFAULTS: dict[str, Any] = {
    "model": "lbam",
    "batch": 16,
    "size": 256,
    "seed": 0,
    "min_scale": 0.3,
    "max_scale": 1.0,
    "category_weights": None,
    "width": 0.5,
    "variant": "current",
    "lr_generator": 1e-4,
    "betas_generator": [0.5, 0.9],
    "lr_discriminator": 1e-5,
    "betas_discriminator": [0.0, 0.9],
}
# LBAM needs multiples of 128, and its discriminator's 4x4 fusion layer needs >= 256 px.
SMOKE: dict[str, Any] = {"batch": 2, "size": 256, "width": 1 / 16}


class LBAMTrainer(Trainer):
    kind = "lbam"

    def __init__(self, settings, data, options) -> None:
        super().__init__(settings, data, options)
        self.config = LBAMConfig(width=float(settings["width"]), variant=settings["variant"])
        self.generator = self.place(LBAMGenerator(self.config))
        self.discriminator = self.place(LBAMDiscriminator(3, width=float(settings["width"])))
        features, self.features_note = feature_network(data.folder, bool(settings.get("smoke")))
        self.features = self.place(features)
        self.optimizers = {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=settings["lr_generator"],
                                          betas=tuple(settings["betas_generator"])),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=settings["lr_discriminator"],
                                              betas=tuple(settings["betas_discriminator"])),
        }

    def compile_targets(self) -> tuple[str, ...]:
        # The gradient penalty differentiates through the discriminator twice, which compiled
        # modules do not support; the generator and the frozen feature trunk compile fine.
        return ("generator", "features")

    def sync_batchnorm_targets(self) -> tuple[str, ...]:
        # The gradient penalty differentiates through the discriminator twice, which SyncBatchNorm
        # does not support: its BatchNorm stays per rank (see inference.training.distributed).
        return ("generator",)

    def batch_spec(self) -> BatchSpec:
        s = self.settings
        crop = CropSpec(int(s["size"]), float(s["min_scale"]), float(s["max_scale"]))
        return BatchSpec(int(s["batch"]), crop, int(s["seed"]), shared_mask=False, guides=None)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        truth = batch["images"]
        known = 1.0 - batch["masks"]
        inputs, known3 = network_inputs(truth, known)
        with self.autocast():
            output = self.run("generator")(inputs, known3).float()
        composite = compose(output, inputs, known3)

        with self.autocast():
            critic = wgan_gp_discriminator_loss(self.run("discriminator"), truth, output.detach(), known3)
        d_loss = critic["d_wasserstein"] + critic["d_penalty"]
        self.update("discriminator", d_loss)

        self.discriminator.requires_grad_(False)
        try:
            with self.autocast():
                losses = lbam_generator_losses(output, composite, truth, known, self.run("features"))
                losses["adversarial"] = lbam_adversarial(self.discriminator(output, known3))
            g_loss = sum(losses.values())
            self.update("generator", g_loss)
        finally:
            self.discriminator.requires_grad_(True)
        logged = {f"g_{name}": value.detach() for name, value in losses.items()}
        logged.update({"g_total": g_loss.detach(), **{k: v.detach() for k, v in critic.items()}})
        return logged

    @torch.no_grad()
    def render(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        truth, mask = batch["images"], batch["masks"]
        inputs, known3 = network_inputs(truth, 1.0 - mask)
        with self.autocast():
            output = self.generator(inputs, known3).float()
        composite = compose(output, inputs, known3)
        return {
            "input": truth * (1 - mask) + 0.5 * mask,
            "guide": guide_panel(truth, mask, torch.zeros_like(mask)),
            "coarse": output,
            "refined": composite,
            "truth": truth,
            "result": composite,
        }

    preview_labels = {"guide": "(no guide)", "coarse": "output", "refined": "composite"}

    def card_fields(self) -> dict[str, Any]:
        return {
            "architecture": "lbam",
            "layout": "lbam_pytorch",
            "variant": self.config.variant,
            "width": self.config.width,
            "feature_network": self.features_note,
        }
