"""Restoration: the synthetic-damage generator and the three detectors, on generated photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inference.io.images import open_image
from inference.restoration import propose_damage, propose_dust, refine_stroke
from inference.restoration.detector import detector_path
from inference.restoration.filters import grow
from inference.restoration.scoring import object_counts, pixel_counts
from inference.restoration.synthetic import KINDS, VISIBLE_STEP, render_damage

TRAIN = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "train" / "images"


@pytest.fixture(params=["classical", "learned"])
def method(request) -> str:
    """Each detector test runs with the rules and with the trained detector the project ships."""
    if request.param == "learned" and detector_path() is None:
        pytest.skip("the trained defect detector (weights/defect_detector.safetensors) is absent")
    return request.param


def detailed_photo(height: int = 384, width: int = 512, seed: int = 0) -> np.ndarray:
    """Smooth shading, blotchy mid-frequency texture (foliage, fabric) and film grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    shading = 90 + 80 * np.sin(x / width * 2.5) * np.cos(y / height * 1.7)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 3) * 60
    grain = rng.normal(0, 2.5, (height, width))
    grey = np.clip(shading + texture + grain, 0, 255)
    tint = np.array([1.0, 0.95, 0.85], np.float32)
    return np.clip(grey[..., None] * tint, 0, 255).astype(np.uint8)


def flat_photo(height: int = 384, width: int = 512, seed: int = 0) -> np.ndarray:
    """A sky-like gradient with grain: where dust and scratches are unambiguous."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    grey = 110 + 40 * y / height + 15 * x / width + rng.normal(0, 2.0, (height, width))
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def test_same_seed_same_damage_and_masks_mark_visible_change():
    clean = detailed_photo()
    first = render_damage(clean, np.random.default_rng(5))
    second = render_damage(clean, np.random.default_rng(5))
    assert np.array_equal(first.image, second.image)
    assert set(first.masks) == set(KINDS)
    for kind in ("scratch", "dust", "torn"):
        assert first.masks[kind].any(), kind
    alone = render_damage(clean, np.random.default_rng(1), ("dust",))
    grey = lambda image: image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
    change = np.abs(grey(alone.image) - grey(clean))
    assert change[alone.masks["dust"]].min() >= VISIBLE_STEP - 1  # rounding to uint8
    far = ~grow(alone.mask, 4)  # beyond the anti-aliased rim nothing changes
    assert np.array_equal(alone.image[far], clean[far])


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown damage kind"):
        render_damage(flat_photo(), np.random.default_rng(0), ("mould",))


@pytest.mark.parametrize("kind", ["scratch", "crack", "dust"])
def test_refine_stroke_keeps_the_defect_inside_a_rough_stroke(kind, method):
    totals = None
    for seed in range(3):
        photo = render_damage(detailed_photo(seed=seed), np.random.default_rng(seed), (kind,))
        truth = photo.masks[kind]
        stroke = grow(truth, 12)
        found = refine_stroke(photo.image, stroke, 0.5, method=method)
        assert not (found & ~grow(stroke, 1)).any()  # never outside the Stroke (plus the 1-px growth)
        counts = pixel_counts(found, truth)
        if totals is None:
            totals = counts
        else:
            totals += counts
    assert totals.precision >= 0.7 and totals.recall >= 0.7, (totals.precision, totals.recall)


def test_refine_stroke_on_a_clean_stroke_marks_little(method):
    photo = detailed_photo()
    stroke = np.zeros(photo.shape[:2], bool)
    stroke[100:120, 50:450] = True
    found = refine_stroke(photo, stroke, 0.5, method=method)
    assert found.sum() < 0.05 * stroke.sum()


def test_refine_stroke_follows_the_chosen_polarity(method):
    photo = flat_photo()
    cv2.line(photo, (50, 200), (450, 210), (250, 250, 250), 2)
    stroke = np.zeros(photo.shape[:2], np.uint8)
    cv2.line(stroke, (50, 200), (450, 210), 1, 24)
    assert refine_stroke(photo, stroke.astype(bool), 0.5, "bright", method=method).sum() > 600
    assert refine_stroke(photo, stroke.astype(bool), 0.5, "dark", method=method).sum() < 50


def test_propose_dust_finds_rendered_specks_on_flat_and_detailed_photos(method):
    for make in (flat_photo, detailed_photo):
        photo = render_damage(make(seed=2), np.random.default_rng(2), ("dust",))
        counts = object_counts(propose_dust(photo.image, 0.5, method=method), photo.masks["dust"])
        assert counts.recall >= 0.6 and counts.precision >= 0.8, (make.__name__, counts)


def test_propose_dust_region_limits_the_search(method):
    photo = render_damage(flat_photo(seed=3), np.random.default_rng(3), ("dust",))
    region = np.zeros(photo.image.shape[:2], bool)
    region[:, :200] = True
    found = propose_dust(photo.image, 0.5, region, method=method)
    assert found.any() and not found[:, 200:].any()


def test_propose_damage_finds_a_long_scratch_and_a_torn_corner(method):
    photo = flat_photo(seed=4)
    cv2.line(photo, (30, 40), (480, 330), (245, 245, 240), 2, cv2.LINE_AA)
    cv2.fillPoly(photo, [np.array([[0, 0], [90, 0], [60, 20], [20, 50], [0, 70]])], (240, 238, 232))
    found = propose_damage(photo, 0.5, method=method)
    line = np.zeros(photo.shape[:2], np.uint8)
    cv2.line(line, (30, 40), (480, 330), 1, 2)
    assert (found & line.astype(bool)).sum() >= 0.7 * line.sum()
    # The rules fill the whole corner. The network (stage 3) marks a flat, straight-edged corner like
    # this one (unlike the textured, jagged tears it learnt from) from its outline and its tip: 80 %
    # of it here; docs/restoration.md says so.
    coverage = found[5:30, 5:30].mean()
    assert coverage == 1.0 if method == "classical" else coverage >= 0.75
    assert not found[200:, :150].any()


def test_a_clean_detailed_photo_gets_few_false_marks(method):
    for seed in range(3):
        photo = detailed_photo(seed=seed)
        assert propose_dust(photo, 0.5, method=method).mean() < 0.002
        assert propose_damage(photo, 0.5, method=method).mean() < 0.002


@pytest.mark.skipif(not TRAIN.is_dir(), reason="needs the train photos in ../shared/data")
def test_real_clean_photos_get_few_false_marks(method):
    paths = sorted(TRAIN.glob("bsds500__*.jpg"))[:4]
    for path in paths:
        photo = open_image(path).pixels
        assert propose_dust(photo, 0.5, method=method).mean() < 0.005, path.name
        assert propose_damage(photo, 0.5, method=method).mean() < 0.01, path.name


def test_bad_inputs_get_clear_errors():
    photo = flat_photo()
    with pytest.raises(ValueError, match="sensitivity"):
        propose_dust(photo, 1.5)
    with pytest.raises(ValueError, match="RGB uint8"):
        propose_damage(photo[..., 0], 0.5)
    with pytest.raises(ValueError, match="stroke mask"):
        refine_stroke(photo, np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="kind"):
        refine_stroke(photo, np.zeros(photo.shape[:2], bool), 0.5, "blue")
