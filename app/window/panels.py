"""Panels around the canvas: the engine picker and the status bar widgets (tool options: app.tools.options)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QToolButton,
    QWidget,
)

from app.dialogs.weights import GUIDE_MARK, guide_note, unavailable_tip


class EnginePicker(QComboBox):
    """The engines of the registry; the ones that cannot run are disabled, the tooltip says why."""

    engine_chosen = Signal(str, str)  # name, label

    def __init__(self, specs: Callable[[], Sequence], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._specs = specs
        self._guided: dict[str, bool] = {}
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setToolTip("Engine used by Fill")
        self.activated.connect(self._on_activated)

    def refresh(self, select: str | None = None) -> None:
        """Re-read the registry (after weights were imported) and select ``select`` if it can run."""
        wanted = select or self.current_name()
        self.blockSignals(True)
        self.clear()
        model: QStandardItemModel = self.model()
        self._guided = {spec.name: bool(spec.accepts_guide) for spec in self._specs()}
        for spec in self._specs():
            state = spec.check()
            guide = GUIDE_MARK if spec.accepts_guide else ""
            self.addItem(f"{spec.label}{guide}" if state.available else f"{spec.label}{guide} — unavailable", spec.name)
            item = model.item(self.count() - 1)
            if state.available:
                item.setToolTip(f"{spec.label}: {guide_note(spec.accepts_guide)}")
            else:
                item.setEnabled(False)
                item.setToolTip(unavailable_tip(spec.label, state.reason, state.fix))
        index = self.findData(wanted)
        if index < 0 or not model.item(index).isEnabled():
            index = next((row for row in range(self.count()) if model.item(row).isEnabled()), -1)
        self.setCurrentIndex(index)
        self.blockSignals(False)
        self._announce()

    def current_name(self) -> str | None:
        return self.currentData()

    def accepts_guide(self, name: str | None) -> bool:
        return self._guided.get(name, False)

    def current_label(self) -> str:
        name = self.current_name()
        return next((spec.label for spec in self._specs() if spec.name == name), "")

    def _on_activated(self, _index: int) -> None:
        self._announce()

    def _announce(self) -> None:
        name = self.current_name()
        if name:
            self.setToolTip(self.model().item(self.currentIndex()).toolTip())
            self.engine_chosen.emit(name, self.current_label())


class StatusPanel:
    """The permanent widgets of the status bar."""

    def __init__(self, status_bar, cancel: Callable[[], None]) -> None:
        self.message = QLabel()
        self.zoom = QLabel("—")
        self.position = QLabel("")
        self.size = QLabel("")
        self.engine = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.elapsed = QLabel("")
        self.cancel = QToolButton()
        self.cancel.setText("Cancel")
        self.cancel.setToolTip("Cancel the running fill (Esc)")
        self.cancel.clicked.connect(cancel)
        for label, width in ((self.zoom, 64), (self.position, 110), (self.size, 100)):
            label.setMinimumWidth(width)
        status_bar.addWidget(self.message, 1)
        for widget in (self.progress, self.elapsed, self.cancel, self.engine, self.size, self.position, self.zoom):
            status_bar.addPermanentWidget(widget)
        self.set_busy(False)

    def set_zoom(self, zoom: float | None) -> None:
        if zoom is None:
            self.zoom.setText("")
        else:
            self.zoom.setText(f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %")

    def set_position(self, point: QPointF | None, width: int, height: int) -> None:
        if point is None or not (0 <= point.x() < width and 0 <= point.y() < height):
            self.position.setText("")
        else:
            self.position.setText(f"x {int(point.x())}, y {int(point.y())}")

    def set_image_size(self, width: int, height: int) -> None:
        self.size.setText(f"{width} × {height} px" if width else "")

    def set_engine(self, label: str, accepts_guide: bool | None = None) -> None:
        """The Fill engine, and whether it follows the Guide (the sketch pen, suggested edges)."""
        if accepts_guide is None:
            self.engine.setText(label)
            return
        self.engine.setText(f"{label} · {'uses' if accepts_guide else 'ignores'} the Guide")
        self.engine.setToolTip(f"{label}: {guide_note(accepts_guide)}")

    def set_busy(self, busy: bool) -> None:
        for widget in (self.progress, self.elapsed, self.cancel):
            widget.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
            self.elapsed.setText("0.0 s")

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)

    def set_elapsed(self, seconds: float) -> None:
        self.elapsed.setText(f"{seconds:.1f} s")
