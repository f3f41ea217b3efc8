"""The ``patch`` engine: determinism, cancel, progress, sampling area, Guide, odd sizes, CLI.

The first test in a fresh checkout compiles the numba kernels (about half a minute, then cached
in __pycache__); every test after that runs in a fraction of a second.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.cli import main as cli_main
from inference.engines.contract import Cancelled
from inference.engines.patch.engine import PatchEngine
from inference.engines.registry import create_engine
from inference.io.images import open_image, save_image
from inference.io.masks import load_mask, save_mask

MAGENTA = np.array([255, 0, 255], np.uint8)


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth random texture in greens and greys: nothing in it is close to magenta."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 30, (height, width)).astype(np.float32), (0, 0), 1.2)
    base = np.array([110, 150, 100], np.float32)
    return np.clip(base + noise[..., None], 0, 255).astype(np.uint8)


def box_mask(shape, top, left, bottom, right) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[top:bottom, left:right] = True
    return mask


def test_same_seed_same_bytes_and_another_seed_another_result():
    image = textured(96, 120)
    mask = box_mask(image.shape[:2], 30, 40, 70, 90)
    first = PatchEngine(seed=3).inpaint(image, mask)
    assert np.array_equal(first, PatchEngine(seed=3).inpaint(image, mask))
    assert not np.array_equal(first, PatchEngine(seed=4).inpaint(image, mask))


def test_unmasked_pixels_are_bit_identical_and_hole_is_textured():
    image = textured(128, 160, seed=1)
    mask = box_mask(image.shape[:2], 40, 50, 90, 110)
    result = PatchEngine().inpaint(image, mask)
    assert np.array_equal(result[~mask], image[~mask])
    # Copied texture, not a smooth blur: the Hole keeps a good share of the photo's detail.
    grey = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 1.5)
    assert detail[mask].std() > 0.3 * detail[~mask].std()


@pytest.mark.parametrize("shape", [(37, 53), (1, 9), (9, 1), (3, 4), (201, 17)])
def test_odd_sizes_and_one_pixel_holes(shape):
    image = textured(*shape, seed=2)
    mask = np.zeros(shape, bool)
    mask[shape[0] // 2, shape[1] // 2] = True
    result = PatchEngine().inpaint(image, mask)
    assert result.shape == image.shape and result.dtype == np.uint8
    assert np.array_equal(result[~mask], image[~mask])


def test_tiny_hole_in_a_big_photo_is_filled_from_its_neighbourhood():
    image = textured(300, 400, seed=3)
    mask = box_mask(image.shape[:2], 150, 200, 152, 201)
    result = PatchEngine().inpaint(image, mask)
    assert np.array_equal(result[~mask], image[~mask])
    assert np.abs(result[mask].astype(int) - image[148:155, 197:205].mean(axis=(0, 1))).max() < 80


def test_cancel_between_levels_raises_cancelled():
    image = textured(128, 128)
    mask = box_mask(image.shape[:2], 20, 20, 110, 110)
    calls = []

    def should_cancel() -> bool:
        calls.append(1)
        return len(calls) >= 3  # the first check is before the crop; later ones inside the pyramid

    with pytest.raises(Cancelled):
        PatchEngine().inpaint(image, mask, should_cancel=should_cancel)
    assert len(calls) == 3


def test_progress_reports_each_level_up_to_the_total():
    image = textured(200, 300)
    mask = box_mask(image.shape[:2], 20, 20, 110, 110) | box_mask(image.shape[:2], 190, 280, 193, 283)
    reports = []
    PatchEngine().inpaint(image, mask, progress=lambda done, total: reports.append((done, total)))
    assert len(reports) > 2  # per pyramid level, for each of the two Regions
    assert {total for _, total in reports} == {200}
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1][0] == reports[-1][1]


def magenta_scene():
    """Texture with a magenta block right next to the Hole: copying from it is the easy way."""
    image = textured(120, 160, seed=4)
    image[30:90, 100:130] = MAGENTA
    mask = box_mask(image.shape[:2], 30, 60, 90, 100)
    excluded = box_mask(image.shape[:2], 25, 95, 95, 135)
    return image, mask, excluded


def near_magenta(pixels: np.ndarray) -> np.ndarray:
    return np.abs(pixels.astype(int) - MAGENTA.astype(int)).max(axis=-1) < 100


def test_no_patch_is_taken_from_outside_the_sampling_area():
    image, mask, excluded = magenta_scene()
    free = PatchEngine().inpaint(image, mask)
    assert near_magenta(free[mask]).any()  # unrestricted, the block does leak into the fill
    restricted = PatchEngine().restricted_to(~excluded).inpaint(image, mask)
    assert not near_magenta(restricted[mask]).any()
    assert np.array_equal(restricted[~mask], image[~mask])


def test_sampling_area_errors_are_one_clear_sentence():
    image = textured(40, 40)
    mask = box_mask((40, 40), 10, 10, 20, 20)
    with pytest.raises(ValueError, match="sampling area is"):
        PatchEngine().restricted_to(np.ones((30, 40), bool)).inpaint(image, mask)
    with pytest.raises(ValueError, match="no pixel outside the Hole"):
        PatchEngine().restricted_to(np.zeros((40, 40), bool)).inpaint(image, mask)
    with pytest.raises(ValueError, match="bool array"):
        PatchEngine().restricted_to(np.ones((40, 40), np.uint8))


def line_scene():
    """Dark horizontal lines at rows 20 and 100 of a texture; the Hole lies between them."""
    image = np.repeat(textured(128, 160, seed=1)[..., 1:2], 3, axis=2)
    for row in (20, 100):
        image[row - 1:row + 2] = 40
    mask = box_mask(image.shape[:2], 44, 50, 84, 110)
    guide = np.zeros(image.shape[:2], np.uint8)
    guide[64, 30:130] = 255
    return image, mask, guide


def darkest_row(result: np.ndarray) -> tuple[int, float]:
    """Row of the darkest line across the Hole, and how much darker it is than a typical row."""
    rows = result[44:84, 55:105, 0].astype(float).mean(axis=1)
    return 44 + int(rows.argmin()), float(np.median(rows) - rows.min())


def test_a_sketched_line_through_the_hole_is_continued():
    image, mask, guide = line_scene()
    engine = create_engine("patch")
    assert engine.accepts_guide
    _, plain_contrast = darkest_row(engine.inpaint(image, mask))
    row, guided_contrast = darkest_row(engine.inpaint(image, mask, guide))
    assert abs(row - 64) <= 3
    assert guided_contrast > 40 and plain_contrast < 15


def test_registry_options():
    assert create_engine("patch", quality="high", seed=5).seed == 5
    with pytest.raises(ValueError, match="quality"):
        create_engine("patch", quality="best")


def test_cli_fill_with_patch_keeps_unmasked_pixels(tmp_path):
    image = textured(70, 90, seed=6)
    mask = box_mask(image.shape[:2], 20, 30, 45, 60)
    save_image(tmp_path / "photo.png", image)
    save_mask(tmp_path / "mask.png", mask)
    assert cli_main(["fill", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png"),
                     "--engine", "patch", "-o", str(tmp_path / "out.png")]) == 0
    result = open_image(tmp_path / "out.png").pixels
    assert np.array_equal(result[~mask], image[~mask]) and not np.array_equal(result[mask], image[mask])


def test_cli_fill_on_a_real_object_scene(shared_data, tmp_path):
    scene = shared_data / "dev_eval" / "scenes" / "migan-obj__12.png"
    mask_file = shared_data / "dev_eval" / "scenes" / "masks" / "migan-obj__12.png"
    out = tmp_path / "filled.png"
    assert cli_main(["fill", str(scene), "--mask", str(mask_file), "--engine", "patch", "-o", str(out)]) == 0
    image = open_image(scene).pixels
    mask = load_mask(mask_file, expected_shape=image.shape[:2])
    result = open_image(out).pixels
    assert np.array_equal(result[~mask], image[~mask])
    grey = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.5))
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool) & ~mask
    assert detail[mask].mean() > 0.4 * detail[ring].mean()  # textured, not a smear (Telea: ~0.15)
