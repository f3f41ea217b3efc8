"""Restoring old photos in the editor: Detect dust / Detect damage, and the Scratch brush's sensitivity.

Detection runs on the worker as a Job on a copy of the Image; its proposal is shown over the
photo in its own colour (not yet the Hole) with a sensitivity slider that re-runs it, until the
user adds it to the Hole (one undo step) or discards it. A proposal for an Image that has changed
since (a fill landed) is dropped, never shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from app.canvas.editor_canvas import EditorCanvas
from app.controllers.tools import ToolController
from app.history import commands
from app.history.model import DocumentModel
from app.tools.restoration_options import RestorePanel, SensitivitySlider
from app.tools.scratch import ScratchBrush
from app.worker import JobContext, JobRunner
from inference.engines.regions import Box
from inference.restoration import DEFAULT_SENSITIVITY
from inference.restoration.detector import describe_detector

PROPOSAL_LAYER = "proposals"
PROPOSAL_COLOR = QColor(0, 220, 90)  # green: unlike the red Hole, the cyan Guide and the yellow edges
PROPOSAL_OPACITY = 0.85
RERUN_DELAY_MS = 300  # after the slider stops moving
KIND_NAMES = {"dust": "dust", "damage": "scratches and tears"}


def _detect(kind: str, image: np.ndarray, sensitivity: float):
    def run(_context: JobContext) -> np.ndarray:
        from inference.restoration import propose_damage, propose_dust

        return (propose_dust if kind == "dust" else propose_damage)(image, sensitivity)

    return run


class RestorationController(QObject):
    status = Signal(str)
    error = Signal(str)

    def __init__(self, model: DocumentModel, runner: JobRunner, canvas: EditorCanvas, tools: ToolController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model, self.runner, self.canvas = model, runner, canvas
        self.panel = RestorePanel(DEFAULT_SENSITIVITY)
        self.panel.detector.setText(describe_detector())
        self.brush_sensitivity = SensitivitySlider(ScratchBrush.sensitivity, "Left: only strong defects inside "
                                                   "the Stroke; right: fainter ones too")
        self.brush_sensitivity.changed.connect(ScratchBrush.set_sensitivity)
        tools.extras[ScratchBrush.name] = self.brush_sensitivity
        self.kind: str | None = None
        self.proposal: np.ndarray | None = None
        self._job: int | None = None
        self._job_revision = -1
        self._rerun = QTimer(self, singleShot=True, interval=RERUN_DELAY_MS)
        self._rerun.timeout.connect(lambda: self.detect(self.kind) if self.kind else None)
        self.panel.detect_requested.connect(self.detect)
        self.panel.add_requested.connect(self.add_to_hole)
        self.panel.discard_requested.connect(self.discard)
        self.panel.sensitivity.changed.connect(lambda _value: self._rerun.start() if self.kind else None)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        model.document_replaced.connect(self.discard)
        model.layer_changed.connect(self._on_layer_changed)

    def action_handlers(self) -> dict:
        return {"detect_dust": lambda: self.detect("dust"), "detect_damage": lambda: self.detect("damage"),
                "add_proposals": self.add_to_hole}

    @property
    def busy(self) -> bool:
        return self._job is not None

    def detect(self, kind: str) -> None:
        document = self.model.document
        if document is None:
            self.status.emit("Open a photo first.")
            return
        if self._job is not None:
            self.runner.cancel(self._job)
        self.kind = kind
        sensitivity = self.panel.sensitivity.value()
        self._job_revision = self.model.image_revision
        self._job = self.runner.submit(f"Detect {kind}", _detect(kind, document.image.copy(), sensitivity))
        self.panel.show_proposal(f"Detecting {KIND_NAMES[kind]}…", busy=True)
        self.status.emit(f"Detecting {KIND_NAMES[kind]}…")

    def add_to_hole(self) -> None:
        document = self.model.document
        if document is None or self.proposal is None or self.busy:
            return
        text = f"Add {KIND_NAMES[self.kind]} to the Hole"
        command = commands.push_layer_change(self.model, text, "mask", document.mask | self.proposal)
        self.discard()
        self.status.emit("Added to the Hole: fill it with any engine." if command else "Already in the Hole.")

    def discard(self) -> None:
        if self._job is not None:
            self.runner.cancel(self._job)
            self._job = None
        self._rerun.stop()
        self.kind, self.proposal = None, None
        self.canvas.remove_layer(PROPOSAL_LAYER)
        self.panel.show_proposal(None)

    def _on_finished(self, job_id: int, result: object) -> None:
        if job_id != self._job:
            return
        self._job = None
        if self.model.document is None or self._job_revision != self.model.image_revision:
            self.discard()  # the photo changed while detecting: these marks no longer fit it
            return
        self.proposal = np.asarray(result, bool)
        self.canvas.set_layer(PROPOSAL_LAYER, self.proposal, PROPOSAL_COLOR, coverage=True, opacity=PROPOSAL_OPACITY)
        share = self.proposal.mean()
        summary = (f"{KIND_NAMES[self.kind].capitalize()}: {share:.2%} of the photo proposed (green). "
                   "Check it at 100 %, then Add to Hole." if self.proposal.any()
                   else f"No {KIND_NAMES[self.kind]} found at this sensitivity.")
        self.panel.show_proposal(summary)
        self.status.emit(summary)

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self._job:
            self._job = None
            self.panel.show_proposal(None)
            self.error.emit(message)

    def _on_layer_changed(self, layer: str, _box: Box) -> None:
        if layer == "image" and self.proposal is not None:
            self.discard()
