"""One cell of the Compare view: a titled pane with a before/after split line, scores and "Use this".

:class:`ComparePane` is an :class:`~app.canvas.pane.ImagePane` (so it shares zoom and pan with the other
panes through one ViewState) that can draw the Engine's input on the left of a draggable split
line and the Result on the right. :class:`PaneCell` wraps it with the Engine's name, run time,
progress, scores or error, and the buttons.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.canvas.editor_canvas import MASK_COLOR, MASK_OPACITY
from app.canvas.pane import ImagePane, PaneLayer
from app.canvas.view import ViewState
from inference.engines.regions import Box, hole_boxes
from inference.evaluation.compare import Result
from inference.evaluation.metrics import Scores, format_score

BEFORE_PREFIX = "before"  # layers drawn left of the split line: the Engine's input and its Hole
SPLIT_GRAB_PX = 7  # how close to the line a press grabs it
CROP_MARGIN = 0.35  # context around the Hole in crop mode, as a share of the Hole's longer side
MIN_CROP_MARGIN = 24
MIN_CROP_SIDE = 128  # a tiny Hole still gets enough context to judge the fill
ERROR_COLOR = QColor(220, 50, 47)
STALE_VEIL = QColor(40, 40, 40, 150)  # drawn over a stale Result so it does not pass for the current one
USE_TIP = "Apply this Result to the photo (one undoable step)"
SCORING_ONLY_TIP = ("Scoring run: this Result fills simulated damage, so it is not offered for the photo.\n"
                    "Untick \"Score against the original\" and Run to fill the photo's own Hole.")


def crop_around_hole(mask: np.ndarray) -> Box | None:
    """The Hole's bounding box (all parts) with a margin of context, clamped; None without a Hole."""
    boxes = hole_boxes(mask)
    if not boxes:
        return None
    box = boxes[0]
    for other in boxes[1:]:
        box = box.union(other)
    margin = max(MIN_CROP_MARGIN, round(CROP_MARGIN * max(box.height, box.width)))
    margin_y = max(margin, -(-(MIN_CROP_SIDE - box.height) // 2))
    margin_x = max(margin, -(-(MIN_CROP_SIDE - box.width) // 2))
    return box.expanded(margin_y, margin_x, mask.shape)


def widened_to_aspect(box: Box, aspect: float, shape: tuple[int, ...]) -> Box:
    """``box`` grown around its centre to ``aspect`` (w / h), kept inside ``shape``: context, not grey bars."""
    height, width = shape[0], shape[1]
    want_w = max(box.width, min(width, round(box.height * aspect)))
    want_h = max(box.height, min(height, round(box.width / aspect)))

    def span(start: int, size: int, want: int, limit: int) -> tuple[int, int]:
        low = max(0, min(start - (want - size) // 2, limit - want))
        return low, low + want

    top, bottom = span(box.top, box.height, want_h, height)
    left, right = span(box.left, box.width, want_w, width)
    return Box(top, left, bottom, right)


HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "l1": False, "psnr_hole": True, "ssim_hole": True,
                    "l1_hole": False}
_SCORE_FORMAT = (("psnr", "PSNR", 2, " dB"), ("ssim", "SSIM", 3, ""), ("l1", "L1", 4, ""))


def best_scores(all_scores: dict[str, Scores]) -> dict[str, set[str]]:
    """For each metric, the engines with the best value (ties all count); empty below two engines."""
    if len(all_scores) < 2:
        return {}
    best: dict[str, set[str]] = {}
    for metric, higher in HIGHER_IS_BETTER.items():
        values = {engine: getattr(scores, metric) for engine, scores in all_scores.items()}
        values = {engine: value for engine, value in values.items() if value == value}  # drop NaN
        if values:
            target = max(values.values()) if higher else min(values.values())
            best[metric] = {engine for engine, value in values.items() if value == target}
    return best


def score_text(scores: Scores, best: set[str] = frozenset()) -> str:
    """Rich text, two lines: the scores over the whole Image, then inside the Hole; best ones bold."""
    lines = []
    for title, suffix in (("whole", ""), ("hole", "_hole")):
        parts = []
        for metric, name, digits, unit in _SCORE_FORMAT:
            text = f"{name} {format_score(getattr(scores, metric + suffix), digits)}{unit}"
            parts.append(f"<b>{text}</b>" if metric + suffix in best else text)
        lines.append(f"{title}: " + " · ".join(parts))
    return "<br>".join(lines)


def time_text(result: Result) -> str:
    text = f"{result.seconds:.2f} s"
    if result.load_seconds >= 0.05:
        text += f" (+ {result.load_seconds:.1f} s to load)"
    return text


class ComparePane(ImagePane):
    """An image pane with an optional before/after split line; left drag pans, the line drags."""

    def __init__(self, view: ViewState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(view, parent)
        self.message = ""
        self.message_color: QColor | None = None
        self.stale = False
        self.split_on = False
        self.split_fraction = 0.5  # of the pane's width
        self._dragging_split = False
        self._side = "after"

    # --- split line ------------------------------------------------------------------------

    def set_split(self, on: bool) -> None:
        self.split_on = on and self.layer(BEFORE_PREFIX) is not None
        self.update()

    def split_x(self) -> float:
        return self.split_fraction * self.width()

    def set_split_x(self, x: float) -> None:
        self.split_fraction = min(max(x / max(self.width(), 1), 0.0), 1.0)
        self.update()

    def _near_split(self, point: QPointF) -> bool:
        return self.split_on and abs(point.x() - self.split_x()) <= SPLIT_GRAB_PX

    def drawn_layers(self) -> list[PaneLayer]:
        before = self._side == "before"
        return [layer for layer in self.layers if layer.visible and layer.name.startswith(BEFORE_PREFIX) == before]

    def _paint_layers(self, painter: QPainter, rect: QRectF) -> None:
        if not self.split_on:
            self._side = "after"
            super()._paint_layers(painter, rect)
            return
        line = self.split_x()
        self._side = "before"
        super()._paint_layers(painter, rect.intersected(QRectF(0.0, 0.0, line, self.height())))
        self._side = "after"
        super()._paint_layers(painter, rect.intersected(QRectF(line, 0.0, self.width() - line, self.height())))

    # --- pointer -----------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.LeftButton and self._near_split(event.position()):
            self._dragging_split = True
            return
        if self.start_pan_if_wanted(event):
            return
        if event.button() == Qt.MouseButton.LeftButton and self.has_image:
            # Nothing to paint here, so a plain left drag pans (all panes follow).
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._dragging_split:
            self.set_split_x(event.position().x())
            return
        super().mouseMoveEvent(event)
        if not self.panning and not self._space_held:
            near = self._near_split(event.position())
            self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.OpenHandCursor)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._dragging_split:
            self._dragging_split = False
            return
        super().mouseReleaseEvent(event)

    def update_cursor(self) -> None:
        shape = Qt.CursorShape.ClosedHandCursor if self.panning else Qt.CursorShape.OpenHandCursor
        self.setCursor(shape if self.has_image else Qt.CursorShape.ArrowCursor)

    # --- decorations -------------------------------------------------------------------------

    def paint_decorations(self, painter: QPainter) -> None:
        if not self.has_image and self.message:
            painter.setPen(self.message_color or self.palette().color(self.palette().ColorRole.PlaceholderText))
            area = self.rect().adjusted(12, 12, -12, -12)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        if self.split_on and self.has_image:
            self._paint_split(painter)
        if self.stale and self.has_image:
            painter.fillRect(self.rect(), STALE_VEIL)
            self._paint_tag(painter, "stale — Run again", QPointF(6.0, 6.0), right_aligned=False)

    def _paint_split(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        x, middle = self.split_x(), self.height() / 2.0
        painter.setPen(QPen(QColor(0, 0, 0, 160), 3.0))
        painter.drawLine(QPointF(x, 0.0), QPointF(x, self.height()))
        painter.setPen(QPen(QColor(255, 255, 255), 1.0))
        painter.drawLine(QPointF(x, 0.0), QPointF(x, self.height()))
        painter.setBrush(QColor(255, 255, 255))
        painter.setPen(QPen(QColor(0, 0, 0, 180), 1.0))
        painter.drawEllipse(QPointF(x, middle), 9.0, 9.0)
        arrows = QPainterPath()
        for sign in (-1.0, 1.0):  # two small triangles: "drag me sideways"
            arrows.moveTo(x + sign * 2.0, middle - 4.0)
            arrows.lineTo(x + sign * 6.5, middle)
            arrows.lineTo(x + sign * 2.0, middle + 4.0)
            arrows.closeSubpath()
        painter.setBrush(QColor(40, 40, 40))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPath(arrows)
        self._paint_tag(painter, "input", QPointF(x - 6.0, 6.0), right_aligned=True)
        self._paint_tag(painter, "result", QPointF(x + 6.0, 6.0), right_aligned=False)

    def _paint_tag(self, painter: QPainter, text: str, corner: QPointF, right_aligned: bool) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 10.0
        height = painter.fontMetrics().height() + 4.0
        left = corner.x() - width if right_aligned else corner.x()
        box = QRectF(left, corner.y(), width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4.0, 4.0)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class PaneCell(QFrame):
    """Title, run time, pane, progress and scores (or the error) of one Engine, or of the original."""

    use_requested = Signal(str)  # engine name

    def __init__(self, key: str, title: str, view: ViewState, with_result: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.sources: dict[str, np.ndarray] = {}  # layer name -> full-size array
        self.crop: Box | None = None
        self.result: Result | None = None
        self.title = QLabel(f"<b>{title}</b>")
        self.time = QLabel("")
        self.pane = ComparePane(view)
        self.pane.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self._keep_room_when_hidden(self.progress)
        self.progress.hide()
        self.info = QLabel("")
        self.info.setWordWrap(True)
        # Room for two lines in every cell, so all panes are the same size and line up.
        self.info.setMinimumHeight(2 * self.info.fontMetrics().lineSpacing() + 2)
        self.info.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.split_button = QToolButton()
        self.split_button.setText("Split")
        self.split_button.setCheckable(True)
        self.split_button.setToolTip("Before/after: the Engine's input left of a draggable line, the Result right")
        self.stale = False
        self.use_button = QPushButton("Use this")
        self.use_button.setToolTip(USE_TIP)
        self.use_button.setEnabled(False)
        self.split_button.setEnabled(False)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        for label in (self.title, self.time):  # long texts shrink instead of widening the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(24)
        self.title.setToolTip(title)
        header.addWidget(self.title, 2)
        header.addWidget(self.time, 3)
        header.addWidget(self.split_button)
        header.addWidget(self.use_button)
        if not with_result:
            for button in (self.split_button, self.use_button):
                self._keep_room_when_hidden(button)
                button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addLayout(header)
        layout.addWidget(self.pane, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.info)
        self.split_button.toggled.connect(self._on_split_toggled)
        self.use_button.clicked.connect(lambda: self.use_requested.emit(self.key))

    @staticmethod
    def _keep_room_when_hidden(widget: QWidget) -> None:
        # Every pane keeps the same height whatever its cell shows, so the shared view puts the
        # same pixels at the same place in each.
        policy = widget.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        widget.setSizePolicy(policy)

    # --- states ------------------------------------------------------------------------------

    def set_message(self, text: str, error: bool = False) -> None:
        self.pane.message = text
        self.pane.message_color = ERROR_COLOR if error else None
        self.pane.update()

    def set_waiting(self) -> None:
        self.set_message("Waiting…")
        self.time.setText("queued")

    def set_running(self) -> None:
        self.set_message("Running…")
        self.time.setText("running")
        self.progress.setRange(0, 0)
        self.progress.show()

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def set_cancelled(self) -> None:
        self.progress.hide()
        if not self.pane.has_image:
            self.set_message("Cancelled")
            self.time.setText("cancelled")

    def show_result(self, result: Result, before: np.ndarray, hole: np.ndarray, crop: Box | None,
                    applicable: bool = True) -> None:
        """The Result (or its error), time and scores; ``before``: the Engine's input; ``applicable``: may land."""
        self.progress.hide()
        self.stale = self.pane.stale = False
        if not result.ok:
            self.set_message(f"{result.label} failed:\n{result.error}", error=True)
            self.time.setText("failed")
            self.info.setText(f"<span style='color:{ERROR_COLOR.name()}'>Error: {result.error}</span>")
            return
        self.time.setText(time_text(result))
        self.result = result
        self.mark_best(set())
        self.set_sources({"image": result.image, BEFORE_PREFIX: before, f"{BEFORE_PREFIX}_hole": hole}, crop)
        self.use_button.setEnabled(applicable)
        self.use_button.setToolTip(USE_TIP if applicable else SCORING_ONLY_TIP)
        self.split_button.setEnabled(True)

    def set_stale(self, why: str) -> None:
        """The Hole or the photo changed since this Result: say so, and never offer it for the photo."""
        if self.stale:
            return
        self.stale = True
        self.progress.hide()
        self.use_button.setEnabled(False)
        self.time.setText(f"<span style='color:{ERROR_COLOR.name()}'>stale</span> — {why}; Run again")
        if not self.pane.has_image:
            self.set_message("Stale: press Run")
        self.pane.stale = True
        self.pane.update()

    def mark_best(self, best_metrics: set[str]) -> None:
        """Show the scores (if any), with the metrics in ``best_metrics`` in bold."""
        scores = self.result.scores if self.result is not None and self.result.ok else None
        if scores is not None:
            self.info.setText(score_text(scores, best_metrics))

    def set_sources(self, sources: dict[str, np.ndarray], crop: Box | None) -> None:
        self.sources = sources
        self.apply_crop(crop)

    def apply_crop(self, crop: Box | None) -> None:
        """Show the layers cut to ``crop`` (image pixels), or whole when None."""
        self.crop = crop
        self.pane.clear_layers()
        self._add_layers(before=False)
        self._on_split_toggled(self.split_button.isChecked())

    def _add_layers(self, before: bool) -> None:
        # The input's layers are only built once the split line is wanted: on a large photo each
        # is a full-size pyramid, and most panes never show it.
        for name, array in self.sources.items():
            if name.startswith(BEFORE_PREFIX) != before:
                continue
            shown = array if self.crop is None else np.ascontiguousarray(array[self.crop.slices])
            if name.endswith("hole"):
                self.pane.set_layer(name, shown, MASK_COLOR, coverage=True, opacity=MASK_OPACITY)
            else:
                self.pane.set_layer(name, shown)

    def _on_split_toggled(self, on: bool) -> None:
        if on and self.pane.layer(BEFORE_PREFIX) is None:
            self._add_layers(before=True)
        self.pane.set_split(on)
