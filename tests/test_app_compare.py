"""The Compare window: panes per Engine, errors in place, synchronised zoom, "Use this", scoring."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt

from app.compare.grid import ORIGINAL, grid_columns
from app.compare.panes import best_scores, crop_around_hole
from app.history import commands
from inference.engines.regions import Box
from inference.evaluation.compare import RECORD_COLUMNS
from inference.evaluation.metrics import score
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import FakeSpec, make_photo, send_mouse

FLAT = (10, 200, 30)
HOLE = (slice(20, 40), slice(30, 70))  # rows, columns of the test Hole


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    mask = np.zeros(window.model.document.shape, dtype=bool)
    mask[HOLE] = True
    commands.push_layer_change(window.model, "Test hole", "mask", mask)
    return window


def compare_with(editor, qtbot, names, wait=True):
    """The Compare window running exactly ``names``; waits for the run unless told otherwise."""
    compare = editor.compare.ensure()
    compare.set_engines(names)
    compare.show()
    assert compare.start()
    if wait:
        qtbot.waitUntil(lambda: not compare.run.busy, timeout=8000)
    return compare


def test_a_slow_and_a_failing_engine_each_get_a_pane_and_the_error_stays_in_its_pane(editor, engines, dialogs, qtbot):
    compare = compare_with(editor, qtbot, ["slow", "failing"], wait=False)
    cells = compare.grid.cells
    assert list(cells) == [ORIGINAL, "slow", "failing"]
    qtbot.waitUntil(lambda: cells["slow"].time.text() == "running", timeout=3000)
    assert cells["failing"].time.text() == "queued"  # one after another on the one worker
    assert compare.actions["cancel"].isEnabled()
    qtbot.waitUntil(lambda: not compare.run.busy, timeout=8000)
    slow, failing = cells["slow"], cells["failing"]
    assert slow.pane.has_image and slow.time.text().endswith(" s")
    assert slow.use_button.isEnabled()
    assert not failing.pane.has_image and not failing.use_button.isEnabled()
    assert "broke on purpose" in failing.pane.message and "broke on purpose" in failing.info.text()
    assert failing.time.text() == "failed"
    assert dialogs.errors == []  # an engine's failure is a Result, not a dialog
    assert set(engines.built_on) == {"inpaint-worker"}  # Engines are built on the worker thread
    assert "1 failed" in compare.statusBar().currentMessage()


def test_each_result_lands_as_soon_as_its_engine_is_done(editor, qtbot):
    compare = compare_with(editor, qtbot, ["flat", "slow"], wait=False)
    qtbot.waitUntil(lambda: "flat" in compare.run.results, timeout=3000)
    assert compare.run.busy and compare.grid.cells["flat"].pane.has_image
    assert not compare.grid.cells["slow"].pane.has_image
    qtbot.waitUntil(lambda: not compare.run.busy, timeout=8000)


def test_zoom_and_pan_move_every_pane_together(editor, qtbot):
    compare = compare_with(editor, qtbot, ["flat", "flat_blue"])
    panes = compare.grid.panes()
    assert len(panes) == 3
    anchor = QPointF(40, 30)
    panes[2].zoom_by(2.0, anchor)
    zooms = {pane.view.zoom for pane in panes}
    assert len(zooms) == 1
    middle = [pane.widget_to_image(QPointF(pane.width() / 2, pane.height() / 2)) for pane in panes]
    assert all(point == middle[0] for point in middle)
    before = QPointF(panes[0].view.center)
    send_mouse(panes[1], QEvent.Type.MouseButtonPress, QPointF(60, 60))  # a left drag pans the panes
    send_mouse(panes[1], QEvent.Type.MouseMove, QPointF(80, 70))
    send_mouse(panes[1], QEvent.Type.MouseButtonRelease, QPointF(80, 70))
    assert panes[0].view.center != before
    assert all(pane.view is panes[0].view for pane in panes)
    compare.actions["actual"].trigger()
    assert all(pane.view.zoom == 1.0 for pane in panes)


def test_use_this_applies_the_result_as_one_undoable_command(editor, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    image_before, hole = document.image.copy(), document.mask.copy()
    compare = compare_with(editor, qtbot, ["flat", "flat_blue"])
    count = stack.count()
    compare.grid.cells["flat"].use_button.click()
    assert stack.count() == count + 1
    assert stack.text(count) == "Fill (Flat colour)"
    assert (document.image[hole] == FLAT).all()
    np.testing.assert_array_equal(document.image[~hole], image_before[~hole])
    stack.undo()
    np.testing.assert_array_equal(document.image, image_before)
    np.testing.assert_array_equal(document.mask, hole)
    stack.redo()
    assert (document.image[hole] == FLAT).all()


def test_cancel_stops_the_queue_and_a_late_result_never_lands(editor, engines, qtbot):
    compare = compare_with(editor, qtbot, ["stubborn", "flat_blue"], wait=False)
    cells = compare.grid.cells
    qtbot.waitUntil(lambda: cells["stubborn"].time.text() == "running", timeout=3000)
    compare.actions["cancel"].trigger()
    assert not compare.run.busy
    assert cells["stubborn"].time.text() == cells["flat_blue"].time.text() == "cancelled"
    qtbot.waitUntil(lambda: engines.engines["stubborn"].finished_runs == 1, timeout=5000)
    qtbot.wait(100)
    assert compare.run.results == {}
    assert not cells["stubborn"].pane.has_image
    assert "flat_blue" not in engines.engines  # its Job was dropped before it started


def test_a_new_run_supersedes_the_old_one(editor, engines, qtbot):
    compare = compare_with(editor, qtbot, ["stubborn"], wait=False)
    qtbot.waitUntil(lambda: compare.grid.cells["stubborn"].time.text() == "running", timeout=3000)
    compare.set_engines(["flat_blue"])
    compare.start()
    qtbot.waitUntil(lambda: not compare.run.busy, timeout=5000)
    qtbot.waitUntil(lambda: engines.engines["stubborn"].finished_runs == 1, timeout=5000)
    qtbot.wait(100)
    assert list(compare.run.results) == ["flat_blue"]
    assert list(compare.grid.cells) == [ORIGINAL, "flat_blue"]


def test_simulated_damage_is_scored_against_the_photo_and_exported_as_csv(editor, qtbot, tmp_path, monkeypatch):
    document, stack = editor.model.document, editor.model.undo_stack
    mask_before, commands_before = document.mask.copy(), stack.count()
    compare = editor.compare.ensure()
    compare.damage.kind.setCurrentIndex(compare.damage.kind.findData("box"))
    compare.damage.seed.setValue(3)
    compare.damage.generate.click()
    # Simulated damage never touches the Document: same Hole, nothing new in the History.
    assert stack.count() == commands_before
    np.testing.assert_array_equal(document.mask, mask_before)
    assert compare.damage.scored.isChecked()
    hole = compare.simulated.copy()
    assert hole.any() and not np.array_equal(hole, mask_before)
    np.testing.assert_array_equal(compare.grid.inputs.mask, hole)  # shown at once, before any Run
    compare = compare_with(editor, qtbot, ["flat", "flat_blue"])
    expected = document.image.copy()
    expected[hole] = FLAT
    result = compare.run.results["flat"]
    assert result.scores == score(document.image, expected, hole)
    assert "PSNR" in compare.grid.cells["flat"].info.text()
    assert compare.grid.cells[ORIGINAL].title.text() == "<b>Ground truth · simulated Hole (box, seed 3)</b>"
    target = tmp_path / "metrics.csv"
    monkeypatch.setattr("app.dialogs.questions.ask_save_path", lambda *_args: target)
    assert compare.export_csv()
    with open(target, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert tuple(rows[0]) == RECORD_COLUMNS
    assert [row[1] for row in rows[1:]] == ["flat", "flat_blue"]
    psnr = rows[1][RECORD_COLUMNS.index("psnr_hole")]
    assert float(psnr) == pytest.approx(result.scores.psnr_hole, abs=1e-3)


def test_the_engines_see_the_hole_blanked_when_scoring(editor, qtbot):
    seen = {}

    class Spy:
        def inpaint(self, image, mask, guide=None, **_):
            seen["image"] = image.copy()
            return image.copy()

    editor.runner._worker._engines[("flat", ())] = Spy()
    compare = editor.compare.ensure()
    compare.damage.scored.setChecked(True)
    compare_with(editor, qtbot, ["flat"])
    assert (seen["image"][HOLE] == 255).all()
    np.testing.assert_array_equal(seen["image"][:20], editor.model.document.image[:20])


def test_panes_show_the_region_around_the_hole_with_a_toggle_for_the_whole_image(editor, qtbot):
    # Hole rows 20..40, columns 30..70: grown to at least 128 px a side, clamped at the top edge.
    assert crop_around_hole(editor.model.document.mask) == Box(0, 0, 94, 114)
    compare = compare_with(editor, qtbot, ["flat"])
    pane = compare.grid.cells["flat"].pane
    crop = compare.grid.crop  # the Hole's crop, widened to the panes' shape (more context, no grey bars)
    assert crop.top <= 0 and crop.left <= 0 and crop.bottom >= 94 and crop.right >= 114
    assert (pane.image_width, pane.image_height) == (crop.width, crop.height)
    compare.actions["whole"].setChecked(True)
    assert (pane.image_width, pane.image_height) == (160, 120)
    assert compare.grid.cells[ORIGINAL].pane.image_width == 160


def test_the_split_line_shows_the_input_left_and_the_result_right_and_drags(editor, qtbot):
    compare = compare_with(editor, qtbot, ["flat"])
    cell = compare.grid.cells["flat"]
    pane = cell.pane
    compare.actions["whole"].setChecked(True)
    pane.zoom_to_fit()
    cell.split_button.setChecked(True)
    assert pane.split_on
    left = pane.image_to_widget(QPointF(40, 30))
    right = pane.image_to_widget(QPointF(62, 30))
    start = QPointF(pane.split_x(), pane.height() / 2)
    between = QPointF((left.x() + right.x()) / 2, start.y())
    send_mouse(pane, QEvent.Type.MouseButtonPress, start)
    send_mouse(pane, QEvent.Type.MouseMove, between)
    send_mouse(pane, QEvent.Type.MouseButtonRelease, between)
    assert pane.split_x() == pytest.approx(between.x(), abs=1)
    picture = pane.grab().toImage()
    on_the_left = picture.pixelColor(left.toPoint())
    on_the_right = picture.pixelColor(right.toPoint())
    assert (on_the_right.red(), on_the_right.green(), on_the_right.blue()) == FLAT
    assert on_the_left.green() != FLAT[1]  # the input with its Hole tinted, not the fill


def test_opening_another_photo_clears_the_comparison(editor, qtbot, tmp_path):
    compare = compare_with(editor, qtbot, ["flat"])
    other = tmp_path / "other.png"
    from inference.io.images import save_image

    save_image(other, make_photo(seed=4))
    editor.model.undo_stack.setClean()
    assert editor.files.open_path(other)
    assert compare.grid.cells == {} and compare.run.results == {}
    assert not compare.use_result("flat")


def test_the_menu_action_opens_the_window_and_runs_every_available_engine(editor, qtbot):
    editor.actions["compare"].trigger()
    compare = editor.compare.window
    assert compare.isVisible() and compare.run.busy
    assert [choice.name for choice in compare.run.choices] == ["flat", "slow", "stubborn", "failing", "flat_blue"]
    row = compare.engines.rows["neural"]
    assert not row.tick.isEnabled() and "no weights for the fake" in row.tick.toolTip()
    compare.cancel()
    compare.close()


def test_engine_options_are_shown_and_reach_the_engine_on_the_worker(editor, engines, qtbot):
    spec = FakeSpec("flat", "Flat colour")
    spec.options = {"radius": 5}
    engines.specs[0] = spec
    compare = editor.compare.ensure()
    compare.engines.refresh()
    compare.engines.rows["flat"].options["radius"].setValue(7)
    compare_with(editor, qtbot, ["flat"])
    assert compare.grid.cells["flat"].title.text() == "<b>Flat colour · radius 7</b>"
    assert ("flat", (("radius", 7),)) in editor.runner._worker._engines
    compare.close()  # closing frees the compared Engines, keeping the one Fill uses
    qtbot.waitUntil(lambda: all(key[0] == editor.fills.engine_name for key in editor.runner._worker._engines),
                    timeout=3000)


def test_layout_and_best_score_helpers():
    assert grid_columns(3, (1200, 800), (512, 343)) == 2
    assert grid_columns(3, (1800, 500), (512, 343)) == 3
    assert grid_columns(1, (100, 100), (10, 10)) == 1
    from inference.evaluation.metrics import Scores

    good, bad = Scores(30, 0.9, 0.01, 20, 0.5, 0.1), Scores(25, 0.95, 0.02, 20, 0.4, 0.2)
    best = best_scores({"a": good, "b": bad})
    assert best["psnr"] == {"a"} and best["ssim"] == {"b"} and best["l1"] == {"a"}
    assert best["psnr_hole"] == {"a", "b"}  # ties count for both
    assert best_scores({"a": good}) == {}


def test_a_wheel_notch_over_any_pane_zooms_all_of_them(editor, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    compare = compare_with(editor, qtbot, ["flat"])
    panes = compare.grid.panes()
    zoom = panes[0].view.zoom
    position = QPointF(50, 50)
    event = QWheelEvent(position, QPointF(panes[1].mapToGlobal(position.toPoint())), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(panes[1], event)
    assert panes[0].view.zoom == pytest.approx(zoom * 1.25)
