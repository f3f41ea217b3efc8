"""Screenshots of the editor for the docs, taken on a virtual screen.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/screenshots.py compare \\
        ../shared/data/dev_eval/scenes/migan-obj__1.png ../shared/data/dev_eval/scenes/masks/migan-obj__1.png \\
        -o docs/compare.png [--split ns] [--score] [--whole]

Without a display (no ``DISPLAY``) Qt's offscreen platform is used instead; the picture is the
same apart from the window manager, which neither has. Settings go to a temporary folder, so the
user's recent files and window layout are untouched. Real engines from the registry run, so the
panes show what the app shows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

SETTLE_MS = 400  # lets the window system map, lay out and paint the window before the grab


def editor_window(size: tuple[int, int] = (1400, 860)):
    """A shown main window with private settings."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from app.window.startup import create_application

    create_application([])
    from app.window.main_window import MainWindow

    window = MainWindow()
    window.resize(*size)
    window.show()
    QTest.qWaitForWindowExposed(window)
    return window


def pause(milliseconds: int) -> None:
    """Run the event loop for a while. (Not QTest.qWait: in PySide it keeps the GIL while it waits,
    which starves the editor's worker thread.)"""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def wait_for(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state in time")
        pause(20)


def save_grab(widget: QWidget, path: Path) -> None:
    pause(SETTLE_MS)
    QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    print(f"wrote {path} ({widget.width()}×{widget.height()})")


def compare_screenshot(args: argparse.Namespace) -> int:
    editor = editor_window()
    if not editor.files.open_path(args.photo) or not editor.files.import_mask_from(args.mask):
        print("error: cannot open the photo or its mask", file=sys.stderr)
        return 1
    launcher = editor.compare
    window = launcher.window or launcher.open()  # opening runs the engines at once
    window.resize(*args.size)
    QTest.qWaitForWindowExposed(window)
    if args.score:
        window.damage.scored.setChecked(True)
        window.start()
    wait_for(lambda: not window.run.busy)
    if args.whole:
        window.actions["whole"].setChecked(True)
    for engine in args.split:
        cell = window.grid.cells.get(engine)
        if cell is None:
            print(f"note: no pane for engine {engine!r}", file=sys.stderr)
            continue
        cell.split_button.setChecked(True)
        cell.pane.split_fraction = args.split_at
    window.grid.fit()
    window.statusBar().showMessage(window.statusBar().currentMessage())
    save_grab(window, args.output)
    editor.model.undo_stack.setClean()  # nothing to save: close without asking
    editor.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="the Compare window on a photo and its mask")
    compare.add_argument("photo", type=Path)
    compare.add_argument("mask", type=Path)
    compare.add_argument("-o", "--output", type=Path, default=PROJECT_ROOT / "docs" / "compare.png")
    compare.add_argument("--split", action="append", default=[], metavar="ENGINE",
                         help="show the before/after split line in this engine's pane (repeatable)")
    compare.add_argument("--split-at", type=float, default=0.5, help="split position, share of the pane width")
    compare.add_argument("--score", action="store_true", help="score against the photo (simulated damage)")
    compare.add_argument("--whole", action="store_true", help="whole image instead of the region around the Hole")
    compare.add_argument("--size", type=int, nargs=2, default=(1500, 820), metavar=("W", "H"))
    compare.set_defaults(run=compare_screenshot)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
