"""Qt fixtures for the editor tests: private settings, fake engines, a window, raw mouse gestures.

Test modules import them with ``from tests.qt_fixtures import *``. No test depends on real
neural weights: engines come from the fakes below through the window's engine-factory seam.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt, QThread
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from inference.engines.contract import Cancelled, Engine
from inference.engines.registry import Availability
from inference.io.images import save_image

__all__ = [
    "DialogLog", "FakeEngines", "dialogs", "drag", "engines", "isolated_settings", "make_photo", "photo_path", "press_key",
    "send_mouse", "wait_until", "window",
]


class FlatEngine(Engine):
    """Fills the Hole with one colour, at once."""

    name = "flat"

    def __init__(self, color=(10, 200, 30)) -> None:
        self.color = np.array(color, dtype=np.uint8)

    def _fill(self, image, mask, guide, should_cancel, progress):
        result = image.copy()
        result[mask] = self.color
        return result


class SlowEngine(Engine):
    """Takes ``steps`` × ``delay`` seconds, checking the cancel flag and reporting progress."""

    name = "slow"

    def __init__(self, steps: int = 40, delay: float = 0.025, color=(250, 0, 250)) -> None:
        self.steps, self.delay = steps, delay
        self.color = np.array(color, dtype=np.uint8)
        self.finished_runs = 0

    def _fill(self, image, mask, guide, should_cancel, progress):
        for step in range(self.steps):
            if should_cancel():
                raise Cancelled()
            time.sleep(self.delay)
            progress(step + 1, self.steps)
        result = image.copy()
        result[mask] = self.color
        self.finished_runs += 1
        return result


class StubbornEngine(SlowEngine):
    """Like SlowEngine but never looks at the cancel flag (a single long library call)."""

    name = "stubborn"

    def _fill(self, image, mask, guide, should_cancel, progress):
        return super()._fill(image, mask, guide, lambda: False, progress)


class FailingEngine(Engine):
    name = "failing"

    def _fill(self, image, mask, guide, should_cancel, progress):
        raise RuntimeError("the fake engine broke on purpose")


@dataclass
class FakeSpec:
    name: str
    label: str
    accepts_guide: bool = False
    available: bool = True
    reason: str = ""
    fix: str = ""

    def check(self) -> Availability:
        return Availability(self.available, self.reason, self.fix)


@dataclass
class FakeEngines:
    """The engine registry the test window sees, and a record of where engines were built."""

    specs: list[FakeSpec] = field(default_factory=lambda: [
        FakeSpec("flat", "Flat colour"),
        FakeSpec("slow", "Slow fake"),
        FakeSpec("stubborn", "Stubborn fake"),
        FakeSpec("failing", "Failing fake"),
        FakeSpec("flat_blue", "Flat blue"),
        FakeSpec("neural", "Neural fake", available=False, reason="no weights for the fake",
                 fix="import weights with: python main.py weights import FILE"),
    ])
    built_on: list[str] = field(default_factory=list)
    engines: dict[str, Engine] = field(default_factory=dict)

    def factory(self, name: str, **options) -> Engine:
        self.built_on.append(QThread.currentThread().objectName() or "main")
        engine = {
            "flat": lambda: FlatEngine(),
            "flat_blue": lambda: FlatEngine((0, 0, 255)),
            "slow": lambda: SlowEngine(),
            "stubborn": lambda: StubbornEngine(steps=12),
            "failing": lambda: FailingEngine(),
        }[name]()
        self.engines[name] = engine
        return engine

    def list_specs(self):
        return list(self.specs)


@pytest.fixture
def isolated_settings(tmp_path, qapp):
    """QSettings written under tmp_path instead of the user's configuration."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def engines() -> FakeEngines:
    return FakeEngines()


def make_photo(height: int = 120, width: int = 160, seed: int = 0) -> np.ndarray:
    """A smooth gradient with noise: every pixel distinct enough to catch a misplaced write."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 200, height)[:, None]
    columns = np.linspace(0, 150, width)[None, :]
    base = np.stack([rows + 0 * columns, columns + 0 * rows, (rows + columns) / 2], axis=2)
    return np.clip(base + rng.integers(0, 40, (height, width, 3)), 0, 255).astype(np.uint8)


@pytest.fixture
def photo_path(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    save_image(path, make_photo())
    return path


@dataclass
class DialogLog:
    """Answers the editor's questions instead of a user (a modal dialog would hang the test)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    unsaved_prompts: list[str] = field(default_factory=list)
    unsaved_answer: str = "discard"
    confirm_answer: bool = True
    mask_mode_prompts: list[str] = field(default_factory=list)
    mask_mode_answer: str | None = "replace"
    quality_prompts: list[tuple[str, int, str]] = field(default_factory=list)
    quality_answer: int | str | None = "default"  # "default": accept the proposed quality

    def show_error(self, _parent, title, text):
        self.errors.append((title, text))

    def ask_unsaved(self, _parent, name):
        self.unsaved_prompts.append(name)
        return self.unsaved_answer

    def confirm(self, _parent, _title, _text):
        return self.confirm_answer

    def ask_mask_mode(self, _parent, name):
        self.mask_mode_prompts.append(name)
        return self.mask_mode_answer

    def ask_quality(self, _parent, name, value, note):
        self.quality_prompts.append((name, value, note))
        return value if self.quality_answer == "default" else self.quality_answer


@pytest.fixture
def dialogs(monkeypatch) -> DialogLog:
    import app.dialogs.questions

    log = DialogLog()
    for name in ("show_error", "ask_unsaved", "confirm", "ask_mask_mode", "ask_quality"):
        monkeypatch.setattr(app.dialogs.questions, name, getattr(log, name))
    return log


@pytest.fixture
def window(qtbot, isolated_settings, weights_dir, engines, dialogs, monkeypatch):
    """A shown main window with fake engines; HED reported unavailable unless a test says otherwise."""
    import app.controllers.edges
    from app.window.main_window import MainWindow

    monkeypatch.setattr(app.controllers.edges, "_check_hed", lambda _context: (False, "HED is off in this test"))
    main = MainWindow(engine_factory=engines.factory, engine_specs=engines.list_specs)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    return main


def send_mouse(widget, kind: QEvent.Type, position: QPointF, button=Qt.MouseButton.LeftButton,
               buttons=None, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A raw QMouseEvent with an explicit button state, as a real pointer sends it."""
    if buttons is None:
        held = kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove)
        buttons = button if held and button != Qt.MouseButton.NoButton else Qt.MouseButton.NoButton
    event_button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else button
    global_position = QPointF(widget.mapToGlobal(position.toPoint()))
    event = QMouseEvent(kind, QPointF(position), global_position, event_button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(canvas, image_points, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
    """Press at the first image point, move through the others, release at the last."""
    positions = [canvas.image_to_widget(QPointF(x, y)) for x, y in image_points]
    send_mouse(canvas, QEvent.Type.MouseButtonPress, positions[0], button, modifiers=modifiers)
    for position in positions[1:]:
        send_mouse(canvas, QEvent.Type.MouseMove, position, button, modifiers=modifiers)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, positions[-1], button, modifiers=modifiers)


def press_key(widget, key: Qt.Key, release: bool = True, text: str = "") -> None:
    from PySide6.QtGui import QKeyEvent

    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, text))
    if release:
        QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyRelease, key, Qt.KeyboardModifier.NoModifier, text))


def wait_until(qtbot, condition, timeout_ms: int = 5000) -> None:
    qtbot.waitUntil(condition, timeout=timeout_ms)

