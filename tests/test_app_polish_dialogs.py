"""Small dialogs as a first real use found them (issue 16, item 9): shortcuts, titles, Grow/Shrink preview."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog

from app.dialogs import questions
from app.history import commands
from app.window.actions import shortcut_rows
from tests.qt_fixtures import *  # noqa: F403

HOLE = (slice(40, 60), slice(60, 100))


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    mask = np.zeros(window.model.document.shape, bool)
    mask[HOLE] = True
    commands.push_layer_change(window.model, "Hole", "mask", mask)
    return window


def test_the_keys_column_is_shown_whole(editor, qtbot):
    rows = shortcut_rows(editor.actions, [editor.undo_action, editor.redo_action])
    dialog = questions.ShortcutsDialog(rows, editor)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.table
    widest_keys = max(table.fontMetrics().horizontalAdvance(keys) for _name, keys in rows)
    assert table.columnWidth(1) >= widest_keys
    assert table.columnWidth(0) + table.columnWidth(1) <= table.viewport().width() + 1
    assert not table.horizontalScrollBar().isVisible()


def test_a_small_dialog_is_wide_enough_for_its_title(editor, monkeypatch):
    seen = {}

    def answer(dialog):
        seen["width"] = dialog.minimumWidth()
        seen["needed"] = dialog.fontMetrics().horizontalAdvance(f"{dialog.windowTitle()} — Inpaint Studio")
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(QDialog, "exec", answer)
    assert questions.ask_pixels(editor, "Shrink Hole", "By how many pixels?", 8) is None
    assert seen["width"] > seen["needed"]


@pytest.mark.parametrize("action, grows", [("grow_mask", True), ("shrink_mask", False)])
def test_grow_and_shrink_preview_the_hole_while_asking(editor, monkeypatch, action, grows):
    from PySide6.QtWidgets import QSpinBox

    canvas, document = editor.canvas, editor.model.document
    seen = {}

    def answer(dialog):
        spin = dialog.findChild(QSpinBox)
        spin.setValue(5)
        preview = canvas.layer("mask_preview")
        seen["preview"] = preview.pyramid.source.copy()
        seen["mask_hidden"] = not canvas.layer("mask").visible
        seen["document_unchanged"] = document.mask.sum() == 20 * 40
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QDialog, "exec", answer)
    editor.actions[action].trigger()
    preview = seen["preview"]
    assert seen["mask_hidden"] and seen["document_unchanged"]
    assert (preview.sum() > 20 * 40) == grows and preview.any()
    assert canvas.layer("mask_preview") is None and canvas.layer("mask").visible  # gone once answered
    np.testing.assert_array_equal(document.mask > 0, preview > 0)
    assert editor.model.undo_stack.text(editor.model.undo_stack.count() - 1).endswith("by 5 px")
