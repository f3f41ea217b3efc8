"""The current tool and the brush sizes: choosing a tool, [ and ] to resize, remembered in the settings."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from app.canvas.editor_canvas import EditorCanvas
from app.history.model import DocumentModel
from app.settings import Preferences
from app.tools.options import ToolOptionsPanel
from app.tools.painting import TOOL_CLASSES, ToolSizes


class ToolController(QObject):
    def __init__(self, model: DocumentModel, canvas: EditorCanvas, preferences: Preferences,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.preferences = preferences
        self.sizes = ToolSizes(preferences.brush_sizes())
        self.tools = {tool.name: tool(model, self.sizes) for tool in TOOL_CLASSES}
        self.options = ToolOptionsPanel(self.sizes)
        self.actions: dict[str, QAction] = {}
        self.sizes.changed.connect(preferences.set_brush_size)
        self.sizes.changed.connect(lambda *_: canvas.refresh_decorations())

    def action_handlers(self) -> dict:
        handlers = {f"tool_{name}": (lambda _checked=False, name=name: self.select(name)) for name in self.tools}
        handlers["size_down"] = lambda: self.step_size(-1)
        handlers["size_up"] = lambda: self.step_size(+1)
        return handlers

    def select(self, name: str) -> None:
        tool = self.tools[name]
        if f"tool_{name}" in self.actions:
            self.actions[f"tool_{name}"].setChecked(True)
        self.canvas.set_tool(tool)
        self.options.show_tool(tool.label, tool.tip, tool.size_key)
        self.preferences.tool = name

    def restore(self) -> None:
        self.select(self.preferences.tool if self.preferences.tool in self.tools else "brush")

    def step_size(self, direction: int) -> None:
        key = self.canvas.tool.size_key if self.canvas.tool is not None else None
        if key is not None:
            self.sizes.step(key, direction)
