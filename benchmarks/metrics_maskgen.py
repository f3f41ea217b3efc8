"""Speed of inference.evaluation.metrics.score and of the mask generators; hole-ratio distributions of the masks.

Run: .venv/bin/python benchmarks/metrics_maskgen.py  (prints a Markdown section for docs/benchmarks.md)

Everything runs with ``cv2.setNumThreads(1)``, as a data-loader worker would.

* metrics: median seconds of ``score`` (PSNR, SSIM, L1, whole and hole) at 256², 512², 2048² and
  4000×3000, next to scikit-image's PSNR + SSIM on the same pair.
* masks: mean milliseconds per mask of every kind at 256² and 512², and the hole
  ratio distribution (mean, percentiles) of 2000 masks per kind next to the dev_eval reference
  sets in ../shared/data/dev_eval/masks (generated from the published parameters), when present.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.evaluation.maskgen import KINDS, generate_mask, mixed_mask  # noqa: E402
from inference.evaluation.metrics import score  # noqa: E402

REFERENCE_MASKS = ROOT.parent / "shared" / "data" / "dev_eval" / "masks"
SAMPLES = 2000



def metric_rows() -> list[str]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rows = ["| size | metrics.score (s) | skimage PSNR+SSIM (s) |", "|---|---|---|"]
    rng = np.random.default_rng(0)
    for height, width, repeats in ((256, 256, 9), (512, 512, 7), (2048, 2048, 3), (3000, 4000, 3)):
        reference = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        result = cv2.GaussianBlur(reference, (5, 5), 1.0)
        mask = np.zeros((height, width), bool)
        mask[height // 4: height // 2, width // 4: width // 2] = True
        ours = report.median_seconds(lambda: score(reference, result, mask), repeats)  # noqa: B023
        theirs = report.median_seconds(lambda: (  # noqa: B023
            peak_signal_noise_ratio(reference, result, data_range=255),  # noqa: B023
            structural_similarity(reference, result, gaussian_weights=True, sigma=1.5,  # noqa: B023
                                  use_sample_covariance=False, data_range=255, channel_axis=2),
        ), repeats)
        rows.append(f"| {width}×{height} | {ours:.3f} | {theirs:.3f} |")
    return rows


def _stats(ratios) -> str:
    ratios = np.asarray(ratios)
    p10, p50, p90 = np.percentile(ratios, [10, 50, 90])
    return f"{ratios.mean():.3f} | {p10:.3f} / {p50:.3f} / {p90:.3f} | {ratios.min():.3f}–{ratios.max():.3f}"


def _reference_ratios(kind: str, size: int) -> list[float] | None:
    folder = REFERENCE_MASKS / (f"deepfill_freeform_{size}" if kind == "freeform" else f"lama_{kind}_{size}")
    if not folder.is_dir():
        return None
    return [float((np.asarray(Image.open(path).convert("L")) > 127).mean()) for path in sorted(folder.glob("*.png"))]


def mask_rows() -> list[str]:
    rows = ["| kind | size | ms / mask | mean ratio | p10 / p50 / p90 | min–max | reference (n) mean | ref p10 / p50 / p90 |",
            "|---|---|---|---|---|---|---|---|"]
    generators = [(kind, lambda h, w, rng, k=kind: generate_mask(k, h, w, rng)) for kind in KINDS]
    generators.append(("mixed", mixed_mask))
    for size in (256, 512):
        for kind, generate in generators:
            rng = np.random.default_rng(size)
            started = time.perf_counter()
            ratios = [generate(size, size, rng).mean() for _ in range(SAMPLES)]
            milliseconds = (time.perf_counter() - started) * 1000 / SAMPLES
            reference = _reference_ratios(kind, size)
            ref = "– | –"
            if reference:
                p10, p50, p90 = np.percentile(reference, [10, 50, 90])
                ref = f"{np.mean(reference):.3f} ({len(reference)}) | {p10:.3f} / {p50:.3f} / {p90:.3f}"
            rows.append(f"| {kind} | {size}² | {milliseconds:.2f} | {_stats(ratios)} | {ref} |")
    return rows


def mixed_histogram() -> str:
    rng = np.random.default_rng(2000)
    ratios = np.array([mixed_mask(256, 256, rng).mean() for _ in range(SAMPLES)])
    edges = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0]
    counts, _ = np.histogram(ratios, bins=edges)
    cells = ", ".join(f"{low * 100:.0f}–{high * 100:.0f} %: {count}"
                      for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True))
    return f"mixed_mask, {SAMPLES} masks at 256²: {cells}"


def main() -> None:
    cv2.setNumThreads(1)  # as in a training data-loader worker; also keeps the numbers comparable
    print(f"## Metrics and mask generator ({date.today().isoformat()})\n")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}, OpenCV {cv2.__version__}, "
          "cv2.setNumThreads(1). "
          "Command: `.venv/bin/python benchmarks/metrics_maskgen.py`. Metric times are medians, mask "
          "times means over 2000 masks; the machine was shared "
          "with other jobs, so absolute times are noisy.\n")
    print("\n".join(metric_rows()) + "\n")
    print("\n".join(mask_rows()) + "\n")
    print(mixed_histogram())


if __name__ == "__main__":
    main()
