"""Issue 15, opening and saving: bad files give one-line ImageErrors, deep and grey photos keep their depth."""

from __future__ import annotations

import os
import struct
import time
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from inference.engines.classical import telea
from inference.io.images import (
    ImageError,
    open_image,
    remove_stale_temporaries,
    save_image,
    save_like,
    write_atomically,
)
from inference.io.masks import MaskError, load_mask


def _hole(shape=(40, 50)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[10:20, 15:30] = True
    return mask


def _fill_and_save(source: Path, target: Path) -> tuple[np.ndarray, np.ndarray]:
    """Open, fill the test Hole with Telea, save like the source; return the source and saved samples."""
    photo = open_image(source)
    mask = _hole(photo.size)
    save_like(target, telea().inpaint(photo.pixels, mask), photo)
    return photo, mask


# --- 3: temp file creation is inside the error handling -------------------------------------------------


def test_write_atomically_over_long_name_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="cannot be written"):
        save_image(tmp_path / ("n" * 252 + ".png"), np.zeros((4, 4, 3), np.uint8))


def test_write_atomically_allows_long_names_that_fit(tmp_path):
    target = tmp_path / ("n" * 245 + ".png")  # fits, although ".NAME.XXXXXXXX.tmp" would not
    save_image(target, np.zeros((4, 4, 3), np.uint8))
    assert target.is_file() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_write_atomically_into_proc_is_an_image_error():
    with pytest.raises(ImageError, match="/proc/x.png cannot be written"):
        write_atomically(Path("/proc/x.png"), lambda stream: stream.write(b"x"))


# --- 4 and smaller: links, loops, FIFOs ------------------------------------------------------------------


def test_symlink_loop_is_a_one_line_image_error(tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    with pytest.raises(ImageError, match="symbolic link loop"):
        open_image(tmp_path / "a.png")


def test_dangling_symlink_is_named(tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "gone.png")
    with pytest.raises(ImageError, match="link to a missing file"):
        open_image(tmp_path / "a.png")


def test_fifo_is_not_reported_as_empty(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageError, match="not a regular file"):
        open_image(tmp_path / "pipe.png")


# --- 7: 16-bit masks with small values ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 100])
def test_sixteen_bit_mask_with_small_values_marks_a_hole(tmp_path, value):
    samples = np.zeros((20, 30), np.uint16)
    samples[5:9, 5:12] = value
    Image.fromarray(samples).save(tmp_path / "m.png")
    mask = load_mask(tmp_path / "m.png")
    assert mask.sum() == 4 * 7 and mask[5:9, 5:12].all()


def test_sixteen_bit_colour_mask_with_small_values_marks_a_hole(tmp_path):
    samples = np.zeros((20, 30, 3), np.uint16)
    samples[2:4, 2:4, 1] = 1
    cv2.imwrite(str(tmp_path / "m.png"), samples)
    assert load_mask(tmp_path / "m.png").sum() == 4


# --- 10: damaged EXIF ----------------------------------------------------------------------------------


# An EXIF block whose strip-byte-count entry makes Pillow's parser raise struct.error.
_BROKEN_EXIF = bytes.fromhex(
    "4578696600004d4d002a000000080002011700020000000443be6d0001120003000000010006000100a80000"
)


def _jpeg_with_broken_exif(path: Path) -> None:
    Image.fromarray(np.full((16, 24, 3), 90, np.uint8)).save(path, "JPEG", exif=_BROKEN_EXIF)


def test_photo_with_broken_exif_opens_with_a_warning(tmp_path):
    path = tmp_path / "broken_exif.jpg"
    _jpeg_with_broken_exif(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = open_image(path)
    assert loaded.size == (16, 24)
    assert loaded.warnings and "EXIF" in " ".join(loaded.warnings)
    save_like(tmp_path / "out.jpg", loaded.pixels, loaded)  # the broken EXIF is not written back
    assert open_image(tmp_path / "out.jpg").size == (16, 24)


def test_pillow_warnings_do_not_leak(tmp_path, recwarn):
    path = tmp_path / "corrupt_exif.jpg"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path, "JPEG", exif=b"Exif\x00\x00garbage")
    open_image(path)
    assert not [w for w in recwarn if "EXIF" in str(w.message)]


# --- 11: one pixel limit, ours ------------------------------------------------------------------------------


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares width×height 8-bit grey but whose pixel data is cut short."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))


def test_hundred_megapixel_photo_is_not_refused_by_pillows_limit(tmp_path):
    path = tmp_path / "camera.png"
    _png_header_only(path, 11648, 8736)  # 101.8 Mpx: below our 200 M limit, above Pillow's 89.5 M
    with pytest.raises(ImageError) as caught:
        open_image(path)
    assert "too large" not in str(caught.value) and "truncated or corrupt" in str(caught.value)


def test_pixel_limit_is_ours_and_configurable(tmp_path, monkeypatch):
    path = tmp_path / "p.png"
    Image.fromarray(np.zeros((100, 120), np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow's own limit must not apply
    assert open_image(path, max_pixels=20_000).size == (100, 120)
    monkeypatch.setenv("INPAINT_STUDIO_MAX_PIXELS", "5000")
    with pytest.raises(ImageError, match=r"120×100 = 12,000 pixels, limit 5,000 pixels"):
        open_image(path)


# --- 12: bit depth and mode kept -------------------------------------------------------------------------


def test_sixteen_bit_grey_keeps_depth_and_unchanged_pixels(tmp_path):
    rng = np.random.default_rng(1)
    samples = rng.integers(0, 65536, (40, 50), dtype=np.uint16)
    Image.fromarray(samples).save(tmp_path / "g16.png")
    _photo, mask = _fill_and_save(tmp_path / "g16.png", tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as saved:
        assert saved.mode == "I;16"
        written = np.asarray(saved).astype(np.uint16)
    assert np.array_equal(written[~mask], samples[~mask])


def test_eight_bit_grey_stays_grey(tmp_path):
    samples = np.random.default_rng(2).integers(0, 256, (40, 50), dtype=np.uint8)
    Image.fromarray(samples).save(tmp_path / "g.png")
    _photo, mask = _fill_and_save(tmp_path / "g.png", tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as saved:
        assert saved.mode == "L"
        assert np.array_equal(np.asarray(saved)[~mask], samples[~mask])


def test_thirty_two_bit_integer_tiff_is_not_black_and_keeps_depth(tmp_path):
    samples = (np.arange(40 * 50, dtype=np.int32).reshape(40, 50) * 997 + 70_000)
    Image.fromarray(samples).save(tmp_path / "i32.tif")
    photo, mask = _fill_and_save(tmp_path / "i32.tif", tmp_path / "out.tif")
    assert photo.pixels.max() == 255 and photo.pixels.min() == 0  # the data's own range, not 16-bit's
    with Image.open(tmp_path / "out.tif") as saved:
        assert saved.mode == "I"
        written = np.asarray(saved)
    assert np.array_equal(written[~mask], samples[~mask])
    inside = written[mask]
    assert inside.min() >= samples.min() and inside.max() <= samples.max()


def test_sixteen_bit_colour_png_keeps_depth(tmp_path):
    samples = np.random.default_rng(3).integers(0, 65536, (40, 50, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "rgb16.png"), samples[..., ::-1])
    _photo, mask = _fill_and_save(tmp_path / "rgb16.png", tmp_path / "out.png")
    written = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert written.dtype == np.uint16
    assert np.array_equal(written[~mask], samples[~mask])


def test_float_grey_tiff_keeps_samples(tmp_path):
    samples = np.random.default_rng(4).random((40, 50)).astype(np.float32)
    Image.fromarray(samples).save(tmp_path / "f.tif")
    _photo, mask = _fill_and_save(tmp_path / "f.tif", tmp_path / "out.tif")
    with Image.open(tmp_path / "out.tif") as saved:
        assert saved.mode == "F"
        assert np.array_equal(np.asarray(saved)[~mask], samples[~mask])


def test_float_colour_tiff_pillow_cannot_read_opens(tmp_path, recwarn):
    samples = np.random.default_rng(5).random((30, 20, 3)).astype(np.float32)
    samples[0, 0, 0] = np.nan
    cv2.imwrite(str(tmp_path / "f3.tif"), samples)
    loaded = open_image(tmp_path / "f3.tif")
    assert loaded.size == (30, 20) and loaded.bit_depth == 32
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_deep_source_saved_as_jpeg_falls_back_to_eight_bit(tmp_path):
    Image.fromarray(np.full((40, 50), 30000, np.uint16)).save(tmp_path / "g16.png")
    _fill_and_save(tmp_path / "g16.png", tmp_path / "out.jpg")
    assert open_image(tmp_path / "out.jpg").size == (40, 50)


# --- leftovers of interrupted saves -------------------------------------------------------------------------


def test_remove_stale_temporaries_removes_only_our_old_leftovers(tmp_path):
    ours = tmp_path / ".photo.png.abcd1234.tmp"
    fresh = tmp_path / ".photo.png.zzzz9999.tmp"
    foreign = tmp_path / ".notes.tmp"
    photo = tmp_path / "photo.png"
    for path in (ours, fresh, foreign, photo):
        path.write_bytes(b"x")
    old = time.time() - 3600
    for path in (ours, foreign, photo):
        os.utime(path, (old, old))
    assert remove_stale_temporaries(tmp_path) == [ours]
    assert fresh.exists() and foreign.exists() and photo.exists()


def test_next_save_to_a_folder_cleans_its_stale_temporaries(tmp_path):
    leftover = tmp_path / ".a.png.k2j4h5g6.tmp"
    leftover.write_bytes(b"half a png")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    save_image(tmp_path / "b.png", np.zeros((4, 4, 3), np.uint8))
    assert not leftover.exists()


def test_mask_errors_stay_mask_errors(tmp_path):
    (tmp_path / "m.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(MaskError, match="m.png"):
        load_mask(tmp_path / "m.png")
