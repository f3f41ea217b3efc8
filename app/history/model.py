"""The open Document seen from Qt: change signals and the undo stack.

Everything that changes a layer goes through here, so the canvas, the edge overlay and the
status bar learn about it from one signal. The model knows no undo command: the commands in
:mod:`app.history.commands` know the model and push themselves onto its stack.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.document import Document
from app.patches import LayerPatch, StrokeRecorder
from inference.engines.regions import Box


class DocumentModel(QObject):
    """Holds the current :class:`Document` (or None) and its :class:`QUndoStack`."""

    layer_changed = Signal(str, object)  # layer name, Box in image pixels
    document_replaced = Signal()  # another photo was opened (or the document closed)
    gesture_changed = Signal(bool)  # a Stroke started (True) or ended / was abandoned (False)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.undo_stack = QUndoStack(self)
        self.image_revision = 0  # bumps whenever the image layer changes (edge maps go stale)
        self.gesture_active = False  # a Stroke is being painted: undo and fill results wait

    def set_document(self, document: Document | None) -> None:
        self.undo_stack.clear()
        self.document = document
        self.image_revision += 1
        self.undo_stack.setClean()
        self.document_replaced.emit()

    @property
    def modified(self) -> bool:
        return self.document is not None and not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def notify(self, layer: str, box: Box | None) -> None:
        """Layer ``layer`` changed inside ``box`` (already written into the Document)."""
        if box is None:
            return
        if layer == "image":
            self.image_revision += 1
        self.layer_changed.emit(layer, box)

    def apply(self, patches: list[LayerPatch], forward: bool) -> None:
        ordered = patches if forward else list(reversed(patches))
        for patch in ordered:
            self.notify(patch.layer, self.document.apply_patch(patch, forward))

    # --- making changes undoable -----------------------------------------------------------

    def start_stroke(self, layer: str) -> StrokeRecorder:
        self._set_gesture(True)
        return StrokeRecorder(layer, self.document.layer(layer))

    def abandon_stroke(self, recorder: StrokeRecorder) -> None:
        """Put back what the Stroke painted so far (right click, Esc, undo during a Stroke)."""
        for box in recorder.restore():
            self.notify(recorder.layer, box)
        self._set_gesture(False)

    def end_gesture(self) -> None:
        """The Stroke in progress was pushed (see :func:`app.history.commands.push_stroke`)."""
        self._set_gesture(False)

    def _set_gesture(self, active: bool) -> None:
        if active != self.gesture_active:
            self.gesture_active = active
            self.gesture_changed.emit(active)
