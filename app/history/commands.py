"""Undo commands: each holds only the changed pixels of the layers it touched.

A Stroke is painted while the pointer moves, so its command starts "applied" and skips the first
``redo`` that QUndoStack.push makes. A fill is a QUndoStack macro — apply the Result, clear the
Hole — shown as one entry in the History. (Macros, not child commands built in Python: PySide
deletes Python-made children twice when the stack is cleared.)

The ``push_*`` functions are the only way a change becomes undoable: tools, controllers and the
Compare window call them with the :class:`DocumentModel`, which itself knows no command.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from app.history.model import DocumentModel
from app.patches import LayerPatch, StrokeRecorder
from inference.engines.regions import Box


class PatchCommand(QUndoCommand):
    """Applies a list of :class:`LayerPatch` forwards (redo) or backwards (undo)."""

    def __init__(self, model: DocumentModel, text: str, patches: list[LayerPatch],
                 applied: bool = False, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.model = model
        self.patches = patches
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.model.apply(self.patches, forward=True)

    def undo(self) -> None:
        self.model.apply(self.patches, forward=False)

    @property
    def nbytes(self) -> int:
        return sum(patch.nbytes for patch in self.patches)

    @property
    def layers(self) -> set[str]:
        return {patch.layer for patch in self.patches}


class FillCommand(PatchCommand):
    """Writes a fill Result into the Image; remembers the Job's Hole for "Fill again".

    The model pushes it inside a QUndoStack macro together with the command clearing the Hole,
    so the History shows one entry "Fill (engine)" that undoes both.
    """

    def __init__(self, model: DocumentModel, engine_label: str, patches: list[LayerPatch],
                 job_mask: np.ndarray) -> None:
        super().__init__(model, "Apply the result", patches)
        self.engine_label = engine_label
        self.image_patches = patches
        # The Job's Hole, packed to bits inside its box, so "Fill again" can start from it.
        rows = np.flatnonzero(job_mask.any(axis=1))
        columns = np.flatnonzero(job_mask.any(axis=0))
        self.hole_box = Box(int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1)
        self.hole_bits = np.packbits(job_mask[self.hole_box.slices])
        self.hole_shape = job_mask.shape

    def job_mask(self) -> np.ndarray:
        mask = np.zeros(self.hole_shape, dtype=bool)
        box = self.hole_box
        size = box.height * box.width
        mask[box.slices] = np.unpackbits(self.hole_bits, count=size).reshape(box.height, box.width).astype(bool)
        return mask

    @property
    def nbytes(self) -> int:
        return super().nbytes + int(self.hole_bits.nbytes)


def fill_in(command: QUndoCommand) -> FillCommand | None:
    """The :class:`FillCommand` that ``command`` (a History entry) is or contains, if any."""
    if isinstance(command, FillCommand):
        return command
    for index in range(command.childCount()):
        child = command.child(index)
        if isinstance(child, FillCommand):
            return child
    return None


def command_bytes(command: QUndoCommand) -> int:
    """Memory held by ``command`` and its children."""
    total = getattr(command, "nbytes", 0)
    for index in range(command.childCount()):
        total += command_bytes(command.child(index))
    return total


# --- making changes undoable -----------------------------------------------------------------

def push_stroke(model: DocumentModel, text: str, recorder: StrokeRecorder) -> PatchCommand | None:
    """Push the Stroke recorded by ``recorder`` (already painted) as one command."""
    patches = recorder.patches()
    command = None
    if patches:
        command = PatchCommand(model, text, patches, applied=True)
        model.undo_stack.push(command)
    model.end_gesture()
    return command


def push_layer_change(model: DocumentModel, text: str, layer: str, new_values: np.ndarray) -> PatchCommand | None:
    """Replace a whole layer as one command (mask actions, imports); None when nothing changes."""
    if model.document is None:
        return None
    return push_patches(model, text, model.document.layer_change(layer, new_values))


def push_patches(model: DocumentModel, text: str, patches: list[LayerPatch]) -> PatchCommand | None:
    """Apply ``patches`` (computed, not applied yet) as one command."""
    if not patches:
        return None
    command = PatchCommand(model, text, patches)
    model.undo_stack.push(command)
    return command


def push_fill(model: DocumentModel, engine_label: str, result: np.ndarray, job_mask: np.ndarray,
              clear_mask: bool, again: bool = False) -> FillCommand | None:
    """Write ``result`` into the Hole of ``job_mask`` (and clear it) as one History entry."""
    patches = model.document.result_patches(result, job_mask, clear_mask)
    if not patches:
        return None
    image_patches = [patch for patch in patches if patch.layer == "image"]
    mask_patches = [patch for patch in patches if patch.layer == "mask"]
    command = FillCommand(model, engine_label, image_patches, job_mask)
    stack = model.undo_stack
    stack.beginMacro(f"{'Fill again' if again else 'Fill'} ({engine_label})")
    stack.push(command)
    if mask_patches:
        stack.push(PatchCommand(model, "Clear the filled Hole", mask_patches))
    stack.endMacro()
    return command


def last_fill(model: DocumentModel) -> FillCommand | None:
    """The most recent fill still applied (for "Fill again"), if any."""
    stack = model.undo_stack
    for index in range(stack.index() - 1, -1, -1):
        command = fill_in(stack.command(index))
        if command is not None:
            return command
    return None


def undo_bytes(model: DocumentModel) -> int:
    """Memory held by the undo history's patches."""
    stack = model.undo_stack
    return sum(command_bytes(stack.command(index)) for index in range(stack.count()))
