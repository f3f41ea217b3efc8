"""The grid of the Compare view: the original and one cell per Engine, zooming and panning together.

Every pane shares one :class:`~app.canvas.view.ViewState`, so a wheel turn or a drag in any pane moves
all of them. By default the panes show the region around the Hole at full resolution (its
bounding box with a margin); "Whole image" shows the whole photo instead.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from app.canvas.view import ViewState
from app.compare.panes import PaneCell, best_scores, crop_around_hole, widened_to_aspect
from app.compare.run import CompareInputs, EngineChoice
from inference.engines.regions import Box
from inference.evaluation.compare import Result

ORIGINAL = "original"  # key of the original's cell (no Engine is called that)


CELL_CHROME = (14, 70)  # width, height of a cell's frame, title row and score lines around its pane


def grid_columns(count: int, area: tuple[int, int], image: tuple[int, int]) -> int:
    """The number of columns that shows ``count`` panes of an ``image`` (w, h) largest in ``area`` (w, h)."""
    if count <= 1 or min(area) <= 0 or min(image) <= 0:
        return max(count, 1)

    def scale(columns: int) -> float:
        rows = math.ceil(count / columns)
        width = area[0] / columns - CELL_CHROME[0]
        height = area[1] / rows - CELL_CHROME[1]
        return min(width / image[0], height / image[1])

    # Ties go to fewer columns (more rows), which keeps the titles readable.
    return max(range(1, count + 1), key=lambda columns: (round(scale(columns), 6), -columns))


class PaneGrid(QWidget):
    use_requested = Signal(str)  # engine name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ViewState(self)
        self.cells: dict[str, PaneCell] = {}
        self.inputs: CompareInputs | None = None
        self.whole_image = False
        self.columns = 0
        self.pane_aspect: float | None = None  # width / height of a pane, once laid out
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)

    @property
    def crop(self) -> Box | None:
        if self.inputs is None or self.whole_image:
            return None
        box = crop_around_hole(self.inputs.mask)
        if box is None or self.pane_aspect is None:
            return box
        return widened_to_aspect(box, self.pane_aspect, self.inputs.mask.shape)

    def panes(self):
        return [cell.pane for cell in self.cells.values()]

    def clear(self) -> None:
        for cell in self.cells.values():
            self._layout.removeWidget(cell)
            cell.deleteLater()
        self.cells = {}
        self.inputs = None

    def reset(self, inputs: CompareInputs, choices: list[EngineChoice]) -> None:
        """New cells: the original (with its Hole) and one waiting cell per Engine."""
        self.clear()
        self.inputs = inputs
        original = PaneCell(ORIGINAL, self._original_title(inputs), self.view, with_result=False)
        self.cells[ORIGINAL] = original
        self._describe_original(inputs)
        for choice in choices:
            cell = PaneCell(choice.name, self._title(choice), self.view)
            cell.set_waiting()
            cell.use_requested.connect(self.use_requested)
            self.cells[choice.name] = cell
        self.columns = 0
        self._arrange()
        self.fit()
        self.pane_aspect = None
        QTimer.singleShot(0, self._follow_pane_shape)

    @staticmethod
    def _original_title(inputs: CompareInputs) -> str:
        if inputs.simulated:
            return f"Ground truth · simulated Hole ({inputs.simulated})"
        return "Ground truth" if inputs.scored else "Original"

    def _describe_original(self, inputs: CompareInputs) -> None:
        original = self.cells[ORIGINAL]
        original.title.setText(f"<b>{self._original_title(inputs)}</b>")
        original.time.setText(f"{inputs.image.shape[1]}×{inputs.image.shape[0]} px, "
                              f"Hole {inputs.hole_ratio * 100:.1f} %")
        original.info.setText("The intact photo; each Engine saw it with the Hole blanked." if inputs.scored
                              else "The photo and its Hole, as every Engine receives them.")
        original.set_sources({"image": inputs.image, "hole": inputs.mask}, self.crop)

    def show_hole(self, inputs: CompareInputs, why: str) -> None:
        """Show ``inputs``' Hole at once (before any Run); the Results shown so far are marked stale."""
        if ORIGINAL not in self.cells:
            self.reset(inputs, [])
            return
        self.inputs = inputs
        self._describe_original(inputs)
        crop = self.crop
        for key, cell in self.cells.items():
            if key != ORIGINAL:
                cell.apply_crop(crop)
                cell.set_stale(why)
        self.columns = 0
        self._arrange()
        self.fit()
        self.pane_aspect = None
        QTimer.singleShot(0, self._follow_pane_shape)

    def mark_stale(self, why: str) -> None:
        """The Document changed under the Results shown: none of them is what a Run would give now."""
        for key, cell in self.cells.items():
            if key != ORIGINAL:
                cell.set_stale(why)

    def _shown_size(self) -> tuple[int, int]:
        # The layout is chosen for the Hole's own crop; the crop then widens to the panes it got.
        crop = None if self.inputs is None or self.whole_image else crop_around_hole(self.inputs.mask)
        if crop is not None:
            return crop.width, crop.height
        if self.inputs is None:
            return 0, 0
        return self.inputs.image.shape[1], self.inputs.image.shape[0]

    def _arrange(self) -> None:
        """Lay the cells out in the column count that shows the panes largest (only when it changes)."""
        columns = grid_columns(len(self.cells), (self.width(), self.height()), self._shown_size())
        if columns == self.columns or not self.cells:
            return
        self.columns = columns
        for cell in self.cells.values():
            self._layout.removeWidget(cell)
        for index in range(max(self._layout.rowCount(), self._layout.columnCount())):
            self._layout.setRowStretch(index, 0)
            self._layout.setColumnStretch(index, 0)
        count = len(self.cells)
        for index, cell in enumerate(self.cells.values()):
            # The last cell spans what the last row leaves empty, so no corner of the grid stays blank.
            span = columns - (count - 1) % columns if index == count - 1 else 1
            self._layout.addWidget(cell, index // columns, index % columns, 1, span)
        for row in range(math.ceil(len(self.cells) / columns)):
            self._layout.setRowStretch(row, 1)
        for column in range(columns):
            self._layout.setColumnStretch(column, 1)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._arrange()
        QTimer.singleShot(0, self._follow_pane_shape)  # once the layout has given the panes their size

    def _follow_pane_shape(self) -> None:
        """Widen the crop to the panes' shape when it changed noticeably (a resize, another layout)."""
        original = self.cells.get(ORIGINAL)
        if original is None or original.pane.height() <= 0 or self.whole_image:
            return
        aspect = original.pane.width() / original.pane.height()
        if self.pane_aspect is not None and abs(aspect / self.pane_aspect - 1.0) < 0.08:
            return
        self.pane_aspect = aspect
        crop = self.crop
        for cell in self.cells.values():
            cell.apply_crop(crop)
        self.fit()

    @staticmethod
    def _title(choice: EngineChoice) -> str:
        options = ", ".join(f"{key} {value}" for key, value in choice.options.items())
        return f"{choice.label} · {options}" if options else choice.label

    def show_result(self, engine: str, result: Result) -> None:
        cell = self.cells.get(engine)
        if cell is not None and self.inputs is not None:
            cell.show_result(result, self.inputs.engine_input, self.inputs.mask, self.crop, self.inputs.applicable)
            self._mark_best()

    def _mark_best(self) -> None:
        scored = {key: cell.result.scores for key, cell in self.cells.items()
                  if cell.result is not None and cell.result.scores is not None}
        best = best_scores(scored)
        for key in scored:
            self.cells[key].mark_best({metric for metric, engines in best.items() if key in engines})

    def set_whole_image(self, whole: bool) -> None:
        if whole == self.whole_image:
            return
        self.whole_image = whole
        crop = self.crop
        for cell in self.cells.values():
            cell.apply_crop(crop)
        self._arrange()
        self.fit()

    def fit(self) -> None:
        original = self.cells.get(ORIGINAL)
        if original is not None:
            original.pane.zoom_to_fit()

    def actual_pixels(self) -> None:
        original = self.cells.get(ORIGINAL)
        if original is not None:
            original.pane.actual_pixels()

    def zoom_by(self, factor: float) -> None:
        original = self.cells.get(ORIGINAL)
        if original is not None:
            original.pane.zoom_by(factor)
