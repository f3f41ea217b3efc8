"""The open Document seen from Qt: change signals and the undo stack.

Everything that changes a layer goes through here, so the canvas, the edge overlay and the
status bar learn about it from one signal, and every change is one undo command.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.document import Document
from app.history.commands import FillCommand, PatchCommand, command_bytes, fill_in
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

    def finish_stroke(self, text: str, recorder: StrokeRecorder) -> PatchCommand | None:
        """Push the Stroke recorded by ``recorder`` (already painted) as one command."""
        patches = recorder.patches()
        command = None
        if patches:
            command = PatchCommand(self, text, patches, applied=True)
            self.undo_stack.push(command)
        self._set_gesture(False)
        return command

    def abandon_stroke(self, recorder: StrokeRecorder) -> None:
        """Put back what the Stroke painted so far (right click, Esc, undo during a Stroke)."""
        for box in recorder.restore():
            self.notify(recorder.layer, box)
        self._set_gesture(False)

    def _set_gesture(self, active: bool) -> None:
        if active != self.gesture_active:
            self.gesture_active = active
            self.gesture_changed.emit(active)

    def change_layer(self, text: str, layer: str, new_values: np.ndarray) -> PatchCommand | None:
        """Replace a whole layer as one command (mask actions, imports); None when nothing changes."""
        if self.document is None:
            return None
        patches = self.document.layer_change(layer, new_values)
        if not patches:
            return None
        command = PatchCommand(self, text, patches)
        self.undo_stack.push(command)
        return command

    def push_patches(self, text: str, patches: list[LayerPatch]) -> PatchCommand | None:
        """Apply ``patches`` (computed, not applied yet) as one command."""
        if not patches:
            return None
        command = PatchCommand(self, text, patches)
        self.undo_stack.push(command)
        return command

    def push_fill(self, engine_label: str, result: np.ndarray, job_mask: np.ndarray,
                  clear_mask: bool, again: bool = False) -> FillCommand | None:
        """Write ``result`` into the Hole of ``job_mask`` (and clear it) as one History entry."""
        patches = self.document.result_patches(result, job_mask, clear_mask)
        image_patches = [patch for patch in patches if patch.layer == "image"]
        mask_patches = [patch for patch in patches if patch.layer == "mask"]
        if not patches:
            return None
        command = FillCommand(self, engine_label, image_patches, job_mask)
        self.undo_stack.beginMacro(f"{'Fill again' if again else 'Fill'} ({engine_label})")
        self.undo_stack.push(command)
        if mask_patches:
            self.undo_stack.push(PatchCommand(self, "Clear the filled Hole", mask_patches))
        self.undo_stack.endMacro()
        return command

    def last_fill(self) -> FillCommand | None:
        """The most recent fill still applied (for "Fill again"), if any."""
        for index in range(self.undo_stack.index() - 1, -1, -1):
            command = fill_in(self.undo_stack.command(index))
            if command is not None:
                return command
        return None

    def undo_bytes(self) -> int:
        """Memory held by the undo history's patches."""
        return sum(command_bytes(self.undo_stack.command(index)) for index in range(self.undo_stack.count()))
