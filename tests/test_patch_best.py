"""``patch_best`` (pypatchmatch crop by crop in the killable helper process): contract, seed, Sampling
area, cancel. Skips with the reason when pypatchmatch cannot be loaded here."""

from __future__ import annotations

import time

import numpy as np
import pytest

from inference.engines import interruptible
from inference.engines.contract import Cancelled
from inference.engines.patch.library import LibraryPatchEngine, library_available
from inference.engines.registry import create_engine, get_spec
from tests.test_patch_engine import box_mask, magenta_scene, near_magenta, textured

available, reason = library_available()
pytestmark = pytest.mark.skipif(not available, reason=reason)


def test_registered_without_weights_and_ignoring_the_guide():
    spec = get_spec("patch_best")
    assert spec.check().available and not spec.accepts_guide
    assert isinstance(create_engine("patch_best"), LibraryPatchEngine)


def test_unmasked_pixels_bit_identical_and_seeded():
    image = textured(96, 130, seed=2)
    mask = box_mask(image.shape[:2], 30, 40, 60, 90)
    first = LibraryPatchEngine(seed=1).inpaint(image, mask)
    assert np.array_equal(first[~mask], image[~mask])
    assert np.array_equal(first, LibraryPatchEngine(seed=1).inpaint(image, mask))
    assert first[mask].std() > 3  # textured, not a flat colour


def test_no_patch_is_taken_from_outside_the_sampling_area():
    image, mask, excluded = magenta_scene()
    assert near_magenta(LibraryPatchEngine().inpaint(image, mask)[mask]).any()  # the easy copy
    restricted = LibraryPatchEngine().restricted_to(~excluded).inpaint(image, mask)
    assert not near_magenta(restricted[mask]).any()
    assert np.array_equal(restricted[~mask], image[~mask])


def test_cancel_kills_the_native_call():
    image = textured(900, 900, seed=5)
    mask = box_mask(image.shape[:2], 200, 200, 700, 700)
    deadline = time.monotonic() + 0.3
    with pytest.raises(Cancelled):
        LibraryPatchEngine().inpaint(image, mask, should_cancel=lambda: time.monotonic() > deadline)
    assert interruptible._SHARED.running is None  # the helper was killed, nothing keeps computing
