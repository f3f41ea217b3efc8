"""A pane that shows an image and overlay layers with zoom and pan; reusable for any view.

The pane draws only the region Qt asks for, from the pyramid level nearest the screen's
resolution, so a repaint costs what is visible, not the size of the photo. Zoom is in device
pixels per image pixel (100 % is one photo pixel per physical screen pixel on high-DPI screens);
above 100 % pixels are drawn crisp (nearest neighbour). Several panes may share one
:class:`~app.canvas.view.ViewState` to zoom and pan together (the Compare view does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QTransform
from PySide6.QtWidgets import QWidget

from app.canvas.pyramid import Pyramid
from app.canvas.view import MAX_ZOOM, MIN_ZOOM, ZOOM_STEP, ViewState
from inference.engines.regions import Box

FIT_MARGIN = 0.96  # "fit" leaves a thin border around the photo
_MARGIN_PIXELS = 2  # extra source pixels around each drawn piece so smooth scaling has neighbours


@dataclass
class PaneLayer:
    """One drawn layer: a photo (``color`` None) or a coloured translucent overlay."""

    name: str
    pyramid: Pyramid
    color: QColor | None = None
    opacity: float = 1.0
    binary: bool = True  # level 0 of an overlay: any non-zero value is full colour
    visible: bool = True
    _tables: dict[bool, list[int]] = field(default_factory=dict)

    def color_table(self, graded: bool) -> list[int]:
        if graded not in self._tables:
            red, green, blue = self.color.red(), self.color.green(), self.color.blue()
            if graded:
                table = [(alpha << 24) | (red << 16) | (green << 8) | blue for alpha in range(256)]
            else:
                table = [0] + [(255 << 24) | (red << 16) | (green << 8) | blue] * 255
            self._tables[graded] = table
        return self._tables[graded]

    def to_qimage(self, piece: np.ndarray, level: int) -> QImage:
        """Wrap ``piece`` (contiguous, kept alive by the caller) as a QImage without copying."""
        height, width = piece.shape[:2]
        if self.color is None:
            return QImage(piece.data, width, height, piece.strides[0], QImage.Format.Format_RGB888)
        data = piece.view(np.uint8) if piece.dtype == np.bool_ else piece
        image = QImage(data.data, width, height, data.strides[0], QImage.Format.Format_Indexed8)
        image.setColorTable(self.color_table(graded=level > 0 or not self.binary))
        return image


class ImagePane(QWidget):
    """Draws layers of one image size under a (possibly shared) :class:`ViewState`."""

    view_changed = Signal()
    cursor_moved = Signal(object)  # QPointF in image pixels, or None when the pointer left

    def __init__(self, view: ViewState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(120, 90)
        self.layers: list[PaneLayer] = []
        self.image_width = 0
        self.image_height = 0
        self.placeholder = ""
        self._space_held = False
        self._pan_from: QPointF | None = None
        self.view = view or ViewState(self)
        self.view.changed.connect(self._on_view_changed)

    # --- layers ----------------------------------------------------------------------------

    def set_view_state(self, view: ViewState) -> None:
        """Follow ``view`` (shared with other panes) from now on."""
        self.view.changed.disconnect(self._on_view_changed)
        self.view = view
        view.changed.connect(self._on_view_changed)
        self.update()

    def clear_layers(self) -> None:
        self.layers.clear()
        self.image_width = self.image_height = 0
        self.update()

    def set_layer(self, name: str, source: np.ndarray, color: QColor | None = None, *,
                  coverage: bool = False, binary: bool = True, opacity: float = 1.0) -> PaneLayer:
        """Show ``source`` (shared, not copied) as layer ``name``, replacing one of that name."""
        if not self.layers or self.image_width == 0:
            self.image_height, self.image_width = source.shape[:2]
        elif source.shape[:2] != (self.image_height, self.image_width):
            raise ValueError(f"layer {name} is {source.shape[:2]}, the pane shows {self.image_height, self.image_width}")
        layer = PaneLayer(name, Pyramid(source, coverage=coverage), color, opacity, binary)
        existing = [index for index, old in enumerate(self.layers) if old.name == name]
        if existing:
            layer.visible = self.layers[existing[0]].visible
            self.layers[existing[0]] = layer
        else:
            self.layers.append(layer)
        self.update()
        return layer

    def remove_layer(self, name: str) -> None:
        self.layers = [layer for layer in self.layers if layer.name != name]
        self.update()

    def layer(self, name: str) -> PaneLayer | None:
        return next((layer for layer in self.layers if layer.name == name), None)

    def set_layer_visible(self, name: str, visible: bool) -> None:
        layer = self.layer(name)
        if layer is not None and layer.visible != visible:
            layer.visible = visible
            self.update()

    def refresh(self, name: str, box: Box) -> None:
        """Layer ``name`` changed inside ``box``: update its pyramid and repaint just that area."""
        layer = self.layer(name)
        if layer is None:
            return
        layer.pyramid.update(box)
        if layer.visible:
            self.update(self.box_to_widget(box))

    def drawn_layers(self) -> list[PaneLayer]:
        return [layer for layer in self.layers if layer.visible]

    @property
    def has_image(self) -> bool:
        return self.image_width > 0

    # --- coordinates -------------------------------------------------------------------------

    def device_ratio(self) -> float:
        return self.devicePixelRatioF()

    def widget_to_image(self, point: QPointF) -> QPointF:
        ratio, zoom = self.device_ratio(), self.view.zoom
        return QPointF(
            self.view.center.x() + (point.x() * ratio - self.width() * ratio / 2.0) / zoom,
            self.view.center.y() + (point.y() * ratio - self.height() * ratio / 2.0) / zoom,
        )

    def image_to_widget(self, point: QPointF) -> QPointF:
        ratio, zoom = self.device_ratio(), self.view.zoom
        return QPointF(
            ((point.x() - self.view.center.x()) * zoom + self.width() * ratio / 2.0) / ratio,
            ((point.y() - self.view.center.y()) * zoom + self.height() * ratio / 2.0) / ratio,
        )

    def image_transform(self) -> QTransform:
        """Image pixels → widget (logical) coordinates, for drawing paths given in image pixels."""
        scale = self.view.zoom / self.device_ratio()
        origin = self.image_to_widget(QPointF(0.0, 0.0))
        return QTransform(scale, 0.0, 0.0, scale, origin.x(), origin.y())

    def box_to_widget(self, box: Box) -> QRect:
        top_left = self.image_to_widget(QPointF(box.left, box.top))
        bottom_right = self.image_to_widget(QPointF(box.right, box.bottom))
        return QRectF(top_left, bottom_right).toAlignedRect().adjusted(-1, -1, 1, 1)

    def image_rect_in_widget(self) -> QRectF:
        return QRectF(self.image_to_widget(QPointF(0, 0)),
                      self.image_to_widget(QPointF(self.image_width, self.image_height)))

    # --- zoom and pan ------------------------------------------------------------------------

    def fit_zoom(self) -> float:
        if not self.has_image:
            return 1.0
        ratio = self.device_ratio()
        return FIT_MARGIN * min(self.width() * ratio / self.image_width, self.height() * ratio / self.image_height)

    def zoom_to_fit(self) -> None:
        self.view.set(self.fit_zoom(), QPointF(self.image_width / 2.0, self.image_height / 2.0), fit=True)

    def zoom_to(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Set the zoom keeping the image point under ``anchor`` (widget coordinates) in place."""
        if anchor is None:
            anchor = QPointF(self.width() / 2.0, self.height() / 2.0)
        fixed = self.widget_to_image(anchor)
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        ratio = self.device_ratio()
        center = QPointF(
            fixed.x() - (anchor.x() * ratio - self.width() * ratio / 2.0) / zoom,
            fixed.y() - (anchor.y() * ratio - self.height() * ratio / 2.0) / zoom,
        )
        self.view.set(zoom, self._snapped(center, zoom))

    def _snapped(self, center: QPointF, zoom: float) -> QPointF:
        # At whole-number zooms put photo pixel edges on device pixel edges, so pixels stay crisp.
        if zoom < 1.0 or abs(zoom - round(zoom)) > 1e-9:
            return center
        ratio = self.device_ratio()
        half_w, half_h = self.width() * ratio / 2.0 / zoom, self.height() * ratio / 2.0 / zoom
        step = 1.0 / zoom
        return QPointF(round((center.x() - half_w) / step) * step + half_w,
                       round((center.y() - half_h) / step) * step + half_h)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.zoom_to(self.view.zoom * factor, anchor)

    def actual_pixels(self) -> None:
        self.zoom_to(1.0)

    def pan_by(self, delta: QPointF) -> None:
        """Move the photo by ``delta`` widget pixels."""
        ratio, zoom = self.device_ratio(), self.view.zoom
        center = self.view.center - QPointF(delta.x() * ratio / zoom, delta.y() * ratio / zoom)
        self.view.set(zoom, self._snapped(center, zoom))

    def _on_view_changed(self) -> None:
        self.update()
        self.view_changed.emit()

    @property
    def panning(self) -> bool:
        return self._pan_from is not None

    # --- events ------------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        if self.view.fit and self.has_image:
            self.zoom_to_fit()

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps and self.has_image:
            self.zoom_by(ZOOM_STEP ** steps, event.position())
        event.accept()

    def start_pan_if_wanted(self, event) -> bool:
        wants = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held)
        if wants:
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        return wants

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.start_pan_if_wanted(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            self.pan_by(event.position() - self._pan_from)
            self._pan_from = event.position()
        self.cursor_moved.emit(self.widget_to_image(event.position()) if self.has_image else None)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.update_cursor()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.cursor_moved.emit(None)
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.update_cursor()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.update_cursor()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._space_held = False  # the key release may go to another window
        super().focusOutEvent(event)

    def update_cursor(self) -> None:
        shape = Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.ArrowCursor
        self.setCursor(shape)

    # --- painting ----------------------------------------------------------------------------

    def background_color(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Window).darker(125)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        region = event.region()
        rects = list(region) if region.rectCount() <= 8 else [region.boundingRect()]
        for rect in rects:
            painter.fillRect(rect, self.background_color())
            if self.has_image:
                self._paint_layers(painter, QRectF(rect))
        if not self.has_image and self.placeholder:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        self.paint_decorations(painter)
        painter.end()

    def _paint_layers(self, painter: QPainter, rect: QRectF) -> None:
        clip = rect.intersected(self.image_rect_in_widget())
        if clip.isEmpty():
            return
        painter.save()
        painter.setClipRect(clip)
        for layer in self.drawn_layers():
            self._paint_layer(painter, layer, clip)
        painter.restore()

    def _paint_layer(self, painter: QPainter, layer: PaneLayer, clip: QRectF) -> None:
        zoom = self.view.zoom
        level = layer.pyramid.level_for(zoom)
        factor = 1 << level
        array = layer.pyramid.levels[level]
        first = self.widget_to_image(clip.topLeft())
        last = self.widget_to_image(clip.bottomRight())
        left = max(0, math.floor(first.x() / factor) - _MARGIN_PIXELS)
        top = max(0, math.floor(first.y() / factor) - _MARGIN_PIXELS)
        right = min(array.shape[1], math.ceil(last.x() / factor) + _MARGIN_PIXELS)
        bottom = min(array.shape[0], math.ceil(last.y() / factor) + _MARGIN_PIXELS)
        if right <= left or bottom <= top:
            return
        piece = np.ascontiguousarray(array[top:bottom, left:right])
        image = layer.to_qimage(piece, level)
        target = QRectF(self.image_to_widget(QPointF(left * factor, top * factor)),
                        self.image_to_widget(QPointF(right * factor, bottom * factor)))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom * factor < 0.999)
        painter.setOpacity(layer.opacity)
        painter.drawImage(target, image)
        painter.setOpacity(1.0)

    def paint_decorations(self, painter: QPainter) -> None:
        """Drawn above the layers in widget coordinates (tool outlines, cursors); for subclasses."""
