"""Editor speed: brush segment cost on a 6000×4000 photo, undo memory, cold start.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/editor.py [--strokes 200] [--starts 5]

* segment: one pointer move of a brush Stroke, from the event to the repainted canvas
  (event sent, then the event loop runs until the canvas has painted), median over many moves,
  at fit-to-window zoom and at 100 %;
* memory: bytes held by the undo history after N Strokes, and the process's resident memory growth;
* cold start: ``python`` started → main window shown (exposed), in a fresh interpreter, and
  whether torch was imported.

Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
import numpy as np  # noqa: E402
import report  # noqa: E402  (benchmarks/report.py, beside this script)
from PySide6.QtCore import QEvent, QObject, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HEIGHT, WIDTH = 4000, 6000


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched, event):  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def resident_bytes() -> int:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def synthetic_photo() -> np.ndarray:
    """A 6000×4000 photo-like image: smooth gradients plus fine noise (no file needed)."""
    rng = np.random.default_rng(0)
    rows = np.linspace(0, 180, HEIGHT, dtype=np.float32)[:, None]
    columns = np.linspace(0, 160, WIDTH, dtype=np.float32)[None, :]
    photo = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    photo[..., 0] = rows + columns * 0.3
    photo[..., 1] = columns + 40
    photo[..., 2] = (rows + columns) * 0.5
    photo += rng.integers(0, 24, (HEIGHT, WIDTH, 1), dtype=np.uint8)
    return photo


def send(canvas, kind, position, buttons) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, position, QPointF(canvas.mapToGlobal(position.toPoint())), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)


def stroke_points(rng, length_px: float, steps: int):
    start = np.array([rng.uniform(500, WIDTH - 500), rng.uniform(500, HEIGHT - 500)])
    angle = rng.uniform(0, 2 * np.pi)
    return [start + (length_px * t / steps) * np.array([np.cos(angle + t / 20), np.sin(angle + t / 20)])
            for t in range(steps + 1)]


def timed_stroke(application, canvas, counter, points) -> list[float]:
    """Per-move cost (ms) of one Stroke: move event → canvas painted."""
    held = Qt.MouseButton.LeftButton
    send(canvas, QEvent.Type.MouseButtonPress, canvas.image_to_widget(QPointF(*points[0])), held)
    application.processEvents()
    costs = []
    for point in points[1:]:
        painted = counter.count
        started = time.perf_counter()
        send(canvas, QEvent.Type.MouseMove, canvas.image_to_widget(QPointF(*point)), held)
        application.processEvents()
        while counter.count == painted and time.perf_counter() - started < 0.5:
            application.processEvents()
        if counter.count != painted:  # moves off screen repaint nothing: not counted
            costs.append((time.perf_counter() - started) * 1000.0)
    send(canvas, QEvent.Type.MouseButtonRelease, canvas.image_to_widget(QPointF(*points[-1])), Qt.MouseButton.NoButton)
    application.processEvents()
    return costs


def measure_editing(strokes: int) -> dict:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from app.document import Document
    from app.window.startup import create_application

    application = create_application([])
    from app.history import commands
    from app.window.main_window import MainWindow

    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    application.processEvents()
    canvas = window.canvas
    started = time.perf_counter()
    window.model.set_document(Document.from_pixels(synthetic_photo(), "synthetic.png"))
    application.processEvents()
    open_seconds = time.perf_counter() - started
    counter = PaintCounter()
    canvas.installEventFilter(counter)
    window.select_tool("brush")
    window.sizes.set("mask", 40)
    rng = np.random.default_rng(1)
    results = {"open_s": open_seconds}
    for label, zoom in (("fit", None), ("100 %", 1.0)):
        if zoom is None:
            canvas.zoom_to_fit()
        else:
            canvas.zoom_to(zoom)
        application.processEvents()
        costs = []
        for _ in range(6):
            points = stroke_points(rng, 600 if zoom is None else 250, 50)
            if zoom is not None:  # keep the Stroke on screen at 100 %
                canvas.view.set(1.0, QPointF(*points[25]))
                application.processEvents()
            costs += timed_stroke(application, canvas, counter, points)
        results[label] = costs
    window.model.undo_stack.clear()
    canvas.zoom_to_fit()
    application.processEvents()
    rss_before = resident_bytes()
    for _ in range(strokes):
        points = stroke_points(rng, 800, 30)
        timed_stroke(application, canvas, counter, points)
    results["undo_bytes"] = commands.undo_bytes(window.model)
    results["rss_growth"] = resident_bytes() - rss_before
    results["commands"] = window.model.undo_stack.count()
    window.model.undo_stack.setClean()
    window.close()
    return results


COLD_START = """
import sys, time
from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
from app.window.startup import create_application, create_window
application = create_application([])
window = create_window()
QTest.qWaitForWindowExposed(window)
print("shown", 'torch' in sys.modules, flush=True)
window.runner.shutdown()
"""


def measure_cold_start(starts: int) -> tuple[list[float], bool]:
    seconds, torch_seen = [], False
    environment = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as settings:
            started = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-c", COLD_START, settings], cwd=PROJECT_ROOT,
                                     env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            line = child.stdout.readline()
            seconds.append(time.perf_counter() - started)
            torch_seen |= "True" in line
            child.wait(timeout=60)
    return seconds, torch_seen



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    editing = measure_editing(args.strokes)
    cold, torch_seen = measure_cold_start(args.starts)
    print(f"## Editor\n\nMachine: {report.cpu_name()}, {os.cpu_count()} CPUs, "
          f"{platform.python_implementation()} {platform.python_version()}, Qt platform "
          f"{os.environ['QT_QPA_PLATFORM']}; {time.strftime('%Y-%m-%d')}. 1-minute load average: "
          f"{report.load_average()}.\n\nCommand: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/editor.py`\n")
    print("| measure | median | p90 | target |\n|---|---|---|---|")
    for label in ("fit", "100 %"):
        costs = sorted(editing[label])
        p90 = costs[int(0.9 * (len(costs) - 1))]
        print(f"| brush segment, event → repainted, 6000×4000, zoom {label} ({len(costs)} moves) | "
              f"{statistics.median(costs):.2f} ms | {p90:.2f} ms | ≤ 4 ms |")
    print(f"| cold start → window shown ({len(cold)} runs; torch imported: {torch_seen}) | "
          f"{statistics.median(cold):.2f} s | {max(cold):.2f} s (max) | ≤ 0.8 s |")
    print(f"\nOpening the 6000×4000 photo into the canvas (layers + display pyramids): {editing['open_s']:.2f} s.")
    print(f"Memory after {editing['commands']} Strokes (brush 40 px, ~800 px long each) on 6000×4000: "
          f"undo history {editing['undo_bytes'] / 2**20:.1f} MiB, resident growth "
          f"{editing['rss_growth'] / 2**20:.1f} MiB (target: well under 200 MB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
