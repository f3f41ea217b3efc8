"""Opening and saving photos: every supported kind, every refusal in one sentence, metadata carried."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from inference.engines.classical import telea
from inference.io.images import ImageError, open_image, save_image, save_like

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def gradient(height=40, width=60) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 4 % 256, y * 6 % 256, (x + y) % 256]).astype(np.uint8)


def test_png_round_trip_is_lossless(tmp_path):
    pixels = gradient()
    save_image(tmp_path / "a.png", pixels)
    loaded = open_image(tmp_path / "a.png")
    assert np.array_equal(loaded.pixels, pixels) and loaded.format == "PNG" and loaded.alpha is None


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".bmp", ".tif"])
def test_other_formats_open_as_rgb(tmp_path, suffix):
    save_image(tmp_path / f"a{suffix}", gradient())
    loaded = open_image(tmp_path / f"a{suffix}")
    assert loaded.pixels.shape == (40, 60, 3) and loaded.pixels.dtype == np.uint8


def test_sixteen_bit_png_becomes_eight_bit_rgb(tmp_path):
    wide = (np.arange(64 * 32).reshape(32, 64) * 32).astype(np.uint16)
    Image.fromarray(wide).save(tmp_path / "deep.png")
    loaded = open_image(tmp_path / "deep.png")
    assert loaded.bit_depth == 16 and loaded.pixels.shape == (32, 64, 3)
    expected = np.rint(wide.astype(float) * 255 / 65535).astype(np.uint8)
    assert np.array_equal(loaded.pixels[..., 0], expected)


def test_sixteen_bit_tiff_opens(tmp_path):
    wide = (np.arange(20 * 30).reshape(20, 30) * 100).astype(np.uint16)
    Image.fromarray(wide).save(tmp_path / "deep.tif")
    loaded = open_image(tmp_path / "deep.tif")
    assert loaded.pixels.shape == (20, 30, 3) and loaded.pixels[..., 0].max() > 200


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # pure red ink-wise
    loaded = open_image(tmp_path / "cmyk.jpg")
    red, green, blue = loaded.pixels[10, 15].astype(int)
    assert loaded.pixels.shape == (20, 30, 3) and red > 200 and green < 60 and blue < 60


def test_palette_png_with_transparency_keeps_alpha_aside(tmp_path):
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 0)
    image.info["transparency"] = 0
    image.save(tmp_path / "pal.png", transparency=0)
    loaded = open_image(tmp_path / "pal.png")
    assert loaded.pixels.shape == (10, 10, 3) and tuple(loaded.pixels[5, 5]) == (255, 0, 0)
    assert loaded.alpha[0, 0] == 0 and loaded.alpha[5, 5] == 255
    save_like(tmp_path / "out.png", loaded.pixels, loaded)
    with Image.open(tmp_path / "out.png") as saved:
        assert saved.mode == "RGBA" and saved.getpixel((0, 0))[3] == 0


def test_grayscale_becomes_rgb(tmp_path):
    Image.fromarray(np.full((8, 9), 77, np.uint8), "L").save(tmp_path / "g.png")
    assert (open_image(tmp_path / "g.png").pixels == 77).all()


def test_exif_rotated_jpeg_comes_back_upright(tmp_path):
    # Stored 40 wide x 20 high with a red left half; orientation 6 means "rotate 90° clockwise to view".
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=100)
    loaded = open_image(tmp_path / "rot.jpg")
    assert loaded.pixels.shape == (40, 20, 3)
    assert loaded.pixels[5, 10, 0] > 200 and loaded.pixels[35, 10, 0] < 60  # red on top after rotation
    save_like(tmp_path / "again.jpg", loaded.pixels, loaded)
    assert open_image(tmp_path / "again.jpg").pixels.shape == (40, 20, 3)  # not rotated twice


def test_exif_and_icc_survive_open_fill_save(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Inpaint Studio test camera"
    Image.fromarray(gradient()).save(tmp_path / "src.jpg", exif=exif.tobytes(), icc_profile=SRGB)
    photo = open_image(tmp_path / "src.jpg")
    mask = np.zeros(photo.size, bool)
    mask[10:20, 10:30] = True
    save_like(tmp_path / "filled.jpg", telea().inpaint(photo.pixels, mask), photo)
    with Image.open(tmp_path / "filled.jpg") as saved:
        assert saved.info.get("icc_profile") == SRGB
        assert saved.getexif()[0x010F] == "Inpaint Studio test camera"


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match=r"nope\.png does not exist\."):
        open_image(tmp_path / "nope.png")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.jpg is empty \(0 bytes\)\."):
        open_image(tmp_path / "empty.jpg")


def test_truncated_jpeg(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(gradient(200, 200)).save(buffer, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg is truncated or corrupt"):
        open_image(tmp_path / "cut.jpg")


def test_garbage_and_unsupported_formats(tmp_path):
    (tmp_path / "notes.png").write_text("this is not an image")
    with pytest.raises(ImageError, match=r"notes\.png is not an image in a supported format"):
        open_image(tmp_path / "notes.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "anim.gif")
    with pytest.raises(ImageError, match=r"anim\.gif is a GIF file, which is not supported"):
        open_image(tmp_path / "anim.gif")


def test_decompression_bomb_is_refused(tmp_path):
    Image.new("L", (300, 200)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match=r"big\.png is too large to open safely \(300×200 = 60,000 pixels"):
        open_image(tmp_path / "big.png", max_pixels=50_000)


def test_save_is_atomic_and_refuses_unknown_extensions(tmp_path):
    with pytest.raises(ImageError, match="unsupported extension"):
        save_image(tmp_path / "a.xyz", gradient())
    with pytest.raises(ImageError, match="does not exist"):
        save_image(tmp_path / "missing" / "a.png", gradient())
    save_image(tmp_path / "a.png", gradient())
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temp file left behind


def test_jpeg_is_saved_with_quality_95_by_default(tmp_path):
    save_image(tmp_path / "q.jpg", gradient(64, 64))
    with Image.open(tmp_path / "q.jpg") as saved:
        assert saved.format == "JPEG"
        # Quantisation tables of quality 95 have small entries; quality 75 would have ~8 in the first.
        assert saved.quantization[0][0] <= 2


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os

    save_image(tmp_path / "p.png", gradient())
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "p.png").stat().st_mode & 0o777 == 0o666 & ~umask


def test_opened_pixels_are_writable(tmp_path):
    save_image(tmp_path / "w.png", gradient())
    loaded = open_image(tmp_path / "w.png")
    assert loaded.pixels.flags.writeable and loaded.pixels.flags.c_contiguous
