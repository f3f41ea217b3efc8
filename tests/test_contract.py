"""The engine contract, checked on the classical engines (odd sizes, empty and full masks, bad inputs)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.engines.classical import navier_stokes, telea
from inference.engines.contract import Engine, InputError
from inference.engines.registry import create_engine

ENGINES = [telea(), navier_stokes()]


def random_case(height: int, width: int, seed: int, hole_ratio: float = 0.2):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = rng.random((height, width)) < hole_ratio
    return image, mask


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
@pytest.mark.parametrize("shape", [(67, 101), (1, 1), (3000, 17), (17, 3000)])
def test_odd_sizes_keep_unmasked_pixels(engine, shape):
    image, mask = random_case(*shape, seed=1, hole_ratio=0.3)
    mask.flat[0] = True
    result = engine.inpaint(image, mask)
    assert result.shape == image.shape and result.dtype == np.uint8
    assert np.array_equal(result[~mask], image[~mask])


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_empty_mask_returns_input_without_running(engine, monkeypatch):
    image, _ = random_case(40, 50, seed=2)
    monkeypatch.setattr(engine, "_fill_into", lambda *a: pytest.fail("engine ran on an empty mask"))
    result = engine.inpaint(image, np.zeros((40, 50), bool))
    assert np.array_equal(result, image) and result is not image


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_all_hole_mask_gives_a_valid_image(engine):
    image, _ = random_case(31, 45, seed=3)
    result = engine.inpaint(image, np.ones((31, 45), bool))
    assert result.shape == image.shape and result.dtype == np.uint8


@pytest.mark.parametrize(
    ("image", "mask", "guide", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), bool), None, "image must be RGB uint8"),
        (np.zeros((8, 8), np.uint8), np.zeros((8, 8), bool), None, "image must be RGB uint8"),
        (np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8), bool), None, "image must be RGB uint8"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), None, "mask must be bool"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9), bool), None, "mask must be bool of shape (8, 8)"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool), np.zeros((8, 8), bool), "guide must be uint8"),
        ([[0]], np.zeros((8, 8), bool), None, "image must be a numpy array"),
    ],
)
def test_wrong_inputs_are_refused_clearly(image, mask, guide, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        telea().inpaint(image, mask, guide)


def test_engine_that_breaks_pixels_outside_the_hole_cannot_leak_them():
    class Scribbler(Engine):
        name = "scribbler"

        def _fill(self, image, mask, guide, should_cancel, progress):
            return np.full_like(image, 7)

    image, mask = random_case(20, 30, seed=4)
    result = Scribbler().inpaint(image, mask)
    assert np.array_equal(result[~mask], image[~mask])
    assert (result[mask] == 7).all()


def test_crop_result_matches_whole_image_telea():
    """The crop margin is wide enough that Telea on crops equals Telea on the whole photo."""
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), (0, 0), 3)
    mask = np.zeros((300, 400), bool)
    mask[40:70, 50:90] = True
    mask[200:230, 300:340] = True
    whole = cv2.inpaint(image, mask.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    assert np.array_equal(telea().inpaint(image, mask), whole)


def test_radius_is_an_option_of_the_registry():
    engine = create_engine("telea", radius=9)
    assert engine.radius == 9
    with pytest.raises(ValueError, match="radius"):
        create_engine("ns", radius=0)


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 60),
    width=st.integers(1, 60),
    seed=st.integers(0, 2**16),
    ratio=st.floats(0.0, 1.0),
    which=st.sampled_from([0, 1]),
)
def test_contract_holds_for_random_masks(height, width, seed, ratio, which):
    image, mask = random_case(height, width, seed, ratio)
    result = ENGINES[which].inpaint(image, mask)
    assert result.shape == image.shape and result.dtype == np.uint8
    assert np.array_equal(result[~mask], image[~mask])
