"""Background fills: responsive UI, cancel, errors, Fill again, engine picker, mask actions, edges."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QThread, QTimer

from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import drag


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    window.select_tool("rectangle")
    drag(window.canvas, [(30, 20), (70, 60)])
    return window


def choose_engine(window, name):
    picker = window.engine_picker
    picker.setCurrentIndex(picker.findData(name))
    picker.activated.emit(picker.currentIndex())
    assert window.fills.engine_name == name


def test_fill_lands_as_one_macro_that_undoes_fill_and_hole_together(editor, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    choose_engine(editor, "flat")
    image_before, hole = document.image.copy(), document.mask.copy()
    editor.actions["fill"].trigger()
    qtbot.waitUntil(lambda: not editor.fills.busy, timeout=5000)
    assert stack.count() == 2
    assert stack.text(1) == "Fill (Flat colour)"
    assert (document.image[hole] == [10, 200, 30]).all()
    np.testing.assert_array_equal(document.image[~hole], image_before[~hole])
    assert not document.mask.any()
    filled = document.image.copy()
    stack.undo()
    np.testing.assert_array_equal(document.image, image_before)
    np.testing.assert_array_equal(document.mask, hole)
    stack.redo()
    np.testing.assert_array_equal(document.image, filled)
    assert not document.mask.any()


def test_engines_are_built_on_the_worker_thread_and_kept(editor, engines, qtbot):
    choose_engine(editor, "flat")
    for _ in range(2):
        editor.fills.fill()
        qtbot.waitUntil(lambda: not editor.fills.busy, timeout=5000)
        editor.model.undo_stack.undo()
    assert engines.built_on == ["inpaint-worker"]  # built once, on the worker, kept while selected


def test_slow_fill_keeps_the_ui_responsive_and_cancel_drops_the_result(editor, engines, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    choose_engine(editor, "slow")
    image_before = document.image.copy()
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    editor.actions["fill"].trigger()
    assert editor.fills.busy and editor.actions["cancel_fill"].isEnabled()
    qtbot.waitUntil(lambda: editor.status_panel.progress.maximum() == 40, timeout=3000)  # progress arrives
    qtbot.wait(200)
    assert len(ticks) >= 8  # the event loop kept running while the engine worked
    drag(editor.canvas, [(100, 90), (110, 95)])  # painting still works during the fill
    assert stack.count() == 2
    editor.actions["cancel_fill"].trigger()
    assert not editor.fills.busy
    qtbot.wait(400)  # the worker notices the flag and reports; nothing must land
    timer.stop()
    assert stack.count() == 2
    np.testing.assert_array_equal(document.image, image_before)
    assert "cancelled" in editor.status_panel.message.text()
    assert engines.engines["slow"].finished_runs == 0


def test_a_cancelled_job_that_finishes_anyway_never_lands(editor, engines, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    choose_engine(editor, "stubborn")  # ignores the cancel flag, so it returns a Result
    image_before = document.image.copy()
    editor.fills.fill()
    qtbot.wait(50)
    editor.fills.cancel()
    qtbot.waitUntil(lambda: engines.engines.get("stubborn") is not None
                    and engines.engines["stubborn"].finished_runs == 1, timeout=5000)
    qtbot.wait(100)
    np.testing.assert_array_equal(document.image, image_before)
    assert stack.count() == 1


def test_a_newer_fill_supersedes_the_running_one(editor, engines, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    hole = document.mask.copy()
    choose_engine(editor, "stubborn")
    editor.fills.fill()
    qtbot.waitUntil(lambda: "stubborn" in engines.engines, timeout=3000)  # it is running now
    choose_engine(editor, "flat_blue")
    editor.fills.fill()
    qtbot.waitUntil(lambda: not editor.fills.busy, timeout=5000)
    qtbot.waitUntil(lambda: engines.engines["stubborn"].finished_runs == 1, timeout=5000)
    qtbot.wait(100)
    assert stack.count() == 2
    assert stack.text(1) == "Fill (Flat blue)"
    assert (document.image[hole] == [0, 0, 255]).all()


def test_a_failing_engine_reports_and_leaves_the_document_unchanged(editor, dialogs, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    choose_engine(editor, "failing")
    image_before, mask_before = document.image.copy(), document.mask.copy()
    editor.fills.fill()
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=5000)
    title, text = dialogs.errors[0]
    assert title == "Fill failed" and "broke on purpose" in text
    np.testing.assert_array_equal(document.image, image_before)
    np.testing.assert_array_equal(document.mask, mask_before)
    assert stack.count() == 1 and not editor.fills.busy
    choose_engine(editor, "flat")  # the app keeps working
    editor.fills.fill()
    qtbot.waitUntil(lambda: stack.count() == 2, timeout=5000)


def test_fill_again_starts_from_the_pre_fill_image_and_hole(editor, qtbot):
    document, stack = editor.model.document, editor.model.undo_stack
    hole = document.mask.copy()
    original = document.image.copy()
    assert not editor.actions["fill_again"].isEnabled()
    choose_engine(editor, "flat")
    editor.fills.fill()
    qtbot.waitUntil(lambda: stack.count() == 2, timeout=5000)
    first = document.image.copy()
    assert editor.actions["fill_again"].isEnabled()
    seen = {}

    class Spy:
        def inpaint(self, image, mask, guide=None, **_):
            seen["image"], seen["mask"] = image.copy(), mask.copy()
            result = image.copy()
            result[mask] = (0, 0, 255)
            return result

    editor.runner._worker._engines[("flat_blue", ())] = Spy()
    choose_engine(editor, "flat_blue")
    editor.actions["fill_again"].trigger()
    qtbot.waitUntil(lambda: stack.count() == 3, timeout=5000)
    np.testing.assert_array_equal(seen["image"], original)  # not the first fill's result
    np.testing.assert_array_equal(seen["mask"], hole)
    assert stack.text(2) == "Fill again (Flat blue)"
    assert (document.image[hole] == [0, 0, 255]).all()
    stack.undo()
    np.testing.assert_array_equal(document.image, first)


def test_engine_picker_disables_unavailable_engines_with_reason_and_fix(editor):
    picker = editor.engine_picker
    row = picker.findData("neural")
    item = picker.model().item(row)
    assert not item.isEnabled()
    assert "no weights for the fake" in item.toolTip() and "Models → Import Weights…" in item.toolTip()
    assert picker.model().item(picker.findData("flat")).isEnabled()


def test_mask_actions_are_undoable_commands(editor, monkeypatch):
    import app.dialogs.questions

    document, stack = editor.model.document, editor.model.undo_stack
    hole = document.mask.copy()
    editor.actions["invert_mask"].trigger()
    np.testing.assert_array_equal(document.mask, ~hole)
    monkeypatch.setattr(app.dialogs.questions, "ask_pixels", lambda *_: 3)
    editor.actions["invert_mask"].trigger()
    editor.actions["grow_mask"].trigger()
    assert document.mask.sum() > hole.sum() and stack.text(stack.count() - 1) == "Grow Hole by 3 px"
    editor.actions["select_all"].trigger()
    assert document.mask.all()
    editor.actions["clear_mask"].trigger()
    assert not document.mask.any()
    for _ in range(4):
        stack.undo()
    np.testing.assert_array_equal(document.mask, ~hole)
    stack.undo()
    np.testing.assert_array_equal(document.mask, hole)


def test_import_weights_refreshes_the_engine_picker(editor, engines, monkeypatch, tmp_path, qtbot, dialogs):
    import app.dialogs.questions
    import inference.weights.importer

    source = tmp_path / "model.safetensors"
    source.write_bytes(b"x")
    monkeypatch.setattr(app.dialogs.questions, "ask_open_path", lambda *_: source)

    def fake_import(path, name=None):
        engines.specs[-1].available = True
        return type("Stored", (), {"name": "neural_fake"})()

    monkeypatch.setattr(inference.weights.importer, "import_weights", fake_import)
    editor.actions["import_weights"].trigger()
    qtbot.waitUntil(lambda: "neural_fake" in editor.status_panel.message.text(), timeout=5000)
    assert editor.engine_picker.model().item(editor.engine_picker.findData("neural")).isEnabled()

    def broken_import(path, name=None):
        from inference.weights.store import WeightsError

        raise WeightsError("not a DeepFill or LBAM checkpoint")

    monkeypatch.setattr(inference.weights.importer, "import_weights", broken_import)
    editor.actions["import_weights"].trigger()
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=5000)
    assert "not a DeepFill or LBAM checkpoint" in dialogs.errors[0][1]


def test_edge_actions_are_disabled_with_the_reason_when_hed_is_unavailable(editor, qtbot):
    qtbot.waitUntil(lambda: "HED is off in this test" in editor.actions["suggest_edges"].toolTip(), timeout=3000)
    assert not editor.actions["suggest_edges"].isEnabled()
    assert not editor.actions["show_edges"].isEnabled()


def test_suggest_and_show_edges_use_hed_on_the_worker(editor, monkeypatch, qtbot):
    import app.controllers.edges
    import inference.edges.detect as hed

    threads = []

    def fake_edges(rgb, *args, **kwargs):
        threads.append(QThread.currentThread().objectName())
        edges = np.zeros(rgb.shape[:2], np.float32)
        edges[:, 50] = 0.9  # a vertical edge crossing the Hole (columns 30..69)
        edges[:, 150] = 0.9  # far from the Hole
        return edges

    monkeypatch.setattr(app.controllers.edges, "_check_hed", lambda _context: (True, "fake HED"))
    monkeypatch.setattr(hed, "detect_edges", fake_edges)
    editor.edges.check_availability()
    qtbot.waitUntil(lambda: editor.actions["suggest_edges"].isEnabled(), timeout=3000)
    document, stack = editor.model.document, editor.model.undo_stack
    editor.actions["suggest_edges"].trigger()
    qtbot.waitUntil(lambda: stack.count() == 2, timeout=5000)
    assert threads == ["inpaint-worker"]
    assert stack.text(1) == "Suggest edges"
    guide = document.guide
    assert guide[10, 50] == 255 and guide[70, 50] == 255  # just outside the Hole, above and below
    assert not guide[document.mask].any() and not guide[:, 150].any()
    editor.actions["show_edges"].setChecked(True)
    qtbot.waitUntil(lambda: editor.canvas.layer("edges") is not None, timeout=3000)
    overlay = editor.canvas.layer("edges").pyramid.source
    assert overlay[5, 50] > 150 and overlay[5, 100] == 0 and overlay[40, 50] == 0  # known region only
    assert threads == ["inpaint-worker"]  # the cached edge map was reused
    stack.undo()
    assert not document.guide.any()


def test_a_result_arriving_during_a_stroke_waits_for_its_end(editor, qtbot):
    from PySide6.QtCore import QEvent, QPointF

    from tests.qt_fixtures import send_mouse

    document, stack, canvas = editor.model.document, editor.model.undo_stack, editor.canvas
    hole = document.mask.copy()
    choose_engine(editor, "slow")
    editor.select_tool("brush")
    editor.fills.fill()
    send_mouse(canvas, QEvent.Type.MouseButtonPress, canvas.image_to_widget(QPointF(120, 90)))
    assert not editor.undo_action.isEnabled()  # no undo in the middle of a Stroke
    qtbot.waitUntil(lambda: editor.fills._waiting_result is not None, timeout=5000)
    assert stack.count() == 1  # the Result is held back while the pointer is down
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, canvas.image_to_widget(QPointF(130, 95)))
    assert [stack.text(index) for index in range(stack.count())] == [
        "Rectangle (add)", "Mask brush", "Fill (Slow fake)"]
    assert (document.image[hole] == [250, 0, 250]).all()
    assert document.mask[92, 125] and not document.mask[hole].any()  # the Stroke's Hole stays
    assert editor.undo_action.isEnabled()
    stack.undo()
    stack.undo()
    np.testing.assert_array_equal(document.mask, hole)
