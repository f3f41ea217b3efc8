"""Long OpenCV fills run in a helper process that Cancel kills, with the same pixels as in-process."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from inference.engines import interruptible
from inference.engines.classical import telea
from inference.engines.contract import Cancelled


def _photo_and_big_hole(side: int = 360, hole: int = 220):
    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 256, (side, side, 3), dtype=np.uint8), (0, 0), 3)
    mask = np.zeros((side, side), dtype=bool)
    start = (side - hole) // 2
    mask[start:start + hole, start:start + hole] = True
    return image, mask


def test_a_big_hole_filled_in_the_helper_equals_opencv_in_process():
    image, mask = _photo_and_big_hole()
    expected = cv2.inpaint(image, mask.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    result = telea().inpaint(image, mask)
    assert np.array_equal(result[mask], expected[mask])
    assert np.array_equal(result[~mask], image[~mask])


def test_cancel_kills_the_helper_process_and_the_next_call_starts_another():
    image, mask = _photo_and_big_hole()
    telea().inpaint(image, mask)  # the helper is running now
    first = interruptible._SHARED.running
    assert first is not None and first.poll() is None
    # A fill several times longer than the helper's first poll (0.05 s), even on a fast machine
    # (0.34 s on a 2024 Xeon core): Cancel must find it still running.
    big_image, big_mask = _photo_and_big_hole(720, 480)
    deadline = time.monotonic() + 0.1
    with pytest.raises(Cancelled):
        telea().inpaint(big_image, big_mask, should_cancel=lambda: time.monotonic() > deadline)
    assert first.poll() is not None  # killed, not left computing
    telea().inpaint(image, mask)
    assert interruptible._SHARED.running is not first
    interruptible.stop_helper()


def test_an_error_in_the_helper_comes_back_as_one_line():
    with pytest.raises(RuntimeError, match="error:"):
        interruptible.call_interruptibly(cv2.inpaint, (np.zeros((4, 4), np.float64), None, 3, 0), lambda: False)
    interruptible.stop_helper()
