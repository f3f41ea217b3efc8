"""app.document, app.patches and app.tools.raster without a display (no Qt imported here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.document import Document, mask_operation
from app.patches import TILE, LayerPatch, StrokeRecorder, patch_whole_layer
from app.tools import raster
from inference.engines.regions import Box
from inference.io.images import ImageError, open_image, save_image
from inference.io.masks import MaskError, save_mask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _photo(height=90, width=130, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "scene.jpg"
    save_image(path, _photo())
    return Document.open(path)


def test_document_modules_import_no_qt():
    # A fresh interpreter: pytest-qt has already imported Qt into this one.
    code = ("import sys, app, app.document, app.patches, app.tools.raster, app.canvas.pyramid; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'torch')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_open_gives_empty_layers_of_the_photo_size(document):
    assert document.image.shape == (90, 130, 3) and document.image.dtype == np.uint8
    assert document.mask.shape == (90, 130) and document.mask.dtype == bool and not document.mask.any()
    assert document.guide.shape == (90, 130) and document.guide.dtype == np.uint8
    assert document.image is not document.original and np.array_equal(document.image, document.original)


def test_open_refuses_a_non_image_with_one_sentence(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a photo")
    with pytest.raises(ImageError, match="notes.png"):
        Document.open(bad)


def test_first_save_proposes_an_inpainted_name_never_the_original(document, tmp_path):
    assert document.suggested_save_path() == tmp_path / "scene_inpainted.jpg"
    (tmp_path / "scene_inpainted.jpg").write_bytes(b"taken")
    assert document.suggested_save_path() == tmp_path / "scene_inpainted_2.jpg"
    target = tmp_path / "kept.png"
    document.image[5:10, 5:10] = 0
    document.save(target)
    assert document.save_path == target and document.suggested_save_path() == target
    np.testing.assert_array_equal(open_image(target).pixels, document.image)


def test_read_mask_refuses_another_size(document, tmp_path):
    wrong = tmp_path / "wrong.png"
    save_mask(wrong, np.ones((20, 30), bool))
    with pytest.raises(MaskError, match="30×20"):
        document.read_mask(wrong)
    right = tmp_path / "right.png"
    mask = np.zeros((90, 130), bool)
    mask[10:20, 40:60] = True
    save_mask(right, mask)
    np.testing.assert_array_equal(document.read_mask(right), mask)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8])
def test_layer_patch_round_trip_is_bit_exact(dtype):
    rng = np.random.default_rng(7)
    before = (rng.random((64, 80)) > 0.5).astype(dtype) * (1 if dtype == np.bool_ else 255)
    after = before.copy()
    after[10:30, 20:50] = rng.integers(0, 2, (20, 30)).astype(dtype)
    patch = LayerPatch.between("mask", Box(0, 0, 64, 80), before, after)
    assert patch.box.top >= 10 and patch.box.bottom <= 30 and patch.box.left >= 20 and patch.box.right <= 50
    layer = before.copy()
    patch.apply(layer, forward=True)
    np.testing.assert_array_equal(layer, after)
    patch.apply(layer, forward=False)
    np.testing.assert_array_equal(layer, before)
    assert LayerPatch.between("mask", Box(0, 0, 64, 80), before, before.copy()) is None


def test_rgb_patch_stores_only_changed_pixels():
    image = _photo(200, 200)
    changed = image.copy()
    changed[50:60, 70:90] = 0
    patch = LayerPatch.between("image", Box(0, 0, 200, 200), image, changed)
    assert patch.nbytes < 2 * 10 * 20 * 3 + 200
    target = changed.copy()
    patch.apply(target, forward=False)
    np.testing.assert_array_equal(target, image)


def test_stroke_recorder_keeps_only_touched_tiles_and_undoes_exactly():
    mask = np.zeros((4 * TILE, 6 * TILE), bool)
    recorder = StrokeRecorder("mask", mask)
    points = [(10.0, 10.0), (300.0, 40.0), (700.0, 500.0)]
    for start, end in zip(points, points[1:], strict=False):
        recorder.before_change(raster.segment_box(start, end, 20))
        raster.draw_segment(mask, start, end, 20, 1)
    after = mask.copy()
    patches = recorder.patches()
    assert sum(patch.nbytes for patch in patches) < 0.02 * mask.size  # far less than the layer
    for patch in reversed(patches):
        patch.apply(mask, forward=False)
    assert not mask.any()
    for patch in patches:
        patch.apply(mask, forward=True)
    np.testing.assert_array_equal(mask, after)


def test_draw_segment_is_round_and_clipped():
    layer = np.zeros((50, 50), bool)
    box = raster.draw_segment(layer, (25.0, 25.0), (25.0, 25.0), 11, 1)
    rows, columns = np.nonzero(layer)
    distances = np.hypot(rows + 0.5 - 25, columns + 0.5 - 25)
    assert distances.max() <= 5.5 + 0.75 and layer[25, 25] and layer[25, 20] and layer[20, 25]
    assert box.top <= rows.min() and box.bottom > rows.max()
    assert raster.draw_segment(layer, (-100.0, -100.0), (-90.0, -90.0), 5, 1) is None
    edge = np.zeros((20, 20), np.uint8)
    raster.draw_segment(edge, (0.0, 0.0), (30.0, 0.0), 4, 255)  # runs off the layer: clipped, no error
    assert edge[0, 19] == 255 and set(np.unique(edge)) == {0, 255}


def test_rectangle_and_polygon_cover_pixel_centres():
    layer = np.zeros((40, 40), bool)
    raster.fill_rectangle(layer, (30.2, 25.0), (10.0, 5.0), 1)
    assert layer[5:25, 10:30].all() and layer.sum() == 20 * 20
    layer[:] = False
    raster.fill_polygon(layer, [(10, 10), (30, 10), (30, 30), (10, 30)], 1)
    assert layer[12:28, 12:28].all() and not layer[:8].any()


def test_whole_layer_changes_and_mask_operations(document):
    document.mask[30:50, 40:70] = True
    hole = document.mask.copy()
    grown = mask_operation(hole, "grow", 4)
    assert grown.sum() > hole.sum() and (grown | hole).sum() == grown.sum()
    assert mask_operation(hole, "shrink", 2).sum() < hole.sum()
    np.testing.assert_array_equal(mask_operation(hole, "invert"), ~hole)
    assert mask_operation(hole, "select_all").all() and not mask_operation(hole, "clear").any()
    patches = document.layer_change("mask", ~hole)
    for patch in patches:
        document.apply_patch(patch, forward=True)
    np.testing.assert_array_equal(document.mask, ~hole)
    for patch in reversed(patches):
        document.apply_patch(patch, forward=False)
    np.testing.assert_array_equal(document.mask, hole)
    with pytest.raises(ValueError):
        document.layer_change("mask", np.zeros((3, 3), bool))


def test_banded_whole_layer_patch_is_exact_on_tall_layers():
    rng = np.random.default_rng(2)
    before = rng.random((TILE * 9 + 7, 33)) > 0.5
    after = ~before
    patches = patch_whole_layer("mask", before, after)
    assert len(patches) == 3
    layer = before.copy()
    for patch in patches:
        patch.apply(layer, forward=True)
    np.testing.assert_array_equal(layer, after)


def test_fill_result_patches_touch_only_the_job_hole(document):
    document.mask[20:40, 30:60] = True
    inputs = document.fill_inputs()
    assert inputs.guide is None and inputs.mask is not document.mask
    result = inputs.image.copy()
    result[:] = 7  # an engine that (wrongly) changed everything: only the Hole may land
    document.mask[70:80, 5:10] = True  # painted while the Job ran
    patches = document.result_patches(result, inputs.mask, clear_mask=True)
    before = document.image.copy()
    for patch in patches:
        document.apply_patch(patch, forward=True)
    assert (document.image[inputs.mask] == 7).all()
    np.testing.assert_array_equal(document.image[~inputs.mask], before[~inputs.mask])
    assert not document.mask[inputs.mask].any() and document.mask[70:80, 5:10].all()
    again = document.inputs_before([patch for patch in patches if patch.layer == "image"], inputs.mask)
    np.testing.assert_array_equal(again.image, before)


def test_thin_lines_reduces_thick_strokes_to_their_centre():
    thick = np.zeros((40, 60), bool)
    thick[15:22, 5:55] = True  # a 7-pixel-high bar
    thin = raster.thin_lines(thick)
    assert thin[18, 10:50].all()  # the centre row survives
    assert thin.sum() < 60 and not (thin & ~thick).any()
    assert thin[:, 30].sum() == 1  # one pixel wide
