"""Screenshot of restoring an old photo in the editor (docs/restoration_editor.png).

    Xvfb :15 -screen 0 1600x1000x24 & DISPLAY=:15 openbox &
    DISPLAY=:15 .venv/bin/python benchmarks/restoration_screenshot.py PHOTO [--stroke X0,Y0,X1,Y1 ...] -o OUT.png

Opens PHOTO, paints each rough Scratch-brush Stroke given (image pixels; its refined defect
joins the Hole), then runs Detect dust so its green proposal shows beside the red Hole, and grabs
the window.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.screenshots import editor_window, save_grab, wait_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("--stroke", action="append", default=[], help="X0,Y0,X1,Y1 in image pixels")
    parser.add_argument("--size", type=int, default=30, help="Scratch brush diameter (px)")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/restoration_editor.png"))
    args = parser.parse_args()
    from PySide6.QtCore import QPointF, Qt

    window = editor_window((1500, 900))
    if not window.files.open_path(args.photo):
        print(f"error: cannot open {args.photo}", file=sys.stderr)
        return 1
    window.select_tool("scratch")
    window.tool_control.sizes.set("mask", args.size)
    tool, none = window.tools["scratch"], Qt.KeyboardModifier.NoModifier
    for text in args.stroke:
        x0, y0, x1, y1 = (float(value) for value in text.split(","))
        tool.press(QPointF(x0, y0), none)
        for step in range(1, 21):
            tool.move(QPointF(x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20), none)
        tool.release(QPointF(x1, y1), none)
    window.actions["detect_dust"].trigger()
    wait_for(lambda: window.restoration.proposal is not None or not window.restoration.busy)
    save_grab(window, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
