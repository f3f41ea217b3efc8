"""Seeded batches: reproducible per step, category-balanced, random-scale crops, Masks and Guides."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.training.guides import GuideStyle, drop_segments, synthesize_guide, thin_lines
from inference.training.pack import prepare_pack
from inference.training.sampling import (
    BatchMaker,
    BatchSpec,
    CategoryMix,
    CropSpec,
    PackData,
    crop_box,
    random_crop,
)
from inference.training.synthetic import write_synthetic_photos


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sampling")
    source = write_synthetic_photos(folder / "source", count=6, seed=3)
    prepare_pack(source / "photos", folder / "pack", edges_folder=source / "edges", log=lambda _line: None)
    return PackData(folder / "pack", need_edges=True)


SKETCHES = GuideStyle()


def _maker(pack, shared_mask=False, guides=SKETCHES, batch=4, seed=7) -> BatchMaker:
    spec = BatchSpec(batch, CropSpec(64), seed, shared_mask=shared_mask, guides=guides)
    return BatchMaker(pack, spec, CategoryMix(pack.categories))


def test_a_batch_depends_only_on_seed_and_step(pack):
    first, again = _maker(pack).make(5), _maker(pack).make(5)
    for key in first:
        assert np.array_equal(first[key], again[key])
    other_step = _maker(pack).make(6)
    assert not np.array_equal(first["images"], other_step["images"])
    other_seed = _maker(pack, seed=8).make(5)
    assert not np.array_equal(first["masks"], other_seed["masks"])
    assert not np.array_equal(first["images"], _maker(pack).validation(5)["images"])


def test_batch_shapes_and_types(pack):
    batch = _maker(pack).make(0)
    assert batch["images"].shape == (4, 64, 64, 3) and batch["images"].dtype == np.uint8
    assert batch["masks"].shape == (4, 64, 64) and batch["masks"].dtype == bool
    assert batch["guides"].shape == (4, 64, 64) and set(np.unique(batch["guides"])) <= {0, 255}
    assert np.all(batch["guides"][~batch["masks"]] == 0)  # lines only inside the Hole


def test_shared_mask_gives_one_mask_per_batch_and_masks_spread(pack):
    shared = _maker(pack, shared_mask=True).make(1)["masks"]
    assert all(np.array_equal(shared[0], mask) for mask in shared)
    ratios = np.concatenate([_maker(pack, guides=None).make(step)["masks"].mean(axis=(1, 2)) for step in range(10)])
    assert ratios.min() < 0.2 and ratios.max() > 0.4 and ratios.max() <= 0.61
    assert len({round(r, 3) for r in ratios}) > 30  # per-image masks differ


def test_categories_are_sampled_evenly_whatever_their_size():
    categories = ["old"] * 28 + ["scene"] * 8 + ["face"] * 4
    mix = CategoryMix(categories)
    rng = np.random.default_rng(0)
    picks = [categories[mix.pick(rng)] for _ in range(6000)]
    for name in ("old", "scene", "face"):
        assert abs(picks.count(name) / len(picks) - 1 / 3) < 0.03
    weighted = CategoryMix(categories, {"old": 2, "scene": 1, "face": 1})
    assert weighted.shares == {"face": 0.25, "old": 0.5, "scene": 0.25}
    described = mix.describe(["mono"] * 28 + ["colour"] * 12)
    assert described["photos_per_category"] == {"face": 4, "old": 28, "scene": 8}
    assert described["sample_share_per_colour"]["mono"] == pytest.approx(1 / 3, abs=1e-3)
    with pytest.raises(ValueError, match="no photos of category"):
        CategoryMix(categories, {"cats": 1})


def test_crops_cover_30_to_100_percent_of_the_short_side_and_flip():
    rng = np.random.default_rng(1)
    sides = [crop_box(300, 500, CropSpec(), rng)[2] for _ in range(500)]
    assert min(sides) >= 90 and max(sides) <= 300
    assert min(sides) < 110 and max(sides) > 280
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :100] = 255  # bright left half
    edges = image[..., 0].copy()
    lefts = []
    for seed in range(40):
        crop, edge_crop = random_crop(image, edges, CropSpec(32, 1.0, 1.0), np.random.default_rng(seed))
        assert crop.shape == (32, 32, 3) and np.array_equal(crop[..., 0], edge_crop)
        lefts.append(crop[16, 0, 0] > crop[16, -1, 0])
    assert 0 < sum(lefts) < 40  # some crops were mirrored


def _lines_image() -> np.ndarray:
    edges = np.zeros((128, 128), np.uint8)
    cv2.line(edges, (5, 5), (120, 100), 255, 5)
    cv2.line(edges, (5, 100), (120, 10), 230, 4)
    cv2.circle(edges, (64, 64), 30, 200, 3)
    return edges


def test_guides_are_binarised_at_the_spec_threshold_and_kept_inside_the_hole():
    edges = _lines_image()
    edges[100:110, 10:60] = 150  # below 0.6 * 255: never a line
    hole = np.zeros(edges.shape, bool)
    hole[20:115, 15:110] = True
    keep_all = GuideStyle(none_probability=0.0, drop_range=(0.0, 0.0), thin_probability=0.0)
    guide = synthesize_guide(edges, hole, np.random.default_rng(0), keep_all)
    assert np.array_equal(guide > 0, (edges > 153) & hole)


def test_about_a_third_of_guides_are_empty_and_others_are_sparser():
    edges = _lines_image()
    hole = np.ones(edges.shape, bool)
    guides = [synthesize_guide(edges, hole, np.random.default_rng(seed)) for seed in range(150)]
    empty = sum(not g.any() for g in guides)
    assert 30 <= empty <= 70
    full = int((edges > 153).sum())
    counts = [int((g > 0).sum()) for g in guides if g.any()]
    assert max(counts) <= full and min(counts) < full // 2


def test_thinning_leaves_one_pixel_wide_connected_lines():
    lines = np.zeros((40, 80), bool)
    lines[18:23, 5:75] = True  # a 5 px wide bar
    skeleton = thin_lines(lines)
    assert skeleton.sum() > 50
    assert skeleton.sum(axis=0).max() == 1
    assert cv2.connectedComponents(skeleton.astype(np.uint8), connectivity=8)[0] == 2


def test_dropping_segments_removes_whole_pieces():
    lines = np.zeros((30, 30), bool)
    lines[5, 2:28] = True
    lines[20, 2:28] = True
    rng = np.random.default_rng(0)
    assert not drop_segments(lines, rng, 1.0).any()
    assert np.array_equal(drop_segments(lines, rng, 0.0), lines)
    some = [drop_segments(lines, np.random.default_rng(s), 0.5) for s in range(20)]
    assert all(piece.sum() in (0, 26, 52) for piece in some) and any(piece.sum() == 26 for piece in some)


def test_worker_processes_deliver_the_same_batches_in_step_order(pack):
    import torch

    from inference.training.data import batch_stream

    maker = _maker(pack, batch=2)
    in_process = batch_stream(maker, start_step=4, workers=0, pin_memory=False)
    with_workers = batch_stream(maker, start_step=4, workers=1, pin_memory=False)
    for step in (4, 5, 6):
        expected, a, b = maker.make(step), next(in_process), next(with_workers)
        assert torch.equal(a["images"], b["images"]) and torch.equal(a["masks"], b["masks"])
        assert np.array_equal(a["images"].permute(0, 2, 3, 1).numpy(), expected["images"])
    del with_workers
