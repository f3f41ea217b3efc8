"""Starting the editor: the QApplication, the main window, the recovery check, and an optional photo.

SIGTERM closes the window as a quit would, without questions and keeping the last autosave; a
worker thread still running a Job that ignored its cancel flag ends with the process (never
"QThread: Destroyed while thread is still running").
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSocketNotifier, QTimer
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

    def start() -> None:
        recovered = window.session.check_recoveries()  # work a crashed editor left comes first
        if path and not recovered:
            window.files.open_path(Path(path))

    QTimer.singleShot(0, start)
    return window


def close_on_sigterm(window) -> QSocketNotifier | None:
    """Make SIGTERM close ``window`` cleanly; returns the notifier to keep alive (None where unsupported).

    Python runs a signal handler only when it gets control back from Qt's event loop, so the
    signal is also written to a socket that Qt watches (``signal.set_wakeup_fd``).
    """
    if not hasattr(signal, "SIGTERM") or os.name != "posix":
        return None
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    signal.signal(signal.SIGTERM, lambda *_: None)  # the notifier below does the work
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def on_signal() -> None:
        try:
            numbers = reader.recv(64)
        except BlockingIOError:
            return
        if signal.SIGTERM in numbers:
            window.terminate()
            QApplication.quit()

    notifier.activated.connect(on_signal)
    notifier.sockets = (reader, writer)  # closed with the notifier, not by the garbage collector
    return notifier


def launch(argv: list[str]) -> int:
    """Run the editor; ``argv`` is the arguments after the program name: ``[]`` or ``[PATH]``."""
    paths = [argument for argument in argv if not argument.startswith("-")]
    application = create_application(argv)
    window = create_window(paths[0] if paths else None)
    status = finish_launch(application, window)
    del window
    return status


def finish_launch(application: QApplication, window) -> int:
    """Run the event loop until the window closes (or SIGTERM closes it); the exit status."""
    notifier = close_on_sigterm(window)
    status = int(application.exec())
    from app.worker import stranded_threads

    if stranded_threads():
        # A Job ignored its cancel flag past the bounded wait: everything is saved and closed, so
        # end here rather than let Python destroy a running QThread (which aborts the process).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    del notifier
    return status
