"""Opening, saving, reverting, mask import/export and the recent-files list.

Saving never silently replaces the photo that was opened: the first save of a Document asks for
a name, proposing ``<name>_inpainted.<ext>``; later saves write to that chosen file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.dialogs import questions as dialogs
from app.document import Document
from app.history import commands
from app.history.model import DocumentModel
from app.settings import Preferences
from inference.io.images import DEFAULT_JPEG_QUALITY, ImageError, safe_resolve
from inference.io.masks import MaskError

QUALITY_SUFFIXES = (".jpg", ".jpeg", ".webp")  # formats Save As asks a quality for


class FileController(QObject):
    recent_changed = Signal()
    status = Signal(str)
    opened = Signal(object)  # Path of the photo now open

    def __init__(self, window: QWidget, model: DocumentModel, preferences: Preferences) -> None:
        super().__init__(window)
        self.window = window
        self.model = model
        self.preferences = preferences

    # --- unsaved work ------------------------------------------------------------------------

    def action_handlers(self) -> dict:
        return {"open": self.open_dialog, "save": self.save, "save_as": self.save_as, "revert": self.revert,
                "import_mask": self.import_mask, "export_mask": self.export_mask}

    def confirm_discard(self) -> bool:
        """True when the current Document may be dropped (saved, discarded, or unchanged)."""
        if not self.model.modified:
            return True
        answer = dialogs.ask_unsaved(self.window, self.model.document.display_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # --- opening -------------------------------------------------------------------------------

    def open_dialog(self) -> bool:
        if not self.confirm_discard():
            return False
        path = dialogs.ask_open_path(self.window, "Open photo", self.preferences.last_folder)
        return self.open_path(path, confirmed=True) if path else False

    def open_path(self, path: str | Path, confirmed: bool = False) -> bool:
        """Open ``path`` (after asking about unsaved work unless ``confirmed``); errors are shown."""
        path = Path(path)
        if not confirmed and not self.confirm_discard():
            return False
        try:
            document = Document.open(path)
        except ImageError as error:
            if not path.is_file():  # gone, a dangling link or a link loop: drop it from Open Recent
                self.preferences.remove_recent(path)
                self.recent_changed.emit()
            dialogs.show_error(self.window, "Cannot open the photo", str(error))
            return False
        self.model.set_document(document)
        self._remember(path)
        # e.g. damaged EXIF that was ignored: the photo opened, the user still learns why it may look rotated.
        notes = "".join(f" Warning: {note.split(': ', 1)[-1]}." for note in document.source.warnings[:1])
        self.status.emit(f"Opened {path.name} ({document.width}×{document.height}).{notes}")
        self.opened.emit(path)
        return True

    def _remember(self, path: Path) -> None:
        self.preferences.add_recent(path)
        self.preferences.last_folder = str(safe_resolve(path).parent)
        self.recent_changed.emit()

    def revert(self) -> bool:
        """Reload the file behind the Document, dropping every change (asks first)."""
        document = self.model.document
        if document is None:
            return False
        if self.model.modified and not dialogs.confirm(
            self.window, "Revert", f"Drop all changes and reload “{document.display_name}” from disk?"
        ):
            return False
        save_path = document.save_path
        if not self.open_path(document.path, confirmed=True):
            return False
        self.model.document.save_path = save_path
        return True

    # --- saving --------------------------------------------------------------------------------

    def save(self) -> bool:
        document = self.model.document
        if document is None:
            return False
        if document.save_path is None:
            return self.save_as()
        return self._write(document.save_path)

    def save_as(self) -> bool:
        document = self.model.document
        if document is None:
            return False
        path = dialogs.ask_save_path(self.window, "Save photo as", document.suggested_save_path())
        if not path:
            return False
        quality = self._ask_quality(document, Path(path))
        if quality == 0:
            return False
        return self._write(path, quality)

    def _ask_quality(self, document: Document, path: Path) -> int | None:
        """The JPEG/WebP quality for ``path`` (None: not such a format, 0: the user cancelled)."""
        if path.suffix.lower() not in QUALITY_SUFFIXES:
            return None
        known = document.source.jpeg_quality
        if document.save_quality:
            value, note = document.save_quality, "as last saved"
        elif known:
            value, note = known, f"the photo was saved at quality {known}"
        else:
            value = self.preferences.jpeg_quality or DEFAULT_JPEG_QUALITY
            note = "the photo's own quality is unknown"
        chosen = dialogs.ask_quality(self.window, path.name, value, note)
        if chosen is None:
            return 0
        self.preferences.jpeg_quality = chosen
        return chosen

    def _write(self, path: Path, quality: int | None = None) -> bool:
        try:
            self.model.document.save(path, quality)
        except (ImageError, OSError) as error:  # the Document stays modified: nothing was saved
            dialogs.show_error(self.window, "Cannot save the photo", str(error))
            return False
        self.model.mark_saved()
        self._remember(path)
        self.status.emit(f"Saved {path.name}.")
        return True

    # --- masks ---------------------------------------------------------------------------------

    def export_mask(self) -> bool:
        document = self.model.document
        if document is None:
            return False
        suggested = document.path.with_name(f"{document.path.stem}_mask.png")
        path = dialogs.ask_save_path(self.window, "Export mask", suggested, dialogs.MASK_FILTER)
        if path is None:
            return False
        try:
            document.export_mask(path)
        except (MaskError, ImageError) as error:
            dialogs.show_error(self.window, "Cannot export the mask", str(error))
            return False
        self.status.emit(f"Mask exported to {path.name}.")
        return True

    def import_mask(self) -> bool:
        document = self.model.document
        if document is None:
            return False
        folder = str(document.path.parent)
        path = dialogs.ask_open_path(self.window, "Import mask", folder, dialogs.MASK_FILTER)
        if path is None:
            return False
        return self.import_mask_from(path)

    def import_mask_from(self, path: Path, mode: str | None = None) -> bool:
        """Import a mask file as the Hole; ``mode`` "replace" or "add" (asked when a Hole exists and None)."""
        document = self.model.document
        try:
            mask = document.read_mask(path)
        except MaskError as error:
            dialogs.show_error(self.window, "Cannot import the mask", str(error))
            return False
        name = Path(path).name
        if mode is None:
            mode = dialogs.ask_mask_mode(self.window, name) if document.mask.any() else "replace"
            if mode is None:
                return False
        if mode == "add":
            commands.push_layer_change(self.model, f"Add mask {name} to the Hole", "mask", document.mask | mask)
            self.status.emit(f"Mask from {name} added to the Hole.")
        else:
            commands.push_layer_change(self.model, f"Import mask {name}", "mask", mask)
            self.status.emit(f"Mask imported from {name}.")
        return True
