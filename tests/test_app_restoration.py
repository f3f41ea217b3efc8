"""Editor: the Scratch brush, Detect dust / Detect damage with their preview, Add to Hole as one undo step."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.io.images import save_image
from inference.restoration.filters import grow
from inference.restoration.scoring import object_counts
from inference.restoration.synthetic import render_damage
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import drag
from tests.test_restoration import flat_photo

SCRATCH = ((40, 60), (280, 180))  # (x, y) ends of the bright scratch drawn on the test photo


@pytest.fixture
def old_photo(tmp_path):
    photo = render_damage(flat_photo(384, 512, seed=5), np.random.default_rng(5), ("dust",))
    image = photo.image.copy()
    cv2.line(image, SCRATCH[0], SCRATCH[1], (245, 245, 240), 2)
    path = tmp_path / "old.png"
    save_image(path, image)
    return path, photo.masks["dust"]


def scratch_line(shape):
    line = np.zeros(shape, np.uint8)
    cv2.line(line, SCRATCH[0], SCRATCH[1], 1, 2)
    return line.astype(bool)


def test_scratch_brush_adds_only_the_defect_inside_the_stroke_as_one_undo_step(window, old_photo, qtbot):
    path, _dust = old_photo
    assert window.files.open_path(path)
    window.select_tool("scratch")
    window.tool_control.sizes.set("mask", 24)
    document, stack = window.model.document, window.model.undo_stack
    points = [(SCRATCH[0][0] + t * (SCRATCH[1][0] - SCRATCH[0][0]), SCRATCH[0][1] + t * (SCRATCH[1][1] - SCRATCH[0][1]))
              for t in np.linspace(0.05, 0.95, 12)]
    drag(window.canvas, points)
    line = scratch_line(document.shape)
    covered = line & document.mask
    assert covered.sum() >= 0.6 * (line & grow(document.mask, 6)).sum() and covered.sum() > 150
    rough = window.tools["scratch"]
    rough.points = [(float(x), float(y)) for x, y in points]
    stroke = rough.rough_stroke(document.shape)
    rough.points = []
    assert document.mask.sum() < 0.5 * stroke.sum()  # much thinner than what was painted
    assert not (document.mask & ~grow(stroke, 2)).any()
    assert stack.count() == 1 and stack.text(0) == "Scratch brush"
    stack.undo()
    assert not document.mask.any()


def test_scratch_brush_shows_the_rough_stroke_until_release(window, old_photo):
    path, _dust = old_photo
    assert window.files.open_path(path)
    window.select_tool("scratch")
    tool = window.tools["scratch"]
    from PySide6.QtCore import QPointF, Qt

    tool.press(QPointF(50, 60), Qt.KeyboardModifier.NoModifier)
    tool.move(QPointF(120, 100), Qt.KeyboardModifier.NoModifier)
    assert tool.preview() is not None and not tool.preview().isEmpty()
    assert not window.model.document.mask.any()  # nothing changes before release
    tool.cancel()
    assert tool.preview() is None


def test_scratch_brush_sensitivity_lives_in_tool_options(window, old_photo):
    path, _dust = old_photo
    assert window.files.open_path(path)
    slider = window.restoration.brush_sensitivity
    window.select_tool("scratch")
    assert slider.isVisibleTo(window.tool_options)
    slider.set_value(0.8)
    assert window.tools["scratch"].sensitivity == pytest.approx(0.8)
    window.select_tool("brush")
    assert not slider.isVisibleTo(window.tool_options)


def test_detect_dust_previews_then_adds_to_the_hole_as_one_undo_step(window, old_photo, qtbot):
    path, dust = old_photo
    assert window.files.open_path(path)
    document, stack = window.model.document, window.model.undo_stack
    window.actions["detect_dust"].trigger()
    qtbot.waitUntil(lambda: window.restoration.proposal is not None, timeout=10000)
    proposal = window.restoration.proposal
    assert window.canvas.layer("proposals") is not None
    assert not document.mask.any() and stack.count() == 0  # a preview, not yet the Hole
    assert object_counts(proposal, dust).recall >= 0.6
    assert window.restoration.panel.add.isEnabled()
    window.actions["add_proposals"].trigger()
    assert np.array_equal(document.mask, proposal)
    assert stack.count() == 1 and stack.text(0) == "Add dust to the Hole"
    assert window.canvas.layer("proposals") is None
    stack.undo()
    assert not document.mask.any()


def test_detection_sensitivity_reruns_and_discard_clears(window, old_photo, qtbot):
    path, _dust = old_photo
    assert window.files.open_path(path)
    control = window.restoration
    control.panel.sensitivity.set_value(0.2)
    window.actions["detect_dust"].trigger()
    qtbot.waitUntil(lambda: control.proposal is not None and not control.busy, timeout=10000)
    strict = control.proposal.sum()
    # Re-runs after the slider rests. Waited for by its finished signal, not by polling `busy`: the
    # re-run reuses the photo's network pass and can start and end between two polls.
    with qtbot.waitSignal(control.runner.finished, timeout=10000):
        control.panel.sensitivity.set_value(0.9)
    qtbot.waitUntil(lambda: control.proposal is not None and not control.busy, timeout=10000)
    assert control.proposal.sum() >= strict
    control.panel.discard.click()
    assert control.proposal is None and window.canvas.layer("proposals") is None
    assert not window.model.document.mask.any()


def test_detect_damage_finds_the_scratch(window, old_photo, qtbot):
    path, _dust = old_photo
    assert window.files.open_path(path)
    window.actions["detect_damage"].trigger()
    qtbot.waitUntil(lambda: window.restoration.proposal is not None, timeout=20000)
    line = scratch_line(window.model.document.shape)
    assert (window.restoration.proposal & line).sum() >= 0.6 * line.sum()
