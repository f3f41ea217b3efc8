"""Generated photos for trying the training pipeline without real data (smoke runs and tests).

``write_synthetic_photos`` writes a folder ``prepare`` accepts (PNG photos and an ``index.csv``
with categories, colour and licence) and, beside it, an edge map per photo (Canny edges, standing
in for HED, which smoke runs must not need).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CATEGORIES = ("face", "scene", "old")
INDEX_HEADER = "filename,category,colour,source,licence,original_size\n"


def synthetic_photo(height: int, width: int, rng: np.random.Generator, grey: bool = False) -> np.ndarray:
    """An RGB uint8 picture with smooth gradients, filled discs and lines: structure a fill can learn."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, 3)
    planes = [127 + 100 * np.sin(x / width * 3 + phase[c]) * np.cos(y / height * 2 + phase[c]) for c in range(3)]
    image = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
    for _ in range(5):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        cv2.circle(image, centre, int(rng.integers(6, max(7, min(height, width) // 4))), colour, -1)
        end = (int(rng.integers(width)), int(rng.integers(height)))
        cv2.line(image, centre, end, colour[::-1], int(rng.integers(1, 4)))
    if grey:
        image = np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    return image


def write_synthetic_photos(folder: Path, count: int = 6, seed: int = 0,
                           size_range: tuple[int, int] = (96, 160)) -> Path:
    """Write ``count`` photos + index.csv into ``folder``/photos and Canny edges into ``folder``/edges.

    Returns ``folder``. Categories cycle face, scene, old; every third photo is grey ("mono").
    """
    rng = np.random.default_rng(seed)
    photos, edges = Path(folder) / "photos", Path(folder) / "edges"
    photos.mkdir(parents=True, exist_ok=True)
    edges.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(count):
        height, width = (int(v) for v in rng.integers(size_range[0], size_range[1] + 1, 2))
        grey = index % 3 == 2
        image = synthetic_photo(height, width, rng, grey)
        name = f"synthetic_{index:03d}"
        cv2.imwrite(str(photos / f"{name}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(edges / f"{name}.png"), cv2.Canny(image, 50, 150))
        category = CATEGORIES[index % len(CATEGORIES)]
        colour = "mono" if grey else "colour"
        rows.append(f"{name}.png,{category},{colour},generated (seed {seed}),CC0,{width}x{height}\n")
    (photos / "index.csv").write_text(INDEX_HEADER + "".join(rows), encoding="utf-8")
    return Path(folder)
