"""Masks on disk and the mask operations the editor uses."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inference.io.masks import MaskError, fill_holes, grow, hole_ratio, invert, load_mask, save_mask, shrink


def square_mask(size=40, lo=10, hi=30) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[lo:hi, lo:hi] = True
    return mask


def test_round_trip_is_lossless_single_channel_png(tmp_path):
    mask = np.random.default_rng(0).random((33, 47)) < 0.4
    save_mask(tmp_path / "m.png", mask)
    with Image.open(tmp_path / "m.png") as stored:
        assert stored.mode == "L" and set(np.unique(np.asarray(stored))) <= {0, 255}
    assert np.array_equal(load_mask(tmp_path / "m.png"), mask)


def test_any_non_zero_value_is_hole(tmp_path):
    Image.fromarray(np.array([[0, 1], [128, 255]], np.uint8)).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png").tolist() == [[False, True], [True, True]]


def test_size_mismatch_names_both_sizes(tmp_path):
    save_mask(tmp_path / "m.png", np.zeros((20, 30), bool))
    with pytest.raises(MaskError, match="m.png is 30×20 but the image is 40×10"):
        load_mask(tmp_path / "m.png", expected_shape=(10, 40))


def test_masks_must_be_png(tmp_path):
    with pytest.raises(MaskError, match="PNG"):
        save_mask(tmp_path / "m.jpg", np.zeros((4, 4), bool))


def test_grow_and_shrink_by_n_pixels():
    mask = square_mask()
    grown = grow(mask, 3)
    assert grown[7, 20] and not grown[6, 20] and grown.sum() > mask.sum()
    shrunk = shrink(mask, 3)
    assert shrunk[13, 20] and not shrunk[12, 20]
    assert np.array_equal(grow(mask, 0), mask) and np.array_equal(shrink(mask, 0), mask)


def test_shrink_does_not_eat_holes_at_the_border():
    mask = np.zeros((20, 20), bool)
    mask[:, :10] = True
    assert shrink(mask, 2)[:, 0].all()


def test_invert_and_fill_holes():
    ring = square_mask() & ~square_mask(lo=15, hi=25)
    assert np.array_equal(fill_holes(ring), square_mask())
    assert np.array_equal(invert(ring), ~ring)
    assert hole_ratio(square_mask()) == pytest.approx(400 / 1600)
