"""Crash recovery end to end: a real editor process commits work, is SIGKILLed after its autosave,
and the next editor recovers the Mask, Guide and Result bit for bit; SIGTERM and a stubborn fill
quit cleanly.

The editor runs in subprocesses under the offscreen platform. This module is also their driver:
``python -m tests.test_recovery_kill MODE FOLDER [PHOTO]`` starts the editor as
``app.window.startup.launch`` does (same window, same recovery check, same SIGTERM handler and
exit path) and drives it through its tools and controllers: no test hook in the application.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.document import LAYERS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RECORDED = LAYERS  # every layer of the Document, whatever they are


# --- the driver (runs inside the editor process) -------------------------------------------------


def _gesture(window, tool_name: str, points) -> None:
    from PySide6.QtCore import QPointF, Qt

    tool, none = window.tools[tool_name], Qt.KeyboardModifier.NoModifier
    tool.press(QPointF(*points[0]), none)
    for point in points[1:-1]:
        tool.move(QPointF(*point), none)
    tool.release(QPointF(*points[-1]), none)


def _dump(window, path: Path) -> None:
    document = window.model.document
    np.savez(path, **{name: document.layer(name) for name in RECORDED},
             modified=np.array(window.model.modified))


def _commit_work(window, folder: Path, after_fill) -> None:
    """Strokes, a rectangle, a sketch, a Sampling area, a Telea fill, then more strokes; ``after_fill``
    runs once all landed."""
    window.fills.set_engine("telea", "Telea (OpenCV)")
    _gesture(window, "brush", [(20, 30), (60, 40), (90, 45)])
    _gesture(window, "rectangle", [(100, 20), (130, 60)])
    _gesture(window, "sketch", [(10, 100), (150, 90)])
    _gesture(window, "sampling_exclude", [(150, 120), (170, 130)])

    def landed(busy: bool) -> None:
        # The fill controller goes idle only after the Result is in the History; the runner's
        # "finished" would also fire for other Jobs (the edge-detector check at start-up).
        if busy:
            return
        window.fills.busy_changed.disconnect(landed)
        _gesture(window, "brush", [(30, 110), (40, 112)])
        _gesture(window, "sketch", [(5, 5), (70, 8)])
        _dump(window, folder / "committed.npz")
        after_fill()

    window.fills.busy_changed.connect(landed)
    window.fills.fill()


def drive(mode: str, folder: Path, photo: str | None) -> int:
    from PySide6.QtCore import QSettings, QTimer

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
    from app.settings import open_settings

    settings = open_settings()
    settings.setValue("autosave/idle_seconds", 1 if mode == "work" else 300)
    settings.sync()
    import app.dialogs.questions

    app.dialogs.questions.ask_unsaved = lambda *_args: "discard"  # quitting drops the work on purpose
    if mode == "recover":
        import app.dialogs.recovery

        def choose(_parent, infos):  # the user picks the first session and presses Recover
            (folder / "offered.txt").write_text("\n".join(info.photo_name for info in infos))
            return infos[0], []

        app.dialogs.recovery.choose_recovery = choose
    if mode == "stubborn":
        import inference.engines.registry
        from tests.qt_fixtures import StubbornEngine

        inference.engines.registry.create_engine = lambda _name, **_options: StubbornEngine(steps=80, delay=0.1)
        import app.dialogs.recovery

        app.dialogs.recovery.ask_stop_fill = lambda *_args: True
    from app.window.startup import create_application, create_window, finish_launch

    application = create_application([])
    window = create_window(photo)

    def ready() -> None:
        (folder / "ready").write_text("")

    def after_fill() -> None:
        if mode == "work":  # tell the test once the autosave after the last change is on disk
            autosaver = window.session.autosaver
            autosaver.saved.connect(lambda *_: None if autosaver.has_changes() else ready())
        else:
            ready()  # "sigterm": the test sends SIGTERM long before the 300 s autosave

    def act() -> None:
        if mode in ("work", "sigterm"):
            _commit_work(window, folder, after_fill)
        elif mode == "recover":
            _dump(window, folder / "recovered.npz")
            window.close()
        elif mode == "stubborn":
            _gesture(window, "rectangle", [(10, 10), (50, 50)])
            window.fills.fill()
            QTimer.singleShot(300, window.close)  # closing while the fill runs on and on

    QTimer.singleShot(200, act)
    return finish_launch(application, window)


# --- the tests -----------------------------------------------------------------------------------


def _start(mode: str, folder: Path, photo: Path | None = None) -> subprocess.Popen:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "INPAINT_STUDIO_WEIGHTS": str(folder),
                   "INPAINT_STUDIO_RECOVERY": str(folder / "recovery")}
    command = [sys.executable, "-m", "tests.test_recovery_kill", mode, str(folder)] + ([str(photo)] if photo else [])
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 25.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the editor ended early ({process.returncode}): {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {path.name} after {timeout} s: {process.communicate()[1]}")
        time.sleep(0.05)


def _recover_and_compare(tmp_path: Path) -> None:
    recovering = _start("recover", tmp_path)
    _out, errors = recovering.communicate(timeout=30)
    assert recovering.returncode == 0, errors
    assert "QThread" not in errors
    assert (tmp_path / "offered.txt").read_text() == "photo.png"
    committed, recovered = np.load(tmp_path / "committed.npz"), np.load(tmp_path / "recovered.npz")
    assert committed["mask"].any() and committed["guide"].any() and committed["exclusion"].any()
    for name in RECORDED:
        assert recovered[name].dtype == committed[name].dtype
        assert np.array_equal(recovered[name], committed[name]), f"{name} differs after recovery"
    assert bool(recovered["modified"]), "recovered work must count as unsaved"
    # The recovering editor quit cleanly: its recovery files, and the recovered folder, are gone.
    assert not [path for path in (tmp_path / "recovery").iterdir() if path.is_dir()]


@pytest.fixture
def photo(tmp_path) -> Path:
    from inference.io.images import save_image
    from tests.qt_fixtures import make_photo

    path = tmp_path / "photo.png"
    save_image(path, make_photo(140, 180, seed=5))
    return path


def test_sigkill_after_autosave_then_recover_bit_for_bit(tmp_path, photo):
    working = _start("work", tmp_path, photo)
    _wait_for(tmp_path / "ready", working)
    working.send_signal(signal.SIGKILL)
    working.wait(10)
    committed = np.load(tmp_path / "committed.npz")
    original = np.asarray(__import__("inference.io.images", fromlist=["open_image"]).open_image(photo).pixels)
    assert not np.array_equal(committed["image"], original), "the Telea fill must have changed the photo"
    _recover_and_compare(tmp_path)


def test_sigterm_quits_cleanly_and_keeps_the_work(tmp_path, photo):
    working = _start("sigterm", tmp_path, photo)
    _wait_for(tmp_path / "ready", working)
    working.send_signal(signal.SIGTERM)
    _out, errors = working.communicate(timeout=20)
    assert working.returncode == 0, errors
    assert "QThread" not in errors
    _recover_and_compare(tmp_path)


@pytest.mark.slow
def test_closing_during_a_fill_that_ignores_cancel_quits_cleanly(tmp_path, photo):
    started = time.monotonic()
    closing = _start("stubborn", tmp_path, photo)
    _out, errors = closing.communicate(timeout=40)
    assert closing.returncode == 0, errors
    assert "QThread" not in errors and "Abort" not in errors
    assert time.monotonic() - started < 20  # bounded: the 8 s fill is not waited for
    recovery = tmp_path / "recovery"
    assert not recovery.exists() or not [path for path in recovery.iterdir() if path.is_dir()]


if __name__ == "__main__":
    sys.exit(drive(sys.argv[1], Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
