"""The DeepFill v2 generator (spec §3–§7): coarse gated-conv network, then a refinement network with
a dilated branch and a contextual-attention branch, concatenated and decoded.

One class serves every published weight file: ``mode`` switches padding and attention resampling
("tf": TF SAME padding and the align-corners rule; "pt": symmetric padding and plain nearest),
``layout`` switches only the state-dict names ("states_tf": flat, "states_pt": nested), and
``input_channels`` is 5 (plain) or 6 (guided, with an edge channel).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from inference.engines.deepfill.attention import attention_mask, contextual_attention, positions_near_hole
from inference.engines.deepfill.layers import GatedConv, LayerSpec, layer_table

LAYOUTS = ("states_tf", "states_pt")
MODES = ("tf", "pt")
SIZE_MULTIPLE = 8
FUSE_WEIGHT_KEY = "stage2.contextual_attention.fuse_weight"
# Patch-grid cells (8 px each) around the hole whose attention output can reach a hole pixel
# through the layers after the attention (4 convs at 1/4 scale, 2 at 1/2, 3 at full scale and the
# 4x4 pasted patches need 5); 2 more for safety. Checked by tests/test_deepfill_network.py.
ATTENTION_REACH = 7


@dataclass(frozen=True)
class GeneratorConfig:
    input_channels: int = 5
    mode: str = "tf"
    layout: str = "states_tf"
    fuse: bool = True

    def __post_init__(self) -> None:
        if self.input_channels not in (5, 6):
            raise ValueError(f"input_channels must be 5 (plain) or 6 (guided), got {self.input_channels}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")

    @property
    def guided(self) -> bool:
        return self.input_channels == 6


class ContextualAttention(nn.Module):
    """The attention layer; no weights. In the states_pt layout it carries nipponjo's constant
    ``fuse_weight`` buffer (3x3 identity) so the state dict matches; a file without it still loads."""

    def __init__(self, mode: str, fuse: bool, with_buffer: bool) -> None:
        super().__init__()
        self.mode = mode
        self.fuse = fuse
        if with_buffer:
            self.register_buffer("fuse_weight", torch.eye(3).view(1, 1, 3, 3))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "fuse_weight"
        if hasattr(self, "fuse_weight") and key not in state_dict:
            state_dict[key] = self.fuse_weight.clone()  # a constant: tolerate files saved without it
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, features: torch.Tensor, mask: torch.Tensor, hole_only: bool = False) -> torch.Tensor:
        grid_mask = attention_mask(mask, tuple(features.shape[-2:]), self.mode)
        only = positions_near_hole(mask, tuple(grid_mask.shape[-2:]), ATTENTION_REACH) if hole_only else None
        return contextual_attention(features, features, grid_mask, mode=self.mode, fuse=self.fuse, only=only)


class Generator(nn.Module):
    """DeepFill v2 generator. ``forward(image, mask, edge=None) -> (x_stage1, x_stage2)``.

    ``image`` ``[B, 3, H, W]`` in [-1, 1] in the colour order the weights expect; ``mask``
    ``[B, 1, H, W]``, 1 = hole; ``edge`` ``[B, 1, H, W]`` binary (guided model only; None = no
    lines). H and W must be multiples of 8. Both outputs are tanh images in [-1, 1]; compose with
    :meth:`complete`. ``hole_only`` skips the attention far from the hole: ``x_stage2`` is then
    only valid inside the hole (all an inpainting needs; it saves about a fifth of the work).
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        self.table = layer_table(self.config.input_channels)
        self._layers: dict[str, GatedConv] = {}
        table = self.table
        # Registered in forward order, so state_dict() lists keys in the published files' order.
        self._attach_layers(table.stage1 + table.dilated + table.attention_before)
        pt_layout = self.config.layout == "states_pt"
        self._attention_path = "stage2.contextual_attention" if pt_layout else "contextual_attention"
        self._attach(self._attention_path, ContextualAttention(self.config.mode, self.config.fuse, pt_layout))
        self._attach_layers(table.attention_after + table.decoder)

    def _attach_layers(self, specs: list[LayerSpec]) -> None:
        for spec in specs:
            layer = GatedConv(spec, self.config.mode)
            self._layers[spec.tf_scope] = layer
            self._attach(spec.module_path(self.config.layout), layer)

    def _attach(self, path: str, module: nn.Module) -> nn.Module:
        """Register ``module`` at a dotted path, creating plain container modules on the way."""
        parent: nn.Module = self
        *parents, leaf = path.split(".")
        for name in parents:
            if not hasattr(parent, name):
                parent.add_module(name, nn.Module())
            parent = getattr(parent, name)
        parent.add_module(leaf, module)
        return module

    def _run(self, specs: list[LayerSpec], x: torch.Tensor) -> torch.Tensor:
        for spec in specs:
            x = self._layers[spec.tf_scope](x)
        return x

    def prepare_input(
        self, image: torch.Tensor, mask: torch.Tensor, edge: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_in, stage-1 input)``: [x_in, ones, mask], or [x_in, edge·mask, ones, mask] when guided."""
        x_in = image * (1.0 - mask)
        ones = torch.ones_like(mask)
        parts = [x_in]
        if self.config.guided:
            parts.append(torch.zeros_like(mask) if edge is None else edge * mask)
        parts += [ones, ones * mask]
        return x_in, torch.cat(parts, dim=1)

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, edge: torch.Tensor | None = None, *, hole_only: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = image.shape[-2:]
        if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
            raise ValueError(f"DeepFill v2 needs sizes that are multiples of 8, got {height}x{width}")
        x_in, stage1_input = self.prepare_input(image, mask, edge)
        x_stage1 = torch.tanh(self._run(self.table.stage1, stage1_input))
        x = x_stage1 * mask + x_in * (1.0 - mask)
        hallucinated = self._run(self.table.dilated, x)
        matched = self._run(self.table.attention_before, x)
        matched = self.get_submodule(self._attention_path)(matched, mask, hole_only)
        matched = self._run(self.table.attention_after, matched)
        merged = torch.cat([hallucinated, matched], dim=1)
        x_stage2 = torch.tanh(self._run(self.table.decoder, merged))
        return x_stage1, x_stage2

    @staticmethod
    def complete(x_stage2: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The composed result: the generator's pixels inside the hole, the input outside."""
        return x_stage2 * mask + image * (1.0 - mask)


def seeded_generator(config: GeneratorConfig | None = None, seed: int = 0, gain: float = 2.0) -> Generator:
    """A generator with reproducible random weights whose signal survives all 42 layers.

    torch's default init shrinks the activations layer after layer until the output no longer
    depends on the input; normal weights with std ``gain/sqrt(fan_in)`` (biases N(0, 0.1)) keep it
    alive, which tests and benchmarks need to be meaningful.
    """
    generator = Generator(config)
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in generator.parameters():
            if parameter.ndim == 4:
                std = gain / parameter[0].numel() ** 0.5
            else:
                std = 0.1
            parameter.copy_(torch.randn(parameter.shape, generator=rng) * std)
    return generator


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())
