"""Importing weight files safely: DeepFill v2 layouts, validation messages, pickles, safetensors, CLI, TF names."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from inference.cli import main as cli_main
from inference.engines.deepfill.checkpoint import ARCHITECTURE
from inference.engines.deepfill.network import FUSE_WEIGHT_KEY, Generator, GeneratorConfig
from inference.engines.deepfill.tf_convert import convert_tf_discriminator, convert_tf_generator
from inference.weights.importer import import_weights, load_network, recognise, store_weights
from inference.weights.store import WeightsError, find_weights

KEYS_JSON = Path(__file__).resolve().parents[2] / "shared" / "specs" / "deepfill_v2_keys.json"
MODE = {"states_tf": "tf", "states_pt": "pt"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _state(layout: str, channels: int = 5, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(input_channels=channels, layout=layout, mode=MODE[layout])).state_dict()


def _write_pth(path: Path, state: dict[str, torch.Tensor]) -> Path:
    # nipponjo's layout: the generator under 'G', plus training extras that must be ignored.
    torch.save({"G": state, "D": {"conv1.conv_sn.weight": torch.zeros(2)}, "n_iter": 4000}, path)
    return path


def _stored_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("layout", ["states_tf", "states_pt"])
def test_published_pth_imports_strictly_with_a_card(tmp_path, weights_dir, layout):
    state = _state(layout)
    source = _write_pth(tmp_path / f"{layout}_places2.pth", state)
    stored = import_weights(source)
    card = stored.card
    assert stored.path == weights_dir / "deepfill_v2.safetensors"
    assert (card["architecture"], card["layout"], card["mode"], card["input_channels"]) == (
        "deepfill_v2", layout, MODE[layout], 5,
    )
    assert card["colour_order"] == ("bgr" if layout == "states_tf" else "rgb")
    assert card["parameter_count"] == 4_052_478
    assert card["source_file"] == source.name and len(card["source_sha256"]) == 64
    assert card["dtype"] == "float32" and "CC BY-NC" in card["licence"]
    assert json.loads((weights_dir / "deepfill_v2.json").read_text()) == card
    network = load_network(stored)
    for key, value in state.items():
        assert torch.equal(network.state_dict()[key], value)
    assert find_weights("deepfill_v2", input_channels=5) == stored


def test_states_pt_without_fuse_weight_is_tolerated(tmp_path, weights_dir):
    state = _state("states_pt")
    del state[FUSE_WEIGHT_KEY]
    stored = import_weights(_write_pth(tmp_path / "old.pth", state))
    assert torch.equal(load_network(stored).state_dict()[FUSE_WEIGHT_KEY], torch.eye(3).view(1, 1, 3, 3))


def test_guided_weights_get_their_own_default_name(tmp_path, weights_dir):
    stored = import_weights(_write_pth(tmp_path / "guided.pth", _state("states_tf", channels=6)))
    assert stored.name == "deepfill_v2_guided" and stored.card["input_channels"] == 6


def test_wrong_shape_names_the_key_and_writes_nothing(tmp_path, weights_dir):
    state = _state("states_tf")
    state["xconv3.conv.weight"] = torch.zeros(96, 24, 3, 5)
    with pytest.raises(WeightsError, match=r"xconv3\.conv\.weight has shape \[96, 24, 3, 5\], expected \[96, 24, 3, 3\]"):
        import_weights(_write_pth(tmp_path / "bad.pth", state))
    assert _stored_files(weights_dir) == []


def test_missing_unexpected_and_foreign_keys_are_named(tmp_path, weights_dir):
    state = _state("states_pt")
    del state["stage2.conv_bn7.conv.bias"]
    with pytest.raises(WeightsError, match=r"missing key stage2\.conv_bn7\.conv\.bias"):
        import_weights(_write_pth(tmp_path / "missing.pth", state))
    state = _state("states_pt")
    state["stage2.extra.weight"] = torch.zeros(3)
    with pytest.raises(WeightsError, match=r"unexpected key stage2\.extra\.weight"):
        import_weights(_write_pth(tmp_path / "extra.pth", state))
    state = _state("states_tf")
    state["conv1.conv.weight"] = torch.zeros(48, 7, 5, 5)
    with pytest.raises(WeightsError, match="7 input channels"):
        import_weights(_write_pth(tmp_path / "seven.pth", state))
    torch.save({"encoder.weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(WeightsError, match="unknown weight layout"):
        import_weights(tmp_path / "other.pth")
    assert _stored_files(weights_dir) == []


class _Payload:
    """Unpickling this would run a shell command that leaves a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("container", ["torch_zip", "raw_pickle"])
def test_pickled_code_is_refused_and_never_runs(tmp_path, weights_dir, container):
    marker = tmp_path / "payload_ran"
    source = tmp_path / "evil.pth"
    checkpoint = {"extra": _Payload(marker), "G": _state("states_tf")}  # the payload is unpickled first
    if container == "torch_zip":
        torch.save(checkpoint, source)
    else:
        source.write_bytes(pickle.dumps(checkpoint, protocol=2))
    with pytest.raises(WeightsError, match=r"refused: the file contains pickled code \(it would call \w+\.system\)"):
        import_weights(source)
    assert not marker.exists()
    assert _stored_files(weights_dir) == []


def test_own_safetensors_round_trip_keeps_fp16_and_metadata(tmp_path, weights_dir):
    state = {key: value.half() for key, value in _state("states_tf", channels=6, seed=3).items()}
    source = tmp_path / "trained.safetensors"
    save_file(state, str(source), metadata={"colour_order": json.dumps("rgb"), "licence": json.dumps("ours")})
    stored = import_weights(source, "mine")
    assert (stored.name, stored.card["dtype"], stored.card["colour_order"], stored.card["licence"]) == (
        "mine", "float16", "rgb", "ours",
    )
    again = import_weights(stored.path, "mine_again")  # a stored file re-imports to the same card
    assert again.card["colour_order"] == "rgb" and again.card["layout"] == "states_tf"
    network = load_network(again)
    assert torch.equal(network.state_dict()["conv1.conv.weight"], state["conv1.conv.weight"].float())


def test_names_prefix_and_overwrite_rules(tmp_path, weights_dir):
    state = {"module." + key: value for key, value in _state("states_tf").items()}
    source = _write_pth(tmp_path / "places2.pth", state)
    first = import_weights(source)
    second = import_weights(source)  # default name taken: the source name is appended
    assert (first.name, second.name) == ("deepfill_v2", "deepfill_v2_places2")
    with pytest.raises(WeightsError, match="already exists"):
        import_weights(source, "deepfill_v2")
    assert import_weights(source, "deepfill_v2", overwrite=True).name == "deepfill_v2"
    with pytest.raises(WeightsError, match="invalid name"):
        import_weights(source, "../escape")


@pytest.mark.parametrize("layout", ["states_tf", "states_pt"])
def test_cli_import_and_list_round_trip(tmp_path, weights_dir, capsys, layout):
    source = _write_pth(tmp_path / f"{layout}.pth", _state(layout, seed=5))
    assert cli_main(["weights", "import", str(source), "--name", "deepfill_v2", "--colour-order", "rgb"]) == 0
    assert "stored" in capsys.readouterr().out
    card = json.loads((weights_dir / "deepfill_v2.json").read_text())
    assert (card["layout"], card["colour_order"]) == (layout, "rgb")
    assert cli_main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    assert "deepfill_v2" in listing and "ok" in listing and f"layout={layout}" in listing
    (tmp_path / "broken.pth").write_bytes(b"not a checkpoint")
    assert cli_main(["weights", "import", str(tmp_path / "broken.pth")]) == 1
    assert "weights import failed: cannot read broken.pth" in capsys.readouterr().err  # damaged, not refused


def test_listing_and_cli_start_without_torch(weights_dir):
    probe = "import sys; from inference.cli import main; main(['weights', 'list']); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip().endswith("False")


@pytest.fixture(scope="module")
def spec_keys() -> dict:
    if not KEYS_JSON.is_file():
        pytest.skip("../shared/specs/deepfill_v2_keys.json is absent")
    return json.loads(KEYS_JSON.read_text(encoding="utf-8"))


def _fake_tf_tensors(rows: list[dict], shape_field: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {row["tf_name"]: rng.standard_normal(row[shape_field]).astype(np.float32) for row in rows}


def test_tf_generator_converter_from_spec_names(spec_keys, tmp_path, weights_dir):
    rows = spec_keys["tf_to_pytorch_generator"]
    tensors = _fake_tf_tensors(rows, "tf_shape_HWIO")
    tensors["inpaint_net/conv1/kernel/Adam"] = np.zeros((5, 5, 5, 48), np.float32)  # ignored slot
    tensors["global_step"] = np.array(1000)
    for layout, key_field in (("states_tf", "states_tf_key"), ("states_pt", "states_pt_key")):
        state = convert_tf_generator(tensors, layout=layout)
        assert sorted(state) == sorted(row[key_field] for row in rows)
        Generator(GeneratorConfig(layout=layout)).load_state_dict(state, strict=layout == "states_tf")
        for row in rows:
            assert list(state[row[key_field]].shape) == row["pytorch_shape_OIHW"]
    kernel = tensors["inpaint_net/conv13_upsample/conv13_upsample_conv/kernel"]  # HWIO
    weight = convert_tf_generator(tensors)["conv13_upsample.conv.conv.weight"]  # OIHW
    assert weight[7, 5, 2, 0].item() == kernel[2, 0, 5, 7]
    np.savez(tmp_path / "official.npz", **tensors)  # what a TensorFlow user would dump
    stored = import_weights(tmp_path / "official.npz")
    assert (stored.card["layout"], stored.card["mode"], stored.card["colour_order"]) == ("states_tf", "tf", "bgr")
    assert stored.card["converted_from"] == "tensorflow checkpoint"
    del tensors["inpaint_net/allconv16/bias"]
    with pytest.raises(WeightsError, match="missing TF tensor inpaint_net/allconv16/bias"):
        convert_tf_generator(tensors)


def test_tf_discriminator_converter_from_spec_names(spec_keys):
    from inference.engines.deepfill.discriminator import Discriminator

    rows = spec_keys["tf_to_pytorch_discriminator"]
    tensors = _fake_tf_tensors(rows, "tf_shape")
    state = convert_tf_discriminator(tensors)
    assert {key: list(value.shape) for key, value in state.items()} == spec_keys["discriminator"]
    Discriminator(in_channels=4).load_state_dict(state, strict=True)
    u = tensors["discriminator/sn_patch_gan/conv3/kernel_sn/u"]
    assert torch.equal(state["conv3.conv_sn.weight_u"], torch.from_numpy(u.T.copy()))


def test_store_weights_validates_before_writing(weights_dir):
    state = _state("states_tf")
    info = {"architecture": "deepfill_v2", "layout": "states_tf", "mode": "tf", "colour_order": "rgb",
            "input_channels": 5, "licence": "trained here"}
    stored = store_weights(state, info, "trained")
    assert recognise(state)[0] is ARCHITECTURE
    assert stored.card["colour_order"] == "rgb" and stored.path.exists()
    with pytest.raises(WeightsError, match="colour_order"):
        store_weights(state, {**info, "colour_order": "grb"}, "wrong")
    assert not (weights_dir / "wrong.safetensors").exists()


@pytest.mark.parametrize("layout", ["states_tf", "states_pt"])
def test_fake_checkpoint_built_from_the_spec_imports(spec_keys, tmp_path, weights_dir, layout):
    # Tensors made from the published key/shape listing alone, not from our network.
    generator = torch.Generator().manual_seed(1)
    state = {key: torch.randn(shape, generator=generator) for key, shape in spec_keys[f"{layout}_generator"].items()}
    if layout == "states_pt":
        state[FUSE_WEIGHT_KEY] = torch.eye(3).view(1, 1, 3, 3)
    stored = import_weights(_write_pth(tmp_path / f"{layout}.pth", state))
    assert stored.card["parameter_count"] == spec_keys["generator_param_count"]
    loaded = load_network(stored).state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in state.items())
