"""Every menu and toolbar action, with its shortcut, in one table.

The Help → Shortcuts dialog is generated from these actions, so it cannot drift from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

from app.icons import icon
from app.tools.painting import TOOL_CLASSES

StandardKey = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    keys: tuple = ()
    icon: str = ""  # resources/icons/<icon>.svg, or "std:<QStyle pixmap name>"
    tip: str = ""
    checkable: bool = False


ACTION_SPECS = (
    ActionSpec("open", "&Open…", (StandardKey.Open,), "std:SP_DialogOpenButton", "Open a photo"),
    ActionSpec("save", "&Save", (StandardKey.Save,), "std:SP_DialogSaveButton",
               "Save the photo (the first save asks for a new name)"),
    ActionSpec("save_as", "Save &As…", (StandardKey.SaveAs,)),
    ActionSpec("revert", "&Revert", (), "", "Drop every change and reload the file"),
    ActionSpec("save_session", "Save Se&ssion…", ("Ctrl+Alt+S",), "",
               "Save the photo, Hole, sketch and result in one .inpaint file"),
    ActionSpec("open_session", "Open Sess&ion…", ("Ctrl+Alt+O",), "", "Continue work saved in a .inpaint file"),
    ActionSpec("autosave", "Autosave for Crash Re&covery", (), "",
               "After a change and some idle seconds, keep the work where a crash cannot lose it", checkable=True),
    ActionSpec("import_mask", "&Import Mask…", ("Ctrl+Shift+I",)),
    ActionSpec("export_mask", "&Export Mask…", ("Ctrl+Shift+E",)),
    ActionSpec("quit", "&Quit", (StandardKey.Quit,)),
    ActionSpec("clear_mask", "&Clear Hole", ("Ctrl+Shift+A",), "mask_clear", "Remove the whole Hole"),
    ActionSpec("invert_mask", "&Invert Hole", ("Ctrl+Shift+X",), "mask_invert"),
    ActionSpec("grow_mask", "&Grow Hole…", ("Ctrl+Alt+G",), "mask_grow", "Widen the Hole by N px"),
    ActionSpec("shrink_mask", "S&hrink Hole…", ("Ctrl+Alt+H",), "mask_shrink", "Narrow the Hole by N px"),
    ActionSpec("select_all", "Hole = &Whole Photo", (StandardKey.SelectAll,), "select_all"),
    ActionSpec("clear_guide", "Clear &Sketch", ("Ctrl+Shift+K",), "", "Remove every Guide line"),
    ActionSpec("clear_exclusion", "Reset Sampling &Area", (), "",
               "Let the content-aware fill copy from the whole photo again"),
    ActionSpec("shape_subtract", "S&ubtract from the Hole", ("X",), "shape_subtract",
               "Rectangle and lasso remove from the Hole instead of adding (Ctrl or Alt while dragging: "
               "the other mode)", checkable=True),
    ActionSpec("size_down", "Smaller Brush", ("[",)),
    ActionSpec("size_up", "Larger Brush", ("]",)),
    ActionSpec("zoom_in", "Zoom &In", (StandardKey.ZoomIn, "Ctrl+="), ""),
    ActionSpec("zoom_out", "Zoom &Out", (StandardKey.ZoomOut,), ""),
    ActionSpec("zoom_fit", "&Fit to Window", ("Ctrl+0",), "zoom_fit"),
    ActionSpec("zoom_100", "&Actual Pixels (100 %)", ("Ctrl+1",), "zoom_100"),
    ActionSpec("show_edges", "Show &Edges", ("Ctrl+Shift+D",), "edges",
               "Overlay the HED edges of the known region", checkable=True),
    ActionSpec("fill", "&Fill", ("Ctrl+Return", "Ctrl+Enter"), "fill", "Fill the Hole with the selected engine"),
    ActionSpec("fill_again", "Fill &Again", ("Ctrl+Shift+Return",), "fill_again",
               "Fill the last filled Hole again, from the photo before that fill"),
    ActionSpec("cancel_fill", "&Cancel Fill", ("Esc",), "cancel", "Cancel the running fill"),
    ActionSpec("suggest_edges", "&Suggest Edges", ("Ctrl+Shift+G",), "suggest_edges",
               "Copy HED edges around the Hole into the Guide"),
    ActionSpec("compare", "&Compare Engines…", ("Ctrl+Shift+C",), "compare",
               "Run every engine on the photo and Hole, side by side, with scores"),
    ActionSpec("clear_after_fill", "Clear the Hole &after a Fill", (), "", "", checkable=True),
    ActionSpec("detect_dust", "Detect &Dust", ("Ctrl+Alt+D",), "",
               "Propose dust specks in flat parts of the photo, in green, for review (Restore panel)"),
    ActionSpec("detect_damage", "Detect Da&mage", ("Ctrl+Alt+M",), "",
               "Propose long scratches and torn corners, in green: only the marks it is sure of"),
    ActionSpec("add_proposals", "Add Proposals to the &Hole", ("Ctrl+Alt+Return",), "",
               "Put the green proposals into the Hole as one undo step"),
    ActionSpec("import_weights", "&Import Weights…", (), "weights",
               "Import a weight file for DeepFill v2 or LBAM"),
    ActionSpec("manage_weights", "&Manage Weights…", (), "",
               "The installed weights with their model cards (source, licence, training data); remove one"),
    ActionSpec("shortcuts", "&Keyboard Shortcuts", ("F1",)),
    ActionSpec("about", "&About Inpaint Studio", ()),
)

# Keys handled by the canvas itself (held keys), listed in the Shortcuts dialog too.
HELD_KEYS = (
    ("Pan", "Space + drag, or middle-button drag"),
    ("Zoom around the pointer", "Mouse wheel"),
    ("Show the original photo", "Hold \\"),
    ("Straight line from the last point", "Shift + click"),
    ("Remove from the Hole (rectangle, lasso)", "Ctrl + drag or Alt + drag (or the Subtract toggle, X)"),
    ("Abandon the gesture in progress", "Right click or Esc while dragging"),
)
# Actions whose text changes with the state ("Undo Fill (Telea)"): listed under their plain name.
PLAIN_NAMES = {"undo": "Undo", "redo": "Redo"}


def _make_icon(widget: QWidget, name: str):
    if name.startswith("std:"):
        return widget.style().standardIcon(getattr(QStyle.StandardPixmap, name[4:]))
    return icon(name)


def build_actions(window: QWidget) -> dict[str, QAction]:
    """The window's actions by name (tools are ``tool_<name>``), added to ``window``."""
    actions: dict[str, QAction] = {}
    for spec in ACTION_SPECS:
        action = QAction(spec.text, window)
        if spec.keys:
            action.setShortcuts([QKeySequence(key) for key in spec.keys])
        if spec.icon:
            action.setIcon(_make_icon(window, spec.icon))
            action.setProperty("icon_name", spec.icon)
        if spec.tip:
            action.setToolTip(spec.tip)
            action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        window.addAction(action)
        actions[spec.name] = action
    group = QActionGroup(window)
    group.setExclusive(True)
    for tool in TOOL_CLASSES:
        action = QAction(icon(tool.icon), tool.label, window)
        action.setProperty("icon_name", tool.icon)
        action.setShortcut(QKeySequence(tool.shortcut))
        action.setCheckable(True)
        action.setToolTip(f"{tool.label} ({tool.shortcut}) — {tool.tip}")
        action.setData(tool.name)
        group.addAction(action)
        window.addAction(action)
        actions[f"tool_{tool.name}"] = action
    return actions


def retint_icons(window: QWidget) -> None:
    """Redraw the icons of ``window``'s actions in the current palette (after a light/dark switch)."""
    for action in window.actions():
        name = action.property("icon_name")
        if name:
            action.setIcon(_make_icon(window, name))


def shortcut_rows(actions: dict[str, QAction], extra: list[QAction]) -> list[tuple[str, str]]:
    """(action, keys) for the Shortcuts dialog, from the live actions: each action once, by its plain name."""
    rows: dict[tuple[str, str], None] = {}
    for action in [*actions.values(), *extra]:
        keys = ", ".join(sequence.toString(QKeySequence.SequenceFormat.NativeText) for sequence in action.shortcuts())
        if keys:
            name = PLAIN_NAMES.get(str(action.property("icon_name") or ""), action.text().replace("&", "").rstrip("…"))
            rows[(name, keys)] = None
    for row in HELD_KEYS:
        rows[row] = None
    return list(rows)
