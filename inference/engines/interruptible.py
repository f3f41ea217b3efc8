"""Running one uninterruptible native call (e.g. ``cv2.inpaint`` on a big Hole) so Cancel stops it.

A native call holds its thread until it returns: a cancelled Job would keep a core busy for
seconds. Long calls therefore run in one helper process, started on first use and kept for the
next call; cancelling kills it (the next call starts a fresh one). Short calls stay in-process,
where a process round trip would cost more than the call.

The helper is a plain ``python -c`` child speaking length-prefixed pickles over its stdin and
stdout (both ends are our own code). Not ``multiprocessing``: its spawn start re-runs the
caller's main script, which breaks any script without a ``__main__`` guard, and fork is unsafe in
a process running Qt and worker threads.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from inference.engines.contract import CancelCheck, Cancelled

_POLL_SECONDS = 0.05
_HEADER = 8  # bytes of the little-endian length before each pickle
_CHILD = "from inference.engines.interruptible import serve; serve()"


def _write_message(stream, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_HEADER, "little") + data)
    stream.flush()


def _read_message(stream) -> Any:
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        raise EOFError
    return pickle.loads(stream.read(int.from_bytes(header, "little")))


def serve() -> None:
    """The helper process: run each (function, args) it is sent and send back the outcome."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    while True:
        try:
            function, args = _read_message(requests)
        except EOFError:
            return
        try:
            reply = ("ok", function(*args))
        except Exception as error:  # noqa: BLE001 - the parent raises it with this message
            reply = ("error", f"{type(error).__name__}: {error}")
        _write_message(replies, reply)


class HelperProcess:
    """One helper process, reused between calls, killed when a call is cancelled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def _ensure_started(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
            self._process = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, env=env)
        return self._process

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
        self._process = None

    def call(self, function: Callable[..., Any], args: tuple, should_cancel: CancelCheck) -> Any:
        """``function(*args)`` in the helper process; raises :class:`Cancelled` (and kills it) on cancel."""
        with self._lock:
            process = self._ensure_started()
            outcome: list = []
            reader = threading.Thread(target=lambda: outcome.append(self._reply(process)), daemon=True)
            try:
                _write_message(process.stdin, (function, args))
            except (BrokenPipeError, OSError) as error:
                self.stop()
                raise RuntimeError(f"the helper process running the fill cannot be reached: {error}") from error
            reader.start()
            while reader.is_alive():
                reader.join(_POLL_SECONDS)
                if reader.is_alive() and should_cancel():
                    self.stop()
                    reader.join()
                    raise Cancelled()
            status, value = outcome[0]
            if status == "lost":
                self.stop()
                raise RuntimeError("the helper process running the fill ended unexpectedly")
        if status == "error":
            raise RuntimeError(value)
        return value

    @staticmethod
    def _reply(process: subprocess.Popen) -> tuple[str, Any]:
        try:
            return _read_message(process.stdout)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return ("lost", None)

    @property
    def running(self) -> subprocess.Popen | None:
        return self._process


_SHARED = HelperProcess()


def call_interruptibly(function: Callable[..., Any], args: tuple, should_cancel: CancelCheck) -> Any:
    """Run a picklable module-level ``function(*args)`` where Cancel can stop it."""
    return _SHARED.call(function, args, should_cancel)


def stop_helper() -> None:
    """End the shared helper process (tests, shutdown); the next call starts another."""
    with _SHARED._lock:
        _SHARED.stop()
