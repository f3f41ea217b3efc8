"""Whole-layer actions on the Hole and the Guide: clear, invert, grow, shrink, select all, clear sketch.

Each is one undo command; grow and shrink ask by how many pixels (remembered in the settings).
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.canvas.editor_canvas import MASK_COLOR, MASK_OPACITY
from app.dialogs import questions as dialogs
from app.document import mask_operation
from app.history import commands
from app.history.model import DocumentModel
from app.settings import Preferences

# action name -> (mask_operation name, History text, asks for pixels)
MASK_ACTIONS = {
    "clear_mask": ("clear", "Clear Hole", False),
    "invert_mask": ("invert", "Invert Hole", False),
    "select_all": ("select_all", "Hole = whole photo", False),
    "grow_mask": ("grow", "Grow Hole", True),
    "shrink_mask": ("shrink", "Shrink Hole", True),
}


PREVIEW_LAYER = "mask_preview"  # the Hole as Grow/Shrink would leave it, while the dialog asks


class LayerActions(QObject):
    def __init__(self, window: QWidget, model: DocumentModel, preferences: Preferences) -> None:
        super().__init__(window)
        self.window = window
        self.model = model
        self.preferences = preferences

    def action_handlers(self) -> dict:
        handlers = {name: (lambda _checked=False, name=name: self.mask_action(name)) for name in MASK_ACTIONS}
        handlers["clear_guide"] = self.clear_guide
        handlers["clear_exclusion"] = self.clear_exclusion
        return handlers

    def mask_action(self, action_name: str) -> None:
        document = self.model.document
        if document is None:
            return
        operation, text, ask = MASK_ACTIONS[action_name]
        pixels = 0
        if ask:
            try:
                pixels = dialogs.ask_pixels(self.window, text, "By how many pixels?", self.preferences.grow_pixels,
                                            self._previewer(operation))
            finally:
                self._end_preview()
            if pixels is None:
                return
            self.preferences.grow_pixels = pixels
            text = f"{text} by {pixels} px"
        commands.push_layer_change(self.model, text, "mask", mask_operation(document.mask, operation, pixels))

    def _previewer(self, operation: str):
        """Show the grown/shrunk Hole on the canvas, in place of the Hole, while the dialog is open."""
        canvas = getattr(self.window, "canvas", None)
        mask = self.model.document.mask

        def show(pixels: int) -> None:
            if canvas is None:
                return
            canvas.set_layer(PREVIEW_LAYER, mask_operation(mask, operation, pixels), MASK_COLOR, coverage=True,
                             opacity=MASK_OPACITY)
            canvas.set_layer_visible("mask", False)

        return show

    def _end_preview(self) -> None:
        canvas = getattr(self.window, "canvas", None)
        if canvas is not None and canvas.layer(PREVIEW_LAYER) is not None:
            canvas.remove_layer(PREVIEW_LAYER)
            canvas.set_layer_visible("mask", True)

    def clear_guide(self) -> None:
        if self.model.document is not None:
            commands.push_layer_change(self.model, "Clear sketch", "guide", self.model.document.guide * 0)

    def clear_exclusion(self) -> None:
        document = self.model.document
        if document is not None and document.exclusion.any():
            commands.push_layer_change(self.model, "Reset sampling area", "exclusion", document.exclusion & False)
