"""Starting the editor: the QApplication, the main window, and an optional photo to open."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from app.settings import APPLICATION, ORGANIZATION


def create_application(argv: list[str]) -> QApplication:
    """The QApplication (made once per process), named so QSettings find the user's file."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    application = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "inpaint-studio", *argv])
    application.setApplicationDisplayName(APPLICATION)
    return application


def create_window(path: str | Path | None = None):
    """The main window, shown, with ``path`` opened once the event loop runs."""
    from app.window.main_window import MainWindow

    window = MainWindow()
    window.show()
    if path:
        QTimer.singleShot(0, lambda: window.files.open_path(Path(path)))
    return window


def launch(argv: list[str]) -> int:
    """Run the editor; ``argv`` is the arguments after the program name: ``[]`` or ``[PATH]``."""
    paths = [argument for argument in argv if not argument.startswith("-")]
    application = create_application(argv)
    window = create_window(paths[0] if paths else None)
    status = application.exec()
    del window
    return int(status)
