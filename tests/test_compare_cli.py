"""``python main.py compare``: files written, CSV rows, summary, failures reported, no torch."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.cli import main
from inference.cli.compare import pair_images_with_masks
from inference.engines import registry
from inference.engines.contract import Engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BrokenEngine(Engine):
    name = "broken"

    def _fill(self, image, mask, guide, should_cancel, progress):
        raise RuntimeError("exploded")


def broken_engine() -> Engine:
    return BrokenEngine()


@pytest.fixture
def broken_registered(monkeypatch):
    spec = registry.EngineSpec("broken", "Broken", False, f"{__name__}:broken_engine", registry._always)
    monkeypatch.setattr(registry, "ENGINES", registry.ENGINES + (spec,))


def _write_photo(path: Path, height: int, width: int, seed: int) -> None:
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    pixels = np.stack([x * 255 // width, y * 255 // height, (x * y) % 256], axis=2) + rng.integers(0, 20, (height, width, 3))
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(path)


def _write_mask(path: Path, height: int, width: int, box: tuple[int, int, int, int]) -> None:
    mask = np.zeros((height, width), np.uint8)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = 255
    Image.fromarray(mask, "L").save(path)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_single_image_writes_results_sheet_and_scored_csv(tmp_path, broken_registered):
    _write_photo(tmp_path / "photo.png", 48, 64, 0)
    _write_mask(tmp_path / "hole.png", 48, 64, (10, 10, 30, 40))
    out = tmp_path / "out"
    status = main(["compare", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "hole.png"),
                   "--engines", "telea,broken,ns", "--ground-truth", "-o", str(out)])
    assert status == 0
    assert (out / "photo_telea.png").is_file() and (out / "photo_ns.png").is_file()
    assert not (out / "photo_broken.png").exists()
    sheet = Image.open(out / "photo_sheet.png")
    assert sheet.width > 5 * 64  # original, masked input and three engine columns
    rows = _rows(out / "metrics.csv")
    assert [row["engine"] for row in rows] == ["telea", "broken", "ns"]
    assert rows[1]["error"] == "RuntimeError: exploded" and rows[1]["psnr"] == ""
    assert float(rows[0]["psnr"]) > float(rows[0]["psnr_hole"]) > 0
    assert rows[0]["bucket"] == "10-20%" and float(rows[0]["hole_ratio"]) == pytest.approx(600 / 3072, abs=1e-4)


def test_without_ground_truth_the_csv_has_no_scores(tmp_path):
    _write_photo(tmp_path / "photo.png", 40, 40, 1)
    _write_mask(tmp_path / "hole.png", 40, 40, (5, 5, 15, 15))
    out = tmp_path / "out"
    assert main(["compare", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "hole.png"),
                 "--engines", "telea", "-o", str(out)]) == 0
    [row] = _rows(out / "metrics.csv")
    assert row["psnr"] == "" and float(row["seconds"]) >= 0


def test_folder_mode_writes_summary_and_skips_a_bad_file(tmp_path, capsys):
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    _write_photo(images / "a.png", 40, 40, 2)
    _write_photo(images / "b.png", 32, 48, 3)  # another size: its mask is resized
    (images / "c.png").write_bytes(b"not a png at all")
    _write_mask(masks / "m0.png", 40, 40, (0, 0, 10, 40))  # 25 %
    _write_mask(masks / "m1.png", 40, 40, (0, 0, 2, 40))  # 5 %
    status = main(["compare", str(images), "--masks", str(masks), "--engines", "telea,ns",
                   "--ground-truth", "-o", str(out)])
    assert status == 1  # one input skipped
    error_lines = [line for line in capsys.readouterr().err.splitlines() if "c.png" in line]
    assert len(error_lines) == 1 and error_lines[0].startswith("skipped")
    assert (out / "a_sheet.png").is_file() and (out / "b_sheet.png").is_file()
    records = _rows(out / "metrics.csv")
    assert [(row["image"], row["engine"]) for row in records] == [("a", "telea"), ("a", "ns"), ("b", "telea"), ("b", "ns")]
    assert {row["image"]: row["bucket"] for row in records} == {"a": "20-30%", "b": "0-10%"}
    summary = _rows(out / "summary.csv")
    assert [(row["bucket"], row["engine"]) for row in summary] == [
        ("0-10%", "telea"), ("0-10%", "ns"), ("20-30%", "telea"), ("20-30%", "ns"), ("all", "telea"), ("all", "ns"),
    ]
    assert summary[4]["images"] == "2" and float(summary[4]["psnr"]) > 0
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "| hole ratio | engine |" in markdown and "| all | Telea (OpenCV) | 2 |" in markdown


def test_pairing_by_stem_else_by_index():
    images = [Path("i/b.png"), Path("i/a.png"), Path("i/c.jpg"), Path("i/c.png")]
    masks = [Path("m/x.png"), Path("m/c.png")]
    pairs = pair_images_with_masks(images, masks)
    assert [(p.image.name, p.mask.name, p.name) for p in pairs] == [
        ("a.png", "c.png", "a"),  # index 0 -> masks sorted [c, x][0]
        ("b.png", "x.png", "b"),  # index 1
        ("c.jpg", "c.png", "c"),  # same stem
        ("c.png", "c.png", "c_png"),  # same stem; output name kept unique
    ]


def test_unknown_engine_is_a_usage_error(tmp_path, capsys):
    _write_photo(tmp_path / "photo.png", 16, 16, 4)
    _write_mask(tmp_path / "hole.png", 16, 16, (2, 2, 6, 6))
    status = main(["compare", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "hole.png"),
                   "--engines", "telea,nope", "-o", str(tmp_path / "out")])
    assert status == 2 and "nope" in capsys.readouterr().err


def test_compare_cli_does_not_import_torch(tmp_path):
    _write_photo(tmp_path / "photo.png", 24, 24, 5)
    _write_mask(tmp_path / "hole.png", 24, 24, (4, 4, 12, 12))
    code = (
        "import sys; from inference.cli import main; "
        f"status = main(['compare', {str(tmp_path / 'photo.png')!r}, '--mask', {str(tmp_path / 'hole.png')!r}, "
        f"'--engines', 'telea', '--ground-truth', '-o', {str(tmp_path / 'out')!r}]); "
        "print(status, 'torch' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               check=True)
    assert completed.stdout.strip().splitlines()[-1] == "0 False"
