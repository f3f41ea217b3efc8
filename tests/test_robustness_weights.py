"""Issue 15, weights: wrong, broken, malicious and bomb files are refused in one line; card and file are one pair."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from inference.engines.deepfill.network import Generator, GeneratorConfig
from inference.weights import reading, store
from inference.weights.importer import import_weights
from inference.weights.store import WeightsError, find_weights, stored_weights
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(input_channels=5, layout="states_pt", mode="pt")).state_dict()


def _save(path: Path, state) -> Path:
    torch.save(state, path)
    return path


# --- 5: exceptions from foreign files become WeightsErrors ----------------------------------------------------


def test_integer_keys_are_refused(tmp_path, weights_dir):
    with pytest.raises(WeightsError, match="not a tensor name"):
        import_weights(_save(tmp_path / "ints.pth", {1: torch.zeros(2), 2: torch.ones(2)}))


def test_meta_tensors_are_refused(tmp_path, weights_dir):
    state = {key: torch.empty_like(value, device="meta") for key, value in _state().items()}
    with pytest.raises(WeightsError, match="no plain data"):
        import_weights(_save(tmp_path / "meta.pth", state))


def test_text_file_named_pth_is_refused(tmp_path, weights_dir):
    (tmp_path / "notes.pth").write_text("these are not weights\n" * 20)
    with pytest.raises(WeightsError, match="notes.pth"):
        import_weights(tmp_path / "notes.pth")


# --- 6: non-finite and non-float tensors, dtype recorded truthfully ------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_naming_the_key(tmp_path, weights_dir, bad):
    state = _state()
    key = next(iter(state))
    state[key].view(-1)[3] = bad
    with pytest.raises(WeightsError, match=f"tensor {key} holds NaN or infinite"):
        import_weights(_save(tmp_path / "nan.pth", state))
    assert not list(weights_dir.glob("*.safetensors"))


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
def test_non_float_weights_are_refused(tmp_path, weights_dir, dtype):
    state = _state()
    key = next(iter(state))
    state[key] = state[key].to(dtype)
    with pytest.raises(WeightsError, match="must be floating point"):
        import_weights(_save(tmp_path / "ints.pth", state))


def test_card_records_the_stored_dtype(tmp_path, weights_dir):
    wide = {key: value.double() for key, value in _state().items()}
    assert import_weights(_save(tmp_path / "f64.pth", wide), "wide").card["dtype"] == "float32"
    mixed = _state()
    first = next(iter(mixed))
    mixed[first] = mixed[first].half()
    assert import_weights(_save(tmp_path / "mixed.pth", mixed), "mixed").card["dtype"] == "mixed (float16, float32)"


# --- 15: zip bombs refused before anything is unpacked -----------------------------------------------------------


def test_zip_bomb_is_refused_by_declared_size(tmp_path, weights_dir, monkeypatch):
    monkeypatch.setattr(reading, "MAX_DECLARED_BYTES", 4 << 20)
    bomb = tmp_path / "bomb.pth"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data/0", b"\0" * (8 << 20))
    loaded = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: loaded.append(a))
    with pytest.raises(WeightsError, match="declares 0.01 GiB"):
        import_weights(bomb)
    assert not loaded


def test_compression_ratio_alone_refuses_a_bomb(tmp_path, weights_dir, monkeypatch):
    monkeypatch.setattr(reading, "MAX_COMPRESSION_RATIO", 2)
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.npy", b"\0" * (3 << 20))
    with pytest.raises(WeightsError, match="refused"):
        import_weights(bomb)


# --- model card and weights are one pair; damaged files are not available ------------------------------------------


def test_interrupted_replacement_never_pairs_new_weights_with_the_old_card(tmp_path, weights_dir, monkeypatch):
    first = import_weights(_save(tmp_path / "a.pth", _state(0)))
    assert find_weights("deepfill_v2") == first
    real_replace = store.os.replace
    calls = []

    def crash_before_the_card(source, target):
        calls.append(target)
        if str(target).endswith(".json"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(store.os, "replace", crash_before_the_card)
    with pytest.raises(WeightsError, match="No space left"):
        import_weights(_save(tmp_path / "b.pth", _state(1)), overwrite=True)
    monkeypatch.setattr(store.os, "replace", real_replace)
    assert find_weights("deepfill_v2") is None  # the new file with the old card is no pair
    assert [p.name for p in weights_dir.iterdir() if p.name.endswith(".tmp")] == []
    again = import_weights(_save(tmp_path / "b.pth", _state(1)), overwrite=True)
    assert find_weights("deepfill_v2") == again


def _engine_status(capsys, name: str) -> str:
    from inference.cli import main as cli_main

    capsys.readouterr()
    assert cli_main(["engines"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(name + " "))
    return line.split()[line.split().index("no") + 1]


def test_truncated_stored_weights_are_not_available(tmp_path, weights_dir, capsys):
    stored = import_weights(_save(tmp_path / "a.pth", _state()))
    assert _engine_status(capsys, "deepfill_v2") == "available"
    data = stored.path.read_bytes()
    stored.path.write_bytes(data[: len(data) // 2])
    assert find_weights("deepfill_v2") is None
    assert _engine_status(capsys, "deepfill_v2") == "unavailable"
    assert [item.name for item in stored_weights(include_damaged=True)] == [stored.name]


def test_cli_import_of_a_wrong_file_prints_one_line(tmp_path, weights_dir):
    (tmp_path / "x.pth").write_text("a text file, not weights\n" * 10)
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "main.py"), "weights", "import", str(tmp_path / "x.pth")],
                          capture_output=True, text=True, timeout=120,
                          env={"INPAINT_STUDIO_WEIGHTS": str(weights_dir), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "x.pth" in done.stderr


class _CallsSystem:
    def __reduce__(self):
        return os.system, ("echo should never run",)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickled_code_is_named_for_every_protocol(tmp_path, weights_dir, protocol):
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"w": _CallsSystem()}, protocol=protocol))
    with pytest.raises(WeightsError, match=r"pickled code \(it would call posix.system\)"):
        import_weights(path)
