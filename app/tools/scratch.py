"""The Scratch brush: paint roughly over a crack, a scratch or a speck; the defect inside goes into the Hole.

While the button is down the rough Stroke is only drawn as an outline (nothing in the Document
changes); on release :func:`inference.restoration.refine_stroke` keeps the defect inside it, and
that is added to the Hole as one undo command. It runs on the UI thread: a Stroke costs tens of
milliseconds (see docs/restoration.md), much less than a round trip through the worker.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath, QPainterPathStroker, QPen

from app.history import commands
from app.history.model import DocumentModel
from app.tools import raster
from inference.restoration import DEFAULT_SENSITIVITY, refine_stroke


class ScratchBrush:
    """A tool like those of :mod:`app.tools.painting` (same attributes and gesture methods), kept
    apart from them so that painting can list it without the two modules importing each other."""

    name, label, shortcut, icon = "scratch", "Scratch brush", "D", "brush"
    tip = ("Paint roughly over a scratch, crack or speck: on release only the defect inside your Stroke "
           "is added to the Hole")
    size_key = "mask"
    sensitivity = DEFAULT_SENSITIVITY  # shared by every Scratch brush; set in Tool Options

    def __init__(self, model: DocumentModel, sizes) -> None:
        self.model = model
        self.sizes = sizes  # app.tools.painting.ToolSizes, shared with the other brushes
        self.active = False
        self.points: list[tuple[float, float]] = []
        self.diameters: list[float] = []
        self.last_found = 0  # pixels the last Stroke added (for the status line and the tests)

    def diameter(self) -> float:
        return float(self.sizes.get(self.size_key))

    @classmethod
    def set_sensitivity(cls, value: float) -> None:
        cls.sensitivity = min(1.0, max(0.0, float(value)))

    def press(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self.model.document is None:
            return
        self.active = True
        self.points = [(point.x(), point.y())]

    def move(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self.active and (point.x(), point.y()) != self.points[-1]:
            self.points.append((point.x(), point.y()))

    def release(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if not self.active:
            return
        self.move(point, modifiers)
        self.active = False
        document = self.model.document
        stroke = self.rough_stroke(document.shape)
        self.points = []
        found = refine_stroke(document.image, stroke, self.sensitivity)
        self.last_found = int((found & ~document.mask).sum())
        commands.push_layer_change(self.model, self.label, "mask", document.mask | found)

    def rough_stroke(self, shape: tuple[int, int]) -> np.ndarray:
        """The painted Stroke as a bool array of the photo's size."""
        stroke = np.zeros(shape, np.uint8)
        diameter = self.diameter()
        for start, end in zip(self.points, self.points[1:] or self.points, strict=False):
            raster.draw_segment(stroke, start, end, diameter, 1)
        return stroke.astype(bool)

    def cancel(self) -> None:
        self.active = False
        self.points = []

    def preview(self) -> QPainterPath | None:
        """The rough Stroke's outline, drawn faintly until release."""
        if not self.active or not self.points:
            return None
        line = QPainterPath(QPointF(*self.points[0]))
        for x, y in self.points[1:]:
            line.lineTo(x, y)
        if len(self.points) == 1:
            line.lineTo(self.points[0][0] + 0.01, self.points[0][1])
        stroker = QPainterPathStroker(QPen())
        stroker.setWidth(self.diameter())
        stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
        stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return stroker.createStroke(line).simplified()
