"""``python main.py bench quality``: inputs, pairing, guided variants, records, buckets, sheets, no torch."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.cli import main
from inference.engines import registry
from inference.engines.contract import Engine
from inference.evaluation import quality
from inference.evaluation.compare import hole_ratio_bucket
from inference.evaluation.quality_data import (
    BenchInputError,
    Category,
    MaskSet,
    find_categories,
    find_mask_sets,
    mask_sequence,
    plan_cases,
    square_image,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUIDES_SEEN: list[tuple[np.ndarray, np.ndarray]] = []  # (guide, mask) per fill of the fake guided Engine
EDGE_COLUMNS = slice(20, 24)  # where the fake HED draws its edges, in the 64-px pictures


class FakeGuidedEngine(Engine):
    """Fills the Hole with grey and remembers the Guide it was given."""

    name = "fake_guided"
    accepts_guide = True

    def _fill(self, image, mask, guide, should_cancel, progress):
        GUIDES_SEEN.append((guide.copy(), mask.copy()))
        filled = image.copy()
        filled[mask] = 128
        return filled


def fake_guided_engine() -> Engine:
    return FakeGuidedEngine()


def _unavailable() -> registry.Availability:
    return registry.Availability(False, "no fake weights", "there is no fix")


@pytest.fixture
def fake_engines(monkeypatch):
    """A guided Engine that can run and one that cannot, next to the real ones; a fake HED."""
    GUIDES_SEEN.clear()
    guided = registry.EngineSpec("fake_guided", "Fake guided", True, f"{__name__}:fake_guided_engine",
                                 registry._always)
    missing = registry.EngineSpec("fake_missing", "Fake missing", False, f"{__name__}:fake_guided_engine",
                                  _unavailable)
    monkeypatch.setattr(registry, "ENGINES", registry.ENGINES + (guided, missing))
    monkeypatch.setattr(quality, "hed_status", lambda: (True, "fake HED"))
    monkeypatch.setattr(quality, "hed_edge_map", _fake_edge_map)


def _fake_edge_map(image: np.ndarray) -> np.ndarray:
    edges = np.zeros(image.shape[:2], np.float32)
    edges[:, EDGE_COLUMNS] = 0.9  # above DeepFill's 0.6 threshold
    return edges


def _write_photo(path: Path, height: int, width: int, seed: int) -> None:
    y, x = np.mgrid[0:height, 0:width]
    noise = np.random.default_rng(seed).integers(0, 40, (height, width, 3))
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=2) + noise
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(path)


def _write_mask(path: Path, rows: slice, cols: slice, side: int = 64) -> None:
    mask = np.zeros((side, side), np.uint8)
    mask[rows, cols] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask, "L").save(path)


def _dev_eval_like(root: Path) -> Path:
    """faces/ (3 photos), scenes/ (2), old/ (ignored), masks/ with two 64-px sets and one for 512."""
    for index in range(3):
        _write_photo(root / "faces" / f"face{index}.png", 48, 64, index)  # non-square: cropped
    for index in range(2):
        _write_photo(root / "scenes" / f"scene{index}.png", 64, 64, 10 + index)
    _write_photo(root / "old" / "old0.png", 64, 64, 20)
    _write_mask(root / "masks" / "box_256" / "0000.png", slice(0, 16), slice(0, 16))  # 6.25 %
    _write_mask(root / "masks" / "box_256" / "0001.png", slice(16, 32), slice(16, 48))  # 12.5 %
    _write_mask(root / "masks" / "band_256" / "0000.png", slice(None), slice(0, 16))  # 25 %
    _write_mask(root / "masks" / "band_256" / "0001.png", slice(None), slice(16, 48))  # 50 %
    _write_mask(root / "masks" / "band_512" / "0000.png", slice(None), slice(0, 8))
    return root


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


# --- inputs and pairing ----------------------------------------------------------------------------


def test_root_gives_faces_and_scenes_and_folders_are_named_categories(tmp_path):
    root = _dev_eval_like(tmp_path / "dev")
    assert [c.name for c in find_categories([root])] == ["faces", "scenes"]
    assert [len(c.images) for c in find_categories([root])] == [3, 2]
    assert [c.name for c in find_categories([root / "old", root / "faces"])] == ["old", "faces"]
    with pytest.raises(BenchInputError, match="faces"):
        find_categories([root, root / "faces"])
    with pytest.raises(BenchInputError):
        find_categories([root / "masks"])  # no photos, no faces/ or scenes/


def test_mask_sets_are_picked_by_size_or_named_one_by_one(tmp_path):
    root = _dev_eval_like(tmp_path / "dev")
    assert [s.name for s in find_mask_sets([root], 256)] == ["band_256", "box_256"]
    assert [s.name for s in find_mask_sets([root / "masks"], 512)] == ["band_512"]
    named = find_mask_sets([root / "masks" / "box_256", root / "masks" / "band_512"], 256)
    assert [(s.name, len(s.masks)) for s in named] == [("box_256", 2), ("band_512", 1)]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchInputError, match="_512"):
        find_mask_sets([tmp_path / "empty"], 512)


def test_pairing_is_seeded_rotates_through_the_sets_and_wraps():
    sets = [MaskSet("a", tuple(Path(f"a{i}.png") for i in range(3))),
            MaskSet("b", tuple(Path(f"b{i}.png") for i in range(3)))]
    images = tuple(Path(f"img{i}.png") for i in range(4))
    cases = plan_cases([Category("faces", images), Category("scenes", images[:1])], sets, per_image=2, seed=3)
    assert len(cases) == 10
    assert cases == plan_cases([Category("faces", images), Category("scenes", images[:1])], sets, 2, seed=3)
    sequence = mask_sequence(sets, 3)
    assert sorted(str(path) for _, path in sequence) == sorted(str(p) for s in sets for p in s.masks)
    for index in range(4):  # each Image: one mask of each set, next ones in the sequence, wrapping at 6
        pair = cases[2 * index: 2 * index + 2]
        assert [case.mask_set for case in pair] == ["a", "b"]
        assert [case.mask for case in pair] == [sequence[(2 * index + k) % 6][1] for k in range(2)]
    assert cases[8].mask == cases[0].mask and cases[8].category == "scenes"  # same holes per category
    orders = {tuple(path for _, path in mask_sequence(sets, seed)) for seed in range(6)}
    assert len(orders) > 1


def test_square_image_takes_the_centre_and_resizes():
    pixels = np.zeros((40, 100, 3), np.uint8)
    pixels[:, 30:70] = 200  # the centred 40-px square
    assert np.array_equal(square_image(pixels, 40), np.full((40, 40, 3), 200, np.uint8))
    resized = square_image(pixels, 64)
    assert resized.shape == (64, 64, 3) and resized.dtype == np.uint8 and resized.min() >= 195


# --- variants ----------------------------------------------------------------------------------------


def test_guided_engine_gets_two_variants_and_unavailable_ones_a_note(fake_engines, monkeypatch):
    variants, notes = quality.plan_variants(["telea", "fake_missing", "fake_guided"])
    assert [(v.id, v.guide) for v in variants] == [
        ("telea", quality.GUIDE_NONE), ("fake_guided_no_guide", quality.GUIDE_EMPTY),
        ("fake_guided_hed_guide", quality.GUIDE_HED)]
    assert [v.label for v in variants[1:]] == ["Fake guided (no guide)", "Fake guided (HED guide)"]
    assert len(notes) == 1 and "Fake missing" in notes[0] and "no fake weights" in notes[0]
    monkeypatch.setattr(quality, "hed_status", lambda: (False, "HED weights are missing"))
    variants, notes = quality.plan_variants(["fake_guided"])
    assert [v.id for v in variants] == ["fake_guided_no_guide"]
    assert any("HED weights are missing" in note for note in notes)


# --- the whole bench -----------------------------------------------------------------------------------


def test_bench_quality_writes_records_summaries_and_sheets(tmp_path, fake_engines, capsys):
    root = _dev_eval_like(tmp_path / "dev")
    out = tmp_path / "out"
    status = main(["bench", "quality", "--images", str(root), "--masks", str(root), "--size", "256",
                   "--engines", "telea,ns,fake_guided,fake_missing", "--masks-per-image", "2", "-o", str(out)])
    assert status == 0, capsys.readouterr().err
    records = _rows(out / "records.csv")
    variants = ["telea", "ns", "fake_guided_no_guide", "fake_guided_hed_guide"]
    assert len(records) == 5 * 2 * len(variants)  # 5 photos × 2 masks × 4 variants
    assert [row["engine"] for row in records[:4]] == variants
    assert {row["category"] for row in records} == {"faces", "scenes"}
    assert all(row["error"] == "" and row["psnr_hole"] not in ("", "nan") for row in records)
    ratios = {row["mask"]: float(row["hole_ratio"]) for row in records}
    assert ratios == {"box_256/0000": 0.0625, "box_256/0001": 0.125, "band_256/0000": 0.25, "band_256/0001": 0.5}
    assert all(row["bucket"] == hole_ratio_bucket(float(row["hole_ratio"])) for row in records)

    # The guided Engine ran twice per case: an empty Guide, then the HED edges inside the Hole only.
    assert len(GUIDES_SEEN) == 2 * 10
    for (empty, _), (edges, mask) in zip(GUIDES_SEEN[0::2], GUIDES_SEEN[1::2], strict=True):
        assert not empty.any()
        expected = np.zeros_like(mask)
        expected[:, EDGE_COLUMNS] = True
        assert np.array_equal(edges == 255, expected & mask) and set(np.unique(edges)) <= {0, 255}

    summary = _rows(out / "summary.csv")
    assert {(row["category"], row["bucket"]) for row in summary if row["engine"] == "telea"} >= {
        ("faces", "0-10%"), ("faces", "all"), ("scenes", "all"), ("all", "all")}
    faces_all = [row for row in summary if row["category"] == "faces" and row["bucket"] == "all"]
    assert [row["images"] for row in faces_all] == ["6"] * 4  # 3 faces × 2 masks, per variant
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "## faces: 3 images, 6 cases" in markdown and "## scenes: 2 images, 4 cases" in markdown
    assert "Fake guided (HED guide)" in markdown and "Fake missing (fake_missing) skipped" in markdown
    for variant in variants:
        with Image.open(out / f"worst_{variant}.png") as sheet:
            assert sheet.mode == "RGB" and sheet.height > 6 * 64


def test_worst_cases_are_the_lowest_hole_psnrs_and_bad_files_are_skipped(tmp_path, fake_engines):
    root = _dev_eval_like(tmp_path / "dev")
    (root / "scenes" / "broken.png").write_bytes(b"not a png")
    cases = plan_cases(find_categories([root]), find_mask_sets([root], 256), per_image=2)
    variants, _ = quality.plan_variants(["telea"])
    run = quality.run_benchmark(cases, variants, 64, worst=3)
    assert run.skipped_cases == 2 and any("broken.png" in note for note in run.notes)
    scores = sorted(r.record.scores.psnr_hole for r in run.records)
    assert [case.psnr_hole for case in run.worst["telea"]] == scores[:3]
    assert all(case.truth.shape == (64, 64, 3) for case in run.worst["telea"])


def test_unknown_engine_and_missing_masks_are_usage_errors(tmp_path, capsys):
    root = _dev_eval_like(tmp_path / "dev")
    common = ["bench", "quality", "--images", str(root), "-o", str(tmp_path / "out")]
    assert main([*common, "--masks", str(root), "--engines", "telea,nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main([*common, "--masks", str(root), "--size", "512", "--no-upscale"]) == 2
    assert "512" in capsys.readouterr().err


def test_bench_cli_skips_engines_without_weights_and_never_imports_torch(tmp_path):
    root = _dev_eval_like(tmp_path / "dev")
    out = tmp_path / "out"
    code = (
        "import sys; from inference.cli import main; "
        f"status = main(['bench', 'quality', '--images', {str(root / 'scenes')!r}, '--masks', "
        f"{str(root / 'masks' / 'box_256')!r}, '--masks-per-image', '1', '-o', {str(out)!r}]); "
        "print(status, 'torch' in sys.modules)"
    )
    environment = {**os.environ, "INPAINT_STUDIO_WEIGHTS": str(tmp_path / "no_weights")}
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               check=True, env=environment)
    assert completed.stdout.strip().splitlines()[-1] == "0 False"
    assert "skipped" in completed.stderr
    engines = {row["engine"] for row in _rows(out / "records.csv")}
    assert engines == {"telea", "ns", "patch_no_guide", "patch_best"}  # every engine that needs no weights
