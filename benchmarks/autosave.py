"""Autosave cost on a 24-megapixel photo: UI-thread time per autosave and bytes written.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/autosave.py [--strokes 9]

The real :class:`app.controllers.autosave.Autosaver` on a 6000×4000 JPEG (a train photo scaled
up when ../shared/data is there, else a synthetic one): after each small brush Stroke on the
Mask (a 60 px line, 40 px brush) it autosaves; measured are the time spent on the UI thread
(copying the changed tiles and the thumbnail, handing them over) and the bytes the background
thread wrote, plus its wall time. Also: the first autosave of a session (the original photo is
hard-linked or copied once), the autosave after a Telea fill of a 300×300 Hole, and after a
whole-layer change (Invert Hole), and Save / Open Session of that Document. Targets: ≤ 5 ms on the UI thread, ≤ 2 MB after a small Stroke.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import report  # noqa: E402  (benchmarks/report.py, beside this script)
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HEIGHT, WIDTH = 4000, 6000
TRAIN = PROJECT_ROOT.parent / "shared" / "data" / "train" / "images"


def make_photo(path: Path) -> str:
    """A 24 MP JPEG at ``path``; returns where its pixels came from."""
    candidates = sorted(TRAIN.glob("*.jpg"))[:1] if TRAIN.is_dir() else []
    if candidates:
        source = cv2.imread(str(candidates[0]))
        pixels = cv2.resize(source, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
        origin = f"train photo {candidates[0].name} scaled to {WIDTH}×{HEIGHT}"
    else:
        rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
        noise = np.random.default_rng(0).integers(0, 30, (HEIGHT, WIDTH, 3))
        pixels = np.dstack([rows * 200 // HEIGHT, columns * 200 // WIDTH, (rows + columns) % 256]) + noise
        origin = "synthetic gradient with noise"
    cv2.imwrite(str(path), np.clip(pixels, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return origin


def stroke(model, commands, raster, index: int) -> None:
    """One small committed Stroke on the Mask, as the brush tool makes it."""
    top, left = 500 + 137 * index, 700 + 211 * index
    recorder = model.start_stroke("mask")
    start, end = (left, top), (left + 60, top + 10)
    recorder.before_change(raster.segment_box(start, end, 40))
    model.notify("mask", raster.draw_segment(model.document.mask, start, end, 40, 1))
    commands.push_stroke(model, "Mask brush", recorder)


def autosave(autosaver) -> tuple[float, float, int, float]:
    """(UI-thread wall seconds, UI-thread CPU seconds, bytes written, background seconds) of one autosave."""
    started = time.perf_counter()
    future = autosaver.autosave_now()
    written = future.result()
    return autosaver.last_ui_seconds, autosaver.last_ui_cpu_seconds, written, time.perf_counter() - started


def session_cost(document, path: Path) -> tuple[float, int, float]:
    """(seconds to write, bytes, seconds to read) of a .inpaint file of ``document``."""
    from app.document import LAYERS
    from inference.io.session import read_session, write_session

    started = time.perf_counter()
    write_session(path, document.source, {name: document.layer(name) for name in LAYERS}, app_version="bench")
    written = time.perf_counter() - started
    started = time.perf_counter()
    read_session(path)
    return written, path.stat().st_size, time.perf_counter() - started


def run(strokes: int) -> str:
    QApplication.instance() or QApplication([])
    from app.controllers.autosave import Autosaver
    from app.document import Document, mask_operation
    from app.history import commands
    from app.history.model import DocumentModel
    from app.settings import Preferences
    from app.tools import raster
    from inference.engines.registry import create_engine

    folder = Path(tempfile.mkdtemp(prefix="autosave-bench-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
    photo = folder / "photo.jpg"
    origin = make_photo(photo)
    model = DocumentModel()
    autosaver = Autosaver(model, Preferences(), folder / "recovery")
    model.set_document(Document.open(photo))
    stroke(model, commands, raster, 0)
    first = autosave(autosaver)
    small = []
    for index in range(1, strokes + 1):
        stroke(model, commands, raster, index)
        small.append(autosave(autosaver))
    document = model.document
    document.mask[:] = False
    document.mask[1800:2100, 2800:3100] = True
    hole_inputs = document.fill_inputs()
    result = create_engine("telea").inpaint(hole_inputs.image, hole_inputs.mask)
    commands.push_fill(model, "Telea", result, hole_inputs.mask, clear_mask=True)
    fill = autosave(autosaver)
    commands.push_layer_change(model, "Invert Hole", "mask", mask_operation(document.mask, "invert"))
    invert = autosave(autosaver)
    autosaver.finish()
    session_seconds, session_bytes, open_seconds = session_cost(document, folder / "photo.inpaint")

    def row(label: str, samples: list[tuple[float, float, int, float]]) -> str:
        ui, cpu, written, background = (statistics.median(sample[column] for sample in samples) for column in range(4))
        return f"| {label} | {ui * 1000:.2f} | {cpu * 1000:.2f} | {written / 1e6:.3f} | {background * 1000:.0f} |"

    command = f"QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/autosave.py --strokes {strokes}"
    return "\n".join([
        "## Autosave",
        "",
        f"{date.today().isoformat()}, {report.cpu_name()}, load average {report.load_average()}; `{command}`.",
        f"Photo: {WIDTH}×{HEIGHT} JPEG ({origin}); tiles of 512 px; one autosave at a time, as the editor does.",
        "UI thread = copying the changed tiles (and the thumbnail) and handing them to the background thread;",
        "background = PNG encoding, writing with fsync, replacing the manifest. Medians for the small strokes.",
        "Wall time includes waiting for a core on a loaded machine; CPU time is the UI thread's own work.",
        "",
        "| autosave after | UI thread, wall (ms) | UI thread, CPU (ms) | bytes written (MB) | background (ms) |",
        "|---|---:|---:|---:|---:|",
        row("first small Stroke of the session (original linked or copied once)", [first]),
        row(f"one small Stroke (60 px line, 40 px brush; median of {strokes})", small),
        row("a Telea fill of a 300×300 Hole (Result tiles + Mask cleared)", [fill]),
        row("Invert Hole (every Mask tile)", [invert]),
        "",
        "Targets: ≤ 5 ms on the UI thread and ≤ 2 MB written after one small Stroke.",
        "",
        "Larger changes copy more tiles on the UI thread (a fill: its Hole's tiles of the image and the Mask;",
        "a whole-layer action: every tile of that layer).",
        "",
        "Save Session of the same Document (every layer as PNG, zlib level 1; the editor copies the layers on",
        f"the UI thread and writes on a background thread): {session_seconds:.1f} s, {session_bytes / 1e6:.1f} MB;",
        f"Open Session: {open_seconds:.1f} s.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=9)
    parser.add_argument("--no-write", action="store_true", help="print the section without updating the doc")
    args = parser.parse_args()
    section = run(args.strokes)
    print(section)
    if not args.no_write:
        report.write_section("## Autosave", section)


if __name__ == "__main__":
    main()
