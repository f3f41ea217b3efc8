"""The editing canvas: the photo with the Hole, Guide and Sampling-area overlays, and the current tool.

Pointer gestures go to the tool in image pixels; each repaint covers only what a Stroke touched
plus the brush outline. Holding ``\\`` shows the photo as opened, without overlays.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from app.canvas.pane import ImagePane
from app.canvas.view import ViewState
from app.history.model import DocumentModel
from app.tools.painting import Tool
from inference.engines.regions import Box

MASK_COLOR = QColor(255, 48, 64)
MASK_OPACITY = 0.5
GUIDE_COLOR = QColor(0, 229, 255)
EXCLUSION_COLOR = QColor(150, 60, 255)  # left out of the Sampling area
EXCLUSION_OPACITY = 0.4
EDGES_COLOR = QColor(255, 214, 0)
PLACEHOLDER = "Open a photo (Ctrl+O) or drop one here"


class EditorCanvas(ImagePane):
    """An :class:`ImagePane` bound to the :class:`DocumentModel`, with tools and overlays."""

    def __init__(self, model: DocumentModel, view: ViewState | None = None, parent=None) -> None:
        super().__init__(view, parent)
        self.model = model
        self.tool: Tool | None = None
        self.show_original = False
        self.placeholder = PLACEHOLDER
        self._pointer: QPointF | None = None  # widget position of the pointer, for the outline
        self._drawn_outline = QRectF()
        self._drawn_preview = QRectF()
        self.setAcceptDrops(False)  # the main window takes drops
        model.layer_changed.connect(self._on_layer_changed)
        model.document_replaced.connect(self._on_document_replaced)

    # --- document ------------------------------------------------------------------------------

    def _on_document_replaced(self) -> None:
        if self.tool is not None and self.tool.active:
            self.tool.cancel()
        self.show_original = False
        self.clear_layers()
        document = self.model.document
        if document is None:
            return
        self.set_layer("image", document.image)
        self.set_layer("exclusion", document.exclusion, EXCLUSION_COLOR, coverage=True, opacity=EXCLUSION_OPACITY)
        self.set_layer("mask", document.mask, MASK_COLOR, coverage=True, opacity=MASK_OPACITY)
        self.set_layer("guide", document.guide, GUIDE_COLOR, coverage=True)
        self.zoom_to_fit()
        self.update_cursor()
        self.setFocus()  # Space, \\ and the tool keys work at once

    def _on_layer_changed(self, layer: str, box: Box) -> None:
        self.refresh(layer, box)

    def set_edges_overlay(self, edges: np.ndarray | None) -> None:
        """Show ``edges`` (uint8 0..255, shared) between the photo and the Hole; None hides it."""
        if edges is None:
            self.remove_layer("edges")
            return
        self.set_layer("edges", edges, EDGES_COLOR, binary=False, opacity=0.9)
        # Keep the overlay just above the photo so the Hole and the Guide stay on top.
        self.layers.sort(key=lambda layer: {"image": 0, "original": 0, "edges": 1}.get(layer.name, 2))

    def set_show_original(self, show: bool) -> None:
        if show == self.show_original or self.model.document is None:
            return
        if show and self.layer("original") is None:
            self.set_layer("original", self.model.document.original)
        self.show_original = show
        self.update()

    def drawn_layers(self):
        if self.show_original:
            return [layer for layer in self.layers if layer.name == "original"]
        return [layer for layer in self.layers if layer.visible and layer.name != "original"]

    # --- tools ---------------------------------------------------------------------------------

    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None and self.tool.active:
            self.tool.cancel()
        self.tool = tool
        self.update_cursor()
        self._update_decorations()

    def update_cursor(self) -> None:
        if self.panning or self._space_held:
            super().update_cursor()
        elif self.tool is not None and self.tool.diameter() is not None and self.has_image:
            self.setCursor(Qt.CursorShape.BlankCursor)  # the outline shows where the brush is
        else:
            self.setCursor(Qt.CursorShape.CrossCursor)

    def _image_point(self, event) -> QPointF:
        return self.widget_to_image(event.position())

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self.start_pan_if_wanted(event):
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self.has_image:
            self.tool.press(self._image_point(event), event.modifiers())
            self._update_decorations(event.position())
        elif event.button() == Qt.MouseButton.RightButton and self.tool is not None and self.tool.active:
            self.tool.cancel()  # a right click abandons the gesture in progress
            self._update_decorations(event.position())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        super().mouseMoveEvent(event)
        if not self.panning and self.tool is not None and self.tool.active:
            if event.buttons() & Qt.MouseButton.LeftButton:
                self.tool.move(self._image_point(event), event.modifiers())
        self._update_decorations(event.position())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self.panning:
            super().mouseReleaseEvent(event)
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self.tool.active:
            self.tool.release(self._image_point(event), event.modifiers())
        self._update_decorations(event.position())

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._update_decorations(None)
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat():
            self.set_show_original(True)
            return
        if event.key() == Qt.Key.Key_Escape and self.tool is not None and self.tool.active:
            self.tool.cancel()
            self._update_decorations(self._pointer)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat():
            self.set_show_original(False)
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.set_show_original(False)
        super().focusOutEvent(event)

    # --- decorations: brush outline and shape preview ------------------------------------------

    def _outline_rect(self) -> QRectF:
        diameter = self.tool.diameter() if self.tool is not None else None
        if self._pointer is None or diameter is None or not self.has_image:
            return QRectF()
        radius = max(diameter * self.view.zoom / self.device_ratio() / 2.0, 3.0)
        return QRectF(self._pointer.x() - radius, self._pointer.y() - radius, 2 * radius, 2 * radius)

    def _preview_rect(self) -> QRectF:
        path = self.tool.preview() if self.tool is not None else None
        if path is None:
            return QRectF()
        return self.image_transform().map(path).boundingRect()

    def refresh_decorations(self) -> None:
        """Redraw the brush outline (after a size change)."""
        self._update_decorations()

    def _update_decorations(self, pointer: QPointF | None = ...) -> None:
        """Repaint the old and new outline and preview areas only."""
        if pointer is not ...:
            self._pointer = QPointF(pointer) if pointer is not None else None
        outline, preview = self._outline_rect(), self._preview_rect()
        for area in (self._drawn_outline, outline, self._drawn_preview, preview):
            if not area.isEmpty():
                self.update(area.toAlignedRect().adjusted(-3, -3, 3, 3))
        self._drawn_outline, self._drawn_preview = outline, preview

    def _on_view_changed(self) -> None:
        super()._on_view_changed()
        self._drawn_outline, self._drawn_preview = self._outline_rect(), self._preview_rect()

    def paint_decorations(self, painter: QPainter) -> None:
        if self.show_original:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = self.tool.preview() if self.tool is not None else None
        if path is not None:
            mapped = self.image_transform().map(path)
            painter.setPen(QPen(QColor(0, 0, 0, 200), 1.0))
            painter.drawPath(mapped)
            dashed = QPen(QColor(255, 255, 255, 230), 1.0, Qt.PenStyle.DashLine)
            painter.setPen(dashed)
            painter.drawPath(mapped)
        outline = self._outline_rect()
        if not outline.isEmpty() and not self.panning and not self._space_held:
            center = outline.center()
            radius = outline.width() / 2.0
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 220), 1.0))
            painter.drawEllipse(center, radius + 0.5, radius + 0.5)
            painter.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
            painter.drawEllipse(center, radius - 0.5, radius - 0.5)
            painter.drawPoint(center)
