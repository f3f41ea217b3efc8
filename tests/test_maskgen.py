"""inference.evaluation.maskgen: seeded, reproducible Masks of every kind with sensible hole ratios."""

from __future__ import annotations

import numpy as np
import pytest

from inference.evaluation import maskgen
from inference.evaluation.maskgen import KINDS, deepfill_training_mask, generate_mask, lama_config, mixed_mask


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_mask_and_other_seed_other_mask(kind):
    first = generate_mask(kind, 96, 128, np.random.default_rng(7))
    again = generate_mask(kind, 96, 128, np.random.default_rng(7))
    other = generate_mask(kind, 96, 128, np.random.default_rng(8))
    assert first.dtype == np.bool_ and first.shape == (96, 128)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_mixed_mask_is_reproducible():
    assert np.array_equal(mixed_mask(64, 64, np.random.default_rng(3)), mixed_mask(64, 64, np.random.default_rng(3)))


def test_generators_leave_the_global_random_state_alone():
    np.random.seed(0)
    expected = np.random.random()
    np.random.seed(0)
    for kind in KINDS:
        generate_mask(kind, 64, 64, np.random.default_rng(1))
    mixed_mask(64, 64, np.random.default_rng(1))
    assert np.random.random() == expected


@pytest.mark.parametrize("kind", ["thin", "medium", "thick"])
def test_lama_kinds_keep_at_most_half_the_image(kind):
    rng = np.random.default_rng(11)
    ratios = [generate_mask(kind, 128, 128, rng).mean() for _ in range(40)]
    assert 0 < min(ratios) and max(ratios) <= maskgen.LAMA_MAX_HOLE_RATIO


def test_deepfill_box_has_the_published_size_range():
    rng = np.random.default_rng(5)
    for _ in range(30):
        rows, cols = np.nonzero(generate_mask("box", 256, 256, rng))
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert 96 <= height <= 128 and 96 <= width <= 128
        assert len(rows) == height * width  # one solid box


def test_freeform_strokes_cover_a_plausible_share():
    rng = np.random.default_rng(9)
    ratios = np.array([generate_mask("freeform", 256, 256, rng).mean() for _ in range(40)])
    assert ratios.min() > 0
    assert 0.08 < ratios.mean() < 0.25  # DeepFill's published strokes average about 15 % at 256²


def test_deepfill_training_mask_is_box_or_strokes():
    mask = deepfill_training_mask(128, 128, np.random.default_rng(2))
    assert mask.mean() >= (48 / 128) ** 2  # at least the smallest box


def test_mixed_masks_spread_over_5_to_60_percent():
    rng = np.random.default_rng(21)
    ratios = np.array([mixed_mask(96, 96, rng).mean() for _ in range(120)])
    assert ratios.min() >= maskgen.MIXED_MIN_RATIO
    assert ratios.max() <= maskgen.MIXED_MAX_RATIO
    assert (ratios < 0.2).sum() >= 10 and (ratios > 0.45).sum() >= 10


def test_lama_config_follows_the_image_size():
    config, scale = lama_config("thin", 512, 700)
    assert config.max_times == 70 and scale == 1.0
    config, scale = lama_config("thick", 300, 300)
    assert config.max_width == 100 and scale == pytest.approx(300 / 256)


def test_unknown_kind_and_tiny_size_are_refused():
    with pytest.raises(ValueError, match="unknown mask kind"):
        generate_mask("blob", 64, 64, np.random.default_rng(0))
    with pytest.raises(ValueError, match="8×8"):
        generate_mask("thin", 4, 64, np.random.default_rng(0))
