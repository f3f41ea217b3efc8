"""``fill DIR --ray`` and ``restore DIR --ray``: a local Ray cluster (2 CPUs, started here) gives byte-identical outputs and the
same summary as the local run, failures included. Skipped when Ray (the scale extra) is absent."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inference.cli import main as cli_main
from inference.io.images import open_image, save_image
from inference.io.masks import save_mask
from tests.conftest import PROJECT_ROOT

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install -e ".[scale]")')


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _photo_folder(folder, count=10):
    photos, masks = folder / "photos", folder / "masks"
    photos.mkdir(parents=True)
    masks.mkdir()
    rng = np.random.default_rng(3)
    for index in range(count):
        height, width = 40 + 4 * index, 56 + 2 * index
        smooth = np.linspace(0, 255, width, dtype=np.float32)[None, :, None] * np.ones((height, 1, 3), np.float32)
        pixels = np.clip(smooth + rng.normal(0, 20, (height, width, 3)), 0, 255).astype(np.uint8)
        suffix = ".jpg" if index % 3 == 0 else ".png"
        save_image(photos / f"photo-{index:02d}{suffix}", pixels)
        mask = np.zeros((height, width), bool)
        mask[8 + index:20 + index, 10:30] = True
        save_mask(masks / f"photo-{index:02d}.png", mask)
    (photos / "broken.png").write_bytes(b"not a png")  # fails in both runs, the same way
    return photos, masks


def _fill(photos, masks, out, *extra):
    return cli_main(["fill", str(photos), "--mask", str(masks), "--engine", "telea", "-o", str(out), *extra])


def test_ray_fill_gives_the_local_runs_bytes_and_summary(local_cluster, tmp_path, capsys):
    photos, masks = _photo_folder(tmp_path)
    assert _fill(photos, masks, tmp_path / "local", "--quality", "85") == 1  # the broken file
    local = capsys.readouterr()
    assert _fill(photos, masks, tmp_path / "ray", "--quality", "85", "--ray", "--ray-files-per-task", "3") == 1
    remote = capsys.readouterr()

    assert remote.out.replace("/ray", "/local") == local.out
    assert "10 of 11 images filled" in remote.out
    assert [line for line in remote.err.splitlines() if line.startswith("failed:")] == [
        line for line in local.err.splitlines() if line.startswith("failed:")]
    assert "ray: 11 of 11 images" in remote.err  # progress
    names = sorted(path.name for path in (tmp_path / "local").iterdir())
    assert len(names) == 10 and names == sorted(path.name for path in (tmp_path / "ray").iterdir())
    for name in names:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_ray_options_are_checked_before_anything_runs(local_cluster, tmp_path, capsys):
    photos, masks = _photo_folder(tmp_path, count=2)
    assert _fill(photos, masks, tmp_path / "out", "--ray", "--ray-files-per-task", "0") == 2
    assert "--ray-files-per-task must be >= 1" in capsys.readouterr().err


def test_fill_without_ray_does_not_import_it():
    code = "import sys; from inference.cli import build_parser; build_parser(); print('ray' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_ray_restore_gives_the_local_runs_bytes_and_summary(local_cluster, tmp_path, capsys):
    photos, _ = _photo_folder(tmp_path, count=4)
    (photos / "broken.png").unlink()
    for path in photos.iterdir():  # white specks: dust for restore to find
        pixels = open_image(path).pixels
        pixels[5:7, 5:7] = 255
        pixels[30:32, 40:42] = 255
        save_image(path, pixels)
    arguments = ["restore", str(photos), "--save-mask", "-o"]
    assert cli_main([*arguments, str(tmp_path / "local")]) == 0
    local = capsys.readouterr().out
    assert cli_main([*arguments, str(tmp_path / "ray"), "--ray"]) == 0
    assert capsys.readouterr().out.replace("/ray", "/local") == local
    names = sorted(path.name for path in (tmp_path / "local").iterdir())
    assert len(names) == 8 and names == sorted(path.name for path in (tmp_path / "ray").iterdir())
    for name in names:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_a_task_that_keeps_crashing_fails_its_files_not_the_run(local_cluster, tmp_path, capsys):
    import argparse

    from inference.cli import fill, ray_batch

    photos, _ = _photo_folder(tmp_path, count=3)
    (tmp_path / "out").mkdir()
    # No mask source at all: every task raises an unexpected error (not a bad-input one), is retried, then given up.
    args = argparse.Namespace(engine="telea", radius=None, mask=None, guide=None, overwrite=False, quality=None,
                              output=tmp_path / "out", ray="", ray_cpus=1.0, ray_gpus=0.0, ray_retries=1,
                              ray_files_per_task=2)
    work = ray_batch.FolderWork(fill.fill_listed, fill._build_engine, "images filled", fill.failure_line)
    assert ray_batch.run_folder_on_ray(args, sorted(photos.iterdir()), work) == 1
    captured = capsys.readouterr()
    assert f"0 of 4 images filled into {tmp_path / 'out'}; 4 failed" in captured.out
    assert captured.err.count("Ray task failed after its retries") == 4
