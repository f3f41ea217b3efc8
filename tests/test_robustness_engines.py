"""Issue 15, speed and hangs: hole planning near-linear and cancellable (13); a large radius stays fast (14)."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from inference.engines.classical import EXACT_RADIUS, telea
from inference.engines.contract import Cancelled
from inference.engines.regions import Box, _merge_close, hole_boxes, plan_regions


def _merge_close_reference(boxes: list[Box], merge_gap: int) -> list[Box]:
    """The quadratic merging the planner used before, kept here as the definition of the result."""
    merged = True
    while merged:
        merged = False
        result: list[Box] = []
        for box in boxes:
            for i, kept in enumerate(result):
                if kept.gap_to(box) <= merge_gap:
                    result[i] = kept.union(box)
                    merged = True
                    break
            else:
                result.append(box)
        boxes = result
    return sorted(boxes, key=lambda b: (b.top, b.left))


def test_grid_merging_gives_the_reference_result():
    rng = random.Random(15)
    for _ in range(400):
        size, gap = rng.choice([40, 200, 1000]), rng.choice([0, 1, 3, 10, 28, 60])
        boxes = []
        for _ in range(rng.randint(0, 60)):
            top, left = rng.randrange(size), rng.randrange(size)
            boxes.append(Box(top, left, top + rng.randint(1, 40), left + rng.randint(1, 40)))
        assert _merge_close(list(boxes), gap) == _merge_close_reference(list(boxes), gap)


def _specks(count: int, side: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros((side, side), bool)
    mask[rng.integers(0, side, count), rng.integers(0, side, count)] = True
    return mask


def test_ten_thousand_specks_plan_with_few_gap_checks(monkeypatch):
    # Counting gap checks instead of timing: the quadratic planner made ~10^7 of them here.
    calls = {"count": 0}
    original = Box.gap_to

    def counted(self, other):
        calls["count"] += 1
        return original(self, other)

    monkeypatch.setattr(Box, "gap_to", counted)
    boxes = hole_boxes(_specks(10_000, 4000), merge_gap=0)
    assert len(boxes) > 9_000 and calls["count"] < 200_000


def test_planning_can_be_cancelled():
    with pytest.raises(Cancelled):
        plan_regions(_specks(5_000, 2000), lambda _box: (3, 3), merge_gap=0, should_cancel=lambda: True)


def test_large_radius_on_a_large_hole_is_fast_and_keeps_known_pixels():
    image = np.random.default_rng(1).integers(0, 256, (420, 420, 3), dtype=np.uint8)
    mask = np.zeros((420, 420), bool)
    mask[60:360, 60:360] = True
    finished = threading.Event()
    outcome = {}

    def run():
        outcome["result"] = telea(radius=100).inpaint(image, mask)
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    assert finished.wait(30), "radius 100 on a 300×300 hole must not take minutes"
    result = outcome["result"]
    assert np.array_equal(result[~mask], image[~mask])
    assert not np.array_equal(result[mask], image[mask])


def test_small_radius_and_small_holes_stay_exact():
    import cv2

    image = np.random.default_rng(2).integers(0, 256, (80, 80, 3), dtype=np.uint8)
    mask = np.zeros((80, 80), bool)
    mask[30:40, 30:45] = True
    for radius in (EXACT_RADIUS, 30):
        expected = cv2.inpaint(image, mask.astype(np.uint8), radius, cv2.INPAINT_TELEA)
        assert np.array_equal(telea(radius).inpaint(image, mask), expected)


def test_classical_engine_reports_progress_and_cancels():
    image = np.zeros((100, 100, 3), np.uint8)
    mask = np.zeros((100, 100), bool)
    mask[10:15, 10:15] = mask[70:75, 70:75] = True
    seen = []
    telea(2).inpaint(image, mask, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    with pytest.raises(Cancelled):
        telea(2).inpaint(image, mask, should_cancel=lambda: True)
