"""inference.evaluation.metrics: agreement with scikit-image, infinity for identical images, hole vs whole."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inference.evaluation import metrics


def _smooth_pair(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like reference (gradients + texture) and a noisy, shifted copy of it."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 200 / width, y * 180 / height, (x + y) * 100 / (height + width)], axis=2)
    reference = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    result = np.clip(reference.astype(np.int16) + rng.integers(-25, 26, base.shape), 0, 255).astype(np.uint8)
    return reference, result


@pytest.mark.parametrize("shape", [(64, 64), (48, 90), (121, 37)])
def test_whole_image_scores_match_scikit_image(shape):
    reference, result = _smooth_pair(np.random.default_rng(sum(shape)), *shape)
    expected_psnr = peak_signal_noise_ratio(reference, result, data_range=255)
    expected_ssim = structural_similarity(
        reference, result, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=255, channel_axis=2,
    )
    assert metrics.psnr(reference, result) == pytest.approx(expected_psnr, abs=1e-4)
    assert metrics.ssim(reference, result) == pytest.approx(expected_ssim, abs=1e-4)
    scores = metrics.score(reference, result, np.ones(shape, bool))
    assert scores.psnr == pytest.approx(expected_psnr, abs=1e-4)
    assert scores.ssim == pytest.approx(expected_ssim, abs=1e-4)


def test_identical_images_have_infinite_psnr_and_perfect_scores():
    reference, _ = _smooth_pair(np.random.default_rng(1), 40, 40)
    mask = np.zeros((40, 40), bool)
    mask[10:20, 5:30] = True
    scores = metrics.score(reference, reference.copy(), mask)
    assert scores.psnr == math.inf and scores.psnr_hole == math.inf
    assert scores.ssim == pytest.approx(1.0) and scores.ssim_hole == pytest.approx(1.0)
    assert scores.l1 == 0.0 and scores.l1_hole == 0.0
    assert metrics.format_score(scores.psnr) == "inf"


def test_hole_scores_only_see_the_hole():
    reference = np.zeros((20, 50, 3), np.uint8)
    result = reference.copy()
    mask = np.zeros((20, 50), bool)
    mask[:, :10] = True  # 20 % of the Image
    result[mask] = 255
    scores = metrics.score(reference, result, mask)
    assert scores.l1_hole == pytest.approx(1.0)
    assert scores.l1 == pytest.approx(0.2)
    assert scores.psnr_hole == pytest.approx(0.0)  # MSE = 255², the worst possible
    assert scores.psnr == pytest.approx(10 * math.log10(1 / 0.2))
    assert scores.ssim_hole == pytest.approx(metrics.ssim_map(reference, result)[mask].mean())
    assert scores.ssim_hole < scores.ssim


def test_errors_outside_the_hole_do_not_change_hole_psnr_and_l1():
    reference, result = _smooth_pair(np.random.default_rng(2), 32, 32)
    mask = np.zeros((32, 32), bool)
    mask[8:16, 8:16] = True
    before = metrics.score(reference, result, mask)
    changed = result.copy()
    changed[~mask] = 0
    after = metrics.score(reference, changed, mask)
    assert after.psnr_hole == before.psnr_hole and after.l1_hole == before.l1_hole
    assert after.psnr < before.psnr


def test_empty_mask_gives_nan_hole_scores():
    reference, result = _smooth_pair(np.random.default_rng(3), 24, 24)
    scores = metrics.score(reference, result, np.zeros((24, 24), bool))
    assert math.isnan(scores.psnr_hole) and math.isnan(scores.ssim_hole) and math.isnan(scores.l1_hole)
    assert not math.isnan(scores.psnr)
    assert metrics.format_score(scores.l1_hole) == "nan"
    assert metrics.format_score(None) == ""
    assert metrics.format_score(12.345678, 2) == "12.35"


def test_bad_inputs_are_refused():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(image, np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        metrics.l1(image, image.astype(np.float32))
    with pytest.raises(ValueError, match="mask"):
        metrics.score(image, image, np.ones((8, 8), np.uint8))
