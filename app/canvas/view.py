"""Zoom and pan of an image view, shareable between panes so that they move together.

``zoom`` counts device pixels per image pixel, so 100 % shows every photo pixel on exactly one
screen pixel on a high-DPI display too; ``center`` is the image point at the middle of the pane.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Signal

MIN_ZOOM = 1.0 / 64.0
MAX_ZOOM = 64.0
ZOOM_STEP = 1.25  # one wheel notch


class ViewState(QObject):
    """Zoom and centre of one or several synchronised panes."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.zoom = 1.0
        self.center = QPointF(0.0, 0.0)
        self.fit = True  # follow the pane size until the user zooms or pans

    def set(self, zoom: float, center: QPointF, fit: bool = False) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        if zoom == self.zoom and center == self.center and fit == self.fit:
            return
        self.zoom, self.center, self.fit = zoom, QPointF(center), fit
        self.changed.emit()
