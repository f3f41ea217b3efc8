"""The current tool and the brush sizes: choosing a tool, [ and ] to resize, remembered in the settings."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from app.canvas.editor_canvas import EditorCanvas
from app.history.model import DocumentModel
from app.settings import Preferences
from app.tools.options import ToolOptionsPanel
from app.tools.painting import TOOL_CLASSES, ShapeTool, ToolSizes


class ToolController(QObject):
    def __init__(self, model: DocumentModel, canvas: EditorCanvas, preferences: Preferences,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.model = model
        self.preferences = preferences
        self.sizes = ToolSizes(preferences.brush_sizes(), preferences.brush_fractions())
        self.tools = {tool.name: tool(model, self.sizes) for tool in TOOL_CLASSES}
        self.options = ToolOptionsPanel(self.sizes)
        self.actions: dict[str, QAction] = {}
        self.extras: dict = {}  # tool name -> its own options widget, shown in Tool Options
        self.sizes.changed.connect(preferences.set_brush_size)
        self.sizes.changed.connect(lambda key, _value: preferences.set_brush_fraction(key, self.sizes.fraction(key)))
        self.sizes.changed.connect(lambda *_: canvas.refresh_decorations())
        model.document_replaced.connect(self._on_document_replaced)

    def action_handlers(self) -> dict:
        handlers = {f"tool_{name}": (lambda _checked=False, name=name: self.select(name)) for name in self.tools}
        handlers["shape_subtract"] = self.set_subtract_mode
        handlers["size_down"] = lambda: self.step_size(-1)
        handlers["size_up"] = lambda: self.step_size(+1)
        return handlers

    def select(self, name: str) -> None:
        tool = self.tools[name]
        if f"tool_{name}" in self.actions:
            self.actions[f"tool_{name}"].setChecked(True)
        self.canvas.set_tool(tool)
        self.options.show_tool(tool.label, tool.tip, tool.size_key)
        self.options.set_extra(self.extras.get(name))
        self.preferences.tool = name

    def set_subtract_mode(self, subtract: bool) -> None:
        """The toolbar's Add/Subtract toggle for the rectangle and the lasso (Ctrl/Alt: the other mode)."""
        ShapeTool.set_subtract_mode(subtract)
        if "shape_subtract" in self.actions and self.actions["shape_subtract"].isChecked() != subtract:
            self.actions["shape_subtract"].setChecked(subtract)

    def _on_document_replaced(self) -> None:
        document = self.model.document
        if document is not None:
            self.sizes.fit_photo(max(document.shape))

    def restore(self) -> None:
        self.select(self.preferences.tool if self.preferences.tool in self.tools else "brush")

    def step_size(self, direction: int) -> None:
        key = self.canvas.tool.size_key if self.canvas.tool is not None else None
        if key is not None:
            self.sizes.step(key, direction)
