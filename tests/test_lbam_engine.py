"""The LBAM engine against the engine contract, with seeded random weights in a private weights folder."""

from __future__ import annotations

import numpy as np
import pytest

from inference.engines.contract import Cancelled
from inference.engines.lbam.checkpoint import ARCHITECTURE
from inference.engines.lbam.engine import LBAMEngine
from inference.engines.lbam.network import build_generator
from inference.engines.registry import create_engine, get_spec
from inference.weights.importer import store_weights
from inference.weights.store import WeightsError

SMALL = 1 / 16


@pytest.fixture
def stored_lbam(weights_dir):
    state = build_generator(SMALL, seed=0).state_dict()
    return store_weights(state, ARCHITECTURE.detect(state))


@pytest.fixture
def engine(stored_lbam) -> LBAMEngine:
    return LBAMEngine(device="cpu")


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _check_contract(image: np.ndarray, mask: np.ndarray, result: np.ndarray) -> None:
    assert result.shape == image.shape and result.dtype == np.uint8
    assert np.array_equal(result[~mask], image[~mask])
    assert not np.array_equal(result[mask], image[mask])  # the Hole was really filled


def test_registry_builds_the_engine_once_weights_exist(stored_lbam):
    assert get_spec("lbam").check().available
    engine = create_engine("lbam")
    assert isinstance(engine, LBAMEngine)
    assert engine.weights.card["width"] == SMALL and engine.working_size == 256 and engine.multiple == 128


def test_without_weights_the_engine_says_how_to_get_them(weights_dir):
    assert not get_spec("lbam").check().available
    with pytest.raises(WeightsError, match="weights import"):
        LBAMEngine(device="cpu")


def test_odd_size_keeps_every_unmasked_pixel(engine):
    image = _photo(97, 131)
    mask = np.zeros(image.shape[:2], bool)
    mask[40:61, 50:77] = True
    _check_contract(image, mask, engine.inpaint(image, mask))


def test_holes_touching_every_border(engine):
    image = _photo(150, 121, seed=1)
    mask = np.zeros(image.shape[:2], bool)
    mask[:12, 30:60] = True
    mask[90:, :9] = True
    mask[60:80, 110:] = True
    mask[-5:, 70:100] = True
    _check_contract(image, mask, engine.inpaint(image, mask))


def test_several_holes_fill_region_by_region_with_progress(engine):
    image = _photo(200, 420, seed=2)
    mask = np.zeros(image.shape[:2], bool)
    mask[20:40, 20:50] = True
    mask[150:180, 200:230] = True
    mask[60:90, 370:400] = True
    calls = []
    result = engine.inpaint(image, mask, progress=lambda done, total: calls.append((done, total)))
    _check_contract(image, mask, result)
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_a_crop_larger_than_256_is_scaled_down_and_back(engine):
    image = _photo(340, 300, seed=3)
    mask = np.zeros(image.shape[:2], bool)
    mask[100:240, 90:210] = True  # crop = whole photo, long side 340 → 256
    _check_contract(image, mask, engine.inpaint(image, mask))


def test_a_crop_at_working_size_comes_back_composed_with_its_known_pixels(engine):
    crop = _photo(100, 140, seed=4)
    crop_mask = np.zeros(crop.shape[:2], bool)
    crop_mask[30:70, 40:90] = True
    filled = engine.fill_crop(crop, crop_mask, None)
    assert filled.shape == crop.shape
    # Padding only (no scaling): the network's composition returns the known pixels exactly.
    assert np.array_equal(filled[~crop_mask], crop[~crop_mask])


def test_cancel_is_checked_between_crops(engine):
    image = _photo(200, 420, seed=5)
    mask = np.zeros(image.shape[:2], bool)
    mask[20:40, 20:50] = True
    mask[150:180, 300:330] = True
    checks = []

    def cancel_after_first_crop() -> bool:
        checks.append(True)
        return len(checks) > 1

    with pytest.raises(Cancelled):
        engine.inpaint(image, mask, should_cancel=cancel_after_first_crop)
    assert len(checks) == 2


def test_same_input_gives_the_same_fill(engine):
    image = _photo(64, 64, seed=6)
    mask = np.zeros(image.shape[:2], bool)
    mask[20:30, 10:50] = True
    assert np.array_equal(engine.inpaint(image, mask), engine.inpaint(image, mask))
