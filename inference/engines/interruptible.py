"""Running one uninterruptible native call (e.g. ``cv2.inpaint`` on a big Hole) so Cancel stops it.

A native call holds its thread until it returns: a cancelled Job would keep a core busy for
seconds. Long calls therefore run in one helper process, started on first use and kept for the
next call; cancelling kills it (the next call starts a fresh one). Short calls stay in-process,
where a process round trip would cost more than the call.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

from inference.engines.contract import CancelCheck, Cancelled

_POLL_SECONDS = 0.05


def _serve(connection) -> None:
    """The helper process: run each (function, args) it is sent and send back the outcome."""
    while True:
        try:
            function, args = connection.recv()
        except EOFError:
            return
        try:
            connection.send(("ok", function(*args)))
        except Exception as error:  # noqa: BLE001 - the parent re-raises it with its message
            connection.send(("error", f"{type(error).__name__}: {error}"))


class HelperProcess:
    """One helper process, reused between calls, killed when a call is cancelled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = None
        self._connection = None

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        # spawn, not fork: forking a process that runs Qt and worker threads is unsafe.
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end,), daemon=True,
                                        name="inpaint-native-call")
        self._process.start()
        child_end.close()
        self._connection = parent_end

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
        self._process = None
        self._connection = None

    def call(self, function: Callable[..., Any], args: tuple, should_cancel: CancelCheck) -> Any:
        """``function(*args)`` in the helper process; raises :class:`Cancelled` (and kills it) on cancel."""
        with self._lock:
            self._ensure_started()
            self._connection.send((function, args))
            while not self._connection.poll(_POLL_SECONDS):
                if should_cancel():
                    self.stop()
                    raise Cancelled()
                if not self._process.is_alive():
                    self.stop()
                    raise RuntimeError("the helper process running the fill ended unexpectedly")
            status, value = self._connection.recv()
        if status == "error":
            raise RuntimeError(value)
        return value


_SHARED = HelperProcess()


def call_interruptibly(function: Callable[..., Any], args: tuple, should_cancel: CancelCheck) -> Any:
    """Run a picklable module-level ``function(*args)`` where Cancel can stop it."""
    return _SHARED.call(function, args, should_cancel)


def stop_helper() -> None:
    """End the shared helper process (tests, shutdown); the next call starts another."""
    with _SHARED._lock:
        _SHARED.stop()
