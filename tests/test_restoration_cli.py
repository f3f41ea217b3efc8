"""``python main.py restore``: one photo, a folder, and refusals."""

from __future__ import annotations

import numpy as np
from PIL import Image

from inference.cli import main
from inference.restoration.synthetic import render_damage
from tests.test_restoration import flat_photo


def _damaged(path, seed):
    photo = render_damage(flat_photo(seed=seed), np.random.default_rng(seed), ("dust", "scratch"))
    Image.fromarray(photo.image).save(path)
    return photo


def test_restore_one_photo_writes_the_repair_and_its_mask(tmp_path, capsys):
    photo = _damaged(tmp_path / "old.png", 1)
    assert main(["restore", str(tmp_path / "old.png"), "-o", str(tmp_path / "fixed.png"), "--save-mask"]) == 0
    assert "repaired" in capsys.readouterr().out
    fixed = np.asarray(Image.open(tmp_path / "fixed.png"))
    hole = np.asarray(Image.open(tmp_path / "fixed_mask.png")) > 0
    assert hole.any()
    assert np.array_equal(fixed[~hole], photo.image[~hole])  # nothing outside the Hole changes
    dust = photo.masks["dust"]
    assert (hole & dust).sum() >= 0.6 * dust.sum()


def test_restore_a_folder(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    for seed in range(2):
        _damaged(tmp_path / "in" / f"p{seed}.png", seed)
    assert main(["restore", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p0.png", "p1.png"]
    assert "2 of 2 photos restored" in capsys.readouterr().out


def test_restore_refuses_bad_inputs(tmp_path, capsys):
    _damaged(tmp_path / "old.png", 0)
    assert main(["restore", str(tmp_path / "old.png"), "-o", str(tmp_path / "old.png")]) == 1
    assert "is the input" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "old.png"), "-o", str(tmp_path / "x.png"), "--sensitivity", "2"]) == 2
    assert main(["restore", str(tmp_path / "missing.png"), "-o", str(tmp_path / "x.png")]) == 1
    assert "does not exist" in capsys.readouterr().err
