"""Every question the editor asks the user, one function each so tests can answer for the user."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

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


def ask_pixels(parent: QWidget, title: str, label: str, value: int) -> int | None:
    number, accepted = QInputDialog.getInt(parent, title, label, value, 1, 500, 1)
    return number if accepted else None


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
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(460, 560)
