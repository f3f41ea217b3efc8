"""Models → Import Weights…: a weight file is imported on the worker, then the engine list refreshes.

Import reads the file without running code from it (see :mod:`inference.weights.importer`); a
refusal comes back as a dialog with the importer's one-sentence reason.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.dialogs import questions as dialogs
from app.dialogs.weights import WeightsDialog, remove_weights
from app.settings import Preferences
from app.worker import JobRunner


class WeightsController(QObject):
    status = Signal(str)

    def __init__(self, window: QWidget, runner: JobRunner, preferences: Preferences,
                 imported: Callable[[], None]) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.preferences = preferences
        self.imported = imported  # called after a successful import (the engine list refreshes)
        self._job: int | None = None
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)

    def action_handlers(self) -> dict:
        return {"import_weights": self.import_dialog, "manage_weights": self.manage_dialog}

    def manage_dialog(self) -> None:
        """Models → Manage Weights…: the installed weights with their cards; removing one refreshes the engines."""
        from inference.weights.store import stored_weights

        def remove(entry) -> None:
            try:
                remove_weights(entry)
            except OSError as error:
                dialogs.show_error(self.window, "Cannot remove the weights", f"{entry.path}: {error.strerror or error}")
            self.imported()  # the engine list re-reads what is installed
            self.status.emit(f"Removed weights “{entry.name}”.")

        def confirm(file_name: str) -> bool:
            return dialogs.confirm(self.window, "Remove weights",
                                   f"Delete {file_name} and its model card from the weights folder?\n"
                                   "The engines that use it become unavailable until weights are imported again.")

        WeightsDialog(lambda: stored_weights(include_damaged=True), remove, confirm, self.window).exec()

    def import_dialog(self) -> None:
        path = dialogs.ask_open_path(self.window, "Import weights", self.preferences.last_folder,
                                     dialogs.WEIGHTS_FILTER)
        if path is not None:
            self.import_file(path)

    def import_file(self, path) -> None:
        def run(_context):
            from inference.weights.importer import import_weights
            from inference.weights.store import WeightsError

            try:
                return import_weights(path)
            except WeightsError as error:
                # A refusal is an answer, not a crash: it comes back as a result, so the worker
                # prints no traceback for it.
                return _Refused(str(error))

        self._job = self.runner.submit(f"Importing {path.name}", run)
        self.status.emit(f"Importing weights from {path.name}…")

    def _on_finished(self, job_id: int, result: object) -> None:
        if job_id == self._job and isinstance(result, _Refused):
            self._job = None
            dialogs.show_error(self.window, "Cannot import the weights", result.reason)
        elif job_id == self._job:
            self._job = None
            self.imported()
            self.status.emit(f"Imported weights “{getattr(result, 'name', result)}”.")

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self._job:
            self._job = None
            dialogs.show_error(self.window, "Cannot import the weights", message)


class _Refused:
    """The importer's one-sentence reason for refusing a file."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
