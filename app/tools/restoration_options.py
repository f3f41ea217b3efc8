"""Widgets for restoring old photos: the Scratch brush's sensitivity (in Tool Options) and the
Restore panel (Detect dust / Detect damage, their sensitivity, Add to Hole, Discard)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

STEPS = 100  # slider positions for sensitivity 0 … 1


class SensitivitySlider(QWidget):
    """"Sensitivity" slider 0 … 1: fewer, surer marks to the left; more marks, more false ones, to the right."""

    changed = Signal(float)

    def __init__(self, value: float, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setValue(round(value * STEPS))
        self.slider.setToolTip(tip)
        self.number = QLabel(f"{value:.2f}")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Sensitivity"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.number)
        self.slider.valueChanged.connect(self._on_value)

    def value(self) -> float:
        return self.slider.value() / STEPS

    def set_value(self, value: float) -> None:
        self.slider.setValue(round(value * STEPS))

    def _on_value(self, position: int) -> None:
        self.number.setText(f"{position / STEPS:.2f}")
        self.changed.emit(position / STEPS)


class RestorePanel(QWidget):
    """Detect dust / damage, preview them in their own colour, then add them to the Hole or discard them."""

    detect_requested = Signal(str)  # "dust" or "damage"
    add_requested = Signal()
    discard_requested = Signal()

    def __init__(self, sensitivity: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detect_dust = QPushButton("Detect dust")
        self.detect_dust.setToolTip("Propose small specks in flat parts of the photo (runs in the background)")
        self.detect_damage = QPushButton("Detect damage")
        self.detect_damage.setToolTip("Propose long scratches and torn corners (only marks it is sure of)")
        self.sensitivity = SensitivitySlider(sensitivity, "Left: only the surest marks; right: more marks, "
                                                          "and more that are not damage")
        self.detector = QLabel("")
        self.detector.setWordWrap(True)
        self.detector.setEnabled(False)  # drawn greyed: a note, not a control
        self.summary = QLabel("Nothing proposed yet.")
        self.summary.setWordWrap(True)
        self.add = QPushButton("Add to Hole")
        self.discard = QPushButton("Discard")
        detect = QHBoxLayout()
        detect.addWidget(self.detect_dust)
        detect.addWidget(self.detect_damage)
        decide = QHBoxLayout()
        decide.addWidget(self.add)
        decide.addWidget(self.discard)
        layout = QVBoxLayout(self)
        layout.addLayout(detect)
        layout.addWidget(self.sensitivity)
        layout.addWidget(self.detector)
        layout.addWidget(self.summary)
        layout.addLayout(decide)
        layout.addStretch(1)
        self.detect_dust.clicked.connect(lambda: self.detect_requested.emit("dust"))
        self.detect_damage.clicked.connect(lambda: self.detect_requested.emit("damage"))
        self.add.clicked.connect(self.add_requested)
        self.discard.clicked.connect(self.discard_requested)
        self.show_proposal(None)

    def show_proposal(self, text: str | None, busy: bool = False) -> None:
        """``text`` describes the proposal on show (None: there is none)."""
        self.summary.setText(text or "Nothing proposed yet.")
        has_proposal = text is not None and not busy
        self.add.setEnabled(has_proposal)
        self.discard.setEnabled(text is not None)
