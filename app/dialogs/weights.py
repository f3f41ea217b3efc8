"""Models → Manage weights…: the installed weight files with their model cards, and removing one.

Also the words a GUI user reads about Engines: whether one follows the Guide, and, when a neural
Engine cannot run, where to click and which files are accepted (not the registry's command line).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ACCEPTED_FILES = ".safetensors, .pth, .pt, .ckpt, .h5 or .npz (read without running code from the file)"
NOT_STATED = "not stated"
COLUMNS = ("Name", "Architecture", "Source", "Licence", "Training data")


GUIDE_MARK = " ✎"  # in the engine list: follows the Guide


def guide_note(accepts_guide: bool) -> str:
    return ("follows the Guide: sketch-pen lines and suggested edges steer the fill" if accepts_guide
            else "ignores the Guide: sketch-pen lines and suggested edges do not change its fill")


def unavailable_tip(label: str, reason: str, fix: str) -> str:
    """The tooltip of an Engine that cannot run: the reason, and the fix in the editor's own words."""
    if "weights" in reason:
        return (f"{label} cannot run: {reason}.\n"
                "Fix: Models → Import Weights… and choose a DeepFill v2 or LBAM checkpoint:\n"
                f"{ACCEPTED_FILES}.\n"
                "Models → Manage Weights… lists what is installed.")
    return f"{label} cannot run: {reason}.\nFix: {fix}"


def _text(value: Any) -> str:
    if value in (None, "", {}, []):
        return NOT_STATED
    if isinstance(value, dict):
        return ", ".join(f"{key} {item}" for key, item in value.items() if not isinstance(item, dict | list))
    return str(value)


def card_summary(card: dict[str, Any]) -> dict[str, str]:
    """The model card's answers to: where from, under which licence, trained on what."""
    source = card.get("source") or card.get("source_file")
    data = card.get("data") or card.get("training_data") or card.get("dataset")
    if data is None and isinstance(card.get("source"), dict):
        data = card.get("description")
    return {
        "Name": str(card.get("name", NOT_STATED)),
        "Architecture": _text(card.get("architecture")),
        "Source": _text(source),
        "Licence": _text(card.get("licence") or card.get("license")),
        "Training data": _text(data),
    }


class WeightsDialog(QDialog):
    """Installed weights, one row each, the selected one's full card below, and Remove."""

    def __init__(self, list_weights: Callable[[], Sequence], remove: Callable[[Any], None],
                 confirm: Callable[[str], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Manage weights")
        self._list, self._remove, self._confirm = list_weights, remove, confirm
        self.entries: list = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.card = QPlainTextEdit()
        self.card.setReadOnly(True)
        self.empty = QLabel("No weights installed. Models → Import Weights… adds a DeepFill v2 or LBAM checkpoint.")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Delete the selected weight file and its model card from weights/")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.card)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.resize(900, 520)
        self.refresh()

    def refresh(self) -> None:
        self.entries = list(self._list())
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            summary = card_summary(entry.card)
            for column, key in enumerate(COLUMNS):
                item = QTableWidgetItem(summary[key])
                item.setToolTip(summary[key])
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        for column in range(len(COLUMNS) - 1):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 260))
        self.empty.setVisible(not self.entries)
        if self.entries:
            self.table.selectRow(0)
        self._show_selected()

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _show_selected(self) -> None:
        entry = self.selected()
        self.remove_button.setEnabled(entry is not None)
        if entry is None:
            self.card.setPlainText("")
            return
        card = {key: value for key, value in entry.card.items() if key != "licence_text"}
        self.card.setPlainText(f"{entry.path}\n\n{json.dumps(card, indent=2, ensure_ascii=False)}")

    def remove_selected(self) -> bool:
        entry = self.selected()
        if entry is None or not self._confirm(entry.path.name):
            return False
        self._remove(entry)
        self.refresh()
        return True


def remove_weights(entry) -> None:
    """Delete a stored weight file and its card (the card last, so a half removal still lists nothing)."""
    entry.path.unlink(missing_ok=True)
    entry.path.with_suffix(".json").unlink(missing_ok=True)
