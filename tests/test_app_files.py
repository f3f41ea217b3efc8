"""Files: open → paint → fill → save → reopen, unsaved-changes prompts, masks, settings, start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from inference.io.images import open_image, save_image
from inference.io.masks import save_mask
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import drag, make_photo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def save_answers(monkeypatch):
    """Answers the save dialog with queued paths and records what it proposed."""
    import app.dialogs.questions

    answers, proposals = [], []

    def ask_save_path(_parent, _title, suggested, *_):
        proposals.append(Path(suggested))
        return answers.pop(0) if answers else None

    monkeypatch.setattr(app.dialogs.questions, "ask_save_path", ask_save_path)
    return answers, proposals


def test_real_photo_paint_fill_with_telea_save_and_reopen(window, shared_data, tmp_path, save_answers, qtbot):
    from app.worker import registry_factory

    window.runner._worker._engine_factory = registry_factory  # the real Telea from the registry
    source = shared_data / "dev_eval" / "scenes" / "migan-obj__1.png"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    assert window.files.open_path(source)
    original = open_image(source).pixels
    window.select_tool("brush")
    window.sizes.set("mask", 15)
    drag(window.canvas, [(200, 200), (260, 230), (300, 300)])
    hole = window.model.document.mask.copy()
    assert hole.any()
    window.fills.set_engine("telea", "Telea (OpenCV)")
    window.fills.fill()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=10_000)
    assert window.model.undo_stack.count() == 2 and not window.model.document.mask.any()
    answers, proposals = save_answers
    target = tmp_path / "out.png"
    answers.append(target)
    assert window.actions["save"].isEnabled()
    window.actions["save"].trigger()
    assert proposals == [source.with_name("migan-obj__1_inpainted.png")]  # never the original
    assert not window.isWindowModified()
    saved = open_image(target).pixels
    np.testing.assert_array_equal(saved[~hole], original[~hole])
    assert (saved[hole] != original[hole]).any()
    assert window.files.open_path(target)
    np.testing.assert_array_equal(window.model.document.image, saved)


def test_title_shows_the_name_and_the_modified_state(window, photo_path):
    assert window.windowTitle() == "Inpaint Studio"
    window.files.open_path(photo_path)
    assert "photo.png" in window.windowTitle() and not window.isWindowModified()
    drag(window.canvas, [(20, 20), (40, 40)])
    assert window.isWindowModified()
    window.model.undo_stack.undo()
    assert not window.isWindowModified()


def test_unsaved_changes_prompt_when_opening_another_or_closing(window, photo_path, tmp_path, dialogs):
    other = tmp_path / "other.png"
    save_image(other, make_photo(seed=5))
    window.files.open_path(photo_path)
    assert window.files.open_path(other) and dialogs.unsaved_prompts == []  # nothing to lose yet
    drag(window.canvas, [(20, 20), (40, 40)])
    dialogs.unsaved_answer = "cancel"
    assert not window.files.open_path(photo_path)
    assert dialogs.unsaved_prompts == ["other.png"]
    assert window.model.document.display_name == "other.png"
    assert not window.close()  # cancel keeps the window open
    assert len(dialogs.unsaved_prompts) == 2
    dialogs.unsaved_answer = "discard"
    assert window.files.open_path(photo_path)
    assert window.model.document.display_name == "photo.png"


def test_save_writes_the_chosen_file_without_asking_again(window, photo_path, tmp_path, save_answers):
    answers, proposals = save_answers
    window.files.open_path(photo_path)
    drag(window.canvas, [(20, 20)])
    window.files.save()  # the dialog is answered with None: cancelled, nothing written
    assert window.isWindowModified() and proposals[-1].name == "photo_inpainted.png"
    answers.append(tmp_path / "mine.png")
    assert window.files.save()
    assert (tmp_path / "mine.png").is_file()
    drag(window.canvas, [(50, 50)])
    assert window.files.save() and len(proposals) == 2  # second save: no question
    np.testing.assert_array_equal(open_image(photo_path).pixels, make_photo())  # original untouched


def test_import_mask_refuses_another_size_and_imports_a_matching_one(window, photo_path, tmp_path, dialogs,
                                                                     monkeypatch):
    window.files.open_path(photo_path)
    wrong = tmp_path / "wrong.png"
    save_mask(wrong, np.ones((10, 10), bool))
    assert not window.files.import_mask_from(wrong)
    assert dialogs.errors and "10×10" in dialogs.errors[0][1] and "160×120" in dialogs.errors[0][1]
    assert window.model.undo_stack.count() == 0
    right = tmp_path / "right.png"
    mask = np.zeros((120, 160), bool)
    mask[30:50, 60:90] = True
    save_mask(right, mask)
    assert window.files.import_mask_from(right)
    np.testing.assert_array_equal(window.model.document.mask, mask)
    window.model.undo_stack.undo()
    assert not window.model.document.mask.any()


def test_export_mask_round_trip(window, photo_path, tmp_path, save_answers):
    from inference.io.masks import load_mask

    answers, proposals = save_answers
    window.files.open_path(photo_path)
    drag(window.canvas, [(20, 20), (80, 60)])
    answers.append(tmp_path / "hole.png")
    assert window.files.export_mask()
    assert proposals[-1].name == "photo_mask.png"
    np.testing.assert_array_equal(load_mask(tmp_path / "hole.png"), window.model.document.mask)


def test_revert_reloads_the_file(window, photo_path, dialogs):
    window.files.open_path(photo_path)
    drag(window.canvas, [(20, 20), (80, 60)])
    window.actions["revert"].trigger()
    assert not window.model.document.mask.any() and not window.isWindowModified()


def test_drop_a_file_onto_the_window_opens_it(window, photo_path, qtbot):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(photo_path))])
    position = window.canvas.mapTo(window, window.canvas.rect().center())
    enter = QDragEnterEvent(position, Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(position), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.model.document is not None, timeout=2000)
    assert window.model.document.display_name == "photo.png"


def test_settings_remember_recent_files_engine_sizes_and_layout(window, photo_path, qtbot, engines):
    from app.window.main_window import MainWindow

    window.files.open_path(photo_path)
    window.sizes.set("mask", 123)
    picker = window.engine_picker
    picker.setCurrentIndex(picker.findData("slow"))
    picker.activated.emit(picker.currentIndex())
    window.history_dock.hide()
    window.close()
    again = MainWindow(engine_factory=engines.factory, engine_specs=engines.list_specs)
    qtbot.addWidget(again)
    assert again.preferences.recent_files() == [photo_path.resolve()]
    assert [action.text() for action in again.recent_menu.actions()][0] == "photo.png"
    assert again.sizes.get("mask") == 123
    assert again.engine_picker.current_name() == "slow"
    assert again.preferences.last_folder == str(photo_path.parent.resolve())
    again.show()
    assert not again.history_dock.isVisible()


def test_opening_a_missing_recent_file_reports_and_forgets_it(window, tmp_path, dialogs):
    missing = tmp_path / "gone.png"
    window.preferences.add_recent(missing)
    assert not window.files.open_path(missing)
    assert dialogs.errors and "does not exist" in dialogs.errors[0][1]
    assert window.preferences.recent_files() == []


def test_shortcuts_dialog_lists_the_tool_keys(window, qtbot):
    from app.dialogs.questions import ShortcutsDialog
    from app.window.actions import shortcut_rows

    dialog = ShortcutsDialog(shortcut_rows(window.actions, [window.undo_action, window.redo_action]), window)
    qtbot.addWidget(dialog)
    texts = {dialog.table.item(row, 0).text(): dialog.table.item(row, 1).text()
             for row in range(dialog.table.rowCount())}
    assert texts["Mask brush"] == "B" and texts["Lasso"] == "L" and texts["Rectangle"] == "R"
    assert "Ctrl+Y" in texts["Redo"] and texts["Fit to Window"] == "Ctrl+0"


def test_cold_start_opens_the_path_and_never_imports_torch(tmp_path, photo_path):
    script = (
        "import sys\n"
        "from PySide6.QtCore import QSettings, QTimer\n"
        f"QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})\n"
        "from app.window.startup import create_application, create_window\n"
        "application = create_application([])\n"
        f"window = create_window({str(photo_path)!r})\n"
        "QTimer.singleShot(300, application.quit)\n"
        "application.exec()\n"
        "print(window.model.document.display_name, 'torch' in sys.modules)\n"
        "window.runner.shutdown(); del window\n"
    )
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "INPAINT_STUDIO_WEIGHTS": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["photo.png", "False"]
