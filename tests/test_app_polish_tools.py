"""Tools and shortcuts as a first real use found them (issue 16, items 4, 5 and 9)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.history import commands
from app.tools.painting import ShapeTool
from app.window.actions import shortcut_rows
from inference.io.images import save_image
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import drag, make_photo

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    commands.push_layer_change(window.model, "Whole hole", "mask", np.ones(window.model.document.shape, bool))
    yield window
    ShapeTool.set_subtract_mode(False)  # class-wide: never leak into another test


@pytest.mark.parametrize("tool, points", [("rectangle", [(20, 20), (40, 35), (60, 50)]),
                                          ("lasso", [(20, 20), (60, 20), (60, 50), (20, 50)])])
def test_ctrl_drag_subtracts_as_alt_does(editor, tool, points):
    editor.select_tool(tool)
    drag(editor.canvas, points, modifiers=CTRL)
    mask = editor.model.document.mask
    assert not mask[30:45, 25:55].any() and mask[5, 5] and mask[100, 150]
    assert editor.model.undo_stack.text(editor.model.undo_stack.count() - 1).endswith("(subtract)")


def test_the_subtract_toggle_makes_a_plain_drag_subtract_and_ctrl_adds_back(editor):
    editor.select_tool("rectangle")
    toggle = editor.actions["shape_subtract"]
    assert toggle.isCheckable() and not toggle.isChecked()
    toggle.trigger()
    assert ShapeTool.subtract_mode
    drag(editor.canvas, [(20, 20), (60, 50)])
    assert not editor.model.document.mask[25:45, 25:55].any()
    drag(editor.canvas, [(30, 30), (40, 40)], modifiers=CTRL)  # the other mode: add
    assert editor.model.document.mask[32:38, 32:38].all()
    toggle.trigger()
    assert not ShapeTool.subtract_mode


def test_the_toggle_is_in_the_tools_toolbar(editor):
    from PySide6.QtWidgets import QToolBar

    bar = editor.findChild(QToolBar, "tools_toolbar")
    assert editor.actions["shape_subtract"] in bar.actions()


def photo_file(tmp_path, name, height, width):
    path = tmp_path / name
    save_image(path, make_photo(height, width))
    return path


def test_the_brush_keeps_its_share_of_the_photo_not_its_pixels(window, tmp_path, isolated_settings, engines):
    assert window.files.open_path(photo_file(tmp_path, "big.png", 1500, 2000))
    window.sizes.set("mask", 200)  # a tenth of the long side
    assert window.files.open_path(photo_file(tmp_path, "small.png", 340, 512))
    assert window.sizes.get("mask") == round(200 / 2000 * 512)
    assert window.sizes.get("sketch") == 3  # Guide lines stay in pixels
    window.preferences.sync()

    from app.window.main_window import MainWindow

    again = MainWindow(engine_factory=engines.factory, engine_specs=engines.list_specs)
    try:
        assert again.files.open_path(photo_file(tmp_path, "other.png", 680, 1024))
        assert again.sizes.get("mask") == round(0.1 * 1024)
    finally:
        again.close()


def test_a_size_set_on_a_small_photo_is_not_clamped_into_the_next(window, tmp_path):
    assert window.files.open_path(photo_file(tmp_path, "tiny.png", 60, 80))
    window.sizes.set("mask", 8)
    assert window.files.open_path(photo_file(tmp_path, "wide.png", 300, 800))
    assert window.sizes.get("mask") == 80


def test_the_shortcuts_list_each_action_once_by_its_plain_name(editor):
    editor.select_tool("rectangle")
    drag(editor.canvas, [(20, 20), (60, 50)])
    editor.model.undo_stack.undo()
    assert editor.undo_action.text() != "&Undo" or editor.redo_action.text() != "&Redo"
    rows = shortcut_rows(editor.actions, [editor.undo_action, editor.redo_action])
    names = [name for name, _keys in rows]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
    assert names.count("Undo") == 1 and names.count("Redo") == 1
    assert not any(name.startswith(("Undo ", "Redo ")) for name in names)
