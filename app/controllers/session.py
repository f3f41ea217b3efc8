"""Sessions: File → Save Session / Open Session, "continue the session beside this photo?",
autosave, and the recovery of work a crashed editor left behind.

A session restores every layer the Document has (``app.document.LAYERS``, whatever they are), as
one History entry on top of the photo as it was opened, so Undo can still go back to the photo.
The undo steps themselves do not survive a restart; every committed layer state does.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.controllers.autosave import Autosaver, app_version, orphaned_recoveries
from app.controllers.files import FileController
from app.dialogs import questions
from app.dialogs import recovery as recovery_dialogs
from app.document import LAYERS, Document
from app.history import commands
from app.history.model import DocumentModel
from app.settings import Preferences
from inference.io.recovery import read_recovery
from inference.io.session import (
    SESSION_SUFFIX,
    SessionData,
    SessionError,
    read_manifest,
    read_session,
    session_path_for,
    sha256_of_file,
    write_session,
)


def document_from(data: SessionData) -> tuple[Document, list]:
    """The Document of the photo as opened, and the patches that bring its layers to the session's.

    Layers are matched by name: one the session lacks keeps its empty start, one this editor does
    not know is left out (an older editor reading a newer session).
    """
    document = Document(data.original)
    document.save_path = data.save_path
    patches = []
    for name in LAYERS:
        if name in data.layers:
            patches.extend(document.layer_change(name, data.layers[name]))
    return document, patches


class SessionController(QObject):
    status = Signal(str)
    _session_written = Signal(object, int, object, str)  # Document, undo index, path, error ("" = none)

    def __init__(self, window: QWidget, model: DocumentModel, files: FileController, preferences: Preferences,
                 recovery_root: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.model = model
        self.files = files
        self.preferences = preferences
        self.autosaver = Autosaver(model, preferences, recovery_root, self)
        self.autosaver.failed.connect(self.status)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inpaint-session")
        self._saving: Future | None = None
        self._session_written.connect(self._on_session_written)
        files.opened.connect(self._offer_session_beside)

    def action_handlers(self) -> dict:
        return {"save_session": self.save_session, "open_session": self.open_session,
                "autosave": self.autosaver.set_enabled}

    # --- session files -----------------------------------------------------------------------

    def save_session(self) -> None:
        document = self.model.document
        if document is None:
            return
        suggested = session_path_for(document.path)
        path = questions.ask_save_path(self.window, "Save session", suggested, recovery_dialogs.SESSION_FILTER)
        if path:
            self.save_session_to(path)

    def save_session_to(self, path: Path) -> Future | None:
        """Copy the layers and write the session on a background thread; the UI goes on meanwhile."""
        document = self.model.document
        if document is None:
            return None
        if self.autosaver.closed:
            return None
        if self._saving is not None and not self._saving.done():
            self.status.emit("A session is being saved; try again in a moment.")
            return None
        path = Path(path).with_suffix(SESSION_SUFFIX)
        layers = {name: document.layer(name).copy() for name in LAYERS}  # painting may go on
        index = self.model.undo_stack.index()
        source, save_path = document.source, document.save_path

        def write() -> None:
            try:
                write_session(path, source, layers, app_version=app_version(),
                              source_sha256=sha256_of_file(source.path), save_path=save_path)
            except SessionError as error:
                self._session_written.emit(document, index, path, str(error))
                raise
            self._session_written.emit(document, index, path, "")

        self.status.emit(f"Saving the session to {path.name}…")
        self._saving = self._executor.submit(write)
        return self._saving

    def _on_session_written(self, document: Document, index: int, path: Path, error: str) -> None:
        if error:
            questions.show_error(self.window, "Cannot save the session", error)
            return
        if document is self.model.document and self.model.undo_stack.index() == index:
            self.model.mark_saved()  # everything on screen is in the session file now
        self.status.emit(f"Session saved to {path.name}.")

    def open_session(self) -> bool:
        if not self.files.confirm_discard():
            return False
        path = questions.ask_open_path(self.window, "Open session", self.preferences.last_folder,
                                       recovery_dialogs.SESSION_FILTER)
        return self.open_session_from(path) if path else False

    def open_session_from(self, path: Path) -> bool:
        try:
            data = read_session(path)
        except SessionError as error:
            questions.show_error(self.window, "Cannot open the session", str(error))
            return False
        if not self._restore(data, f"Session {Path(path).name}"):
            return False
        self.model.mark_saved()  # the state on screen is the one in the file
        self.status.emit(f"Opened session {Path(path).name} ({data.original.path.name}).")
        return True

    def _restore(self, data: SessionData, text: str) -> bool:
        try:
            document, patches = document_from(data)
        except ValueError as error:
            questions.show_error(self.window, "Cannot restore the session", str(error))
            return False
        self.model.set_document(document)
        commands.push_patches(self.model, text, patches)
        return True

    def _offer_session_beside(self, photo: Path) -> None:
        session = session_path_for(photo)
        if not session.is_file():
            return
        try:
            manifest = read_manifest(session)
        except SessionError:
            return
        if manifest.get("source_sha256") != sha256_of_file(photo):
            self.status.emit(f"{session.name} belongs to another version of {photo.name}; not offered.")
            return
        if recovery_dialogs.ask_continue_session(self.window, photo.name, session.name, manifest.get("saved_at", "")):
            self.open_session_from(session)

    # --- crash recovery ----------------------------------------------------------------------

    def check_recoveries(self) -> bool:
        """Offer the work of editors that died; True when one was recovered into this window."""
        found = orphaned_recoveries(self.autosaver.root)
        if not found:
            return False
        locks = {info.folder: lock for info, lock in found}
        chosen, discarded = recovery_dialogs.choose_recovery(self.window, [info for info, _lock in found])
        for info in discarded:
            self.autosaver.remove_folder(info.folder, locks.pop(info.folder))
        recovered = False
        if chosen is not None:
            recovered = self.recover(chosen.folder, locks.pop(chosen.folder))
        for lock in locks.values():
            lock.unlock()  # "Later": offered again at the next start
        return recovered

    def recover(self, folder: Path, lock) -> bool:
        if not self.files.confirm_discard():
            lock.unlock()
            return False
        try:
            data = read_recovery(folder)
        except SessionError as error:
            lock.unlock()
            questions.show_error(self.window, "Cannot recover the work", str(error))
            return False
        if not self._restore(data, "Recovered after a crash"):
            lock.unlock()
            return False
        # The recovered folder is deleted once this session's own autosave holds the same state.
        self.autosaver.adopt_recovered(folder, lock)
        self.autosaver.autosave_now()
        self.status.emit(f"Recovered the work on {data.original.path.name}; save it to keep it.")
        return True

    def finish(self, keep_recovery: bool = False) -> None:
        self._executor.shutdown(wait=True)  # a session being written is finished first
        self.autosaver.finish(keep=keep_recovery)
