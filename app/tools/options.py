"""The Tool Options panel: the current tool's size (slider + number) and the fill options."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.tools.painting import SIZE_LIMITS, ToolSizes


class ToolOptionsPanel(QWidget):
    """Brush sizes (slider + number) for the current tool, and fill options."""

    def __init__(self, sizes: ToolSizes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sizes = sizes
        self.size_key: str | None = "mask"
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.spin = QSpinBox()
        self.spin.setSuffix(" px")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.clear_after_fill = QCheckBox("Clear the Hole after a fill")
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        form = QFormLayout()
        form.addRow("Size", row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        self.extra_slot = QVBoxLayout()  # the current tool's own options (the Scratch brush's sensitivity)
        self.extras: list[QWidget] = []
        layout.addLayout(self.extra_slot)
        layout.addWidget(self.clear_after_fill)
        layout.addStretch(1)
        self.slider.valueChanged.connect(self._on_value)
        self.spin.valueChanged.connect(self._on_value)
        sizes.changed.connect(self._on_size_changed)

    def show_tool(self, label: str, tip: str, size_key: str | None) -> None:
        self.size_key = size_key
        self.title.setText(f"<b>{label}</b>")
        self.hint.setText(tip + ("" if size_key is None else "\n[ and ] change the size."))
        has_size = size_key is not None
        self.slider.setEnabled(has_size)
        self.spin.setEnabled(has_size)
        if has_size:
            low, high = SIZE_LIMITS[size_key]
            for widget in (self.slider, self.spin):
                widget.blockSignals(True)
                widget.setRange(low, high)
                widget.setValue(self.sizes.get(size_key))
                widget.blockSignals(False)

    def set_extra(self, widget: QWidget | None) -> None:
        """Show ``widget`` (the current tool's own options) under the size; None shows none."""
        if widget is not None and widget not in self.extras:
            self.extras.append(widget)
            self.extra_slot.addWidget(widget)
        for extra in self.extras:
            extra.setVisible(extra is widget)

    def _on_value(self, value: int) -> None:
        if self.size_key is not None:
            self.sizes.set(self.size_key, value)

    def _on_size_changed(self, key: str, value: int) -> None:
        if key != self.size_key:
            return
        for widget in (self.slider, self.spin):
            if widget.value() != value:
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
