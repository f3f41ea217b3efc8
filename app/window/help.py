"""Help menu: the Keyboard Shortcuts dialog (generated from the live actions) and About."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from app.dialogs import questions as dialogs
from app.window.actions import shortcut_rows

APP_NAME = "Inpaint Studio"


def show_shortcuts(parent: QWidget, actions: dict[str, QAction], extra: list[QAction]) -> None:
    dialogs.ShortcutsDialog(shortcut_rows(actions, extra), parent).exec()


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, f"About {APP_NAME}",
                      f"<b>{APP_NAME}</b><p>Remove objects and repair photos with DeepFill v2, LBAM "
                      "and OpenCV fills.</p>")
