"""Tools: each turns one pointer gesture (press … release) into one undo command.

Tools work in image pixels (floats; pixel (row r, column c) covers [c, c+1) × [r, r+1)). They paint
the Document directly while the gesture goes on, through a :class:`StrokeRecorder` that backs up
what they are about to touch, and push the Stroke as one command on release.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainterPath, QPolygonF

from app.document import GUIDE_LINE
from app.history import commands
from app.history.model import DocumentModel
from app.patches import StrokeRecorder
from app.tools import raster
from app.tools.scratch import ScratchBrush

SIZE_LIMITS = {"mask": (1, 500), "sketch": (1, 8), "sketch_eraser": (1, 500), "sampling": (1, 1000)}
DEFAULT_SIZES = {"mask": 40, "sketch": 3, "sketch_eraser": 24, "sampling": 80}


# Sizes the user sets are remembered relative to the photo's long side (as Krita does), so a brush
# chosen on an 18-megapixel photo is not half of the next, small one. Until then the default pixel
# sizes apply. The sketch pen draws Guide lines, whose width the guided Engines expect in pixels,
# so it stays absolute.
ABSOLUTE_SIZE_KEYS = ("sketch",)


class ToolSizes(QObject):
    """Brush diameters in image pixels, shared by the tools that use them, following the photo's size."""

    changed = Signal(str, int)

    def __init__(self, sizes: dict[str, int] | None = None, fractions: dict[str, float] | None = None) -> None:
        super().__init__()
        self.sizes = dict(DEFAULT_SIZES)
        self.long_side: int | None = None  # of the open photo
        for key, value in (sizes or {}).items():
            if key in self.sizes:
                self.sizes[key] = self.clamp(key, value)
        self.fractions = {key: fraction for key, fraction in (fractions or {}).items()
                          if key in self.sizes and self.relative(key) and 0.0 < fraction <= 1.0}

    def relative(self, key: str) -> bool:
        return key not in ABSOLUTE_SIZE_KEYS

    def fraction(self, key: str) -> float | None:
        """The size as a share of the photo's long side (None: absolute, or never set on a photo)."""
        return self.fractions.get(key)

    def fit_photo(self, long_side: int) -> None:
        """A photo of ``long_side`` px was opened: every size set on a photo keeps its share of the photo."""
        self.long_side = max(1, int(long_side))
        for key, fraction in self.fractions.items():
            value = self.clamp(key, round(fraction * self.long_side))
            if value != self.sizes[key]:
                self.sizes[key] = value
                self.changed.emit(key, value)

    @staticmethod
    def clamp(key: str, value: int) -> int:
        low, high = SIZE_LIMITS[key]
        return max(low, min(high, int(value)))

    def get(self, key: str) -> int:
        return self.sizes[key]

    def set(self, key: str, value: int) -> None:
        value = self.clamp(key, value)
        if value != self.sizes[key]:
            self.sizes[key] = value
            if self.relative(key) and self.long_side is not None:
                self.fractions[key] = value / self.long_side
            self.changed.emit(key, value)

    def step(self, key: str, direction: int) -> None:
        """``]`` (+1) / ``[`` (-1): about 15 % per press, at least one pixel."""
        current = self.sizes[key]
        change = max(1, round(current * 0.15))
        self.set(key, current + direction * change)


class Tool:
    """Base class: a gesture in image coordinates; subclasses paint and commit."""

    name = "tool"
    label = "Tool"
    shortcut = ""
    icon = ""
    tip = ""
    size_key: str | None = None

    def __init__(self, model: DocumentModel, sizes: ToolSizes) -> None:
        self.model = model
        self.sizes = sizes
        self.active = False

    def diameter(self) -> float | None:
        return float(self.sizes.get(self.size_key)) if self.size_key else None

    def press(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def move(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def cancel(self) -> None:
        """Abandon the gesture in progress, leaving the layers as they were before it."""

    def preview(self) -> QPainterPath | None:
        """Outline of the gesture so far, in image pixels (rectangle, lasso)."""
        return None


class BrushTool(Tool):
    """A round brush writing ``value`` into ``layer``; Shift+click joins to the last point."""

    layer = "mask"
    value = 1

    def __init__(self, model: DocumentModel, sizes: ToolSizes) -> None:
        super().__init__(model, sizes)
        self._recorder: StrokeRecorder | None = None
        self._last: tuple[float, float] | None = None
        self.last_point: tuple[float, float] | None = None  # end of the previous Stroke

    def press(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self.model.document is None:
            return
        self.active = True
        self._recorder = self.model.start_stroke(self.layer)
        here = (point.x(), point.y())
        if modifiers & Qt.KeyboardModifier.ShiftModifier and self.last_point is not None:
            self._paint(self.last_point, here)
        else:
            self._paint(here, here)
        self._last = here

    def move(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if not self.active:
            return
        here = (point.x(), point.y())
        if here != self._last:
            self._paint(self._last, here)
            self._last = here

    def _paint(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        diameter = self.diameter()
        self._recorder.before_change(raster.segment_box(start, end, diameter))
        box = raster.draw_segment(self.model.document.layer(self.layer), start, end, diameter, self.value)
        self.model.notify(self.layer, box)

    def release(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if not self.active:
            return
        self.move(point, modifiers)
        self.active = False
        self.last_point = self._last
        recorder, self._recorder = self._recorder, None
        commands.push_stroke(self.model, self.label, recorder)

    def cancel(self) -> None:
        if self.active and self._recorder is not None:
            self.model.abandon_stroke(self._recorder)
        self.active = False
        self._recorder = None


class MaskBrush(BrushTool):
    name, label, shortcut, icon = "brush", "Mask brush", "B", "brush"
    tip = "Paint the Hole (Shift+click: straight line from the last point)"
    layer, value, size_key = "mask", 1, "mask"


class MaskEraser(BrushTool):
    name, label, shortcut, icon = "eraser", "Mask eraser", "E", "eraser"
    tip = "Erase the Hole (Shift+click: straight line from the last point)"
    layer, value, size_key = "mask", 0, "mask"


class SketchPen(BrushTool):
    name, label, shortcut, icon = "sketch", "Sketch pen", "S", "pen"
    tip = "Draw Guide lines for the guided fill"
    layer, value, size_key = "guide", GUIDE_LINE, "sketch"


class SketchEraser(BrushTool):
    name, label, shortcut, icon = "sketch_eraser", "Sketch eraser", "Shift+S", "pen_eraser"
    tip = "Erase Guide lines"
    layer, value, size_key = "guide", 0, "sketch_eraser"


class SamplingExclude(BrushTool):
    name, label, shortcut, icon = "sampling_exclude", "Sampling area: exclude", "A", "sampling_exclude"
    tip = "Paint where the content-aware fill must not copy from (Shift+click: straight line)"
    layer, value, size_key = "exclusion", 1, "sampling"


class SamplingInclude(BrushTool):
    name, label, shortcut, icon = "sampling_include", "Sampling area: include", "Shift+A", "sampling_include"
    tip = "Give excluded pixels back to the Sampling area (Shift+click: straight line)"
    layer, value, size_key = "exclusion", 0, "sampling"


# Ctrl or Alt held: the other mode. Alt alone is taken by most Linux window managers (it moves the
# window), so Ctrl and the toolbar's Subtract toggle do the same, as in GIMP and Krita.
OTHER_MODE_KEYS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


class ShapeTool(Tool):
    """Rectangle and lasso: add to the Hole on release; in Subtract mode, or with Ctrl/Alt held, remove."""

    layer = "mask"
    subtract_mode = False  # the toolbar's Add/Subtract toggle, shared by every shape tool

    def __init__(self, model: DocumentModel, sizes: ToolSizes) -> None:
        super().__init__(model, sizes)
        self.points: list[tuple[float, float]] = []

    @classmethod
    def set_subtract_mode(cls, subtract: bool) -> None:
        ShapeTool.subtract_mode = bool(subtract)

    @staticmethod
    def subtracts(modifiers: Qt.KeyboardModifier) -> bool:
        return ShapeTool.subtract_mode != bool(modifiers & OTHER_MODE_KEYS)

    def press(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self.model.document is None:
            return
        self.active = True
        self.points = [(point.x(), point.y())]

    def release(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if not self.active:
            return
        self.move(point, modifiers)
        self.active = False
        subtract = self.subtracts(modifiers)
        recorder = self.model.start_stroke(self.layer)
        box = self.shape_box()
        if box is not None:
            recorder.before_change(box)
            changed = self.fill(self.model.document.layer(self.layer), 0 if subtract else 1)
            self.model.notify(self.layer, changed)
            verb = "subtract" if subtract else "add"
            commands.push_stroke(self.model, f"{self.label} ({verb})", recorder)
        self.points = []

    def cancel(self) -> None:
        self.active = False
        self.points = []


class RectangleTool(ShapeTool):
    name, label, shortcut, icon = "rectangle", "Rectangle", "R", "rectangle"
    tip = "Drag a rectangle into the Hole (Ctrl or Alt, or the Subtract toggle: remove it from the Hole)"

    def move(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self.active:
            self.points[1:] = [(point.x(), point.y())]

    def shape_box(self):
        if len(self.points) < 2:
            return None
        return raster.rectangle_box(self.points[0], self.points[-1])

    def fill(self, layer, value):
        return raster.fill_rectangle(layer, self.points[0], self.points[-1], value)

    def preview(self) -> QPainterPath | None:
        if not self.active or len(self.points) < 2:
            return None
        box = raster.rectangle_box(self.points[0], self.points[-1])
        path = QPainterPath()
        path.addRect(QRectF(box.left, box.top, box.width, box.height))
        return path


class LassoTool(ShapeTool):
    name, label, shortcut, icon = "lasso", "Lasso", "L", "lasso"
    tip = "Draw around an area to add it to the Hole (Ctrl or Alt, or the Subtract toggle: remove it)"

    def move(self, point: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if not self.active:
            return
        last = self.points[-1]
        if math.hypot(point.x() - last[0], point.y() - last[1]) >= 0.5:
            self.points.append((point.x(), point.y()))

    def shape_box(self):
        return raster.polygon_box(self.points) if len(self.points) >= 3 else None

    def fill(self, layer, value):
        return raster.fill_polygon(layer, self.points, value)

    def preview(self) -> QPainterPath | None:
        if not self.active or len(self.points) < 2:
            return None
        path = QPainterPath()
        path.addPolygon(QPolygonF([QPointF(x, y) for x, y in self.points]))
        path.closeSubpath()
        return path


TOOL_CLASSES = (MaskBrush, MaskEraser, SketchPen, SketchEraser, SamplingExclude, SamplingInclude, RectangleTool,
                LassoTool, ScratchBrush)
