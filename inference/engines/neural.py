"""The shared base of the neural engines: device choice, lazy loading, fp16, out-of-memory fallback.

A neural engine never sees the whole photo. :class:`NeuralEngine` splits the Hole into regions with
:mod:`inference.engines.regions` (each with at least as much context as Hole on every side), scales each crop
down to the network's working size, pads it to the network's multiple, runs the network, scales the
result back and pastes it inside the Hole with a feathered border. A subclass only says how to load
its network and how to run it on one fitted crop.

Subclass contract (keep it stable; DeepFill v2 and LBAM both rely on it):

* class attributes
    ``name`` (str), ``accepts_guide`` (bool) — as for every :class:`~inference.engines.contract.Engine`;
    ``working_size`` (int, default 512) — long side of a crop after scaling down (never up);
    ``multiple`` (int, default 8) — the network's input height and width must be multiples of it;
    ``feather_px`` (int, default 3) — width of the blended border when a fill is pasted back;
    ``min_context`` (int, default 64) — context kept around a small Hole part, in photo pixels;
* ``load_model(self) -> torch.nn.Module`` — build the network and load its weights (on the CPU; the
  base moves it to the device and calls ``eval()``). Called once, on the first ``inpaint`` (that is,
  on the worker thread), under a lock;
* ``run_crop(self, model, image, mask, guide) -> torch.Tensor`` — run one fitted crop:
    ``image`` float32 ``[1, 3, H, W]`` RGB in [0, 1]; ``mask`` float32 ``[1, 1, H, W]``, 1 = Hole;
    ``guide`` float32 ``[1, 1, H, W]`` in [0, 1] (Guide / 255) or None; all on the engine's device,
    H and W multiples of ``multiple``. Return ``[1, 3, H, W]`` RGB in [0, 1] (values outside the
    Hole are ignored). It runs under ``torch.inference_mode()`` and, on CUDA with fp16 on, under
    ``torch.autocast``; colour-order and value-range conversions belong inside it.

Constructor: ``NeuralEngine(device=None, fp16=None)``: ``device`` "cuda", "mps", "cpu" or None
(CUDA when available, else MPS, else CPU); ``fp16`` None means "on for CUDA, off elsewhere".

``status`` (``Callable[[str], None] | None``) receives one-line messages for the user, e.g.
"CUDA out of memory, retrying on CPU". On a GPU out-of-memory error the crop is run again on the CPU
and the rest of that ``inpaint`` call stays there; the next call tries the GPU again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import numpy as np
import torch

from inference.engines.contract import CancelCheck, Engine, Progress
from inference.engines.regions import Box, fill_by_regions, fit_to_model, plan_regions

StatusHook = Callable[[str], None]


def preferred_device() -> torch.device:
    """CUDA when available, else Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA's OutOfMemoryError and for the RuntimeError MPS raises when it runs out."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


class NeuralEngine(Engine):
    """Base of the torch engines; see the module docstring for what a subclass supplies."""

    working_size = 512
    multiple = 8
    feather_px = 3
    min_context = 64

    def __init__(self, device: str | None = None, fp16: bool | None = None) -> None:
        self.device = torch.device(device) if device is not None else preferred_device()
        self.fp16 = self.device.type == "cuda" if fp16 is None else bool(fp16)
        self.status: StatusHook | None = None
        self._model: torch.nn.Module | None = None
        self._model_device: torch.device | None = None
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- what a subclass supplies
    def load_model(self) -> torch.nn.Module:
        raise NotImplementedError

    def run_crop(
        self,
        model: torch.nn.Module,
        image: torch.Tensor,
        mask: torch.Tensor,
        guide: torch.Tensor | None,
    ) -> torch.Tensor:
        raise NotImplementedError

    # ----------------------------------------------------------------- model life cycle
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> torch.nn.Module:
        """The network, loaded on first use and kept for the engine's lifetime."""
        with self._lock:
            if self._model is None:
                model = self.load_model()
                model.eval()
                for parameter in model.parameters():
                    parameter.requires_grad_(False)
                self._model = model
                self._model_device = torch.device("cpu")
            return self._model

    def _model_on(self, device: torch.device) -> torch.nn.Module:
        model = self.model()
        if self._model_device != device:
            self._model_device = None  # unknown until the move completes (it may run out of memory)
            model.to(device)
            self._model_device = device
        return model

    def _say(self, message: str) -> None:
        if self.status is not None:
            self.status(message)

    # ----------------------------------------------------------------- the fill
    def context_margin(self, hole: Box) -> tuple[int, int]:
        """At least as much context as Hole on each side, and never less than ``min_context``."""
        return max(hole.height, self.min_context), max(hole.width, self.min_context)

    def _fill_into(
        self,
        image: np.ndarray,
        result: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None,
        should_cancel: CancelCheck,
        progress: Progress,
    ) -> None:
        self.model()  # load before the first crop, so a bad weight file fails before any work
        call = _CallState(self.device)
        regions = plan_regions(mask, self.context_margin, merge_gap=self.min_context, should_cancel=should_cancel)

        def fill_crop(crop: np.ndarray, crop_mask: np.ndarray, crop_guide: np.ndarray | None) -> np.ndarray:
            return self.fill_crop(crop, crop_mask, crop_guide, call)

        fill_by_regions(
            image, mask, guide, fill_crop, regions,
            feather=self.feather_px, should_cancel=should_cancel, progress=progress, out=result,
        )

    def fill_crop(
        self,
        crop: np.ndarray,
        crop_mask: np.ndarray,
        crop_guide: np.ndarray | None,
        call: _CallState | None = None,
    ) -> np.ndarray:
        """Fit one crop to the network, run it (with the OOM fallback) and map the output back."""
        call = call or _CallState(self.device)
        fitted, fitted_mask, fitted_guide, fit = fit_to_model(
            crop, crop_mask, crop_guide if self.accepts_guide else None, self.working_size, self.multiple
        )
        try:
            output = self._run_fitted(fitted, fitted_mask, fitted_guide, call.device)
        except Exception as error:  # only out-of-memory is handled, everything else re-raised
            if call.device.type == "cpu" or not is_out_of_memory(error):
                raise
            self._say(f"{call.device.type.upper()} out of memory, retrying on CPU")
            _release_cached_memory(call.device)
            call.device = torch.device("cpu")
            output = self._run_fitted(fitted, fitted_mask, fitted_guide, call.device)
        return fit.restore(output)

    def _run_fitted(
        self, image: np.ndarray, mask: np.ndarray, guide: np.ndarray | None, device: torch.device
    ) -> np.ndarray:
        model = self._model_on(device)
        with torch.inference_mode():
            image_t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
            image_t = image_t.permute(2, 0, 1)[None].float().div_(255.0)
            mask_t = torch.from_numpy(mask).to(device)[None, None].float()
            guide_t = None
            if guide is not None:
                guide_t = torch.from_numpy(np.ascontiguousarray(guide)).to(device)[None, None].float() / 255.0
            with _autocast(device, self.fp16):
                output = self.run_crop(model, image_t, mask_t, guide_t)
            output = output.float().clamp_(0.0, 1.0).mul_(255.0).round_()
            return output[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()


class _CallState:
    """The device one ``inpaint`` call runs on; switches to the CPU after an out-of-memory error."""

    def __init__(self, device: torch.device) -> None:
        self.device = device


def _autocast(device: torch.device, fp16: bool) -> contextlib.AbstractContextManager:
    # fp16 autocast only pays off (and is only well supported) on CUDA.
    if fp16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def _release_cached_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()
