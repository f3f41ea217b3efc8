"""Smoke training on CPU: finite losses, exact resume, export that the engines accept.

Runs on a tiny pack of generated photos with Canny edges (no real data, no HED weights, no VGG).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from inference.cli import main as cli_main
from inference.engines.registry import create_engine, get_spec
from inference.training.checkpoints import load_module_state, read_state
from inference.training.export import export_checkpoint
from inference.training.loop import TrainRequest, train
from inference.training.pack import prepare_pack
from inference.training.synthetic import write_synthetic_photos


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smoke")
    source = write_synthetic_photos(folder / "source", count=6, seed=11)
    prepare_pack(source / "photos", folder / "pack", edges_folder=source / "edges", log=lambda _line: None)
    return folder / "pack"


def _request(model, pack, out, **options) -> TrainRequest:
    return TrainRequest(model=model, pack=pack, out=out, smoke=True, **options)


def _silent(_line: str) -> None:
    return None


def _photo_and_hole(size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), bool)
    mask[30:60, 25:70] = True
    return image, mask


def test_deepfill_smoke_trains_resumes_exactly_and_exports(pack, tmp_path, weights_dir):
    # Run A: 3 steps with a checkpoint after every step, Adam moments stored in fp32.
    first = train(_request("deepfill", pack, tmp_path / "a", steps=3, checkpoint_minutes=0.0,
                           moments="fp32", keep=5), log=_silent)
    assert first.step == 3 and first.samples_seen == 6
    assert first.losses and all(math.isfinite(value) for value in first.losses.values())
    assert sorted(p.name for p in (tmp_path / "a" / "checkpoints").glob("step-*")) == [
        "step-0000001", "step-0000002", "step-0000003"]
    assert (tmp_path / "a" / "previews" / "step-0000003.png").is_file()

    # Run B resumes A's step-1 checkpoint and must land on A's step-3 state exactly.
    resumed = train(_request("deepfill", pack, tmp_path / "b", steps=3, moments="fp32",
                             resume=tmp_path / "a" / "checkpoints" / "step-0000001"), log=_silent)
    assert resumed.step == 3 and resumed.samples_seen == 6
    for part in ("generator", "discriminator"):
        expected = load_module_state(tmp_path / "a", part)
        actual = load_module_state(tmp_path / "b", part)
        assert expected.keys() == actual.keys()
        assert all(torch.equal(expected[key], actual[key]) for key in expected), part

    path, card = export_checkpoint(tmp_path / "a", weights_dir / "deepfill_v2_guided.safetensors")
    assert card["input_channels"] == 6 and card["mode"] == "pt" and card["colour_order"] == "rgb"
    assert card["training"]["steps"] == 3 and card["data"]["photos"] == 6
    assert card["data"]["mix"]["sample_share_per_category"] == {"face": 0.3333, "old": 0.3333, "scene": 0.3333}
    assert get_spec("deepfill_v2_guided").check().available
    engine = create_engine("deepfill_v2_guided")
    image, mask = _photo_and_hole()
    guide = np.zeros(mask.shape, np.uint8)
    guide[45, 25:70] = 255
    result = engine.inpaint(image, mask, guide)
    assert result.shape == image.shape and np.array_equal(result[~mask], image[~mask])


def test_lbam_smoke_resumes_from_its_step_and_exports_through_the_cli(pack, tmp_path, weights_dir, capsys):
    run = tmp_path / "lbam"
    arguments = ["train", "lbam", "--pack", str(pack), "--out", str(run), "--smoke"]
    assert cli_main([*arguments, "--steps", "2"]) == 0
    state = read_state(run)
    assert state["step"] == 2 and state["moments"] == "bf16" and state["settings"]["width"] == 1 / 16
    assert all(math.isfinite(value) for value in state["losses"].values())
    assert cli_main([*arguments, "--steps", "3", "--resume", str(run)]) == 0
    assert "resumed from" in capsys.readouterr().out
    state = read_state(run)
    assert state["step"] == 3 and state["samples_seen"] == 6
    assert [entry["started_step"] for entry in state["runs"]] == [0, 2]
    with open(run / "log.jsonl", encoding="utf-8") as stream:
        assert [json.loads(line)["step"] for line in stream] == [1, 2, 3]

    assert cli_main(["train", "export", str(run), "-o", str(weights_dir / "lbam.safetensors")]) == 0
    card = json.loads((weights_dir / "lbam.json").read_text())
    assert card["architecture"] == "lbam" and card["variant"] == "current" and card["width"] == 1 / 16
    assert "non-commercial" in card["licence"] and card["dtype"] == "float16"
    image, mask = _photo_and_hole(128)
    result = create_engine("lbam").inpaint(image, mask)
    assert result.shape == image.shape and np.array_equal(result[~mask], image[~mask])


def test_resuming_with_other_settings_is_refused(pack, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli_main(["train", "deepfill", "--pack", str(pack), "--out", str(run), "--smoke", "--steps", "1"]) == 0
    status = cli_main(["train", "deepfill", "--pack", str(pack), "--out", str(run), "--smoke",
                       "--resume", str(run), "--batch", "4"])
    assert status == 2
    assert "differs from the checkpoint" in capsys.readouterr().err
    assert cli_main(["train", "lbam", "--pack", str(pack), "--out", str(run), "--resume", str(run)]) == 2


def test_a_failing_torch_compile_falls_back_to_eager_without_a_trace(pack, tmp_path, monkeypatch):
    eager = train(_request("lbam", pack, tmp_path / "eager", steps=2), log=_silent)

    class Broken(torch.nn.Module):
        def forward(self, *args):
            raise RuntimeError("inductor backend failed")

    monkeypatch.setattr(torch, "compile", lambda module, **kwargs: Broken())
    lines = []
    fallback = train(_request("lbam", pack, tmp_path / "fallback", steps=2, compile="on"), log=lines.append)
    assert any("torch.compile failed" in line for line in lines)
    assert fallback.step == eager.step == 2
    expected, actual = load_module_state(tmp_path / "eager"), load_module_state(tmp_path / "fallback")
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
