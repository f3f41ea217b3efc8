"""The Compare window as a first real use found it (issue 16, items 2 and 3)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from app.compare.grid import ORIGINAL
from app.history import commands
from tests.qt_fixtures import *  # noqa: F403

HOLE = (slice(20, 40), slice(30, 70))


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    mask = np.zeros(window.model.document.shape, dtype=bool)
    mask[HOLE] = True
    commands.push_layer_change(window.model, "Painted hole", "mask", mask)
    return window


def run(compare, qtbot, names):
    compare.set_engines(names)
    compare.show()
    assert compare.start()
    qtbot.waitUntil(lambda: not compare.run.busy, timeout=8000)


def test_use_this_after_simulated_damage_never_touches_the_photo(editor, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    image_before, mask_before, count = document.image.copy(), document.mask.copy(), stack.count()
    compare = editor.compare.ensure()
    compare.damage.kind.setCurrentIndex(compare.damage.kind.findData("box"))
    compare.damage.generate.click()
    run(compare, qtbot, ["flat"])
    cell = compare.grid.cells["flat"]
    assert cell.pane.has_image and cell.result.scores is not None
    assert not cell.use_button.isEnabled()
    assert "not offered for the photo" in cell.use_button.toolTip()
    assert not compare.use_result("flat")
    assert "simulated damage" in compare.statusBar().currentMessage()
    assert stack.count() == count
    np.testing.assert_array_equal(document.image, image_before)
    np.testing.assert_array_equal(document.mask, mask_before)


def test_unticking_scoring_goes_back_to_the_photos_hole_and_its_results_apply(editor, qtbot):
    compare = editor.compare.ensure()
    compare.damage.generate.click()
    compare.damage.scored.setChecked(False)
    assert compare.simulated is None
    np.testing.assert_array_equal(compare.grid.inputs.mask, editor.model.document.mask)
    run(compare, qtbot, ["flat"])
    assert compare.grid.cells["flat"].use_button.isEnabled()
    assert compare.use_result("flat")
    assert (editor.model.document.image[HOLE] == (10, 200, 30)).all()


def test_a_new_simulated_hole_shows_at_once_and_marks_the_old_results_stale(editor, qtbot):
    compare = editor.compare.ensure()
    run(compare, qtbot, ["flat"])
    cell = compare.grid.cells["flat"]
    assert cell.use_button.isEnabled() and not cell.stale
    compare.damage.kind.setCurrentIndex(compare.damage.kind.findData("box"))
    compare.damage.seed.setValue(5)
    compare.damage.generate.click()
    np.testing.assert_array_equal(compare.grid.inputs.mask, compare.simulated)
    original = compare.grid.cells[ORIGINAL]
    np.testing.assert_array_equal(original.sources["hole"], compare.simulated)
    assert "seed 5" in original.title.text()
    assert cell.stale and cell.pane.stale and not cell.use_button.isEnabled()
    assert "stale" in cell.time.text()


def test_painting_the_hole_after_a_run_marks_the_results_stale(editor, qtbot):
    compare = editor.compare.ensure()
    run(compare, qtbot, ["flat", "flat_blue"])
    mask = editor.model.document.mask.copy()
    mask[60:70, 60:70] = True
    commands.push_layer_change(editor.model, "More hole", "mask", mask)
    for name in ("flat", "flat_blue"):
        assert compare.grid.cells[name].stale
    assert not compare.grid.cells["flat"].use_button.isEnabled()


def test_using_a_result_does_not_make_the_others_stale(editor, qtbot):
    compare = editor.compare.ensure()
    run(compare, qtbot, ["flat", "flat_blue"])
    assert compare.use_result("flat")
    assert not compare.grid.cells["flat_blue"].stale


@pytest.mark.parametrize("keys", ["Esc", "Ctrl+W"])
def test_esc_and_ctrl_w_close_the_window_when_nothing_runs(editor, qtbot, keys):
    compare = editor.compare.ensure()
    run(compare, qtbot, ["flat"])
    compare.activateWindow()
    sequence = QKeySequence(keys if keys != "Ctrl+W" else QKeySequence.StandardKey.Close)
    key = sequence[0]
    qtbot.keyClick(compare, key.key(), key.keyboardModifiers())
    qtbot.waitUntil(lambda: not compare.isVisible(), timeout=2000)


def test_esc_cancels_a_running_queue_first(editor, qtbot):
    compare = editor.compare.ensure()
    compare.set_engines(["slow"])
    compare.show()
    assert compare.start()
    compare.actions["cancel"].trigger()
    assert not compare.run.busy and compare.isVisible()


def test_the_window_fits_a_1280_by_720_screen_with_every_engine(editor, qtbot):
    compare = editor.compare.ensure()
    run(compare, qtbot, ["flat", "slow", "failing", "flat_blue"])
    hint = compare.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, hint
    screen = QApplication.primaryScreen().availableGeometry()
    assert compare.width() <= max(screen.width(), 1280)


def test_three_cells_use_the_space_a_grid_would_leave_empty(editor, qtbot):
    compare = editor.compare.ensure()
    compare.resize(1280, 720)
    run(compare, qtbot, ["flat", "flat_blue"])
    qtbot.wait(50)
    grid = compare.grid
    cells = list(grid.cells.values())
    covered = sum(cell.width() * cell.height() for cell in cells)
    assert covered >= 0.85 * grid.width() * grid.height(), "no quarter of the grid is left empty"
