"""``python main.py fill`` and ``engines`` on generated files and on a real photo."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inference.cli import main as cli_main
from inference.io.images import open_image, save_image
from inference.io.masks import load_mask, save_mask
from tests.conftest import PROJECT_ROOT


def make_photo(path, height=48, width=64, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    save_image(path, pixels)
    return pixels


def make_mask(path, height=48, width=64):
    mask = np.zeros((height, width), bool)
    mask[10:20, 20:40] = True
    save_mask(path, mask)
    return mask


def test_single_fill_keeps_unmasked_pixels(tmp_path):
    pixels = make_photo(tmp_path / "photo.png")
    mask = make_mask(tmp_path / "mask.png")
    assert cli_main(["fill", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png"),
                     "--engine", "ns", "--radius", "3", "-o", str(tmp_path / "out.png")]) == 0
    result = open_image(tmp_path / "out.png").pixels
    assert np.array_equal(result[~mask], pixels[~mask]) and not np.array_equal(result[mask], pixels[mask])


def test_default_output_name_and_input_never_overwritten(tmp_path, capsys):
    make_photo(tmp_path / "photo.png")
    make_mask(tmp_path / "mask.png")
    assert cli_main(["fill", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png")]) == 0
    assert (tmp_path / "photo_inpainted.png").is_file()
    before = (tmp_path / "photo.png").read_bytes()
    status = cli_main(["fill", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png"),
                       "-o", str(tmp_path / "photo.png")])
    assert status == 1 and "refusing to overwrite" in capsys.readouterr().err
    assert (tmp_path / "photo.png").read_bytes() == before


def test_radius_refused_for_engines_without_it(tmp_path, capsys):
    make_photo(tmp_path / "p.png")
    make_mask(tmp_path / "m.png")
    assert cli_main(["fill", str(tmp_path / "p.png"), "--mask", str(tmp_path / "m.png"),
                     "--engine", "lbam", "--radius", "3"]) == 2
    assert "error:" in capsys.readouterr().err


def test_folder_with_a_corrupt_image_and_a_mismatched_mask(tmp_path, capsys):
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    for name in ("a", "b"):
        make_photo(images / f"{name}.png")
        make_mask(masks / f"{name}.png")
    (images / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    make_mask(masks / "corrupt.png")
    make_photo(images / "wrongsize.png")
    make_mask(masks / "wrongsize.png", height=30, width=30)

    status = cli_main(["fill", str(images), "--mask", str(masks), "-o", str(out)])

    captured = capsys.readouterr()
    assert status != 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    failures = [line for line in captured.err.splitlines() if line.startswith("failed:")]
    assert len(failures) == 2
    assert any("corrupt.jpg" in line and "corrupt" in line for line in failures)
    assert any("wrongsize.png is 30×30 but the image is 64×48" in line for line in failures)
    assert "2 of 4 images filled" in captured.out


def test_one_mask_for_a_whole_folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a", "b", "c"):
        make_photo(images / f"{name}.jpg", seed=ord(name))
    make_mask(tmp_path / "m.png")
    assert cli_main(["fill", str(images), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o")]) == 0
    assert len(list((tmp_path / "o").iterdir())) == 3


def test_engines_table_lists_every_engine_with_reasons(capsys):
    assert cli_main(["engines"]) == 0
    out = capsys.readouterr().out
    for name in ("telea", "ns", "deepfill_v2", "deepfill_v2_guided", "lbam"):
        assert name in out
    assert "available" in out and "hed" in out


def test_classical_fill_never_imports_torch(tmp_path):
    make_photo(tmp_path / "p.png")
    make_mask(tmp_path / "m.png")
    code = (
        "import sys, main; status = main.main(['fill', sys.argv[1], '--mask', sys.argv[2]]);"
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(status)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.png"), str(tmp_path / "m.png")],
                   cwd=PROJECT_ROOT, check=True)


def test_real_photo_with_its_object_mask(shared_data, tmp_path):
    photo = shared_data / "dev_eval/scenes/migan-obj__1.png"
    mask_path = shared_data / "dev_eval/scenes/masks/migan-obj__1.png"
    if not photo.is_file():
        pytest.skip("migan-obj__1.png is not in ../shared/data/dev_eval/scenes")
    assert cli_main(["fill", str(photo), "--mask", str(mask_path), "-o", str(tmp_path / "out.png")]) == 0
    original, result = open_image(photo).pixels, open_image(tmp_path / "out.png").pixels
    mask = load_mask(mask_path)
    assert np.array_equal(result[~mask], original[~mask])
    assert np.abs(result[mask].astype(int) - 128).mean() > 5  # filled with content, not left grey


def test_a_closed_pipe_ends_quietly():
    reader = subprocess.Popen(
        [sys.executable, "main.py", "engines"], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    reader.stdout.close()  # the reader leaves before the table is printed, like `| head -c 0`
    stderr = reader.stderr.read().decode()
    reader.wait(timeout=30)
    assert "Traceback" not in stderr
