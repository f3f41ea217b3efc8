"""Fills in the background: send a Job, show progress, apply the Result as one undo command.

Only the Result of the current Job lands: a Job that was cancelled, replaced by a newer fill, or
started on another Document is dropped when it comes back. "Fill again" starts from the image
and Hole as they were before the last fill, and lands as a new command on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from app.document import Document, FillInputs
from app.history import commands
from app.history.model import DocumentModel
from app.worker import JobContext, JobRunner


@dataclass
class RunningFill:
    job_id: int
    engine_label: str
    document: Document
    job_mask: np.ndarray
    again: bool


def configured(engine, inputs: FillInputs, seed: int):
    """The engine as this Job wants it: restricted to the Sampling area and, for Fill again, with a
    new seed, when the engine has those settings (the patch engine); others run as they are."""
    if inputs.sampling is not None and hasattr(engine, "restricted_to"):
        engine = engine.restricted_to(inputs.sampling)
    if seed and hasattr(engine, "with_seed"):
        engine = engine.with_seed(engine.seed + seed)
    return engine


class FillController(QObject):
    busy_changed = Signal(bool)
    status = Signal(str)  # a line for the status bar
    progress = Signal(int, int)  # done, total (0, 0 while the engine reports nothing)
    elapsed = Signal(float)  # seconds since the running fill started
    error = Signal(str)

    def __init__(self, model: DocumentModel, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.runner = runner
        self.engine_name = "patch"
        self.engine_label = "Content-aware (PatchMatch)"
        self.fills_again = 0  # each Fill again asks a seeded engine for another result
        self.clear_mask_after_fill = True
        self.engine_accepts_guide = False
        self._warned_guide: set[str] = set()  # engines already said to ignore the Guide
        self._guide_note = ""
        self.running: RunningFill | None = None
        self._waiting_result: tuple[RunningFill, np.ndarray, float] | None = None
        self._clock = QElapsedTimer()
        self._ticker = QTimer(self)
        self._ticker.setInterval(100)
        self._ticker.timeout.connect(lambda: self.elapsed.emit(self._clock.elapsed() / 1000.0))
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.progress.connect(self._on_progress)
        model.document_replaced.connect(self.cancel)
        model.gesture_changed.connect(self._on_gesture_changed)

    def action_handlers(self) -> dict:
        return {"fill": self.fill, "fill_again": self.fill_again, "cancel_fill": self.cancel}

    @property
    def busy(self) -> bool:
        return self.running is not None

    def set_engine(self, name: str, label: str, accepts_guide: bool = False) -> None:
        self.engine_name, self.engine_label = name, label
        self.engine_accepts_guide = accepts_guide
        self.runner.keep_engines({name})

    def _guide_warning(self, inputs: FillInputs, label: str) -> str:
        """Once per engine: say that this fill ignores the Guide the user drew."""
        if inputs.guide is None or self.engine_accepts_guide or self.engine_name in self._warned_guide:
            return ""
        self._warned_guide.add(self.engine_name)
        return (f" {label} ignores the Guide (sketch lines, suggested edges); an engine marked ✎ in the "
                "list follows it.")

    def can_fill_again(self) -> bool:
        return self.model.document is not None and commands.last_fill(self.model) is not None

    def fill(self) -> bool:
        document = self.model.document
        if document is None:
            return False
        if not document.mask.any():
            self.status.emit("Paint the Hole first: nothing is masked.")
            return False
        self._start(document.fill_inputs(), again=False)
        return True

    def fill_again(self) -> bool:
        """Fill the last filled Hole again (with the engine now selected), from the pre-fill image."""
        command = commands.last_fill(self.model)
        if self.model.document is None or command is None:
            self.status.emit("Nothing to fill again: fill a Hole first.")
            return False
        inputs = self.model.document.inputs_before(command.image_patches, command.job_mask())
        self._start(inputs, again=True)
        return True

    def _start(self, inputs: FillInputs, again: bool) -> None:
        if self.running is not None:
            self.runner.cancel(self.running.job_id)  # superseded: its Result will be dropped
        name, label = self.engine_name, self.engine_label
        if again:
            self.fills_again += 1
        seed = self.fills_again

        def run(context: JobContext) -> np.ndarray:
            engine = configured(context.engine(name), inputs, seed)
            return engine.inpaint(inputs.image, inputs.mask, inputs.guide,
                                  should_cancel=context.should_cancel, progress=context.progress)

        job_id = self.runner.submit(f"Fill with {label}", run)
        self.running = RunningFill(job_id, label, self.model.document, inputs.mask, again)
        self._clock.start()
        self._ticker.start()
        self._guide_note = self._guide_warning(inputs, label)  # repeated with the "Filled" line
        self.status.emit(f"Filling with {label}…{self._guide_note}")
        self.progress.emit(0, 0)
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        if self.running is None:
            return
        self.runner.cancel(self.running.job_id)
        self._stop(f"Fill with {self.running.engine_label} cancelled.")

    def _stop(self, message: str) -> None:
        self.running = None
        self._waiting_result = None
        self._ticker.stop()
        self.status.emit(message)
        self.busy_changed.emit(False)

    def _is_current(self, job_id: int) -> bool:
        return self.running is not None and self.running.job_id == job_id

    def _on_finished(self, job_id: int, result: object) -> None:
        if not self._is_current(job_id):
            return  # a cancelled or superseded Job, or not a fill
        running = self.running
        seconds = self._clock.elapsed() / 1000.0
        if running.document is not self.model.document:
            self._stop("The photo changed while filling; the result was dropped.")
            return
        if self.model.gesture_active:
            # Landing now would mix the Result into the Stroke being painted; wait for its end.
            self._waiting_result = (running, result, seconds)
            return
        self._land(running, result, seconds)

    def _land(self, running: RunningFill, result: np.ndarray, seconds: float) -> None:
        commands.push_fill(self.model, running.engine_label, result, running.job_mask,
                             self.clear_mask_after_fill, running.again)
        self._stop(f"Filled with {running.engine_label} in {seconds:.1f} s.{self._guide_note}")

    def _on_gesture_changed(self, active: bool) -> None:
        if active or self._waiting_result is None:
            return
        running, result, seconds = self._waiting_result
        self._waiting_result = None
        if self.running is running and running.document is self.model.document:
            self._land(running, result, seconds)

    def _on_failed(self, job_id: int, message: str) -> None:
        if not self._is_current(job_id):
            return
        self._stop(message)
        self.error.emit(message)

    def _on_cancelled(self, job_id: int) -> None:
        if self._is_current(job_id):
            self._stop(f"Fill with {self.running.engine_label} cancelled.")

    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        if self._is_current(job_id):
            self.progress.emit(done, total)
