"""Issue 15 in the editor: failed saves show a dialog and keep the Document modified; link loops and
wrong weight files are refused with a dialog, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.history.commands import push_layer_change
from tests.qt_fixtures import *  # noqa: F403


def _modified(window, photo_path) -> None:
    assert window.files.open_path(photo_path)
    mask = np.zeros_like(window.model.document.mask)
    mask[10:30, 10:40] = True
    push_layer_change(window.model, "Paint", "mask", mask)
    assert window.model.modified


@pytest.fixture
def answer_save(monkeypatch):
    import app.dialogs.questions

    answers: list[Path] = []
    monkeypatch.setattr(app.dialogs.questions, "ask_save_path", lambda *_args: answers.pop(0))
    return answers


@pytest.mark.parametrize("target", ["/proc/x.png", "/sys/x.png", "LONG"])
def test_failed_save_as_shows_a_dialog_and_keeps_the_document_modified(window, dialogs, photo_path, tmp_path,
                                                                      answer_save, target):
    _modified(window, photo_path)
    answer_save.append(tmp_path / ("n" * 260 + ".png") if target == "LONG" else Path(target))
    assert window.files.save_as() is False
    assert dialogs.errors and dialogs.errors[-1][0] == "Cannot save the photo"
    assert window.model.modified


def test_failed_export_mask_shows_a_dialog(window, dialogs, photo_path, answer_save):
    _modified(window, photo_path)
    answer_save.append(Path("/proc/mask.png"))
    assert window.files.export_mask() is False
    assert dialogs.errors and dialogs.errors[-1][0] == "Cannot export the mask"


def test_opening_a_symlink_loop_shows_a_dialog(window, dialogs, tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    assert window.files.open_path(tmp_path / "a.png") is False
    assert dialogs.errors and "link loop" in dialogs.errors[-1][1]


def test_a_recent_file_that_became_a_link_loop(window, dialogs, photo_path, tmp_path):
    link = tmp_path / "recent.png"
    link.symlink_to(photo_path)
    assert window.files.open_path(link)
    link.unlink()
    link.symlink_to(tmp_path / "other.png")
    (tmp_path / "other.png").symlink_to(link)
    assert window.files.open_path(link, confirmed=True) is False
    window._rebuild_recent_menu()
    assert dialogs.errors and "link loop" in dialogs.errors[-1][1]


def test_importing_wrong_weights_shows_a_dialog_without_a_traceback(window, dialogs, tmp_path, qtbot, capfd):
    wrong = tmp_path / "notes.pth"
    wrong.write_text("not weights\n" * 20)
    window.weights.import_file(wrong)
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=30_000)
    assert dialogs.errors[-1][0] == "Cannot import the weights" and "notes.pth" in dialogs.errors[-1][1]
    assert "Traceback" not in capfd.readouterr().err


def test_a_photo_with_broken_exif_opens_in_the_editor(window, dialogs, tmp_path):
    from PIL import Image

    from tests.test_robustness_io import _BROKEN_EXIF

    path = tmp_path / "broken_exif.jpg"
    Image.fromarray(np.full((30, 40, 3), 120, np.uint8)).save(path, "JPEG", exif=_BROKEN_EXIF)
    messages = []
    window.files.status.connect(messages.append)
    assert window.files.open_path(path)
    assert not dialogs.errors and window.model.document.width == 40
    assert "EXIF" in messages[-1]
