"""Issue 15, command line: nothing the user did not name is replaced, bad paths give one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.cli import main as cli_main
from inference.io.images import save_image
from inference.io.masks import save_mask
from tests.conftest import PROJECT_ROOT


def _photo(path: Path, seed: int = 0, size=(32, 40)) -> bytes:
    save_image(path, np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8))
    return path.read_bytes()


def _mask(path: Path, size=(32, 40), full: bool = False, empty: bool = False) -> Path:
    mask = np.zeros(size, bool)
    if full:
        mask[:] = True
    elif not empty:
        mask[8:16, 10:20] = True
    save_mask(path, mask)
    return path


def _fill(*args) -> int:
    return cli_main(["fill", *map(str, args)])


# --- 1 and 2: data loss -------------------------------------------------------------------------------------


def test_fill_refuses_to_overwrite_the_guide(tmp_path, capsys):
    _photo(tmp_path / "p.png")
    _mask(tmp_path / "m.png")
    guide = _mask(tmp_path / "g.png").read_bytes()
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png", "--guide", tmp_path / "g.png",
                 "-o", tmp_path / "g.png") == 1
    assert "is an input" in capsys.readouterr().err
    assert (tmp_path / "g.png").read_bytes() == guide


def test_rerunning_fill_does_not_replace_the_earlier_output(tmp_path, capsys):
    _photo(tmp_path / "p.png")
    _mask(tmp_path / "m.png")
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png") == 0
    earlier = (tmp_path / "p_inpainted.png").read_bytes()
    (tmp_path / "p_inpainted.png").write_bytes(b"my own edits")
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png") == 1
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "p_inpainted.png").read_bytes() == b"my own edits"
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png", "--overwrite") == 0
    assert (tmp_path / "p_inpainted.png").read_bytes() == earlier


def test_fill_may_replace_a_file_named_with_o(tmp_path):
    _photo(tmp_path / "p.png")
    _mask(tmp_path / "m.png")
    (tmp_path / "out.png").write_bytes(b"old")
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png", "-o", tmp_path / "out.png") == 0
    assert (tmp_path / "out.png").read_bytes() != b"old"


def test_compare_never_overwrites_inputs_or_earlier_results(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    before = {name: _photo(folder / name, seed) for seed, name in enumerate(["a.png", "a_telea.png"])}
    _mask(tmp_path / "m.png")
    assert cli_main(["compare", str(folder), "--masks", str(tmp_path / "m.png"), "--engines", "telea",
                     "-o", str(folder)]) == 2
    assert "input of this run" in capsys.readouterr().err
    assert {name: (folder / name).read_bytes() for name in before} == before
    out = tmp_path / "out"
    assert cli_main(["compare", str(folder / "a.png"), "--mask", str(tmp_path / "m.png"),
                     "--engines", "telea", "-o", str(out)]) == 0
    sheet = (out / "a_sheet.png").read_bytes()
    assert cli_main(["compare", str(folder / "a.png"), "--mask", str(tmp_path / "m.png"),
                     "--engines", "telea", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and (out / "a_sheet.png").read_bytes() == sheet
    assert cli_main(["compare", str(folder / "a.png"), "--mask", str(tmp_path / "m.png"),
                     "--engines", "telea", "-o", str(out), "--overwrite"]) == 0


# --- 3 and 4: one-line errors ---------------------------------------------------------------------------------


def _one_line_error(err: str) -> bool:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    return len(lines) == 1 and "Traceback" not in err


@pytest.mark.parametrize("output", ["n" * 260 + ".png", "/proc/x.png", "/sys/x.png"])
def test_unwritable_outputs_are_one_line_errors(tmp_path, capsys, output):
    _photo(tmp_path / "p.png")
    _mask(tmp_path / "m.png")
    target = tmp_path / output if not output.startswith("/") else Path(output)
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png", "-o", target) == 1
    assert _one_line_error(capsys.readouterr().err)
    status = cli_main(["compare", str(tmp_path / "p.png"), "--mask", str(tmp_path / "m.png"),
                       "--engines", "telea", "-o", str(target.parent / ("d" * 260) if output[0] != "/" else target)])
    assert status in (1, 2) and _one_line_error(capsys.readouterr().err)


def test_default_output_of_a_long_name_is_a_one_line_error(tmp_path, capsys):
    photo = tmp_path / ("p" * 245 + ".png")  # "<stem>_inpainted.png" is 259 characters
    _photo(photo)
    _mask(tmp_path / "m.png")
    assert _fill(photo, "--mask", tmp_path / "m.png") == 1
    assert _one_line_error(capsys.readouterr().err)


def test_symlink_loop_in_fill_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    _mask(tmp_path / "m.png")
    assert _fill(tmp_path / "a.png", "--mask", tmp_path / "m.png", "-o", tmp_path / "o.png") == 1
    err = capsys.readouterr().err
    assert _one_line_error(err) and "link loop" in err


# --- 8: exact stems, ambiguity refused -------------------------------------------------------------------


def test_folder_masks_match_by_exact_stem(tmp_path, capsys):
    photos, masks, out = tmp_path / "photos", tmp_path / "masks", tmp_path / "out"
    photos.mkdir()
    masks.mkdir()
    _photo(photos / "x[1].png")
    _photo(photos / "y.png")
    _mask(masks / "x[1].png")
    _mask(masks / "x1.png", empty=True)  # what the glob "x[1].*" would have picked
    _mask(masks / "y.png")
    _mask(masks / "y.bmp".replace(".bmp", "_other.png"))
    assert _fill(photos, "--mask", masks, "-o", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["x[1].png", "y.png"]
    filled, source = np.asarray(Image.open(out / "x[1].png")), np.asarray(Image.open(photos / "x[1].png"))
    assert not np.array_equal(filled[8:16, 10:20], source[8:16, 10:20])  # its own mask, not x1.png


def test_two_masks_for_one_photo_are_refused(tmp_path, capsys):
    photos, masks, out = tmp_path / "photos", tmp_path / "masks", tmp_path / "out"
    photos.mkdir()
    masks.mkdir()
    _photo(photos / "x.png")
    _mask(masks / "x.png")
    Image.open(masks / "x.png").save(masks / "x.bmp")
    assert _fill(photos, "--mask", masks, "-o", out) == 1
    assert "several masks" in capsys.readouterr().err and not (out / "x.png").exists()
    assert cli_main(["compare", str(photos), "--masks", str(masks), "--engines", "telea", "-o", str(out)]) == 2
    assert "several masks" in capsys.readouterr().err


# --- 9: empty and full masks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "words"), [("empty", "marks no hole"), ("full", "no known context")])
def test_fill_and_compare_agree_on_empty_and_full_masks(tmp_path, capsys, kind, words):
    _photo(tmp_path / "p.png")
    _mask(tmp_path / "m.png", **{kind: True})
    assert _fill(tmp_path / "p.png", "--mask", tmp_path / "m.png") == 1
    assert words in capsys.readouterr().err and not (tmp_path / "p_inpainted.png").exists()
    assert cli_main(["compare", str(tmp_path / "p.png"), "--mask", str(tmp_path / "m.png"),
                     "--engines", "telea", "-o", str(tmp_path / "out")]) == 1
    assert words in capsys.readouterr().err


# --- smaller -------------------------------------------------------------------------------------------------------


def test_name_starting_with_a_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _photo(tmp_path / "-x.png")
    _mask(tmp_path / "-m.png")
    assert cli_main(["fill", "-x.png", "--mask", "-m.png", "-o", "-out.png"]) == 0
    assert (tmp_path / "-out.png").is_file()


def test_folder_run_refuses_a_file_like_output_name(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    _photo(tmp_path / "photos" / "a.png")
    _mask(tmp_path / "m.png")
    assert _fill(tmp_path / "photos", "--mask", tmp_path / "m.png", "-o", tmp_path / "X.png") == 2
    assert "output folder" in capsys.readouterr().err and not (tmp_path / "X.png").exists()


def test_folder_run_reports_dangling_links_and_folders(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    _photo(photos / "a.png")
    (photos / "b.png").symlink_to(tmp_path / "gone.png")
    (photos / "c.png").mkdir()
    _mask(tmp_path / "m.png")
    assert _fill(photos, "--mask", tmp_path / "m.png", "-o", tmp_path / "out") == 1
    captured = capsys.readouterr()
    assert "b.png" in captured.err and "c.png" in captured.err and "1 of 3" in captured.out
    assert cli_main(["compare", str(photos), "--masks", str(tmp_path / "m.png"), "--engines", "telea",
                     "-o", str(tmp_path / "cmp")]) == 1
    err = capsys.readouterr().err
    assert "b.png" in err and "c.png" in err


def test_mask_folder_equal_to_photo_folder_is_refused(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    _photo(photos / "a.png")
    assert _fill(photos, "--mask", photos, "-o", tmp_path / "out") == 2
    assert "photo folder" in capsys.readouterr().err
    assert cli_main(["compare", str(photos), "--masks", str(photos), "--engines", "telea",
                     "-o", str(tmp_path / "cmp")]) == 2
    assert "photo folder" in capsys.readouterr().err


def test_mistyped_subcommand_is_a_usage_error_not_the_editor(tmp_path):
    _photo(tmp_path / "x.png")
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "main.py"), "fil", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen",
                                                                           "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "invalid choice: 'fil'" in done.stderr
