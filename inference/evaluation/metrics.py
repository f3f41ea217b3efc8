"""Image-quality scores, defined once for the compare view, the CLI, training and the quality bench.

All scores compare a *reference* (the intact ground truth) with a *result* (an engine's output),
both RGB ``uint8`` arrays of shape (H, W, 3). Each score exists over the whole Image and inside
the Hole (``mask`` True):

* **PSNR** (dB) on the 8-bit values, peak 255: ``10·log10(255² / MSE)`` where MSE is the mean of
  the squared differences over all pixels *and* the three channels (over the Hole pixels only for
  the hole score). Identical inputs have MSE 0 and PSNR **infinity** (``math.inf``; CSV writes
  ``inf``) - never an error. This matches ``skimage.metrics.peak_signal_noise_ratio(data_range=255)``.
* **SSIM** (Wang et al. 2004) with an 11×11 Gaussian window (sigma 1.5, K1 0.01, K2 0.03,
  L 255, population covariance), computed per channel and averaged over R, G, B. Borders are
  reflected (``d c b a | a b c d``). The *whole-image* SSIM is the mean of the SSIM map without
  its 5-pixel border (the window does not fit there), exactly as
  ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255, channel_axis=2)``. The *hole* SSIM is the mean of
  the same map over the Hole pixels, border pixels included so that a Hole touching the edge of
  the Image still gets a score. Each map value describes the 11×11 neighbourhood around a pixel,
  so the hole SSIM also sees the seam between the fill and the kept pixels.
* **L1**: mean absolute error on values scaled to [0, 1] (``|a - b| / 255``), over all pixels
  and channels, or over the Hole pixels only.

A hole score of an empty mask is undefined and reported as NaN (CSV writes ``nan``).
numpy + OpenCV only: no torch, fast enough for the training loop and large photos.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

PEAK = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
_C1 = (SSIM_K1 * PEAK) ** 2
_C2 = (SSIM_K2 * PEAK) ** 2
_BORDER = (SSIM_WINDOW - 1) // 2

METRIC_NAMES = ("psnr", "ssim", "l1", "psnr_hole", "ssim_hole", "l1_hole")


@dataclass(frozen=True)
class Scores:
    """All six scores of one result; hole scores are NaN when the mask is empty."""

    psnr: float
    ssim: float
    l1: float
    psnr_hole: float
    ssim_hole: float
    l1_hole: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _check_pair(reference: np.ndarray, result: np.ndarray) -> None:
    if reference.shape != result.shape:
        raise ValueError(f"reference {reference.shape} and result {result.shape} differ in shape")
    if reference.dtype != np.uint8 or result.dtype != np.uint8:
        raise ValueError(f"scores need uint8 images, got {reference.dtype} and {result.dtype}")
    if reference.ndim != 3 or reference.shape[2] != 3:
        raise ValueError(f"scores need RGB images of shape (H, W, 3), got {reference.shape}")


def _check_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> None:
    if mask is not None and (mask.dtype != np.bool_ or mask.shape != shape[:2]):
        raise ValueError(f"mask must be bool of shape {shape[:2]}, got {mask.dtype} {mask.shape}")


def _selected(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The per-pixel rows of ``values`` (H, W[, C]) inside ``mask``, or all of them."""
    return values if mask is None else values[mask]


def mse(reference: np.ndarray, result: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean squared error on 8-bit values over all pixels and channels (Hole pixels if ``mask``)."""
    _check_pair(reference, result)
    _check_mask(mask, reference.shape)
    if mask is not None and not mask.any():
        return math.nan
    difference = _selected(reference, mask).astype(np.float64) - _selected(result, mask)
    return float(np.mean(difference * difference))


def psnr_from_mse(error: float) -> float:
    if math.isnan(error):
        return math.nan
    if error == 0.0:
        return math.inf
    return 10.0 * math.log10(PEAK * PEAK / error)


def psnr(reference: np.ndarray, result: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB (peak 255); ``math.inf`` for identical pixels, NaN for an empty ``mask``."""
    return psnr_from_mse(mse(reference, result, mask))


def l1(reference: np.ndarray, result: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error in [0, 1] over all pixels and channels (Hole pixels if ``mask``)."""
    _check_pair(reference, result)
    _check_mask(mask, reference.shape)
    if mask is not None and not mask.any():
        return math.nan
    # int16 keeps the subtraction exact and is half the memory of float64 on large photos.
    difference = np.abs(_selected(reference, mask).astype(np.int16) - _selected(result, mask))
    return float(np.mean(difference, dtype=np.float64) / PEAK)


def _blur(plane: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(
        plane, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, sigmaY=SSIM_SIGMA, borderType=cv2.BORDER_REFLECT
    )


def _channel_ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # float64 throughout: E[x²] - E[x]² cancels badly in float32 at 8-bit magnitudes.
    mean_x, mean_y = _blur(x), _blur(y)
    var_x = _blur(x * x) - mean_x * mean_x
    var_y = _blur(y * y) - mean_y * mean_y
    covariance = _blur(x * y) - mean_x * mean_y
    numerator = (2.0 * mean_x * mean_y + _C1) * (2.0 * covariance + _C2)
    denominator = (mean_x * mean_x + mean_y * mean_y + _C1) * (var_x + var_y + _C2)
    return numerator / denominator


def ssim_map(reference: np.ndarray, result: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM averaged over R, G, B: float64 array of shape (H, W)."""
    _check_pair(reference, result)
    total = np.zeros(reference.shape[:2], np.float64)
    for channel in range(3):  # one channel at a time bounds the memory on large photos
        total += _channel_ssim_map(
            reference[..., channel].astype(np.float64), result[..., channel].astype(np.float64)
        )
    return total / 3.0


def _ssim_from_map(values: np.ndarray, mask: np.ndarray | None) -> float:
    if mask is not None:
        return float(values[mask].mean()) if mask.any() else math.nan
    height, width = values.shape
    if height > 2 * _BORDER and width > 2 * _BORDER:
        values = values[_BORDER:-_BORDER, _BORDER:-_BORDER]
    return float(values.mean())


def ssim(reference: np.ndarray, result: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM: over the map without its 5-px border, or over the Hole pixels if ``mask``."""
    _check_mask(mask, reference.shape)
    return _ssim_from_map(ssim_map(reference, result), mask)


def score(reference: np.ndarray, result: np.ndarray, mask: np.ndarray) -> Scores:
    """All six scores of ``result`` against ``reference``; the SSIM map is computed once."""
    values = ssim_map(reference, result)
    _check_mask(mask, reference.shape)
    return Scores(
        psnr=psnr(reference, result),
        ssim=_ssim_from_map(values, None),
        l1=l1(reference, result),
        psnr_hole=psnr(reference, result, mask),
        ssim_hole=_ssim_from_map(values, mask),
        l1_hole=l1(reference, result, mask),
    )


def format_score(value: float | None, digits: int = 4) -> str:
    """Text for a CSV cell: ``inf`` for identical pixels, ``nan`` when undefined, '' when absent."""
    if value is None:
        return ""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}f}"
