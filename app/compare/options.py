"""The side panel of the Compare view: which Engines run with which options, and simulated damage.

The Engine list is built from the registry (through the main window's ``engine_specs`` seam), so
a new Engine appears here as soon as it is registered and its weights are present; one that cannot
run is listed, unticked and disabled, with the reason and the fix in its tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.compare.run import EngineChoice
from app.dialogs.weights import GUIDE_MARK, guide_note, unavailable_tip
from inference.evaluation.maskgen import KINDS

MASK_KINDS = ("thin", "medium", "thick", "box", "freeform")  # the ones the issue names first
MAX_SEED = 2**31 - 1


def option_editor(value: Any) -> QWidget:
    """An editor for one Engine option, by the type of its default; unknown types are shown only."""
    if isinstance(value, bool):
        editor = QCheckBox()
        editor.setChecked(value)
    elif isinstance(value, int):
        editor = QSpinBox()
        editor.setRange(1, max(100, value * 10))
        editor.setValue(value)
    elif isinstance(value, float):
        editor = QDoubleSpinBox()
        editor.setRange(0.0, max(100.0, value * 10))
        editor.setValue(value)
    else:
        editor = QLabel(str(value))
    return editor


def editor_value(editor: QWidget) -> Any:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QSpinBox | QDoubleSpinBox):
        return editor.value()
    return editor.text()


class EngineRow(QWidget):
    """One Engine: a tick box and its options."""

    def __init__(self, spec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.label = spec.name, spec.label
        state = spec.check()
        self.available = state.available
        guided = bool(getattr(spec, "accepts_guide", False))
        text = spec.label + (GUIDE_MARK if guided else "") + ("" if state.available else " — unavailable")
        self.tick = QCheckBox(text)
        self.tick.setChecked(state.available)
        self.tick.setEnabled(state.available)
        self.tick.setToolTip(f"{spec.label}: {guide_note(guided)}" if state.available
                             else unavailable_tip(spec.label, state.reason, state.fix))
        self.options: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.tick)
        form = QFormLayout()
        form.setContentsMargins(22, 0, 0, 0)
        for key, default in dict(getattr(spec, "options", {}) or {}).items():
            editor = option_editor(default)
            editor.setEnabled(state.available)
            self.options[key] = editor
            form.addRow(key, editor)
        layout.addLayout(form)

    @property
    def ticked(self) -> bool:
        return self.available and self.tick.isChecked()

    def choice(self) -> EngineChoice:
        return EngineChoice(self.name, self.label, {key: editor_value(e) for key, e in self.options.items()})


class EngineList(QGroupBox):
    """Every registered Engine, ticked when it can run."""

    def __init__(self, specs: Callable[[], Sequence], parent: QWidget | None = None) -> None:
        super().__init__("Engines", parent)
        self._specs = specs
        self.rows: dict[str, EngineRow] = {}
        self._layout = QVBoxLayout(self)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the registry (weights may have been imported), keeping what was unticked."""
        unticked = {name for name, row in self.rows.items() if row.available and not row.ticked}
        for row in self.rows.values():
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows = {}
        for spec in self._specs():
            row = EngineRow(spec)
            if spec.name in unticked:
                row.tick.setChecked(False)
            self.rows[spec.name] = row
            self._layout.addWidget(row)

    def choices(self) -> list[EngineChoice]:
        return [row.choice() for row in self.rows.values() if row.ticked]

    def tick_only(self, names: Sequence[str]) -> None:
        for name, row in self.rows.items():
            row.tick.setChecked(row.available and name in names)


class DamagePanel(QGroupBox):
    """Score against the intact photo; make the Hole from the seeded generator or a mask file."""

    generate_requested = Signal(str, int)  # kind, seed
    load_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Simulate damage and score", parent)
        self.scored = QCheckBox("Score against the original\n(the photo is intact)")
        self.scored.setToolTip("The open photo is the ground truth and the Hole is simulated damage: the Hole is "
                               "blanked before any Engine runs, and each Result gets PSNR, SSIM and L1 against the "
                               "photo, over the whole Image and inside the Hole.")
        self.kind = QComboBox()
        for kind in (*MASK_KINDS, *(k for k in KINDS if k not in MASK_KINDS)):
            self.kind.addItem(kind, kind)
        self.kind.setToolTip("thin / medium / thick: LaMa's evaluation strokes; box and freeform: DeepFill v2's")
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("The same seed always draws the same Hole")
        self.generate = QPushButton("Generate mask")
        self.generate.setToolTip("Simulate damage: a generated Hole to score the Engines on.\n"
                                 "The photo's own Hole is not touched, and scored Results are not applied.")
        self.load = QPushButton("Load mask…")
        self.load.setToolTip("Simulate damage with a mask file, for scoring (the photo's own Hole is not touched)")
        row = QHBoxLayout()
        row.addWidget(self.kind, 1)
        row.addWidget(QLabel("seed"))
        row.addWidget(self.seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate)
        buttons.addWidget(self.load)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scored)
        layout.addLayout(row)
        layout.addLayout(buttons)
        self.generate.clicked.connect(
            lambda: self.generate_requested.emit(self.kind.currentData(), self.seed.value()))
        self.load.clicked.connect(self.load_requested)
