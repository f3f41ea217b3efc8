"""Speed of the OpenCV engines: Telea and Navier–Stokes through the engine wrapper vs bare cv2.inpaint.

Run: .venv/bin/python benchmarks/classical.py  (prints a Markdown section for docs/benchmarks.md)

Cases: 512×512 with 10 % and 30 % holes; a 4000×3000 photo with a 3 % hole, compared with the
same hole on a 1024×1024 photo. The wrapper overhead is the wrapper's median over a bare
cv2.inpaint on the very crop the wrapper uses, timed interleaved in the same run.
"""

from __future__ import annotations

import platform
import statistics
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.engines.classical import navier_stokes, telea  # noqa: E402
from inference.engines.regions import plan_regions  # noqa: E402

REPEATS = 7


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like test image (noise blurred at several scales)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.add(image, rng.integers(0, 12, (height, width, 3), dtype=np.uint8))


def blob_hole(height: int, width: int, ratio: float, centre: tuple[int, int]) -> np.ndarray:
    """One elliptical hole covering ``ratio`` of a height×width image, at ``centre``."""
    mask = np.zeros((height, width), np.uint8)
    area = ratio * height * width
    axes = (int(np.sqrt(area / np.pi * 1.5)), int(np.sqrt(area / np.pi / 1.5)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)



def wrapper_vs_bare(engine, image: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Median seconds of the engine, and of bare cv2.inpaint on the crops it uses, interleaved."""
    margin = engine.context_margin
    regions = plan_regions(mask, lambda _b: (margin, margin), merge_gap=2 * margin)
    crops = [(image[r.crop.slices].copy(), mask[r.crop.slices].astype(np.uint8)) for r in regions]

    def bare():
        for crop, crop_mask in crops:
            cv2.inpaint(crop, crop_mask, engine.radius, engine.method)

    wrapped, plain = [], []
    for _ in range(REPEATS):
        wrapped.append(report.median_seconds(lambda: engine.inpaint(image, mask), 1))
        plain.append(report.median_seconds(bare, 1))
    return statistics.median(wrapped), statistics.median(plain)


def main() -> None:
    rows = []
    for engine in (telea(), navier_stokes()):
        for ratio in (0.10, 0.30):
            image, mask = photo(512, 512), blob_hole(512, 512, ratio, (256, 256))
            wrapped, bare = wrapper_vs_bare(engine, image, mask)
            rows.append((engine.name, f"512×512, {ratio:.0%} hole", wrapped, bare))
        hole = blob_hole(1024, 1024, 0.03 * 12_000_000 / 1024**2, (512, 512))
        small_image = photo(1024, 1024, seed=1)
        big_image = photo(3000, 4000, seed=2)
        big_mask = np.zeros((3000, 4000), bool)
        big_mask[1000:2024, 1500:2524] = hole
        big, big_bare = wrapper_vs_bare(engine, big_image, big_mask)
        small, _ = wrapper_vs_bare(engine, small_image, hole)
        rows.append((engine.name, "4000×3000, 3 % hole", big, big_bare))
        rows.append((engine.name, "same hole on 1024×1024", small, None))
        rows.append((engine.name, "ratio 4000×3000 / 1024×1024", big / small, "ratio"))
    print_report(rows)


def print_report(rows) -> None:
    print("## Classical engines (Telea, Navier–Stokes)\n")
    print(f"Machine: {platform.processor() or platform.machine()}, {_cores()} cores, "
          f"Python {platform.python_version()}, OpenCV {cv2.__version__}. Date: {date.today()}. ")
    print("Command: `.venv/bin/python benchmarks/classical.py`. Medians of "
          f"{REPEATS} runs; wrapper and bare `cv2.inpaint` on the same crops timed interleaved.\n")
    print("| engine | case | engine wrapper | bare cv2.inpaint on its crop | overhead |")
    print("|---|---|---:|---:|---:|")
    for name, case, value, bare in rows:
        if bare == "ratio":
            print(f"| {name} | {case} | **{value:.2f}×** (target ≤ 1.5×) | | |")
        elif bare is None:
            print(f"| {name} | {case} | {value * 1000:.1f} ms | | |")
        else:
            overhead = (value / bare - 1) * 100
            print(f"| {name} | {case} | {value * 1000:.1f} ms | {bare * 1000:.1f} ms | {overhead:+.1f} % |")


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
