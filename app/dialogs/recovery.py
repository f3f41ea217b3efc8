"""The questions of sessions and crash recovery, one function each so tests can answer for the user.

:class:`RecoveryDialog` lists the work a crashed editor left behind (photo name, thumbnail, when it
was autosaved, the last step) with Recover / Discard; the functions below it are the yes/no
questions about session files and about quitting during a fill.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inference.io.recovery import THUMBNAIL_SIDE, RecoveryInfo

SESSION_FILTER = "Inpaint Studio session (*.inpaint);;All files (*)"


def local_time(saved_at: str) -> str:
    """An ISO time stamp (UTC) as the user's local date and time; the text itself when unreadable."""
    try:
        return datetime.fromisoformat(saved_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return saved_at


class RecoveryDialog(QDialog):
    """Recover one listed session (it opens in the editor) or Discard any; Later keeps them all."""

    def __init__(self, infos: list[RecoveryInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.infos = list(infos)
        self.chosen: RecoveryInfo | None = None
        self.discarded: list[RecoveryInfo] = []
        intro = QLabel("Inpaint Studio did not close properly. This work was autosaved and can be recovered:")
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.list.setSpacing(4)
        for info in self.infos:
            self.list.addItem(self._item(info))
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._recover())
        buttons = QDialogButtonBox(self)
        self.recover_button = buttons.addButton("&Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = QPushButton("&Discard")
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        later = buttons.addButton("&Later", QDialogButtonBox.ButtonRole.RejectRole)
        later.setToolTip("Keep the autosaved work and ask again at the next start")
        self.recover_button.clicked.connect(self._recover)
        self.discard_button.clicked.connect(self._discard)
        later.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(620, 460)

    def _item(self, info: RecoveryInfo) -> QListWidgetItem:
        lines = [info.photo_name, f"autosaved {local_time(info.saved_at)}", str(info.source_path.parent)]
        if info.summary:
            lines.insert(2, f"last step: {info.summary}")
        item = QListWidgetItem("\n".join(lines))
        if info.thumbnail is not None and info.thumbnail.is_file():
            item.setIcon(QIcon(QPixmap(str(info.thumbnail))))
        item.setToolTip(str(info.source_path))
        return item

    def _current(self) -> RecoveryInfo | None:
        row = self.list.currentRow()
        return self.infos[row] if 0 <= row < len(self.infos) else None

    def _recover(self) -> None:
        self.chosen = self._current()
        if self.chosen is not None:
            self.accept()

    def _discard(self) -> None:
        info = self._current()
        if info is None or not confirm_discard_recovery(self, info.photo_name):
            return
        row = self.list.currentRow()
        self.discarded.append(self.infos.pop(row))
        self.list.takeItem(row)
        if not self.infos:
            self.reject()


def choose_recovery(parent: QWidget | None, infos: list[RecoveryInfo]) -> tuple[RecoveryInfo | None, list[RecoveryInfo]]:
    """(the session to recover or None, the sessions the user discarded)."""
    dialog = RecoveryDialog(infos, parent)
    dialog.exec()
    return dialog.chosen, dialog.discarded


def confirm_discard_recovery(parent: QWidget, name: str) -> bool:
    answer = QMessageBox.question(parent, "Discard autosaved work",
                                  f"Delete the autosaved work on “{name}” for good?")
    return answer == QMessageBox.StandardButton.Yes


def ask_continue_session(parent: QWidget, photo: str, session: str, saved_at: str) -> bool:
    """True to continue the session saved beside a photo that was just opened."""
    answer = QMessageBox.question(
        parent, "Continue the session?",
        f"A session for “{photo}” exists beside it ({session}, saved {local_time(saved_at)}).\n"
        "Continue that session (its Hole, sketch and result)?")
    return answer == QMessageBox.StandardButton.Yes


def ask_stop_fill(parent: QWidget, label: str) -> bool:
    """True to cancel the running fill and quit."""
    answer = QMessageBox.question(parent, "A fill is running",
                                  f"{label} is still running. Cancel it and quit?")
    return answer == QMessageBox.StandardButton.Yes
