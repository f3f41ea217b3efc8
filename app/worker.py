"""One long-lived worker thread that runs Jobs (fills, edge maps, weight imports) in order.

The UI submits a Job — a function of a :class:`JobContext` — and gets its id back at once; the
worker runs queued Jobs one after another and reports through signals carrying that id, so a
caller can ignore the Result of a Job it cancelled or replaced. Engines are built on the worker
thread (a neural engine loads its model there) and kept while they stay selected.
"""

from __future__ import annotations

import itertools
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from inference.engines.contract import Cancelled, Engine

EngineFactory = Callable[..., Engine]


def registry_factory(name: str, **options: Any) -> Engine:
    from inference.engines.registry import create_engine

    return create_engine(name, **options)


@dataclass
class Job:
    id: int
    label: str
    run: Callable[[JobContext], Any]
    cancel_flag: threading.Event


class JobContext:
    """What a running Job may use: its cancel flag, a progress callback and the engine cache."""

    def __init__(self, job: Job, worker: Worker) -> None:
        self._job = job
        self._worker = worker

    def should_cancel(self) -> bool:
        return self._job.cancel_flag.is_set()

    def progress(self, done: int, total: int) -> None:
        self._worker.progress.emit(self._job.id, int(done), int(total))

    def engine(self, name: str, **options: Any) -> Engine:
        return self._worker.engine(name, options)


class Worker(QObject):
    """Lives on the worker thread; every slot here runs there."""

    started = Signal(int)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, int, int)

    def __init__(self, engine_factory: EngineFactory) -> None:
        super().__init__()
        self._engine_factory = engine_factory
        self._engines: dict[tuple, Engine] = {}

    def engine(self, name: str, options: dict[str, Any]) -> Engine:
        key = (name, tuple(sorted(options.items())))
        if key not in self._engines:
            self._engines[key] = self._engine_factory(name, **options)
        return self._engines[key]

    @Slot(object)
    def keep_engines(self, names: object) -> None:
        """Drop cached engines not named in ``names`` (a neural model frees its memory)."""
        for key in [key for key in self._engines if key[0] not in names]:
            del self._engines[key]

    @Slot(object)
    def run_job(self, job: Job) -> None:
        if job.cancel_flag.is_set():
            self.cancelled.emit(job.id)
            return
        self.started.emit(job.id)
        try:
            result = job.run(JobContext(job, self))
        except Cancelled:
            self.cancelled.emit(job.id)
        except MemoryError:
            self.failed.emit(job.id, f"{job.label} ran out of memory; try a smaller Hole or another engine.")
        except Exception as error:  # noqa: BLE001 — any engine failure is reported, never fatal
            traceback.print_exc()
            self.failed.emit(job.id, f"{job.label} failed: {error or type(error).__name__}")
        else:
            if job.cancel_flag.is_set():
                self.cancelled.emit(job.id)
            else:
                self.finished.emit(job.id, result)


class JobRunner(QObject):
    """UI-side handle of the worker thread: submit, cancel, and signals per Job id."""

    started = Signal(int)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, int, int)
    _submit = Signal(object)
    _keep = Signal(object)

    def __init__(self, engine_factory: EngineFactory = registry_factory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._flags: dict[int, threading.Event] = {}
        self._thread = QThread()
        self._thread.setObjectName("inpaint-worker")
        self._worker = Worker(engine_factory)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run_job)
        self._keep.connect(self._worker.keep_engines)
        self._worker.started.connect(self.started)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.progress.connect(self.progress)
        self._thread.start()

    def submit(self, label: str, run: Callable[[JobContext], Any]) -> int:
        """Queue ``run`` on the worker thread; returns the Job id the signals will carry."""
        job = Job(next(self._ids), label, run, threading.Event())
        self._flags[job.id] = job.cancel_flag
        self._submit.emit(job)
        return job.id

    def cancel(self, job_id: int) -> None:
        flag = self._flags.get(job_id)
        if flag is not None:
            flag.set()

    def cancel_all(self) -> None:
        for flag in self._flags.values():
            flag.set()

    def is_pending(self, job_id: int) -> bool:
        return job_id in self._flags

    def keep_engines(self, names: set[str]) -> None:
        self._keep.emit(set(names))

    def _on_finished(self, job_id: int, result: object) -> None:
        self._flags.pop(job_id, None)
        self.finished.emit(job_id, result)

    def _on_failed(self, job_id: int, message: str) -> None:
        self._flags.pop(job_id, None)
        self.failed.emit(job_id, message)

    def _on_cancelled(self, job_id: int) -> None:
        self._flags.pop(job_id, None)
        self.cancelled.emit(job_id)

    def shutdown(self, wait_ms: int = 5000) -> bool:
        """Cancel everything and stop the thread, waiting at most ``wait_ms``; False if a Job ran on.

        A Job that ignores its cancel flag (one long library call) may outlive the wait. Its thread
        is then kept referenced here, because destroying a running QThread aborts the process
        ("QThread: Destroyed while thread is still running"); :func:`stranded_threads` tells the
        launcher to end the process without running destructors.
        """
        self.cancel_all()
        self._thread.quit()
        if self._thread.wait(wait_ms):
            return True
        _STRANDED.append(self._thread)
        return False


_STRANDED: list[QThread] = []  # worker threads still running a Job after shutdown gave up waiting


def stranded_threads() -> int:
    """How many worker threads are still running after their shutdown timed out."""
    return sum(1 for thread in _STRANDED if thread.isRunning())
