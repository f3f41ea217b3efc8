"""Where every action appears: the menu bar and the toolbars, as tables.

An entry is an action name (see :mod:`app.window.actions`), ``"-"`` for a separator, or a
``"@name"`` placeholder the window fills in (the recent-files submenu, the dock toggles, the tool
actions, the engine picker). Adding a command to the editor = a row in ``ACTION_SPECS``, its name
here, and a handler in the owning controller's ``action_handlers()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", "@recent", "-", "save", "save_as", "revert", "-", "open_session", "save_session",
               "autosave", "-", "import_mask", "export_mask", "-", "quit")),
    ("&Edit", ("undo", "redo", "-", "clear_mask", "invert_mask", "grow_mask", "shrink_mask", "select_all",
               "clear_guide", "clear_exclusion")),
    ("&View", ("zoom_in", "zoom_out", "zoom_fit", "zoom_100", "-", "show_edges", "-", "@docks")),
    ("&Tools", ("@tools", "-", "shape_subtract", "-", "size_down", "size_up")),
    ("F&ill", ("fill", "fill_again", "cancel_fill", "-", "suggest_edges", "clear_after_fill", "-", "compare", "-",
               "detect_dust", "detect_damage", "add_proposals")),
    ("&Models", ("import_weights", "manage_weights")),
    ("&Help", ("shortcuts", "about")),
)

TOOLBARS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("File", "file_toolbar", ("open", "save", "undo", "redo")),
    ("Tools", "tools_toolbar", ("@tools", "shape_subtract", "-", "clear_mask", "invert_mask", "grow_mask", "shrink_mask")),
    ("Fill", "fill_toolbar", ("@engine_picker", "fill", "fill_again", "cancel_fill", "compare", "-",
                              "show_edges", "suggest_edges")),
    ("View", "view_toolbar", ("zoom_fit", "zoom_100")),
)

# Placeholders: each gets the menu or toolbar to add itself to.
Placeholders = Mapping[str, Callable[[QMenu | QToolBar], None]]


def _add_entries(target: QMenu | QToolBar, entries: Sequence[str], actions: Mapping[str, QAction],
                 placeholders: Placeholders) -> None:
    for entry in entries:
        if entry == "-":
            target.addSeparator()
        elif entry.startswith("@"):
            placeholders[entry[1:]](target)
        else:
            target.addAction(actions[entry])


def build_menus(window: QMainWindow, actions: Mapping[str, QAction], placeholders: Placeholders) -> None:
    bar = window.menuBar()
    for title, entries in MENUS:
        _add_entries(bar.addMenu(title), entries, actions, placeholders)


def build_toolbars(window: QMainWindow, actions: Mapping[str, QAction], placeholders: Placeholders) -> None:
    for title, name, entries in TOOLBARS:
        bar = window.addToolBar(title)
        bar.setObjectName(name)
        bar.setIconSize(QSize(22, 22))
        _add_entries(bar, entries, actions, placeholders)
