"""Issue 15, items 13 and 14: hole planning with thousands of specks, and a large OpenCV radius.

Run: .venv/bin/python benchmarks/robustness.py  (writes the "## Robustness" section of docs/benchmarks.md)

Planning: specks (3×3 px) on a 4000×4000 mask, on a jittered 40 px grid so that none merge at
Telea's default gap (28 px): the worst case for merging, every pair is checked by the old planner.
The old quadratic merge (kept below as the reference) is timed side by side for 2,500 specks only;
at 10,000 it took 80 s in the issue's measurement. Radius: Telea and Navier–Stokes with radius 100
on a 300×300 Hole of a 600×600 photo (the issue: 170 s before), with radius 5 for scale.
"""

from __future__ import annotations

import platform
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.engines.classical import navier_stokes, telea  # noqa: E402
from inference.engines.regions import Box, hole_boxes, plan_regions  # noqa: E402

TELEA_GAP = 2 * telea().context_margin
REPEATS = 5


def specks(count: int, side: int = 4000, seed: int = 0) -> np.ndarray:
    per_row = int(np.ceil(np.sqrt(count)))
    spacing = side // per_row
    rng = np.random.default_rng(seed)
    mask = np.zeros((side, side), bool)
    for index in range(count):
        row, col = divmod(index, per_row)
        y = row * spacing + spacing // 2 + int(rng.integers(-3, 4))
        x = col * spacing + spacing // 2 + int(rng.integers(-3, 4))
        mask[y - 1:y + 2, x - 1:x + 2] = True
    return mask


def quadratic_merge(boxes: list[Box], merge_gap: int) -> list[Box]:
    """The planner's merge before issue 15: every new box against every kept one, until stable."""
    merged = True
    while merged:
        merged = False
        result: list[Box] = []
        for box in boxes:
            for i, kept in enumerate(result):
                if kept.gap_to(box) <= merge_gap:
                    result[i] = kept.union(box)
                    merged = True
                    break
            else:
                result.append(box)
        boxes = result
    return sorted(boxes, key=lambda b: (b.top, b.left))


def planning_rows() -> list[tuple[str, str, str]]:
    rows = []
    margin = telea().context_margin
    for count in (2_500, 10_000):
        mask = specks(count)
        plan = report.median_seconds(lambda m=mask: plan_regions(m, lambda _b: (margin, margin), TELEA_GAP),
                                     REPEATS)
        regions = len(plan_regions(mask, lambda _b: (margin, margin), TELEA_GAP))
        old = "not run (80 s in the issue)"
        if count <= 2_500:
            boxes = hole_boxes(mask, merge_gap=0)
            assert quadratic_merge(list(boxes), TELEA_GAP) == hole_boxes(mask, TELEA_GAP)
            old = f"{report.median_seconds(lambda b=boxes: quadratic_merge(list(b), TELEA_GAP), 1):.2f} s"
        rows.append((f"{count:,} specks on 4000×4000 ({regions:,} regions)", f"{plan:.3f} s", old))
    return rows


def radius_rows() -> list[tuple[str, str]]:
    image = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 256, (600, 600, 3), dtype=np.uint8), (0, 0), 3)
    mask = np.zeros((600, 600), bool)
    mask[150:450, 150:450] = True
    rows = []
    for engine in (telea(100), navier_stokes(100), telea(5), navier_stokes(5)):
        seconds = report.median_seconds(lambda e=engine: e.inpaint(image, mask), 3)
        rows.append((f"{engine.name}, radius {engine.radius}, 300×300 Hole", f"{seconds:.2f} s"))
    return rows


def main() -> None:
    planning = planning_rows()
    radius = radius_rows()
    lines = [
        "## Robustness (hole planning, large radius)",
        "",
        f"Machine: {report.cpu_name()}, Python {platform.python_version()}, OpenCV {cv2.__version__}. "
        f"Date: {date.today()}. Load average at the start: {report.load_average()}. "
        "Command: `.venv/bin/python benchmarks/robustness.py`.",
        "",
        f"Hole planning (`plan_regions`, Telea's merge gap {TELEA_GAP} px, specks on a jittered grid so none "
        f"merge; median of {REPEATS}). Target: 10,000 specks on a 4000² photo in ≤ 1 s.",
        "",
        "| mask | grid merge (now) | quadratic merge (before, same boxes) |",
        "|---|---:|---:|",
        *[f"| {case} | {now} | {old} |" for case, now, old in planning],
        "",
        "OpenCV engines with a large radius (median of 3): above radius 8 a large Hole is filled on the crop "
        "scaled by 8 / radius, so cost no longer grows with radius² (170 s before for radius 100).",
        "",
        "| case | seconds |",
        "|---|---:|",
        *[f"| {case} | {seconds} |" for case, seconds in radius],
    ]
    text = "\n".join(lines)
    print(text)
    report.write_section("## Robustness (hole planning, large radius)", text)


if __name__ == "__main__":
    main()
