"""Sessions and autosave inside the editor: Save/Open Session, the session beside a photo, incremental
autosave, the recovery dialog, and quitting while a fill runs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PySide6.QtCore import QThread

from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import StubbornEngine, drag, make_photo


@pytest.fixture(autouse=True)
def private_recovery(tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    monkeypatch.setenv("INPAINT_STUDIO_RECOVERY", str(folder))
    return folder


@pytest.fixture
def answers(monkeypatch):
    """The session questions, answered as the test says."""
    import app.dialogs.recovery as recovery

    log = {"continue": True, "stop_fill": True, "asked": []}

    def continue_session(_parent, photo, session, _saved_at):
        log["asked"].append(("continue", photo, session))
        return log["continue"]

    def stop_fill(_parent, label):
        log["asked"].append(("stop_fill", label))
        return log["stop_fill"]

    monkeypatch.setattr(recovery, "ask_continue_session", continue_session)
    monkeypatch.setattr(recovery, "ask_stop_fill", stop_fill)
    monkeypatch.setattr(recovery, "confirm_discard_recovery", lambda *_args: True)
    return log


def _work(window, qtbot):
    """A rectangle, a flat fill, then a brush stroke and a sketch line; returns the layers."""
    window.select_tool("rectangle")
    drag(window.canvas, [(30, 20), (70, 60)])
    window.fills.set_engine("flat", "Flat colour")
    window.fills.fill()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=5000)
    window.select_tool("brush")
    drag(window.canvas, [(100, 80), (120, 90)])
    window.select_tool("sketch")
    drag(window.canvas, [(10, 100), (150, 100)])
    document = window.model.document
    return {name: document.layer(name).copy() for name in ("image", "mask", "guide")}


def _assert_layers(window, expected):
    for name, array in expected.items():
        np.testing.assert_array_equal(window.model.document.layer(name), array, err_msg=name)


def test_save_and_open_session_restores_every_layer_as_one_undoable_step(window, qtbot, photo_path, answers):
    assert window.files.open_path(photo_path)
    expected = _work(window, qtbot)
    session = photo_path.with_suffix(".inpaint")
    window.session.save_session_to(session).result()
    qtbot.waitUntil(lambda: not window.model.modified, timeout=3000)
    assert window.files.open_path(make_photo_file(photo_path.parent))
    assert window.session.open_session_from(session)
    _assert_layers(window, expected)
    assert window.model.document.path == photo_path and not window.model.modified
    window.model.undo_stack.undo()  # the one History entry goes back to the photo as opened
    np.testing.assert_array_equal(window.model.document.image, make_photo())
    assert not window.model.document.mask.any()


def make_photo_file(folder):
    from inference.io.images import save_image

    path = folder / "other.png"
    save_image(path, make_photo(90, 70, seed=9))
    return path


def test_opening_a_photo_offers_the_session_beside_it_only_when_it_matches(window, qtbot, photo_path, answers):
    assert window.files.open_path(photo_path)
    expected = _work(window, qtbot)
    window.session.save_session_to(photo_path.with_suffix(".inpaint")).result()
    assert window.files.open_path(photo_path)
    assert answers["asked"] == [("continue", "photo.png", "photo.inpaint")]
    _assert_layers(window, expected)
    answers["continue"] = False
    assert window.files.open_path(photo_path)
    assert not window.model.document.mask.any()
    # The photo changed on disk: the session belongs to another version and is not offered.
    from inference.io.images import save_image

    save_image(photo_path, make_photo(seed=4))
    answers["asked"].clear()
    assert window.files.open_path(photo_path)
    assert answers["asked"] == []


def test_autosave_writes_only_changed_tiles_and_waits_for_the_stroke(window, qtbot, photo_path, private_recovery):
    from inference.io.recovery import read_recovery

    window.preferences.settings.setValue("autosave/idle_seconds", 0.2)
    assert window.files.open_path(photo_path)
    autosaver = window.session.autosaver
    expected = _work(window, qtbot)
    qtbot.waitUntil(lambda: autosaver.folder is not None and (autosaver.folder / "manifest.json").exists()
                    and not autosaver.has_changes(), timeout=5000)
    assert autosaver.wait()
    _assert_layers_equal(read_recovery(autosaver.folder).layers, expected)
    # Half a Stroke is never saved: the autosave waits for its end.
    tool = window.tools["brush"]
    from PySide6.QtCore import QPointF, Qt

    tool.press(QPointF(5, 5), Qt.KeyboardModifier.NoModifier)
    assert autosaver.autosave_now() is None
    written = []
    autosaver.saved.connect(lambda count, _seconds: written.append(count))
    tool.release(QPointF(8, 6), Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: bool(written), timeout=5000)
    manifest = json.loads((autosaver.folder / "manifest.json").read_text())
    assert manifest["summary"] == "Mask brush"
    assert written[0] < 200_000  # one mask tile, the thumbnail and the manifest
    folder = autosaver.folder
    window.close()  # a clean exit removes its recovery files
    assert not folder.exists() and not list(private_recovery.glob("*.lock"))


def _assert_layers_equal(layers, expected):
    for name, array in expected.items():
        np.testing.assert_array_equal(layers[name], array, err_msg=name)


def test_autosave_can_be_switched_off(window, qtbot, photo_path):
    assert window.actions["autosave"].isChecked()  # on by default
    window.actions["autosave"].setChecked(False)  # File → Autosave for Crash Recovery
    assert window.preferences.settings.value("autosave/enabled") == "false"
    window.preferences.settings.setValue("autosave/idle_seconds", 0.05)
    assert window.files.open_path(photo_path)
    _work(window, qtbot)
    qtbot.wait(300)
    assert window.session.autosaver.folder is not None
    assert not window.session.autosaver.folder.exists()


def test_recovery_check_offers_dead_editors_only_and_discard_deletes(window, qtbot, photo_path, private_recovery,
                                                                      answers, monkeypatch):
    import app.dialogs.recovery as recovery
    from app.controllers.autosave import orphaned_recoveries
    from inference.io.images import open_image
    from inference.io.recovery import LayerSnapshot, RecoveryWriter, Snapshot, all_tile_keys

    original = open_image(photo_path)
    mask = np.zeros(original.size, bool)
    mask[10:20, 10:30] = True
    folders = []
    for name in ("dead", "alive"):
        writer = RecoveryWriter(private_recovery / name)
        tiles = {key: mask[:512, :512].copy() for key in all_tile_keys(mask.shape)}
        writer.write(Snapshot(original, {"mask": LayerSnapshot("bool", mask.shape, "zeros", tiles)}, "1"))
        folders.append(writer.folder)
    from PySide6.QtCore import QLockFile

    alive = QLockFile(str(private_recovery / "alive.lock"))  # held by a running editor
    assert alive.tryLock(0)
    offered = []

    def choose(_parent, infos):
        offered.extend(info.folder.name for info in infos)
        return None, infos  # the user discards everything offered

    monkeypatch.setattr(recovery, "choose_recovery", choose)
    assert not window.session.check_recoveries()
    assert offered == ["dead"]
    assert not folders[0].exists() and folders[1].exists()
    alive.unlock()
    [(info, lock)] = orphaned_recoveries(private_recovery)
    assert info.folder == folders[1]
    assert window.session.recover(info.folder, lock)
    np.testing.assert_array_equal(window.model.document.mask, mask)
    assert window.model.modified


def test_recovery_dialog_lists_photo_time_and_thumbnail(qtbot, tmp_path, photo_path, answers):
    from app.dialogs.recovery import RecoveryDialog
    from inference.io.recovery import RecoveryInfo, thumbnail_of
    from inference.io.session import encode_png

    thumbnail = tmp_path / "thumb.png"
    thumbnail.write_bytes(encode_png(thumbnail_of(make_photo())))
    infos = [RecoveryInfo(tmp_path / "a", photo_path, "2026-12-01T10:00:00+00:00", "Fill (Telea)", thumbnail),
             RecoveryInfo(tmp_path / "b", tmp_path / "beach.jpg", "2026-11-30T09:00:00+00:00", "", None)]
    dialog = RecoveryDialog(infos)
    qtbot.addWidget(dialog)
    first = dialog.list.item(0)
    assert "photo.png" in first.text() and "Fill (Telea)" in first.text() and not first.icon().isNull()
    dialog.list.setCurrentRow(1)
    dialog.discard_button.click()
    assert [info.photo_name for info in dialog.discarded] == ["beach.jpg"] and dialog.list.count() == 1
    dialog.recover_button.click()
    assert dialog.chosen is infos[0]


def test_closing_during_a_fill_asks_cancels_and_stops_the_worker(window, qtbot, photo_path, answers):
    assert window.files.open_path(photo_path)
    window.select_tool("rectangle")
    drag(window.canvas, [(30, 20), (70, 60)])
    window.model.mark_saved()
    window.fills.set_engine("slow", "Slow fake")
    window.fills.fill()
    answers["stop_fill"] = False
    assert not window.close()
    assert window.fills.busy and answers["asked"][-1] == ("stop_fill", "Fill with Slow fake")
    answers["stop_fill"] = True
    assert window.close()
    assert not window.runner._thread.isRunning()


def test_shutdown_gives_up_after_its_bound_and_keeps_the_thread(qapp):
    from app.worker import JobRunner, stranded_threads

    runner = JobRunner(lambda name, **_: StubbornEngine(steps=10, delay=0.05))
    runner.submit("stubborn", lambda context: context.engine("stubborn").inpaint(
        np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), bool)))
    time.sleep(0.1)
    started = time.monotonic()
    assert not runner.shutdown(wait_ms=50)
    assert time.monotonic() - started < 1.0
    assert stranded_threads() == 1
    deadline = time.monotonic() + 5
    while stranded_threads() and time.monotonic() < deadline:
        QThread.msleep(20)
    assert stranded_threads() == 0
