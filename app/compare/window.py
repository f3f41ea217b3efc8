"""The Compare window: every ticked Engine on the open photo, side by side, scored on request.

It works on the editor's own Document, undo stack and worker: a run queues one Job per Engine on
the editor's one worker thread, and "Use this" lands a Result as the same undoable fill command as
Fill. Simulated damage ("Generate mask", "Load mask…") is for scoring only: it lives in this window
and never replaces the Document's Hole, and a scoring run's Results are never offered for the photo.
The main window only creates a :class:`CompareLauncher` and wires its action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QSignalBlocker, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QScrollArea, QSplitter, QToolBar, QVBoxLayout, QWidget

from app.compare.grid import PaneGrid
from app.compare.options import DamagePanel, EngineList
from app.compare.run import CompareInputs, CompareRun
from app.dialogs import questions as dialogs
from app.history import commands
from app.icons import icon
from inference.evaluation.compare import RECORD_COLUMNS, Result, record_cells, write_csv
from inference.evaluation.maskgen import generate_mask
from inference.io.masks import MaskError

CSV_FILTER = "CSV (*.csv)"


class CompareWindow(QMainWindow):
    """Engines side by side on the editor's photo; ``editor`` is the main window."""

    def __init__(self, editor, specs: Callable[[], Sequence], parent: QWidget | None = None) -> None:
        super().__init__(parent or editor, Qt.WindowType.Window)
        self.editor = editor
        self.model = editor.model
        self.run = CompareRun(editor.runner, self)
        self.grid = PaneGrid()
        self.engines = EngineList(specs)
        self.damage = DamagePanel()
        self.zoom_label = QLabel("")
        self.simulated: np.ndarray | None = None  # the scoring Hole, never the Document's
        self.simulated_label = ""
        self._applying = False  # a Result of ours is landing: its own change does not make the others stale
        self._clock = QElapsedTimer()
        self.setWindowTitle("Compare engines")
        self.setObjectName("compare_window")
        self._build()
        self._connect()
        self._fit_screen()
        self._update_enabled()

    # --- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        side = QWidget()
        column = QVBoxLayout(side)
        column.addWidget(self.engines)
        column.addWidget(self.damage)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(side.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([270, 1230])
        self.setCentralWidget(splitter)
        self.actions = {
            "run": self._action("&Run", "Run every ticked engine on the photo and Hole", ("Ctrl+Return",), "fill"),
            "cancel": self._action("&Cancel", "Stop the queue (Esc closes the window when nothing runs)",
                                   ("Esc",), "cancel"),
            "close": self._action("C&lose", "Close the Compare window", (QKeySequence.StandardKey.Close,)),
            "fit": self._action("&Fit", "Fit the panes", ("Ctrl+0",), "zoom_fit"),
            "actual": self._action("&100 %", "One photo pixel per screen pixel", ("Ctrl+1",), "zoom_100"),
            "whole": self._action("&Whole image", "Show the whole photo instead of the region around the Hole",
                                  checkable=True),
            "export": self._action("&Export CSV…", "Save this run's times and scores as CSV", ("Ctrl+E",)),
        }
        bar = QToolBar("Compare")
        bar.setObjectName("compare_toolbar")
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addActions([self.actions["run"], self.actions["cancel"]])
        bar.addSeparator()
        bar.addActions([self.actions["fit"], self.actions["actual"], self.actions["whole"]])
        bar.addSeparator()
        bar.addAction(self.actions["export"])
        self.addToolBar(bar)
        self.statusBar().addPermanentWidget(self.zoom_label)

    def _action(self, text: str, tip: str, keys: tuple = (), icon_name: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.setCheckable(checkable)
        if icon_name:
            action.setIcon(icon(icon_name))
        self.addAction(action)
        return action

    def _connect(self) -> None:
        a, run = self.actions, self.run
        a["run"].triggered.connect(self.start)
        a["cancel"].triggered.connect(self.cancel_or_close)
        a["close"].triggered.connect(self.close)
        a["fit"].triggered.connect(self.grid.fit)
        a["actual"].triggered.connect(self.grid.actual_pixels)
        a["whole"].toggled.connect(self.grid.set_whole_image)
        a["export"].triggered.connect(self.export_csv)
        run.started.connect(self._on_started)
        run.progress.connect(lambda engine, done, total: self._cell_call(engine, "set_progress", done, total))
        run.result_ready.connect(self._on_result)
        run.cancelled.connect(lambda engine: self._cell_call(engine, "set_cancelled"))
        run.finished.connect(self._on_finished)
        self.grid.use_requested.connect(self.use_result)
        self.grid.view.changed.connect(lambda: self.zoom_label.setText(f"{self.grid.view.zoom * 100:.0f} %"))
        self.damage.generate_requested.connect(self.generate_mask)
        self.damage.load_requested.connect(self.load_mask_dialog)
        self.damage.scored.toggled.connect(self._on_scored_toggled)
        self.model.document_replaced.connect(self._on_document_replaced)
        self.model.layer_changed.connect(self._on_layer_changed)

    def _fit_screen(self) -> None:
        """1500 × 900 where the screen allows; within the screen's free area on a small laptop."""
        screen = self.screen() or self.editor.screen()
        free = screen.availableGeometry() if screen is not None else None
        width, height = 1500, 900
        if free is not None:
            width, height = min(width, free.width() - 20), min(height, free.height() - 40)
        self.resize(width, height)

    # --- running -----------------------------------------------------------------------------

    def start(self) -> bool:
        """Run every ticked Engine on the Document as it is now; False when there is nothing to run."""
        document = self.model.document
        if document is None:
            return self._say("Open a photo first.")
        if not document.mask.any():
            return self._say("Paint a Hole first, or generate or load a mask.")
        choices = self.engines.choices()
        if not choices:
            return self._say("Tick at least one engine.")
        self.run.cancel()  # before the new cells exist, so the old run's cancellations miss them
        inputs = self._inputs(document)
        self.grid.reset(inputs, choices)
        self._clock.start()
        self.run.start(inputs, choices)
        self.setWindowTitle(f"Compare engines — {document.display_name}")
        self._update_enabled()
        return True

    def _inputs(self, document) -> CompareInputs:
        scored = self.damage.scored.isChecked()
        simulated = self.simulated if scored else None
        return CompareInputs.from_document(document, scored, simulated, self.simulated_label)

    def cancel(self) -> None:
        if self.run.busy:
            self.run.cancel()
            self._say("Cancelled.")

    def cancel_or_close(self) -> None:
        """Esc: stop the queue when it runs, else close the window."""
        if self.run.busy:
            self.cancel()
        else:
            self.close()

    def set_engines(self, names: Sequence[str]) -> None:
        """Tick exactly ``names`` (those that can run)."""
        self.engines.tick_only(names)

    def _cell_call(self, engine: str, method: str, *args) -> None:
        cell = self.grid.cells.get(engine)
        if cell is not None:
            getattr(cell, method)(*args)

    def _on_started(self, engine: str) -> None:
        self._cell_call(engine, "set_running")
        done = len(self.run.results)
        self._say(f"Running {self.run.label_of(engine)} ({done + 1} of {len(self.run.choices)})…")

    def _on_result(self, engine: str, result: Result) -> None:
        self.grid.show_result(engine, result)
        self._update_enabled()

    def _on_finished(self) -> None:
        results = self.run.results.values()
        if len(self.run.results) == len(self.run.choices):
            failed = sum(not result.ok for result in results)
            self._say(f"Done: {len(self.run.results)} engines in {self._clock.elapsed() / 1000.0:.1f} s"
                      + (f", {failed} failed." if failed else "."))
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.actions["cancel"].setEnabled(self.run.busy)
        self.actions["export"].setEnabled(bool(self.run.results))

    def _say(self, message: str) -> bool:
        self.statusBar().showMessage(message)
        return False

    # --- results -----------------------------------------------------------------------------

    def use_result(self, engine: str) -> bool:
        """Apply ``engine``'s Result to the Document as one undoable fill command."""
        inputs, result = self.run.inputs, self.run.results.get(engine)
        if inputs is None or result is None or not result.ok:
            return False
        if inputs.document is not self.model.document:
            return self._say("Another photo is open now; this Result belongs to the previous one.")
        if not inputs.applicable:
            return self._say("This Result fills simulated damage for scoring; it is not applied to the photo.")
        self._applying = True
        try:
            command = commands.push_fill(self.model, result.label, result.image, inputs.mask, self.editor.fills.clear_mask_after_fill)
        finally:
            self._applying = False
        self._say(f"Applied the {result.label} result (Ctrl+Z undoes it)." if command is not None
                  else f"The {result.label} result is already in the photo.")
        return command is not None

    def export_csv(self) -> bool:
        records = self.run.records()
        if not records or self.run.inputs is None:
            return self._say("Nothing to export yet: run the engines first.")
        source = self.run.inputs.document.path
        suggested = source.with_name(f"{source.stem}_compare.csv")
        path = dialogs.ask_save_path(self, "Export metrics", suggested, CSV_FILTER)
        if path is None:
            return False
        try:
            write_csv(path, RECORD_COLUMNS, (record_cells(record) for record in records))
        except OSError as error:
            dialogs.show_error(self, "Cannot write the CSV", f"{path}: {error.strerror or error}")
            return False
        self._say(f"Wrote {len(records)} rows to {Path(path).name}.")
        return True

    # --- simulated damage --------------------------------------------------------------------

    def generate_mask(self, kind: str, seed: int) -> bool:
        """Simulate damage with a generated Hole for scoring; the Document's own Hole stays as it is."""
        document = self.model.document
        if document is None:
            return self._say("Open a photo first.")
        mask = generate_mask(kind, document.height, document.width, np.random.default_rng(seed))
        self._simulate(mask, f"{kind}, seed {seed}")
        self._say(f"Simulated a {kind} Hole (seed {seed}, {mask.mean() * 100:.1f} % of the photo) for scoring; "
                  "the photo's own Hole is unchanged. Press Run.")
        return True

    def load_mask_dialog(self) -> bool:
        document = self.model.document
        if document is None:
            return self._say("Open a photo first.")
        path = dialogs.ask_open_path(self, "Load a mask as simulated damage", str(document.path.parent),
                                     dialogs.MASK_FILTER)
        return path is not None and self.load_mask(path)

    def load_mask(self, path) -> bool:
        """Simulate damage with a mask file (the photo's size) for scoring; the Document's Hole stays."""
        try:
            mask = self.model.document.read_mask(path)
        except MaskError as error:
            dialogs.show_error(self, "Cannot load the mask", str(error))
            return False
        self._simulate(mask, Path(path).name)
        self._say(f"Loaded {Path(path).name} as simulated damage for scoring. Press Run.")
        return True

    def _simulate(self, mask: np.ndarray, label: str) -> None:
        self.run.cancel()
        self.simulated, self.simulated_label = mask, label
        with QSignalBlocker(self.damage.scored):  # a programmatic tick is not the user's
            self.damage.scored.setChecked(True)
        self.grid.show_hole(self._inputs(self.model.document), "new simulated Hole")
        self._update_enabled()

    def _on_scored_toggled(self, scored: bool) -> None:
        if not scored:
            self.simulated, self.simulated_label = None, ""
        if self.model.document is not None and self.grid.inputs is not None:
            self.run.cancel()
            self.grid.show_hole(self._inputs(self.model.document), "scoring changed")

    def _on_layer_changed(self, layer: str, _box) -> None:
        inputs = self.grid.inputs
        if self._applying or inputs is None or layer == "guide":
            return
        if layer == "image" or not inputs.simulated:
            self.grid.mark_stale("the photo changed" if layer == "image" else "the Hole changed")

    # --- document ----------------------------------------------------------------------------

    def _on_document_replaced(self) -> None:
        self.run.forget()
        self.grid.clear()
        self._update_enabled()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        # Esc reaches here only when the Cancel action (also Esc) is disabled: nothing runs.
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.run.cancel()
        # Free the compared Engines (a neural model holds memory); keep the one Fill uses.
        self.editor.runner.keep_engines({self.editor.fills.engine_name})
        super().closeEvent(event)


class CompareLauncher(QObject):
    """What the main window holds: builds the Compare window on first use, opens and closes it."""

    def __init__(self, editor, specs: Callable[[], Sequence]) -> None:
        super().__init__(editor)
        self.editor = editor
        self.specs = specs
        self.window: CompareWindow | None = None

    def action_handlers(self) -> dict:
        return {"compare": self.open}

    def ensure(self) -> CompareWindow:
        """The window, built on first use; not shown."""
        if self.window is None:
            self.window = CompareWindow(self.editor, self.specs)
        return self.window

    def open(self) -> CompareWindow:
        """Show the window (re-reading the registry) and run at once when this photo has no run yet."""
        window = self.ensure()
        if not window.run.busy:
            window.engines.refresh()
        window.show()
        window.raise_()
        window.activateWindow()
        inputs = window.run.inputs
        if inputs is None or inputs.document is not self.editor.model.document:
            window.start()
        return window

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
