"""Training DeepFill v2 guided (6-channel input) with the official recipe (deepfill_v2.md §7, §9, §10).

* Generator: our DeepFill v2 in "pt" mode (symmetric padding, plain nearest resampling; the faster
  of the two, and the one the engine runs for RGB weights), RGB in [-1, 1], input
  [x_in, edge·mask, ones, mask]; stage 2 sees only the image.
* Loss: l1 on the coarse and the refined output over the whole image (alpha 1 each) + hinge GAN
  term −mean D(completed) (alpha 1).
* Discriminator: SN-PatchGAN on [image, mask, edge] (5 channels): real and completed images go
  through it stacked in one batch, as upstream; hinge loss.
* Adam lr 1e-4, betas (0.5, 0.999), one D step per G step.
* One Mask per batch, shared by its images: contextual attention uses batch element 0's Mask for
  the whole batch (upstream rule kept by the network), and upstream trained that way too. Hole
  ratios still spread over 5–60 % across batches; each image gets its own Guide.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch

from inference.engines.deepfill.discriminator import Discriminator, hinge_losses
from inference.engines.deepfill.network import Generator, GeneratorConfig
from inference.training.guides import GuideStyle
from inference.training.losses import DEEPFILL_GAN_ALPHA, deepfill_reconstruction
from inference.training.runtime import Trainer, guide_panel
from inference.training.sampling import BatchSpec, CropSpec

DEFAULTS: dict[str, Any] = {
    "model": "deepfill",
    "batch": 16,
    "size": 256,
    "seed": 0,
    "min_scale": 0.3,
    "max_scale": 1.0,
    "category_weights": None,
    "input_channels": 6,
    "mode": "pt",
    "layout": "states_pt",
    "fuse": True,
    "lr": 1e-4,
    "betas": [0.5, 0.999],
    "guide_style": asdict(GuideStyle()),
}
SMOKE: dict[str, Any] = {"batch": 2, "size": 64}


class DeepFillTrainer(Trainer):
    kind = "deepfill"

    def __init__(self, settings, data, options) -> None:
        super().__init__(settings, data, options)
        self.config = GeneratorConfig(
            input_channels=int(settings["input_channels"]), mode=settings["mode"],
            layout=settings["layout"], fuse=bool(settings["fuse"]),
        )
        self.guided = self.config.guided
        self.generator = self.place(Generator(self.config))
        self.discriminator = self.place(Discriminator(5 if self.guided else 4, mode=settings["mode"]))
        betas = tuple(settings["betas"])
        self.optimizers = {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=settings["lr"], betas=betas),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=settings["lr"], betas=betas),
        }

    def batch_spec(self) -> BatchSpec:
        s = self.settings
        guides = GuideStyle(**{**s["guide_style"], "drop_range": tuple(s["guide_style"]["drop_range"]),
                               "thin_widths": tuple(s["guide_style"]["thin_widths"])})
        crop = CropSpec(int(s["size"]), float(s["min_scale"]), float(s["max_scale"]))
        return BatchSpec(int(s["batch"]), crop, int(s["seed"]), shared_mask=True,
                         guides=guides if self.guided else None)

    def _inputs(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        image = batch["images"] * 2.0 - 1.0
        mask = batch["masks"]
        edge = batch["guides"] * mask if self.guided else None
        return image, mask, edge

    def _critic_input(self, image: torch.Tensor, mask: torch.Tensor, edge: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([image, mask] if edge is None else [image, mask, edge], dim=1)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        image, mask, edge = self._inputs(batch)
        generator, critic = self.run("generator"), self.run("discriminator")
        with self.autocast():
            coarse, refined = generator(image, mask, edge)
        completed = Generator.complete(refined.float(), image, mask)

        # Discriminator step: real and completed images stacked on the batch axis, one forward.
        stacked = torch.cat([self._critic_input(image, mask, edge),
                             self._critic_input(completed.detach(), mask, edge)])
        with self.autocast():
            scores = critic(stacked).float()
        real_scores, fake_scores = scores.chunk(2)
        d_loss, _ = hinge_losses(real_scores, fake_scores)
        self.update("discriminator", d_loss)

        # Generator step against the updated discriminator (whose weights get no gradient here).
        self.discriminator.requires_grad_(False)
        try:
            # Not through DDP: the discriminator gets no gradient here, so there is nothing to reduce.
            with self.autocast():
                fake_for_generator = self.run("discriminator", synced=False)(
                    self._critic_input(completed, mask, edge)).float()
            _, g_adversarial = hinge_losses(real_scores.detach(), fake_for_generator)
            reconstruction = deepfill_reconstruction(image, coarse, refined)
            g_loss = DEEPFILL_GAN_ALPHA * g_adversarial + reconstruction
            self.update("generator", g_loss)
        finally:
            self.discriminator.requires_grad_(True)
        return {
            "g_total": g_loss.detach(), "g_l1": reconstruction.detach(),
            "g_adversarial": g_adversarial.detach(), "d_hinge": d_loss.detach(),
        }

    @torch.no_grad()
    def render(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        image, mask, edge = self._inputs(batch)
        with self.autocast():
            coarse, refined = self.generator(image, mask, edge)

        def shown(x: torch.Tensor) -> torch.Tensor:
            return (Generator.complete(x.float(), image, mask) + 1.0) * 0.5

        truth = batch["images"]
        return {
            "input": truth * (1 - mask) + 0.5 * mask,
            "guide": guide_panel(truth, mask, batch["guides"] * mask),
            "coarse": shown(coarse),
            "refined": shown(refined),
            "truth": truth,
            "result": shown(refined),
        }

    def card_fields(self) -> dict[str, Any]:
        return {
            "architecture": "deepfill_v2",
            "layout": self.config.layout,
            "mode": self.config.mode,
            "fuse": self.config.fuse,
            "colour_order": "rgb",
            "input_channels": self.config.input_channels,
        }
