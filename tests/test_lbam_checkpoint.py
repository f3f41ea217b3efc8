"""Importing LBAM weight files: layout detection, validation, strict loading, model cards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from inference.engines.lbam.checkpoint import ARCHITECTURE
from inference.engines.lbam.network import build_generator
from inference.weights.importer import import_weights, load_network, recognise, store_weights
from inference.weights.store import WeightsError, find_weights

KEYS_JSON = Path(__file__).resolve().parents[2] / "shared" / "specs" / "lbam_keys.json"
SMALL = 1 / 16


@pytest.fixture(scope="module")
def published() -> dict:
    if not KEYS_JSON.is_file():
        pytest.skip("../shared/specs/lbam_keys.json is absent")
    return json.loads(KEYS_JSON.read_text(encoding="utf-8"))


def _meta_state(shapes: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    # Tensors with the published shapes but no storage: enough for detect/validate.
    return {
        key: torch.empty(shape, device="meta", dtype=torch.int64 if key.endswith("num_batches_tracked") else None)
        for key, shape in shapes.items()
    }


@pytest.mark.parametrize("variant", ["current", "batchnorm"])
def test_published_key_sets_are_recognised_and_validated(published, variant):
    shapes = dict(published["generator"])
    if variant == "batchnorm":
        shapes.update(published["bn_variant_extra_keys"])
    state = _meta_state(shapes)
    architecture, info = recognise(state)
    assert architecture is ARCHITECTURE
    assert (info["architecture"], info["variant"], info["width"]) == ("lbam", variant, 1.0)
    ARCHITECTURE.validate(state, info)


def _save_checkpoint(path: Path, variant: str, prefix: str = "", seed: int = 0) -> dict[str, torch.Tensor]:
    model = build_generator(SMALL, variant, seed=seed)
    state = {prefix + key: value for key, value in model.state_dict().items()}
    torch.save(state, path)  # a bare state dict, as the authors' train.py writes it
    return model.state_dict()


@pytest.mark.parametrize("variant", ["current", "batchnorm"])
def test_a_pth_of_each_variant_imports_and_loads_strictly(weights_dir, tmp_path, variant):
    source = tmp_path / "LBAM_500.pth"
    original = _save_checkpoint(source, variant)
    stored = import_weights(source)
    assert stored.path == weights_dir / "lbam.safetensors"
    card = json.loads(stored.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["architecture"] == "lbam" and card["variant"] == variant
    assert card["width"] == SMALL and card["source_file"] == "LBAM_500.pth"
    network = load_network(find_weights("lbam", prefer="lbam"))
    assert network.config.variant == variant
    loaded = network.state_dict()
    assert loaded.keys() == original.keys()
    for key, value in original.items():
        assert torch.equal(loaded[key], value), key


def test_module_prefixed_keys_load(weights_dir, tmp_path):
    source = tmp_path / "multi_gpu.pth"
    original = _save_checkpoint(source, "current", prefix="module.", seed=1)
    stored = import_weights(source, name="lbam_dp")
    assert stored.card["variant"] == "current"
    loaded = load_network(stored).state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in original.items())


def test_import_through_the_command_line(weights_dir, tmp_path):
    cli = pytest.importorskip("inference.cli")
    if "weights" not in cli.subcommand_names():
        pytest.skip("the `weights` subcommand is not registered in this checkout")
    source = tmp_path / "LBAM_10.pth"
    _save_checkpoint(source, "batchnorm")
    assert cli.main(["weights", "import", str(source)]) == 0
    assert find_weights("lbam", variant="batchnorm") is not None


def _state(variant: str = "current") -> dict[str, torch.Tensor]:
    return dict(build_generator(SMALL, variant, seed=2).state_dict())


def test_a_wrong_shape_is_named(weights_dir):
    state = _state()
    state["dc4.conv.weight"] = torch.zeros(3, 3, 4, 4)
    with pytest.raises(WeightsError, match=r"dc4\.conv\.weight"):
        store_weights(state, ARCHITECTURE.detect(state))
    assert not list(weights_dir.iterdir())


def test_a_missing_and_an_unexpected_key_are_named():
    state = _state()
    del state["reverseConv3.activationFuncG_A.mu"]
    with pytest.raises(WeightsError, match=r"missing key reverseConv3\.activationFuncG_A\.mu"):
        ARCHITECTURE.validate(state, ARCHITECTURE.detect(state))
    state = _state()
    state["dc6.bn.weight"] = torch.ones(8)  # a lone BatchNorm key does not make the earlier variant
    with pytest.raises(WeightsError, match=r"unexpected key dc6\.bn\.weight"):
        ARCHITECTURE.validate(state, ARCHITECTURE.detect(state))


def test_a_first_layer_that_disagrees_with_the_rest_names_the_first_mismatch():
    state = _state()
    state["ec1.conv.conv.weight"] = torch.zeros(5, 4, 4, 4)  # reads as width 5/64, unlike the rest
    with pytest.raises(WeightsError, match=r"ec1\.conv\.maskConv\.weight has shape \[4, 3, 4, 4\]"):
        ARCHITECTURE.validate(state, ARCHITECTURE.detect(state))
    state["ec1.conv.conv.weight"] = torch.zeros(5, 4)  # no width at all
    with pytest.raises(WeightsError, match=r"ec1\.conv\.conv\.weight implies width 0"):
        ARCHITECTURE.validate(state, ARCHITECTURE.detect(state))


def test_other_architectures_are_not_claimed():
    assert ARCHITECTURE.detect({"conv1.conv.weight": torch.zeros(48, 5, 5, 5)}) is None


def test_out_of_range_gauss_scalars_are_clamped_on_load(weights_dir):
    state = _state()
    state["ec4.conv.activationFuncG_A.a"] = torch.tensor(9.0)
    stored = store_weights(state, ARCHITECTURE.detect(state))
    assert load_network(stored).ec4.conv.activationFuncG_A.a.item() == pytest.approx(6.0)


def test_weights_trained_here_are_stored_in_fp16_with_their_width(weights_dir):
    state = {key: value.half() for key, value in _state().items()}
    stored = store_weights(state, {"architecture": "lbam", "variant": "current", "width": SMALL}, "lbam_w")
    assert stored.card["dtype"] == "float16" and stored.card["width"] == SMALL
    network = load_network(stored)
    assert network.config.width == SMALL
    assert torch.equal(network.dc7.weight.half(), state["dc7.weight"])
