"""The main window: wires the canvas, controllers, worker and panels together, and nothing more.

Behaviour lives in the controllers (``app/controllers``); where actions appear is a table
(``app/window/menus.py``); what each action does is the owning controller's ``action_handlers()``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QUndoView

from app.canvas.editor_canvas import EditorCanvas
from app.compare.window import CompareLauncher
from app.controllers.edges import EdgesController
from app.controllers.files import FileController
from app.controllers.fills import FillController
from app.controllers.layers import LayerActions
from app.controllers.restoration import RestorationController
from app.controllers.session import SessionController
from app.controllers.tools import ToolController
from app.controllers.weights import WeightsController
from app.dialogs import questions as dialogs
from app.dialogs import recovery as recovery_dialogs
from app.history.model import DocumentModel
from app.icons import icon
from app.settings import Preferences
from app.tools.painting import TOOL_CLASSES
from app.window import help as help_menu
from app.window.actions import build_actions, retint_icons
from app.window.help import APP_NAME
from app.window.menus import build_menus, build_toolbars
from app.window.panels import EnginePicker, StatusPanel
from app.worker import EngineFactory, JobRunner, registry_factory

# Actions that need an open photo; the others are always enabled (or managed by their controller).
NEEDS_DOCUMENT = ("save", "save_as", "save_session", "revert", "import_mask", "export_mask", "clear_mask", "invert_mask",
                  "grow_mask", "shrink_mask", "select_all", "clear_guide", "clear_exclusion", "zoom_fit", "zoom_100", "zoom_in",
                  "zoom_out", "fill", "compare", "detect_dust", "detect_damage", "add_proposals")
EDGE_TIPS = {"show_edges": "Overlay the HED edges of the known region",
             "suggest_edges": "Copy HED edges around the Hole into the Guide"}


def _registry_specs():
    from inference.engines.registry import engine_specs

    return engine_specs()


class MainWindow(QMainWindow):
    def __init__(self, preferences: Preferences | None = None, engine_factory: EngineFactory = registry_factory,
                 engine_specs=_registry_specs) -> None:
        super().__init__()
        self.preferences = preferences or Preferences()
        self.model = DocumentModel(self)
        self.runner = JobRunner(engine_factory, self)
        self.canvas = EditorCanvas(self.model)
        self.tool_control = ToolController(self.model, self.canvas, self.preferences, self)
        self.sizes, self.tools, self.tool_options = (
            self.tool_control.sizes, self.tool_control.tools, self.tool_control.options)
        self.fills = FillController(self.model, self.runner, self)
        self.edges = EdgesController(self.model, self.runner, self.canvas, self)
        self.restoration = RestorationController(self.model, self.runner, self.canvas, self.tool_control, self)
        self.files = FileController(self, self.model, self.preferences)
        self.layers = LayerActions(self, self.model, self.preferences)
        self.session = SessionController(self, self.model, self.files, self.preferences)
        self.terminating = False  # SIGTERM: close without questions, keep the autosave
        self.engine_picker = EnginePicker(engine_specs)
        self.weights = WeightsController(self, self.runner, self.preferences, self.engine_picker.refresh)
        self.compare = CompareLauncher(self, engine_specs)
        self.actions = build_actions(self)
        self.tool_control.actions = self.actions
        self.setWindowIcon(icon("app"))
        self.setCentralWidget(self.canvas)
        self.setAcceptDrops(True)
        self._build_undo_actions()
        self._build_docks()
        self.status_panel = StatusPanel(self.statusBar(), self.fills.cancel)
        all_actions = {**self.actions, "undo": self.undo_action, "redo": self.redo_action}
        build_menus(self, all_actions, self._placeholders())
        build_toolbars(self, all_actions, self._placeholders())
        self._connect_actions()
        self._connect_signals()
        self._restore()
        self._on_document_replaced()

    # --- building ----------------------------------------------------------------------------

    def _build_undo_actions(self) -> None:
        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.redo_action = stack.createRedoAction(self, "&Redo")
        for action, name, keys in ((self.undo_action, "undo", ("Ctrl+Z",)),
                                   (self.redo_action, "redo", ("Ctrl+Shift+Z", "Ctrl+Y"))):
            action.setShortcuts([QKeySequence(key) for key in keys])
            action.setIcon(icon(name))
            action.setProperty("icon_name", name)
            self.addAction(action)

    def _build_docks(self) -> None:
        self.history_view = QUndoView(self.model.undo_stack)
        self.history_view.setEmptyLabel("Opened photo")
        self.history_dock = self._dock("History", "history", self.history_view)
        self.options_dock = self._dock("Tool Options", "tool_options", self.tool_options)
        self.restore_dock = self._dock("Restore", "restore", self.restoration.panel)

    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _placeholders(self) -> dict:
        def recent(menu) -> None:
            self.recent_menu = menu.addMenu("Open &Recent")

        return {
            "recent": recent,
            "docks": lambda target: target.addActions(
                [self.history_dock.toggleViewAction(), self.options_dock.toggleViewAction(),
                 self.restore_dock.toggleViewAction()]),
            "tools": lambda target: target.addActions([self.actions[f"tool_{tool.name}"] for tool in TOOL_CLASSES]),
            "engine_picker": lambda target: target.addWidget(self.engine_picker),
        }

    def _window_handlers(self) -> dict:
        canvas = self.canvas
        return {
            "quit": self.close,
            "zoom_in": lambda: canvas.zoom_by(1.25),
            "zoom_out": lambda: canvas.zoom_by(0.8),
            "zoom_fit": canvas.zoom_to_fit,
            "zoom_100": canvas.actual_pixels,
            "clear_after_fill": self._set_clear_after_fill,
            "shortcuts": lambda: help_menu.show_shortcuts(self, self.actions, [self.undo_action, self.redo_action]),
            "about": lambda: help_menu.show_about(self),
        }

    def _connect_actions(self) -> None:
        handlers = self._window_handlers()
        for controller in (self.files, self.fills, self.edges, self.layers, self.tool_control, self.weights,
                           self.compare, self.session, self.restoration):
            handlers.update(controller.action_handlers())
        for name, handler in handlers.items():
            action = self.actions[name]
            # A checkbox-like action reports its state; tool actions (a radio group) just trigger.
            toggles = action.isCheckable() and action.actionGroup() is None
            (action.toggled if toggles else action.triggered).connect(handler)

    def _connect_signals(self) -> None:
        canvas, status = self.canvas, self.status_panel
        self.tool_options.clear_after_fill.toggled.connect(self.actions["clear_after_fill"].setChecked)
        self.model.document_replaced.connect(self._on_document_replaced)
        self.model.gesture_changed.connect(self._on_gesture_changed)
        self.model.undo_stack.cleanChanged.connect(self._update_title)
        self.model.undo_stack.indexChanged.connect(self._update_enabled)
        self.files.recent_changed.connect(self._rebuild_recent_menu)
        for source in (self.files, self.fills, self.edges, self.weights, self.session, self.restoration):
            source.status.connect(status.message.setText)
        # A note adds to the line instead of replacing it ("Filled with … · Detecting edges…").
        self.edges.note.connect(lambda text: status.message.setText(f"{status.message.text()}  ·  {text}"))
        self.fills.busy_changed.connect(self._on_fill_busy)
        self.fills.progress.connect(status.set_progress)
        self.fills.elapsed.connect(status.set_elapsed)
        self.fills.error.connect(lambda message: dialogs.show_error(self, "Fill failed", message))
        self.edges.error.connect(lambda message: dialogs.show_error(self, "Edge detection failed", message))
        self.restoration.error.connect(lambda message: dialogs.show_error(self, "Detection failed", message))
        self.edges.availability_changed.connect(self._on_edges_availability)
        self.engine_picker.engine_chosen.connect(self._on_engine_chosen)
        canvas.view_changed.connect(lambda: status.set_zoom(canvas.view.zoom))
        canvas.cursor_moved.connect(lambda point: status.set_position(point, canvas.image_width, canvas.image_height))

    def _restore(self) -> None:
        prefs = self.preferences
        self.resize(1280, 860)
        if prefs.geometry() is not None:
            self.restoreGeometry(prefs.geometry())
        if prefs.window_state() is not None:
            self.restoreState(prefs.window_state())
        self.actions["clear_after_fill"].setChecked(prefs.clear_mask_after_fill)
        self.actions["autosave"].setChecked(self.session.autosaver.enabled)
        self._set_clear_after_fill(prefs.clear_mask_after_fill)
        self.engine_picker.refresh(select=prefs.engine)
        self.tool_control.restore()
        self._rebuild_recent_menu()
        self._on_edges_availability(False, self.edges.reason)
        self.edges.check_availability()

    # --- slots -------------------------------------------------------------------------------

    def select_tool(self, name: str) -> None:
        self.tool_control.select(name)

    def _set_clear_after_fill(self, value: bool) -> None:
        self.fills.clear_mask_after_fill = value
        self.preferences.clear_mask_after_fill = value
        self.tool_options.clear_after_fill.setChecked(value)

    def _on_engine_chosen(self, name: str, label: str) -> None:
        guided = self.engine_picker.accepts_guide(name)
        self.fills.set_engine(name, label, guided)
        self.preferences.engine = name
        self.status_panel.set_engine(label, guided)
        self.canvas.setFocus()

    def _on_gesture_changed(self, active: bool) -> None:
        # Undo during a Stroke would interleave with it; the actions wait until the Stroke ends.
        stack = self.model.undo_stack
        self.undo_action.setEnabled(not active and stack.canUndo())
        self.redo_action.setEnabled(not active and stack.canRedo())

    def _on_fill_busy(self, busy: bool) -> None:
        self.status_panel.set_busy(busy)
        self._update_enabled()

    def _on_edges_availability(self, available: bool, reason: str) -> None:
        for name, tip in EDGE_TIPS.items():
            self.actions[name].setToolTip(tip if available else f"{tip}\nUnavailable: {reason}")
        self._update_enabled()

    def _on_document_replaced(self) -> None:
        document = self.model.document
        self.status_panel.set_image_size(*(document.shape[::-1] if document else (0, 0)))
        self.status_panel.set_zoom(self.canvas.view.zoom if document else None)
        self.history_view.setEmptyLabel(f"Opened {document.display_name}" if document else "No photo open")
        self._update_title()
        self._update_enabled()

    def _update_title(self) -> None:
        document = self.model.document
        self.setWindowModified(self.model.modified)
        self.setWindowFilePath(str(document.path) if document else "")
        self.setWindowTitle(f"{document.display_name}[*] — {APP_NAME}" if document else APP_NAME)

    def _update_enabled(self) -> None:
        has_document = self.model.document is not None
        for name in NEEDS_DOCUMENT:
            self.actions[name].setEnabled(has_document)
        self.actions["fill_again"].setEnabled(has_document and self.fills.can_fill_again())
        self.actions["cancel_fill"].setEnabled(self.fills.busy)
        for name in EDGE_TIPS:
            self.actions[name].setEnabled(has_document and self.edges.available)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.preferences.recent_files():
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _checked=False, target=path: self.files.open_path(target))
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Recent Files")
        clear.triggered.connect(lambda: (self.preferences.clear_recent(), self._rebuild_recent_menu()))
        self.recent_menu.setEnabled(bool(self.preferences.recent_files()))

    # --- window events -----------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.files.open_path(paths[0]))  # not inside the drag

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            retint_icons(self)  # the system switched between light and dark
        super().changeEvent(event)

    def terminate(self) -> None:
        """SIGTERM: quit now without questions; the last autosave stays for recovery."""
        self.terminating = True
        self.close()

    def _confirm_close(self) -> bool:
        if self.fills.busy and not recovery_dialogs.ask_stop_fill(self, f"Fill with {self.fills.running.engine_label}"):
            return False
        return self.files.confirm_discard()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.terminating and not self._confirm_close():
            event.ignore()
            return
        self.preferences.save_window(self.saveGeometry(), self.saveState())
        self.preferences.sync()
        self.compare.close()
        self.fills.cancel()
        self.session.finish(keep_recovery=self.terminating)
        self.runner.shutdown()  # bounded; a Job that ignores cancelling is left to the launcher
        event.accept()
