"""HED edges for the guided fill: "Show edges" overlays them, "Suggest edges" copies them into the Guide.

Edge maps are computed on the worker thread (HED runs on torch) as Jobs, like fills, and kept
for the image they were computed from. Both actions stay disabled, with the reason in their
tooltip, when HED cannot run here.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.canvas.editor_canvas import EditorCanvas
from app.document import GUIDE_LINE
from app.history import commands
from app.history.model import DocumentModel
from app.worker import JobContext, JobRunner
from inference.edges.thin import drop_short
from inference.engines.regions import Box
from inference.io import masks

SUGGEST_BAND = 24  # px around the Hole whose edges "Suggest edges" copies into the Guide
MIN_STUB_PIXELS = 3 * 6  # a suggested stub is at least ~6 px of a 3-px line
OVERLAY_FLOOR = 0.3  # edge probabilities below this are not drawn (HED is never exactly 0)
NOT_CHECKED = "Checking whether HED edge detection can run…"


def _check_hed(_context: JobContext) -> tuple[bool, str]:
    try:
        from inference.edges import hed_available
    except ImportError as error:
        return False, f"HED edge detection is not part of this installation ({error})."
    return hed_available()


def _compute_edges(image: np.ndarray) -> Callable[[JobContext], tuple[np.ndarray, np.ndarray]]:
    def run(_context: JobContext) -> tuple[np.ndarray, np.ndarray]:
        from inference.edges import detect_edges, thin_edges

        edge_map = detect_edges(image)
        return edge_map, thin_edges(edge_map)

    return run


def overlay_strength(edge_map: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """uint8 opacity of the edge overlay: the thin ``lines`` only, strong edges nearly opaque.

    Drawing HED's raw response gives blurry halos several pixels wide; its 1-px crest lines
    (:func:`inference.edges.thin_edges`) show where an outline is, as a person would draw it.
    """
    scaled = np.clip((edge_map - OVERLAY_FLOOR) / (1.0 - OVERLAY_FLOOR), 0.0, 1.0)
    strength = (np.sqrt(scaled) * 200.0 + 55.5).astype(np.uint8)  # a faint kept line stays visible
    return np.where(lines, strength, 0).astype(np.uint8)


def suggested_lines(hole: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Where "Suggest edges" draws: the thin edge ``lines`` at sketch width, in a band around the Hole.

    The lines are HED's crests without texture fragments; widened to the sketch pen's ~3 px they
    make stubs that look like pen strokes, pointing where the user continues them into the Hole.
    """
    band = masks.grow(hole, SUGGEST_BAND) & ~hole
    rows, columns = np.nonzero(band)
    result = np.zeros_like(hole)
    if rows.size == 0:
        return result
    box = Box(rows.min(), columns.min(), rows.max() + 1, columns.max() + 1)
    widened = cv2.dilate(lines[box.slices].view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # Cutting lines at the band's edge leaves specks; a stroke worth continuing is longer than that.
    result[box.slices] = drop_short(widened & band[box.slices], MIN_STUB_PIXELS)
    return result


class EdgesController(QObject):
    availability_changed = Signal(bool, str)
    status = Signal(str)
    note = Signal(str)  # added to the status line, not replacing it
    error = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, model: DocumentModel, runner: JobRunner, canvas: EditorCanvas,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.runner = runner
        self.canvas = canvas
        self.available = False
        self.reason = NOT_CHECKED
        self.showing = False
        self._check_job: int | None = None
        self._edges_job: int | None = None
        self._edges_revision = -1
        self._edge_map: np.ndarray | None = None
        self._guide_lines: np.ndarray | None = None
        self._overlay: np.ndarray | None = None
        self._waiting: list[Callable[[], None]] = []
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        model.layer_changed.connect(self._on_layer_changed)
        model.document_replaced.connect(self._on_document_replaced)

    def action_handlers(self) -> dict:
        return {"show_edges": self.set_showing, "suggest_edges": self.suggest}

    def check_availability(self) -> None:
        """Ask the worker whether HED can run (its module may import torch, never the UI thread)."""
        self._check_job = self.runner.submit("Check HED", _check_hed)

    # --- show / suggest --------------------------------------------------------------------

    def set_showing(self, show: bool) -> None:
        self.showing = show
        if not show:
            self._overlay = None
            self.canvas.set_edges_overlay(None)
            return
        self._with_edges(self._show_overlay)

    def suggest(self) -> None:
        document = self.model.document
        if document is None or not document.mask.any():
            self.status.emit("Paint the Hole first: edges are suggested around it.")
            return
        self._with_edges(self._suggest_into_guide)

    def _with_edges(self, then: Callable[[], None]) -> None:
        if self.model.document is None or not self.available:
            return
        if self._edge_map is not None and self._edges_revision == self.model.image_revision:
            then()
            return
        self._waiting.append(then)
        if self._edges_job is None:
            self._edges_revision = self.model.image_revision
            image = self.model.document.image.copy()
            self._edges_job = self.runner.submit("Edge detection (HED)", _compute_edges(image))
            self.status.emit("Detecting edges…")
            self.busy_changed.emit(True)

    def _show_overlay(self) -> None:
        if not self.showing or self._edge_map is None:
            return
        self._overlay = overlay_strength(self._edge_map, self._guide_lines)
        self._overlay[self.model.document.mask] = 0  # edges of the known region only
        self.canvas.set_edges_overlay(self._overlay)

    def _suggest_into_guide(self) -> None:
        document = self.model.document
        new_guide = document.guide.copy()
        new_guide[suggested_lines(document.mask, self._guide_lines)] = GUIDE_LINE
        if commands.push_layer_change(self.model, "Suggest edges", "guide", new_guide) is None:
            self.status.emit("No edges found around the Hole.")
        else:
            self.status.emit("Edges around the Hole copied into the Guide; extend them into the Hole.")

    # --- Job results -------------------------------------------------------------------------

    def _on_finished(self, job_id: int, result: object) -> None:
        if job_id == self._check_job:
            self._check_job = None
            self.available, self.reason = bool(result[0]), str(result[1])
            self.availability_changed.emit(self.available, self.reason)
        elif job_id == self._edges_job:
            self._edges_job = None
            self.busy_changed.emit(False)
            if self._edges_revision != self.model.image_revision:
                self._retry_waiting()
                return
            self._edge_map, self._guide_lines = result
            self.status.emit("Edges ready.")
            waiting, self._waiting = self._waiting, []
            for then in waiting:
                then()

    def _retry_waiting(self) -> None:
        # The image changed while HED ran: compute again for the image as it is now.
        waiting, self._waiting = self._waiting, []
        for then in waiting:
            self._with_edges(then)

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self._check_job:
            self._check_job = None
            self.available, self.reason = False, message
            self.availability_changed.emit(False, message)
        elif job_id == self._edges_job:
            self._edges_job = None
            self._waiting.clear()
            self.busy_changed.emit(False)
            self.error.emit(message)

    def _on_cancelled(self, job_id: int) -> None:
        if job_id == self._edges_job:
            self._edges_job = None
            self._waiting.clear()
            self.busy_changed.emit(False)

    def _on_layer_changed(self, layer: str, box: Box) -> None:
        if self._overlay is None:
            return
        if layer == "mask":
            fresh = overlay_strength(self._edge_map[box.slices], self._guide_lines[box.slices])
            fresh[self.model.document.mask[box.slices]] = 0
            self._overlay[box.slices] = fresh
            self.canvas.refresh("edges", box)
        elif layer == "image" and self.showing:
            # The image changed (a fill): its old edges would outline what was just removed.
            self._overlay = None
            self.canvas.set_edges_overlay(None)
            self._with_edges(self._show_overlay)
            if self._edges_job is not None:
                # Added to the fill's own "Filled…" line, which is emitted once this change lands.
                QTimer.singleShot(0, lambda: self.note.emit("Detecting edges of the changed photo…"))

    def _on_document_replaced(self) -> None:
        if self._edges_job is not None:
            self.runner.cancel(self._edges_job)
            self._edges_job = None
            self.busy_changed.emit(False)
        self._edge_map = self._guide_lines = self._overlay = None
        self._waiting.clear()
        self._edges_revision = -1
        if self.showing and self.model.document is not None:
            self._with_edges(self._show_overlay)
