"""Canvas and tools: raw pointer gestures become exactly one undo command each, undo is bit-exact."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF, Qt

from app.canvas.pyramid import Pyramid
from inference.engines.regions import Box
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import drag, press_key, send_mouse


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    return window


def _distance_to_segment(rows, columns, start, end):
    """Distance of pixel centres to the segment start→end (x, y) in image pixels."""
    px, py = columns + 0.5, rows + 0.5
    (ax, ay), (bx, by) = start, end
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def test_brush_drag_is_one_command_touching_only_the_stroke_and_undo_is_bit_exact(editor):
    document, stack = editor.model.document, editor.model.undo_stack
    editor.select_tool("brush")
    editor.sizes.set("mask", 9)
    image_before, guide_before = document.image.copy(), document.guide.copy()
    points = [(30.0 + 2 * step, 40.0 + step) for step in range(31)]  # many mouse events, one Stroke

    drag(editor.canvas, points)

    assert stack.count() == 1
    assert stack.text(0) == "Mask brush"
    rows, columns = np.nonzero(document.mask)
    assert rows.size > 0
    distances = _distance_to_segment(rows, columns, points[0], points[-1])
    assert distances.max() <= 9 / 2 + 1.0  # nothing painted outside the brush's reach
    middle = (points[15][1], points[15][0])
    assert document.mask[int(middle[0]), int(middle[1])]
    np.testing.assert_array_equal(document.image, image_before)
    np.testing.assert_array_equal(document.guide, guide_before)
    after = document.mask.copy()

    stack.undo()
    assert not document.mask.any()
    stack.redo()
    np.testing.assert_array_equal(document.mask, after)
    assert editor.isWindowModified()


def test_each_stroke_is_its_own_command_and_the_eraser_restores_bit_exactly(editor):
    document, stack = editor.model.document, editor.model.undo_stack
    editor.select_tool("brush")
    drag(editor.canvas, [(20, 20), (60, 30), (100, 80)])
    painted = document.mask.copy()
    editor.select_tool("eraser")
    editor.sizes.set("mask", 6)
    drag(editor.canvas, [(60, 30), (100, 80)])
    assert stack.count() == 2
    assert document.mask.sum() < painted.sum()
    stack.undo()
    np.testing.assert_array_equal(document.mask, painted)
    stack.undo()
    assert not document.mask.any()


def test_shift_click_draws_a_straight_segment_from_the_last_point(editor):
    document = editor.model.document
    editor.select_tool("brush")
    editor.sizes.set("mask", 3)
    drag(editor.canvas, [(10.5, 10.5)])
    canvas = editor.canvas
    end = canvas.image_to_widget(QPointF(110.5, 90.5))
    send_mouse(canvas, QEvent.Type.MouseButtonPress, end, modifiers=Qt.KeyboardModifier.ShiftModifier)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, end, modifiers=Qt.KeyboardModifier.ShiftModifier)
    for t in np.linspace(0, 1, 25):
        x, y = 10.5 + 100 * t, 10.5 + 80 * t
        assert document.mask[int(y), int(x)], (x, y)
    assert editor.model.undo_stack.count() == 2


def test_sketch_pen_writes_the_guide_only(editor):
    document = editor.model.document
    editor.select_tool("sketch")
    drag(editor.canvas, [(20, 100), (140, 20)])
    assert document.guide.max() == 255 and not document.mask.any()
    assert editor.model.undo_stack.text(0) == "Sketch pen"
    editor.select_tool("sketch_eraser")
    drag(editor.canvas, [(20, 100), (140, 20)])
    assert not document.guide.any()


def test_rectangle_adds_and_alt_rectangle_subtracts(editor):
    document = editor.model.document
    editor.select_tool("rectangle")
    drag(editor.canvas, [(20, 10), (50, 40), (80, 60)])
    expected = np.zeros_like(document.mask)
    expected[10:60, 20:80] = True
    np.testing.assert_array_equal(document.mask, expected)
    drag(editor.canvas, [(30, 20), (40, 30)], modifiers=Qt.KeyboardModifier.AltModifier)
    expected[20:30, 30:40] = False
    np.testing.assert_array_equal(document.mask, expected)
    assert editor.model.undo_stack.count() == 2
    assert "subtract" in editor.model.undo_stack.text(1)


def test_lasso_fills_the_enclosed_area(editor):
    document = editor.model.document
    editor.select_tool("lasso")
    drag(editor.canvas, [(20, 20), (100, 20), (100, 100), (20, 100)])
    assert document.mask[60, 60] and not document.mask[10, 10] and not document.mask[110, 110]
    assert 70 * 70 <= document.mask.sum() <= 82 * 82
    assert editor.model.undo_stack.count() == 1


def test_bracket_keys_resize_the_brush_within_limits(editor):
    editor.select_tool("brush")
    editor.sizes.set("mask", 40)
    editor.actions["size_up"].trigger()
    assert editor.sizes.get("mask") > 40
    for _ in range(80):
        editor.actions["size_down"].trigger()
    assert editor.sizes.get("mask") == 1
    editor.sizes.set("mask", 10_000)
    assert editor.sizes.get("mask") == 500
    editor.select_tool("sketch")
    editor.sizes.set("sketch", 50)
    assert editor.sizes.get("sketch") == 8
    assert editor.tool_options.spin.value() == 8


def test_wheel_zooms_around_the_pointer(editor, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    canvas = editor.canvas
    anchor = canvas.image_to_widget(QPointF(40.0, 30.0))
    before = canvas.view.zoom
    event = QWheelEvent(anchor, QPointF(canvas.mapToGlobal(anchor.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)
    assert canvas.view.zoom == pytest.approx(before * 1.25 ** 2)
    fixed = canvas.widget_to_image(anchor)
    assert fixed.x() == pytest.approx(40.0, abs=0.5) and fixed.y() == pytest.approx(30.0, abs=0.5)


def test_fit_and_actual_pixels_and_middle_drag_pan(editor):
    canvas = editor.canvas
    editor.actions["zoom_100"].trigger()
    assert canvas.view.zoom == 1.0
    editor.actions["zoom_fit"].trigger()
    assert canvas.view.zoom == pytest.approx(canvas.fit_zoom())
    rect = canvas.image_rect_in_widget()
    assert canvas.rect().toRectF().contains(rect)
    center = canvas.view.center
    start = QPointF(100, 100)
    send_mouse(canvas, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.MiddleButton)
    send_mouse(canvas, QEvent.Type.MouseMove, start + QPointF(50, 0), Qt.MouseButton.MiddleButton)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, start + QPointF(50, 0), Qt.MouseButton.MiddleButton)
    moved = canvas.view.center
    assert moved.x() == pytest.approx(center.x() - 50 / canvas.view.zoom, abs=1e-6)
    assert editor.model.undo_stack.count() == 0  # panning paints nothing


def test_space_drag_pans_instead_of_painting(editor):
    canvas = editor.canvas
    editor.select_tool("brush")
    center = canvas.view.center
    press_key(canvas, Qt.Key.Key_Space, release=False, text=" ")
    drag(canvas, [(40, 40), (80, 40)])
    press_key(canvas, Qt.Key.Key_Space, text=" ")
    assert canvas.view.center != center
    assert not editor.model.document.mask.any()


def test_high_dpi_mapping_counts_zoom_in_device_pixels(editor, monkeypatch):
    canvas = editor.canvas
    monkeypatch.setattr(canvas, "device_ratio", lambda: 2.0)
    canvas.actual_pixels()
    a = canvas.image_to_widget(QPointF(10, 10))
    b = canvas.image_to_widget(QPointF(20, 10))
    assert b.x() - a.x() == pytest.approx(5.0)  # 10 photo pixels = 10 device pixels = 5 logical
    back = canvas.widget_to_image(a)
    assert (back.x(), back.y()) == pytest.approx((10.0, 10.0))


def test_backslash_shows_the_original_without_overlays(editor):
    canvas = editor.canvas
    press_key(canvas, Qt.Key.Key_Backslash, release=False, text="\\")
    assert [layer.name for layer in canvas.drawn_layers()] == ["original"]
    press_key(canvas, Qt.Key.Key_Backslash, text="\\")
    assert "mask" in [layer.name for layer in canvas.drawn_layers()]


class _PaintSpy(QObject):
    def __init__(self):
        super().__init__()
        self.areas = []

    def eventFilter(self, watched, event):  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.areas.append(event.region().boundingRect())
        return False


def test_a_stroke_segment_repaints_only_the_area_it_touched(editor, qtbot):
    canvas = editor.canvas
    editor.select_tool("brush")
    editor.sizes.set("mask", 4)
    canvas.zoom_to_fit()
    qtbot.wait(20)
    spy = _PaintSpy()
    canvas.installEventFilter(spy)
    start = canvas.image_to_widget(QPointF(50, 50))
    send_mouse(canvas, QEvent.Type.MouseButtonPress, start)
    qtbot.wait(20)
    spy.areas.clear()
    send_mouse(canvas, QEvent.Type.MouseMove, canvas.image_to_widget(QPointF(53, 51)))
    qtbot.waitUntil(lambda: bool(spy.areas), timeout=2000)
    area = max(rect.width() * rect.height() for rect in spy.areas)
    assert area < 0.05 * canvas.width() * canvas.height()
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, canvas.image_to_widget(QPointF(53, 51)))
    canvas.removeEventFilter(spy)


def test_pyramid_updates_match_a_rebuild():
    rng = np.random.default_rng(3)
    layer = np.zeros((301, 517), dtype=bool)
    pyramid = Pyramid(layer, coverage=True)
    for _ in range(20):
        top, left = int(rng.integers(0, 290)), int(rng.integers(0, 500))
        bottom, right = top + int(rng.integers(1, 40)), left + int(rng.integers(1, 40))
        layer[top:bottom, left:right] = rng.random() > 0.3
        pyramid.update(Box(top, left, bottom, right))
    rebuilt = Pyramid(layer, coverage=True)
    assert len(pyramid.levels) == len(rebuilt.levels) > 2
    for ours, fresh in zip(pyramid.levels[1:], rebuilt.levels[1:], strict=True):
        np.testing.assert_array_equal(ours, fresh)
