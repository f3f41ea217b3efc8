"""The shared region helper: boxes, merging, clamped crops, paste-back only inside the Hole."""

from __future__ import annotations

import numpy as np
import pytest

from inference.engines.contract import Cancelled
from inference.engines.regions import (
    Box,
    fill_by_regions,
    fit_to_model,
    hole_boxes,
    paste_inside_hole,
    plan_regions,
)


def test_boxes_of_separate_parts_and_merging_when_close():
    mask = np.zeros((100, 100), bool)
    mask[10:20, 10:20] = True
    mask[10:20, 25:30] = True  # 5 px to the right of the first
    mask[80:90, 80:95] = True
    assert hole_boxes(mask, merge_gap=0) == [Box(10, 10, 20, 20), Box(10, 25, 20, 30), Box(80, 80, 90, 95)]
    assert hole_boxes(mask, merge_gap=5) == [Box(10, 10, 20, 30), Box(80, 80, 90, 95)]
    assert hole_boxes(mask, merge_gap=60) == [Box(10, 10, 90, 95)]


def test_crops_are_clamped_at_the_image_edges():
    mask = np.zeros((50, 60), bool)
    mask[0:5, 55:60] = True
    (region,) = plan_regions(mask, lambda box: (10, 10), merge_gap=0)
    assert region.hole == Box(0, 55, 5, 60)
    assert region.crop == Box(0, 45, 15, 60)


def test_fill_by_regions_pastes_only_own_hole_pixels_and_reports_progress():
    image = np.zeros((40, 40, 3), np.uint8)
    mask = np.zeros((40, 40), bool)
    mask[5:10, 5:10] = True
    mask[30:35, 30:35] = True
    regions = plan_regions(mask, lambda box: (3, 3), merge_gap=0)
    calls = []
    result = fill_by_regions(
        image, mask, None, lambda crop, m, g: np.full_like(crop, 200), regions,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert (result[mask] == 200).all() and (result[~mask] == 0).all()
    assert calls == [(1, 2), (2, 2)]


def test_cancel_is_checked_between_crops():
    mask = np.zeros((40, 40), bool)
    mask[5:10, 5:10] = True
    mask[30:35, 30:35] = True
    regions = plan_regions(mask, lambda box: (3, 3), merge_gap=0)
    seen = []

    def fill(crop, m, g):
        seen.append(1)
        return crop

    with pytest.raises(Cancelled):
        fill_by_regions(np.zeros((40, 40, 3), np.uint8), mask, None, fill, regions,
                        should_cancel=lambda: len(seen) == 1)
    assert len(seen) == 1


def test_feathered_paste_blends_the_border_towards_known_pixels_only_inside_the_hole():
    target = np.full((20, 20, 3), 100, np.uint8)
    hole = np.zeros((20, 20), bool)
    hole[5:15, 5:15] = True
    filled = np.full_like(target, 200)
    paste_inside_hole(target, filled, hole, feather=3)
    assert (target[~hole] == 100).all()
    assert target[10, 10, 0] == 200  # deep inside: the fill
    border, inner = int(target[5, 10, 0]), int(target[7, 10, 0])
    assert 100 < border < inner <= 200  # ramps from the known colour towards the fill


def test_fit_to_model_scales_down_pads_to_multiple_and_restores_size():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 451, 3), dtype=np.uint8)
    mask = np.zeros((300, 451), bool)
    mask[100:103, 200:203] = True
    fitted, fitted_mask, _, fit = fit_to_model(image, mask, None, max_side=256, multiple=8)
    assert fitted.shape[0] % 8 == 0 and fitted.shape[1] % 8 == 0
    assert max(fit.scaled_size) == 256 and fitted_mask.any()
    assert not fitted_mask[fit.scaled_size[0]:].any()  # padding is known
    assert fit.restore(fitted).shape == image.shape


def test_fit_to_model_never_scales_up():
    image = np.zeros((30, 41, 3), np.uint8)
    fitted, _, guide, fit = fit_to_model(image, np.zeros((30, 41), bool), np.zeros((30, 41), np.uint8), 512, 8)
    assert fit.scaled_size == (30, 41) and fitted.shape == (32, 48, 3) and guide.shape == (32, 48)
    assert np.array_equal(fit.restore(fitted), image)
