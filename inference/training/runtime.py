"""What both trainers share: device options, bf16 autocast, torch.compile with an eager fallback,
the trainer interface the loop drives, preview sheets and validation metrics."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from inference.evaluation.metrics import score
from inference.training.sampling import BatchMaker, BatchSpec, CategoryMix, PackData

PREVIEW_COLUMNS = ("input", "guide", "coarse", "refined", "truth")


@dataclass(frozen=True)
class RunOptions:
    device: torch.device
    bf16: bool  # autocast to bfloat16 (CUDA only)
    channels_last: bool
    compile: bool


def run_options(device: str | None, compile_mode: str) -> RunOptions:
    """Device (CUDA when available unless told), bf16 + channels_last + compile on CUDA."""
    chosen = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = chosen.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True  # fixed 256x256 shapes: let cuDNN pick the fastest kernels
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    use_compile = {"auto": cuda, "on": True, "off": False}[compile_mode]
    return RunOptions(chosen, bf16=cuda, channels_last=cuda, compile=use_compile)


class Trainer:
    """One model's training step. Subclasses build ``generator``, ``discriminator`` and ``optimizers``
    in ``__init__`` and implement ``train_step``, ``render`` and ``card_fields``."""

    kind = ""
    guided = False
    preview_labels: dict[str, str] = {}

    def __init__(self, settings: dict[str, Any], data: PackData, options: RunOptions) -> None:
        self.settings = settings
        self.data = data
        self.options = options
        self.generator: nn.Module
        self.discriminator: nn.Module
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self._compiled: dict[tuple[str, bool], nn.Module] = {}
        self._synced: dict[str, nn.Module] = {}  # DDP wrappers (data-parallel runs only)

    # ------------------------------------------------------------------ to implement
    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def render(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Panels named as :data:`PREVIEW_COLUMNS` ([B,3,H,W] in [0, 1]) plus ``result`` (the composite)."""
        raise NotImplementedError

    def card_fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def batch_spec(self) -> BatchSpec:
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def update(self, name: str, loss: torch.Tensor) -> None:
        """One optimiser step of module ``name`` on ``loss``."""
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def place(self, module: nn.Module) -> nn.Module:
        module = module.to(self.options.device)
        if self.options.channels_last:
            module = module.to(memory_format=torch.channels_last)
        return module

    def run(self, name: str, synced: bool = True) -> nn.Module:
        """The module to call in the training step: its DDP wrapper in a data-parallel run (unless
        ``synced`` is False: a forward whose loss must not reduce this module's gradients), compiled
        when enabled."""
        synced = synced and name in self._synced
        module = self._synced[name] if synced else getattr(self, name)
        if not self.options.compile or name not in self.compile_targets():
            return module
        key = (name, synced)
        if key not in self._compiled:
            self._compiled[key] = torch.compile(module)
        return self._compiled[key]

    def distribute(self, wrap: Callable[[nn.Module], nn.Module],
                   convert_batchnorm: Callable[[nn.Module], nn.Module] | None = None) -> None:
        """Train data-parallel: generator and discriminator through ``wrap`` (DDP); ``convert_batchnorm``
        applies to the modules named by :meth:`sync_batchnorm_targets`."""
        for name in self.sync_batchnorm_targets() if convert_batchnorm else ():
            setattr(self, name, convert_batchnorm(getattr(self, name)))
        self._synced = {name: wrap(module) for name, module in self.modules().items()}
        self._compiled.clear()

    def sync_batchnorm_targets(self) -> tuple[str, ...]:
        """Modules whose BatchNorm may normalise over the global batch (SyncBatchNorm)."""
        return ("generator", "discriminator")

    def compile_targets(self) -> tuple[str, ...]:
        return ("generator", "discriminator")

    def disable_compile(self) -> None:
        self.options = RunOptions(self.options.device, self.options.bf16, self.options.channels_last, False)
        self._compiled.clear()

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.options.bf16:
            return torch.autocast(self.options.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def snapshot(self) -> dict[str, Any]:
        """Everything a failed step could have changed (for the compile fallback)."""
        return copy.deepcopy({
            "modules": {name: module.state_dict() for name, module in self.modules().items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.options.device.type == "cuda" else None,
        })

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, module in self.modules().items():
            module.load_state_dict(snapshot["modules"][name])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(snapshot["optimizers"][name])
        torch.set_rng_state(snapshot["rng"])
        if snapshot["cuda_rng"] is not None:
            torch.cuda.set_rng_state_all(snapshot["cuda_rng"])


def validation_batch(maker: BatchMaker, count: int) -> dict[str, np.ndarray]:
    """``count`` fixed samples from the validation stream (same every run of the same pack and seed)."""
    spec = maker.spec
    single = BatchMaker(maker.data, BatchSpec(count, spec.crop, spec.seed, spec.shared_mask, spec.guides), maker.mix)
    return single.validation(0)


def mix_for(data: PackData, weights: dict[str, float] | None) -> CategoryMix:
    return CategoryMix(data.categories, weights)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[B,3,H,W] in [0, 1] -> uint8 [B,H,W,3]."""
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def hole_metrics(truth: np.ndarray, results: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """Mean scores (inference.evaluation.metrics) of the composited results over a batch."""
    totals: dict[str, float] = {}
    for reference, result, mask in zip(truth, results, masks, strict=True):
        for name, value in score(reference, result, mask).as_dict().items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: round(value / len(truth), 5) for name, value in totals.items()}


def save_preview(
    panels: dict[str, torch.Tensor], path: Path, labels: dict[str, str] | None = None, rows: int = 4
) -> Path:
    """A PNG sheet: one row per sample, columns input | guide | coarse | refined | truth, labelled."""
    labels = labels or {}
    columns = [to_uint8(panels[name][:rows]) for name in PREVIEW_COLUMNS]
    count, height, width = columns[0].shape[:3]
    header = np.zeros((20, width * len(columns), 3), np.uint8)
    for index, name in enumerate(PREVIEW_COLUMNS):
        cv2.putText(header, labels.get(name, name), (index * width + 4, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    body = np.concatenate([np.concatenate([column[row] for column in columns], axis=1) for row in range(count)])
    sheet = np.concatenate([header, body])
    path.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.fromarray(sheet).save(path)
    return path


def guide_panel(images: torch.Tensor, masks: torch.Tensor, guides: torch.Tensor) -> torch.Tensor:
    """The masked input dimmed, the Hole dark grey, Guide lines white."""
    dimmed = images * (1 - masks) * 0.5 + masks * 0.15
    return torch.maximum(dimmed, guides.expand_as(images))
