"""The main window: wires the canvas, tools, commands, worker, panels and files together."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QToolBar, QUndoView

from app.canvas.editor_canvas import EditorCanvas
from app.compare.window import CompareLauncher
from app.controllers.edges import EdgesController
from app.controllers.files import FileController
from app.controllers.fills import FillController
from app.dialogs import questions as dialogs
from app.document import mask_operation
from app.history import commands
from app.history.model import DocumentModel
from app.icons import icon
from app.settings import Preferences
from app.tools.painting import TOOL_CLASSES, ToolSizes
from app.window.actions import build_actions, retint_icons, shortcut_rows
from app.window.panels import EnginePicker, StatusPanel, ToolOptionsPanel
from app.worker import EngineFactory, JobRunner, registry_factory

APP_NAME = "Inpaint Studio"


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
        self.sizes = ToolSizes(self.preferences.brush_sizes())
        self.tools = {tool.name: tool(self.model, self.sizes) for tool in TOOL_CLASSES}
        self.fills = FillController(self.model, self.runner, self)
        self.edges = EdgesController(self.model, self.runner, self.canvas, self)
        self.files = FileController(self, self.model, self.preferences)
        self.actions = build_actions(self)
        self.engine_picker = EnginePicker(engine_specs)
        self.compare = CompareLauncher(self, engine_specs)
        self._weights_job: int | None = None
        self.setWindowIcon(icon("app"))
        self.setCentralWidget(self.canvas)
        self.setAcceptDrops(True)
        self._build_undo_actions()
        self._build_docks()
        self._build_menus()
        self._build_toolbars()
        self.status_panel = StatusPanel(self.statusBar(), self.fills.cancel)
        self._connect()
        self._restore()
        self._on_document_replaced()

    # --- building ----------------------------------------------------------------------------

    def _build_undo_actions(self) -> None:
        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.undo_action.setIcon(icon("undo"))
        self.undo_action.setProperty("icon_name", "undo")
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setIcon(icon("redo"))
        self.redo_action.setProperty("icon_name", "redo")
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)

    def _build_docks(self) -> None:
        self.history_view = QUndoView(self.model.undo_stack)
        self.history_view.setEmptyLabel("Opened photo")
        self.history_dock = self._dock("History", "history", self.history_view)
        self.tool_options = ToolOptionsPanel(self.sizes)
        self.options_dock = self._dock("Tool Options", "tool_options", self.tool_options)

    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a["open"])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        for name in ("save", "save_as", "revert"):
            file_menu.addAction(a[name])
        file_menu.addSeparator()
        file_menu.addActions([a["import_mask"], a["export_mask"]])
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        for name in ("clear_mask", "invert_mask", "grow_mask", "shrink_mask", "select_all", "clear_guide"):
            edit.addAction(a[name])
        view = bar.addMenu("&View")
        view.addActions([a["zoom_in"], a["zoom_out"], a["zoom_fit"], a["zoom_100"]])
        view.addSeparator()
        view.addAction(a["show_edges"])
        view.addSeparator()
        view.addActions([self.history_dock.toggleViewAction(), self.options_dock.toggleViewAction()])
        tools = bar.addMenu("&Tools")
        tools.addActions([a[f"tool_{tool.name}"] for tool in TOOL_CLASSES])
        tools.addSeparator()
        tools.addActions([a["size_down"], a["size_up"]])
        fill = bar.addMenu("F&ill")
        fill.addActions([a["fill"], a["fill_again"], a["cancel_fill"]])
        fill.addSeparator()
        fill.addActions([a["suggest_edges"], a["clear_after_fill"]])
        fill.addSeparator()
        fill.addAction(a["compare"])
        models = bar.addMenu("&Models")
        models.addAction(a["import_weights"])
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([a["shortcuts"], a["about"]])

    def _build_toolbars(self) -> None:
        a = self.actions
        main = self._toolbar("File", "file_toolbar")
        main.addActions([a["open"], a["save"], self.undo_action, self.redo_action])
        tools = self._toolbar("Tools", "tools_toolbar")
        tools.addActions([a[f"tool_{tool.name}"] for tool in TOOL_CLASSES])
        tools.addSeparator()
        tools.addActions([a["clear_mask"], a["invert_mask"], a["grow_mask"], a["shrink_mask"]])
        fill = self._toolbar("Fill", "fill_toolbar")
        fill.addWidget(self.engine_picker)
        fill.addActions([a["fill"], a["fill_again"], a["cancel_fill"], a["compare"]])
        fill.addSeparator()
        fill.addActions([a["show_edges"], a["suggest_edges"]])
        view = self._toolbar("View", "view_toolbar")
        view.addActions([a["zoom_fit"], a["zoom_100"]])

    def _toolbar(self, title: str, name: str) -> QToolBar:
        bar = self.addToolBar(title)
        bar.setObjectName(name)
        bar.setIconSize(QSize(22, 22))
        return bar

    def _connect(self) -> None:
        a, files, canvas = self.actions, self.files, self.canvas
        a["open"].triggered.connect(files.open_dialog)
        a["save"].triggered.connect(files.save)
        a["save_as"].triggered.connect(files.save_as)
        a["revert"].triggered.connect(files.revert)
        a["import_mask"].triggered.connect(files.import_mask)
        a["export_mask"].triggered.connect(files.export_mask)
        a["quit"].triggered.connect(self.close)
        a["clear_mask"].triggered.connect(lambda: self.mask_action("clear", "Clear Hole"))
        a["invert_mask"].triggered.connect(lambda: self.mask_action("invert", "Invert Hole"))
        a["select_all"].triggered.connect(lambda: self.mask_action("select_all", "Hole = whole photo"))
        a["grow_mask"].triggered.connect(lambda: self.mask_action("grow", "Grow Hole", ask=True))
        a["shrink_mask"].triggered.connect(lambda: self.mask_action("shrink", "Shrink Hole", ask=True))
        a["clear_guide"].triggered.connect(self.clear_guide)
        a["size_down"].triggered.connect(lambda: self._step_size(-1))
        a["size_up"].triggered.connect(lambda: self._step_size(+1))
        a["zoom_in"].triggered.connect(lambda: canvas.zoom_by(1.25))
        a["zoom_out"].triggered.connect(lambda: canvas.zoom_by(0.8))
        a["zoom_fit"].triggered.connect(canvas.zoom_to_fit)
        a["zoom_100"].triggered.connect(canvas.actual_pixels)
        a["fill"].triggered.connect(self.fills.fill)
        a["fill_again"].triggered.connect(self.fills.fill_again)
        a["cancel_fill"].triggered.connect(self.fills.cancel)
        a["clear_after_fill"].toggled.connect(self._set_clear_after_fill)
        a["show_edges"].toggled.connect(self.edges.set_showing)
        a["suggest_edges"].triggered.connect(self.edges.suggest)
        a["compare"].triggered.connect(self.compare.open)
        a["import_weights"].triggered.connect(self.import_weights)
        a["shortcuts"].triggered.connect(self.show_shortcuts)
        a["about"].triggered.connect(self.show_about)
        for tool in TOOL_CLASSES:
            a[f"tool_{tool.name}"].triggered.connect(lambda _checked=False, name=tool.name: self.select_tool(name))
        self.tool_options.clear_after_fill.toggled.connect(a["clear_after_fill"].setChecked)
        self.model.document_replaced.connect(self._on_document_replaced)
        self.model.gesture_changed.connect(self._on_gesture_changed)
        self.model.undo_stack.cleanChanged.connect(self._update_title)
        self.model.undo_stack.indexChanged.connect(self._update_enabled)
        self.files.recent_changed.connect(self._rebuild_recent_menu)
        for source in (self.files, self.fills, self.edges):
            source.status.connect(self.status_panel.message.setText)
        self.fills.busy_changed.connect(self._on_fill_busy)
        self.fills.progress.connect(self.status_panel.set_progress)
        self.fills.elapsed.connect(self.status_panel.set_elapsed)
        self.fills.error.connect(lambda message: dialogs.show_error(self, "Fill failed", message))
        self.edges.error.connect(lambda message: dialogs.show_error(self, "Edge detection failed", message))
        self.edges.availability_changed.connect(self._on_edges_availability)
        self.engine_picker.engine_chosen.connect(self._on_engine_chosen)
        self.sizes.changed.connect(self.preferences.set_brush_size)
        self.sizes.changed.connect(lambda *_: self.canvas._update_decorations())
        canvas.view_changed.connect(lambda: self.status_panel.set_zoom(canvas.view.zoom))
        canvas.cursor_moved.connect(
            lambda point: self.status_panel.set_position(point, canvas.image_width, canvas.image_height))
        self.runner.finished.connect(self._on_job_finished)
        self.runner.failed.connect(self._on_job_failed)

    def _restore(self) -> None:
        prefs = self.preferences
        self.resize(1280, 860)
        if prefs.geometry() is not None:
            self.restoreGeometry(prefs.geometry())
        if prefs.window_state() is not None:
            self.restoreState(prefs.window_state())
        clear = prefs.clear_mask_after_fill
        self.actions["clear_after_fill"].setChecked(clear)
        self._set_clear_after_fill(clear)
        self.engine_picker.refresh(select=prefs.engine)
        self.select_tool(prefs.tool if prefs.tool in self.tools else "brush")
        self._rebuild_recent_menu()
        self._on_edges_availability(False, self.edges.reason)
        self.edges.check_availability()

    # --- slots -------------------------------------------------------------------------------

    def select_tool(self, name: str) -> None:
        tool = self.tools[name]
        self.actions[f"tool_{name}"].setChecked(True)
        self.canvas.set_tool(tool)
        self.tool_options.show_tool(tool.label, tool.tip, tool.size_key)
        self.preferences.tool = name

    def _step_size(self, direction: int) -> None:
        key = self.canvas.tool.size_key if self.canvas.tool is not None else None
        if key is not None:
            self.sizes.step(key, direction)

    def mask_action(self, operation: str, text: str, ask: bool = False) -> None:
        document = self.model.document
        if document is None:
            return
        pixels = 0
        if ask:
            pixels = dialogs.ask_pixels(self, text, "By how many pixels?", self.preferences.grow_pixels)
            if pixels is None:
                return
            self.preferences.grow_pixels = pixels
            text = f"{text} by {pixels} px"
        commands.push_layer_change(self.model, text, "mask", mask_operation(document.mask, operation, pixels))

    def clear_guide(self) -> None:
        if self.model.document is not None:
            commands.push_layer_change(self.model, "Clear sketch", "guide", self.model.document.guide * 0)

    def _set_clear_after_fill(self, value: bool) -> None:
        self.fills.clear_mask_after_fill = value
        self.preferences.clear_mask_after_fill = value
        self.tool_options.clear_after_fill.setChecked(value)

    def _on_engine_chosen(self, name: str, label: str) -> None:
        self.fills.set_engine(name, label)
        self.preferences.engine = name
        self.status_panel.set_engine(label)
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
        for name, tip in (("show_edges", "Overlay the HED edges of the known region"),
                          ("suggest_edges", "Copy HED edges around the Hole into the Guide")):
            action = self.actions[name]
            action.setToolTip(tip if available else f"{tip}\nUnavailable: {reason}")
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
        busy = self.fills.busy
        for name in ("save", "save_as", "revert", "import_mask", "export_mask", "clear_mask", "invert_mask",
                     "grow_mask", "shrink_mask", "select_all", "clear_guide", "zoom_fit", "zoom_100",
                     "zoom_in", "zoom_out", "fill", "compare"):
            self.actions[name].setEnabled(has_document)
        self.actions["fill_again"].setEnabled(has_document and self.fills.can_fill_again())
        self.actions["cancel_fill"].setEnabled(busy)
        for name in ("show_edges", "suggest_edges"):
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

    # --- weights -----------------------------------------------------------------------------

    def import_weights(self) -> None:
        path = dialogs.ask_open_path(self, "Import weights", self.preferences.last_folder, dialogs.WEIGHTS_FILTER)
        if path is None:
            return

        def run(_context):
            from inference.weights.importer import import_weights

            return import_weights(path)

        self._weights_job = self.runner.submit(f"Importing {path.name}", run)
        self.status_panel.message.setText(f"Importing weights from {path.name}…")

    def _on_job_finished(self, job_id: int, result: object) -> None:
        if job_id == self._weights_job:
            self._weights_job = None
            self.engine_picker.refresh()
            self.status_panel.message.setText(f"Imported weights “{getattr(result, 'name', result)}”.")

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if job_id == self._weights_job:
            self._weights_job = None
            dialogs.show_error(self, "Cannot import the weights", message)

    # --- help --------------------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        dialogs.ShortcutsDialog(shortcut_rows(self.actions, [self.undo_action, self.redo_action]), self).exec()

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b><p>Remove objects and repair photos with DeepFill v2, LBAM "
                          "and OpenCV fills.</p>")

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

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.preferences.save_window(self.saveGeometry(), self.saveState())
        self.preferences.sync()
        self.compare.close()
        self.runner.shutdown()
        event.accept()
