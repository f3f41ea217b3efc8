"""A compare run in the background: one Job per Engine on the editor's one worker thread.

Every Engine of a run gets its own Job, queued in order, so each Result lands as soon as its
Engine is done and a slow Engine never holds back what the others already produced. The Jobs run
:func:`inference.evaluation.compare.run_engines` for one Engine each, so the compare view, the CLI and the
quality bench share the same blanking, timing, error capture and scoring. Engines are built on the
worker (``context.engine``) and kept there while the compare window is open.

Only the current run lands: cancelling or starting another run forgets the old Job ids, so a
Result that still arrives from them (an Engine that ignores the cancel flag) is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.document import Document
from app.worker import JobContext, JobRunner
from inference.engines.contract import Cancelled
from inference.evaluation.compare import EngineCache, Record, Result, damaged_input, record_of, run_engines
from inference.io.masks import hole_ratio


@dataclass(frozen=True)
class EngineChoice:
    """One Engine ticked for the run, with the options it is built with."""

    name: str
    label: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompareInputs:
    """Private copies of the Document's layers, taken when the run starts."""

    image: np.ndarray
    mask: np.ndarray
    guide: np.ndarray | None
    scored: bool  # the Image is intact and the Hole is simulated damage
    document: Document
    name: str  # the photo's file stem, for the CSV (as the compare CLI writes it)

    simulated: str = ""  # how the simulated Hole was made ("box, seed 0"); empty: the Document's own Hole

    @classmethod
    def from_document(cls, document: Document, scored: bool, simulated: np.ndarray | None = None,
                      simulated_label: str = "") -> CompareInputs:
        """Copies of the Document's layers; with ``simulated``, that Hole instead of the Document's.

        A simulated Hole lives in the Compare window only: the Document's Hole is never replaced by it.
        """
        inputs = document.fill_inputs()
        if simulated is None:
            return cls(inputs.image, inputs.mask, inputs.guide, scored, document, document.path.stem)
        return cls(inputs.image, simulated.copy(), inputs.guide, True, document, document.path.stem,
                   simulated_label)

    @property
    def applicable(self) -> bool:
        """Whether a Result may land in the photo: not when the Hole was simulated damage for scoring."""
        return not self.scored

    @cached_property
    def engine_input(self) -> np.ndarray:
        """What the Engines see: the Image, with its Hole blanked when scoring against it."""
        return damaged_input(self.image, self.mask) if self.scored else self.image

    @cached_property
    def hole_ratio(self) -> float:
        return hole_ratio(self.mask)


def engine_job(inputs: CompareInputs, choice: EngineChoice):
    """The function a Job runs on the worker: one Engine through the shared compare pipeline."""

    def run(context: JobContext) -> Result:
        cache = EngineCache(factory=lambda name: context.engine(name, **choice.options))
        steps = run_engines(
            inputs.image, inputs.mask, [choice.name], inputs.guide,
            ground_truth=inputs.image if inputs.scored else None,
            should_cancel=context.should_cancel,
            progress=lambda _engine, done, total: context.progress(done, total),
            cache=cache,
        )
        result = next(steps, None)
        if result is None:  # run_engines stops without a Result once the Job is cancelled
            raise Cancelled()
        result.label = choice.label
        return result

    return run


class CompareRun(QObject):
    """Queues the Engines of a run, relays their Jobs per Engine name, drops stale Results."""

    queued = Signal(str)  # engine name, when its Job is queued
    started = Signal(str)
    progress = Signal(str, int, int)  # engine, done, total
    result_ready = Signal(str, object)  # engine, Result (carrying the error when it failed)
    cancelled = Signal(str)
    finished = Signal()  # every Job of the run has landed, or the run was cancelled

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.inputs: CompareInputs | None = None
        self.choices: list[EngineChoice] = []
        self.results: dict[str, Result] = {}
        self._jobs: dict[int, str] = {}  # job id -> engine name, current run only
        runner.started.connect(self._on_started)
        runner.progress.connect(self._on_progress)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def start(self, inputs: CompareInputs, choices: Sequence[EngineChoice]) -> None:
        """Cancel any run in progress and queue ``choices`` on ``inputs``, in order."""
        self.cancel()
        self.inputs, self.choices, self.results = inputs, list(choices), {}
        for choice in self.choices:
            job_id = self.runner.submit(f"Compare: {choice.label}", engine_job(inputs, choice))
            self._jobs[job_id] = choice.name
            self.queued.emit(choice.name)
        if not self._jobs:
            self.finished.emit()

    def cancel(self) -> None:
        """Stop the queue: the running Engine is asked to stop, the waiting ones never start."""
        if not self._jobs:
            return
        jobs, self._jobs = self._jobs, {}
        for job_id, engine in jobs.items():
            self.runner.cancel(job_id)
            self.cancelled.emit(engine)
        self.finished.emit()

    def forget(self) -> None:
        """Cancel and drop the inputs and Results (another photo was opened)."""
        self.cancel()
        self.inputs, self.choices, self.results = None, [], {}

    def label_of(self, engine: str) -> str:
        return next((choice.label for choice in self.choices if choice.name == engine), engine)

    def records(self) -> list[Record]:
        """One CSV row per landed Result, in the order the Engines were queued."""
        if self.inputs is None:
            return []
        ratio = self.inputs.hole_ratio
        ordered = [self.results[c.name] for c in self.choices if c.name in self.results]
        return [record_of(self.inputs.name, result, ratio) for result in ordered]

    # --- worker signals ------------------------------------------------------------------------

    def _on_started(self, job_id: int) -> None:
        if job_id in self._jobs:
            self.started.emit(self._jobs[job_id])

    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        if job_id in self._jobs:
            self.progress.emit(self._jobs[job_id], done, total)

    def _on_finished(self, job_id: int, result: object) -> None:
        engine = self._jobs.pop(job_id, None)
        if engine is not None:
            self._land(engine, result)

    def _on_failed(self, job_id: int, message: str) -> None:
        # run_engines turns an Engine's exception into a Result; this is what escapes it (memory).
        engine = self._jobs.pop(job_id, None)
        if engine is not None:
            self._land(engine, Result(engine, self.label_of(engine), error=message))

    def _on_cancelled(self, job_id: int) -> None:
        engine = self._jobs.pop(job_id, None)
        if engine is not None:
            self.cancelled.emit(engine)
            self._finish_if_done()

    def _land(self, engine: str, result: Result) -> None:
        self.results[engine] = result
        self.result_ready.emit(engine, result)
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        if not self._jobs:
            self.finished.emit()
