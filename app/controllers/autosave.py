"""Autosave for crash recovery, and the recovery check at start.

After a change, once the editor has been idle for N seconds (setting ``autosave/idle_seconds``,
default 30; ``autosave/enabled`` switches it off), the tiles of every layer changed since the last
autosave are copied on the UI thread — a few small copies — and written on a background thread
into this Document's recovery folder (see :mod:`inference.io.recovery`), so painting never waits
for a disk. Each folder is held by a lock file while its editor runs; at start, folders whose
lock is free belong to an editor that died, and the recovery dialog offers them. A clean exit
removes the folder; SIGTERM writes a last autosave and keeps it.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal

from app.document import LAYERS
from app.history.model import DocumentModel
from app.settings import Preferences
from inference.io.images import remove_stale_temporaries
from inference.io.recovery import (
    TILE,
    LayerSnapshot,
    RecoveryInfo,
    RecoveryWriter,
    Snapshot,
    all_tile_keys,
    list_recoveries,
    remove_unreferenced,
    thumbnail_of,
    tile_keys,
    tile_slices,
)

DEFAULT_IDLE_SECONDS = 30.0
RECOVERY_ENV = "INPAINT_STUDIO_RECOVERY"
WAIT_FOR_WRITE_S = 20.0  # a clean exit waits this long at most for an autosave in flight


def recovery_root() -> Path:
    """The per-user folder of recovery folders: QStandardPaths.AppDataLocation/recovery, or
    ``INPAINT_STUDIO_RECOVERY`` when set (tests, and several isolated editors on one account)."""
    if os.environ.get(RECOVERY_ENV):
        return Path(os.environ[RECOVERY_ENV])
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location) / "recovery"


@functools.cache
def app_version() -> str:
    """The installed package's version (looked up once: the lookup reads package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inpaint-studio")
    except PackageNotFoundError:
        return "unknown"


def _lock_for(folder: Path) -> QLockFile:
    lock = QLockFile(str(folder.with_name(folder.name + ".lock")))
    lock.setStaleLockTime(0)  # stale only when its process is gone, however long it has run
    return lock


class Autosaver(QObject):
    """Keeps the recovery folder of the open Document up to date while the editor runs."""

    saved = Signal(int, float)  # bytes written, seconds on the background thread
    failed = Signal(str)

    def __init__(self, model: DocumentModel, preferences: Preferences, root: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.preferences = preferences
        self.root = root or recovery_root()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inpaint-autosave")
        self._executor.submit(time.sleep, 0)  # start its thread now, not during the first autosave
        self._pending: Future | None = None
        self._writer: RecoveryWriter | None = None
        self._lock: QLockFile | None = None
        self._dirty: dict[str, set] = {}
        self._waiting_for_gesture = False
        self._closed = False  # after finish(): nothing more is written
        self._superseded: list[tuple[Path, QLockFile]] = []  # recovered folders, deleted after our first write
        self.last_ui_seconds = 0.0  # UI-thread time of the last autosave, wall and CPU (the benchmark reads it)
        self.last_ui_cpu_seconds = 0.0
        self._version = app_version()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.autosave_now)
        self.saved.connect(self._on_saved)
        self.failed.connect(self._on_failed)
        model.layer_changed.connect(self._on_layer_changed)
        model.document_replaced.connect(self._on_document_replaced)
        model.gesture_changed.connect(self._on_gesture_changed)
        self._on_document_replaced()

    # --- settings ----------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        value = self.preferences.settings.value("autosave/enabled", "true")
        return str(value).lower() in ("true", "1")

    def set_enabled(self, enabled: bool) -> None:
        self.preferences.settings.setValue("autosave/enabled", "true" if enabled else "false")
        if not enabled:
            self._timer.stop()
        elif self.has_changes():
            self._timer.start(int(self.idle_seconds * 1000))

    @property
    def idle_seconds(self) -> float:
        try:
            return max(0.05, float(self.preferences.settings.value("autosave/idle_seconds", DEFAULT_IDLE_SECONDS)))
        except (TypeError, ValueError):
            return DEFAULT_IDLE_SECONDS

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def folder(self) -> Path | None:
        return self._writer.folder if self._writer else None

    # --- tracking changes --------------------------------------------------------------------

    def _on_document_replaced(self) -> None:
        # The editor asked about unsaved work before replacing the Document: its files can go.
        self._end_session(keep=False)
        self._drop_superseded()
        if self.model.document is not None and not self._closed:
            folder = self.root / uuid.uuid4().hex[:16]
            self._writer = RecoveryWriter(folder)
            self._dirty = {name: set() for name in LAYERS}

    def _on_layer_changed(self, layer: str, box) -> None:
        document = self.model.document
        if document is None or self._writer is None:
            return
        bottom, right = min(box.bottom, document.height), min(box.right, document.width)
        self._dirty.setdefault(layer, set()).update(tile_keys(max(box.top, 0), max(box.left, 0), bottom, right))
        if self.enabled:
            self._timer.start(int(self.idle_seconds * 1000))  # restarts: N seconds after the last change

    def _on_gesture_changed(self, active: bool) -> None:
        if not active and self._waiting_for_gesture:
            self._waiting_for_gesture = False
            self.autosave_now()

    def has_changes(self) -> bool:
        return any(self._dirty.values())

    # --- writing -----------------------------------------------------------------------------

    def autosave_now(self) -> Future | None:
        """Copy the changed tiles and write them in the background; None when there is nothing to do."""
        if self._closed or self._writer is None or self.model.document is None or not self.has_changes():
            return None
        if self.model.gesture_active:
            self._waiting_for_gesture = True  # half a Stroke is not a committed state
            return None
        if self._pending is not None and not self._pending.done():
            self._timer.start(200)  # one write at a time; the next one picks up everything since
            return None
        started, started_cpu = time.perf_counter(), time.thread_time()
        snapshot = self._snapshot()
        writer = self._writer
        self._pending = self._executor.submit(self._write, writer, snapshot)
        self.last_ui_seconds = time.perf_counter() - started
        self.last_ui_cpu_seconds = time.thread_time() - started_cpu
        return self._pending

    def _snapshot(self) -> Snapshot:
        document = self.model.document
        layers = {}
        for name in LAYERS:
            array = document.layer(name)
            keys = self._dirty.get(name, set())
            tiles = {key: array[tile_slices(key, TILE)].copy() for key in keys}
            layers[name] = LayerSnapshot(array.dtype.name, array.shape, "original" if name == "image" else "zeros",
                                         tiles)
        touched_preview = bool(self._dirty.get("image") or self._dirty.get("mask")) or self._writer.revision == 0
        thumbnail = thumbnail_of(document.image, document.mask) if touched_preview else None
        self._dirty = {name: set() for name in LAYERS}
        stack = self.model.undo_stack
        summary = stack.text(stack.index() - 1) if stack.index() > 0 else ""
        return Snapshot(document.source, layers, self._version, document.save_path, summary, thumbnail)

    def _write(self, writer: RecoveryWriter, snapshot: Snapshot) -> int:
        started = time.perf_counter()
        try:
            if self._lock is None and writer is self._writer:
                self._take_lock()  # before the folder exists, so no other editor takes it for debris
            written = writer.write(snapshot)
        except Exception as error:  # noqa: BLE001 — a failed autosave is reported, never fatal
            self.failed.emit(f"Autosave failed: {error}")
            raise
        self.saved.emit(written, time.perf_counter() - started)
        return written

    def _take_lock(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_for(self._writer.folder)
        self._lock.tryLock(0)

    def _on_saved(self, _bytes: int, _seconds: float) -> None:
        self._drop_superseded()

    def _drop_superseded(self) -> None:
        for folder, lock in self._superseded:
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlock()
        self._superseded.clear()

    def _on_failed(self, _message: str) -> None:
        """Start over in a fresh folder with every tile dirty; the old one stays until that succeeds."""
        document = self.model.document
        if self._writer is None or document is None:
            return
        if self._lock is not None:
            self._superseded.append((self._writer.folder, self._lock))
        self._writer, self._lock, self._pending = RecoveryWriter(self.root / uuid.uuid4().hex[:16]), None, None
        self._dirty = {name: set(all_tile_keys(document.layer(name).shape)) for name in LAYERS}
        if self.enabled:
            self._timer.start(int(self.idle_seconds * 1000))

    def wait(self, timeout: float = WAIT_FOR_WRITE_S) -> bool:
        """Block until the autosave in flight is on disk; False if it failed or did not finish in time."""
        if self._pending is None:
            return True
        try:
            self._pending.result(timeout)
        except FutureTimeout:
            return False
        except Exception:  # noqa: BLE001 — already reported through ``failed``
            return False
        return True

    # --- ending ------------------------------------------------------------------------------

    def adopt_recovered(self, folder: Path, lock: QLockFile) -> None:
        """A recovered folder stays on disk (and locked) until this session's first autosave."""
        self._superseded.append((folder, lock))

    @staticmethod
    def remove_folder(folder: Path, lock: QLockFile) -> None:
        """Delete a recovery folder the user discarded (its lock is held by us)."""
        shutil.rmtree(folder, ignore_errors=True)
        lock.unlock()

    def _end_session(self, keep: bool) -> None:
        self._timer.stop()
        self.wait()
        if self._writer is not None and not keep:
            self._writer.remove()
        if self._lock is not None:
            self._lock.unlock()
        self._writer, self._lock, self._pending = None, None, None

    def finish(self, keep: bool = False) -> None:
        """Stop autosaving. A clean exit removes the recovery files; ``keep`` (SIGTERM) writes a last one."""
        if keep:
            self.autosave_now()
            if self.wait() and self._pending is not None and self._pending.exception() is None:
                self._drop_superseded()  # the last autosave holds everything they held
        else:
            self._drop_superseded()
        self._end_session(keep=keep)
        self._closed = True
        self._executor.shutdown(wait=True)


# --- at start ------------------------------------------------------------------------------------


def orphaned_recoveries(root: Path | None = None) -> list[tuple[RecoveryInfo, QLockFile]]:
    """Recovery folders of editors that died, each with its lock now held by us; debris is removed."""
    root = root or recovery_root()
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        lock = _lock_for(folder)
        if not lock.tryLock(0):
            continue  # another running editor owns it
        remove_stale_temporaries(folder, min_age_seconds=0)  # its writer is dead: no save is running
        remove_unreferenced(folder)
        infos = list_recoveries([folder])
        if infos:
            # The dead editor may have been saving beside the photo too; an old temporary there is debris.
            remove_stale_temporaries(infos[0].source_path.parent)
            found.append((infos[0], lock))
        else:  # died before its first manifest: nothing to recover
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlock()
    return sorted(found, key=lambda pair: pair[0].saved_at, reverse=True)
