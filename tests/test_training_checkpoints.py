"""Checkpoints: shards under the size limit, exact round trips, bit-exact continuation, corruption checks."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from inference.training import checkpoints
from inference.training.checkpoints import (
    CheckpointError,
    load_checkpoint,
    load_sharded,
    mark_latest,
    resolve_checkpoint,
    save_checkpoint,
    save_sharded,
)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(8, 4)
        self.norm = nn.BatchNorm1d(4)  # running statistics are buffers that must come back too

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.linear(x))


def _build(seed: int = 0) -> tuple[Tiny, torch.optim.Adam]:
    torch.manual_seed(seed)
    model = Tiny()
    return model, torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.999))


def _train(model: Tiny, optimizer: torch.optim.Adam, steps: int) -> None:
    for _ in range(steps):
        x = torch.randn(6, 8)  # draws from the global generator, whose state the checkpoint keeps
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _save(folder, model, optimizer, moments="fp32", step=0):
    return save_checkpoint(folder, modules={"generator": model}, optimizers={"generator": optimizer},
                           state={"model": "tiny", "step": step}, moments=moments)


def test_large_tensors_are_split_so_no_file_exceeds_the_limit(tmp_path):
    tensors = {"big": torch.randn(100, 50), "small": torch.arange(10), "scalar": torch.tensor(3.0)}
    names = save_sharded(tmp_path, "part", tensors, limit=4096)
    assert len(names) > 4
    for name in names:
        assert (tmp_path / name).stat().st_size <= 4096 + 1024  # data limit plus the header
    restored = load_sharded(tmp_path, names)
    assert set(restored) == set(tensors)
    for key, value in tensors.items():
        assert torch.equal(restored[key], value)


def test_default_shards_stay_under_15_mib(tmp_path):
    names = save_sharded(tmp_path, "weights", {"a": torch.zeros(5_000_000), "b": torch.zeros(3_000_000)})
    assert all((tmp_path / name).stat().st_size <= 15 * 2**20 for name in names)
    assert torch.equal(load_sharded(tmp_path, names)["a"], torch.zeros(5_000_000))


def test_fp32_checkpoint_continues_bit_for_bit(tmp_path):
    straight, straight_opt = _build()
    torch.manual_seed(1)
    _train(straight, straight_opt, 4)

    first, first_opt = _build()
    torch.manual_seed(1)
    _train(first, first_opt, 2)
    _save(tmp_path / "ckpt", first, first_opt, step=2)
    _train(first, first_opt, 1)  # the run goes on after saving; resuming must not see this step

    resumed, resumed_opt = _build(seed=99)  # different init: everything must come from the checkpoint
    document, notes = load_checkpoint(tmp_path / "ckpt", modules={"generator": resumed},
                                      optimizers={"generator": resumed_opt})
    assert document["step"] == 2 and notes == []
    _train(resumed, resumed_opt, 2)
    for key, value in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_bf16_moments_resume_closely_but_not_bit_for_bit(tmp_path):
    model, optimizer = _build()
    _train(model, optimizer, 3)
    _save(tmp_path / "ckpt", model, optimizer, moments="bf16")
    copy, copy_opt = _build(seed=5)
    load_checkpoint(tmp_path / "ckpt", modules={"generator": copy}, optimizers={"generator": copy_opt})
    for key, value in model.state_dict().items():
        assert torch.equal(copy.state_dict()[key], value)  # weights stay fp32 exact
    for original, restored in zip(optimizer.state.values(), copy_opt.state.values(), strict=True):
        assert torch.equal(original["step"], restored["step"])
        assert restored["exp_avg"].dtype == torch.float32
        torch.testing.assert_close(restored["exp_avg"], original["exp_avg"], rtol=2**-8, atol=0)
        torch.testing.assert_close(restored["exp_avg_sq"], original["exp_avg_sq"], rtol=2**-8, atol=0)


def test_corrupt_or_missing_files_are_refused(tmp_path):
    model, optimizer = _build()
    _train(model, optimizer, 1)
    folder = _save(tmp_path / "ckpt", model, optimizer)
    document = json.loads((folder / "state.json").read_text())
    shard = folder / document["files"]["generator"][0]
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(folder, modules={"generator": model}, optimizers={"generator": optimizer})
    shard.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(folder, modules={"generator": model}, optimizers={"generator": optimizer})
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        resolve_checkpoint(tmp_path / "nothing")


def test_latest_pointer_and_pruning(tmp_path):
    model, optimizer = _build()
    root = tmp_path / "checkpoints"
    for step in (1, 2, 3):
        folder = _save(root / f"step-{step:07d}", model, optimizer, step=step)
        mark_latest(root, folder, keep=2)
    assert sorted(p.name for p in root.glob("step-*")) == ["step-0000002", "step-0000003"]
    assert resolve_checkpoint(tmp_path) == root / "step-0000003"
    assert resolve_checkpoint(root / "step-0000002" / "state.json") == root / "step-0000002"
    assert checkpoints.read_state(tmp_path)["step"] == 3


def test_travel_groups_fit_one_device_call_each(tmp_path):
    model, optimizer = _build()
    folder = _save(tmp_path / "ckpt", model, optimizer)
    for index in range(5):
        (folder / f"extra-{index}.bin").write_bytes(bytes(3000))
    groups = checkpoints.travel_groups(folder, limit=7000, max_files=3)
    files = [path for group in groups for path in group]
    assert sorted(files) == sorted(p for p in folder.iterdir() if p.is_file())
    for group in groups:
        assert len(group) <= 3 and sum(p.stat().st_size for p in group) <= 7000
    assert any(p.name == "state.json" for p in groups[-1])
