"""Every question the editor asks the user, one function each so tests can answer for the user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

TITLE_CHROME_PX = 150  # window-manager buttons and margins beside a title

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff);;WebP (*.webp);;BMP (*.bmp)"
MASK_FILTER = "Mask PNG (*.png);;Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp)"
WEIGHTS_FILTER = "Weights (*.safetensors *.pth *.pt *.ckpt *.h5 *.npz);;All files (*)"


def ask_unsaved(parent: QWidget, name: str) -> str:
    """"save", "discard" or "cancel" for a Document with unsaved changes."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}”?")
    box.setInformativeText("Your changes are lost if you don't save them.")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


def show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.critical(parent, title, text)


def ask_mask_mode(parent: QWidget, name: str) -> str | None:
    """Import Mask over an existing Hole: "replace" it, "add" to it, or None (cancel)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Import mask")
    box.setText(f"The photo already has a Hole. What should {name} do?")
    add = box.addButton("Add to the Hole", QMessageBox.ButtonRole.AcceptRole)
    replace = box.addButton("Replace the Hole", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(add)
    box.exec()
    clicked = box.clickedButton()
    return "add" if clicked is add else "replace" if clicked is replace else None


def ask_open_path(parent: QWidget, title: str, folder: str, filters: str = IMAGE_FILTER) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return Path(path) if path else None


def ask_save_path(parent: QWidget, title: str, suggested: Path, filters: str = SAVE_FILTER) -> Path | None:
    """A path to write; the dialog itself asks before replacing an existing file."""
    selected = _filter_for(suggested, filters)
    path, _ = QFileDialog.getSaveFileName(parent, title, str(suggested), filters, selected)
    if not path:
        return None
    path = Path(path)
    return path if path.suffix else path.with_suffix(suggested.suffix or ".png")


def _filter_for(path: Path, filters: str) -> str:
    suffix = path.suffix.lower()
    return next((item for item in filters.split(";;") if f"*{suffix}" in item), "")


def fit_title(dialog: QWidget) -> None:
    """Make a small dialog wide enough for its whole title ("Grow Hole — Inpaint Studio"), not "Grow … Studio"."""
    title = dialog.windowTitle()
    app_name = dialog.parent().window().windowTitle().rpartition(" — ")[2] if dialog.parent() else ""
    shown = f"{title} — {app_name}" if app_name and app_name != title else title
    width = dialog.fontMetrics().horizontalAdvance(shown) + TITLE_CHROME_PX
    dialog.setMinimumWidth(max(dialog.minimumWidth(), width))


def ask_number(parent: QWidget, title: str, label: str, value: int, low: int, high: int, suffix: str = "",
               preview: Callable[[int], None] | None = None) -> int | None:
    """A whole number in ``low..high``; ``preview(n)`` (if given) is called as the number changes."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(min(max(value, low), high))
    spin.setSuffix(suffix)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form = QFormLayout(dialog)
    form.addRow(QLabel(label), spin)
    form.addRow(buttons)
    fit_title(dialog)
    if preview is not None:
        spin.valueChanged.connect(preview)
        preview(spin.value())
    spin.selectAll()
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return spin.value() if accepted else None


def ask_pixels(parent: QWidget, title: str, label: str, value: int,
               preview: Callable[[int], None] | None = None) -> int | None:
    """Grow/Shrink: by how many pixels, with the result previewed on the canvas while choosing."""
    return ask_number(parent, title, label, value, 1, 500, " px", preview)


def ask_quality(parent: QWidget, name: str, value: int, source_note: str) -> int | None:
    """Save As to JPEG/WebP: the quality to write (``source_note`` says where the default comes from)."""
    return ask_number(parent, "JPEG quality", f"Quality for {name}\n({source_note})", value, 1, 100)


class ShortcutsDialog(QDialog):
    """Help → Shortcuts: every action with its keys, generated from the actions themselves."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (action, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(action))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.setWordWrap(False)
        header = table.horizontalHeader()
        # Both columns as wide as their text: no horizontal scrollbar cutting the Keys column.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnsToContents()
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        wanted = sum(table.horizontalHeader().sectionSizeHint(column) for column in (0, 1))
        keys_width = max((table.fontMetrics().horizontalAdvance(keys) for _name, keys in rows), default=0)
        width = table.columnWidth(0) + max(keys_width, wanted // 2) + 60  # frame, scrollbar, margins
        self.resize(max(460, width), 560)
