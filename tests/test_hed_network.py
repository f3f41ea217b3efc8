"""HED network, trunk and edge helpers with seeded random weights: no download needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from inference.edges.convert import export_vgg_trunk, save_tensors
from inference.edges.detect import (
    HedUnavailable,
    clear_network_cache,
    detect_edges,
    edges_for_guide,
    hed_available,
)
from inference.edges.layout import (
    HED_PARAM_COUNT,
    all_layers,
    expected_shapes,
    hed_weights_path,
    trunk_layers,
)
from inference.edges.network import HED, VGGTrunk, rgb255_to_caffe, vgg_pool
from inference.weights.store import sha256_of, write_card

SPEC_KEYS = Path(__file__).resolve().parent.parent.parent / "shared" / "specs" / "hed_keys.json"


def random_hed(seed: int = 0) -> HED:
    torch.manual_seed(seed)
    return HED().eval()


def store_random_hed(folder: Path, seed: int = 0) -> Path:
    """A random-weight HED in ``folder`` with a card whose sha256 matches, like a fetched one."""
    state = {key: value.numpy() for key, value in random_hed(seed).state_dict().items()}
    path = save_tensors(state, folder / "hed_bsds500.safetensors", {})
    write_card(path, {"architecture": "hed", "sha256": sha256_of(path)})
    return path


@pytest.fixture(autouse=True)
def _fresh_network_cache():
    clear_network_cache()
    yield
    clear_network_cache()


def test_state_dict_keys_and_shapes_follow_the_layout():
    state = HED().state_dict()
    assert {key: tuple(value.shape) for key, value in state.items()} == expected_shapes(all_layers())
    assert sum(value.numel() for value in state.values()) == HED_PARAM_COUNT


def test_layout_matches_the_spec_key_listing():
    if not SPEC_KEYS.is_file():
        pytest.skip(f"{SPEC_KEYS} is absent (the specs live in ../shared, outside the project)")
    spec = json.loads(SPEC_KEYS.read_text(encoding="utf-8"))
    layers = all_layers()
    assert len(layers) == len(spec["mapping"])
    for layer, entry in zip(layers, spec["mapping"], strict=True):
        assert f"{layer.h5_group}/0" == entry["h5_kernel"]
        assert f"{layer.h5_group}/1" == entry["h5_bias"]
        assert layer.key == entry["suggested_pytorch_prefix"]
        assert list(layer.weight_shape) == entry["pytorch_weight_shape_OIHW"]
        assert list(layer.kernel_shape_hwio) == entry["h5_kernel_shape_HWIO"]
    listed = {f"{layer.h5_group}/{index}" for layer in layers for index in (0, 1)}
    assert listed == set(spec["h5_datasets"])
    assert spec["param_count"] == HED_PARAM_COUNT


@pytest.mark.parametrize("size", [(37, 53), (64, 48)])
def test_every_output_has_the_input_size(size):
    network = random_hed()
    batch = torch.rand(2, 3, *size) * 255
    with torch.no_grad():
        logits = network.logits(batch)
        fused = network(batch)
    assert [tuple(item.shape) for item in logits] == [(2, 1, *size)] * 6
    assert fused.shape == (2, 1, *size)
    assert torch.allclose(fused, torch.sigmoid(logits[-1]))
    assert 0.0 <= fused.min() and fused.max() <= 1.0


def test_pooling_rounds_up_and_keeps_the_partial_window():
    features = torch.arange(35, dtype=torch.float32).view(1, 1, 5, 7)
    pooled = vgg_pool(features)
    assert pooled.shape == (1, 1, 3, 4)
    assert pooled[0, 0, 2, 3] == features[0, 0, 4, 6]  # the lone corner pixel is its own window


def test_input_becomes_bgr_minus_the_caffe_mean():
    pixel = torch.tensor([200.0, 100.0, 50.0]).view(1, 3, 1, 1)  # R, G, B
    converted = rgb255_to_caffe(pixel).flatten()
    expected = torch.tensor([50.0 - 104.00699, 100.0 - 116.66877, 200.0 - 122.67892])
    assert torch.allclose(converted, expected)


def test_trunk_exports_three_blocks_and_reproduces_hed_features(tmp_path):
    network = random_hed(seed=3)
    hed_file = store_random_hed(tmp_path, seed=3)
    trunk_file = export_vgg_trunk(tmp_path / "trunk.safetensors", hed_file)
    trunk = VGGTrunk.from_file(trunk_file)
    rgb01 = torch.rand(1, 3, 45, 30, requires_grad=True)
    pool1, pool2, pool3 = trunk(rgb01)
    with torch.no_grad():
        expected = rgb255_to_caffe(rgb01 * 255)
        for block, got in zip(network.blocks[:3], (pool1, pool2, pool3), strict=True):
            expected = vgg_pool(block(expected))
            assert torch.allclose(got, expected, atol=1e-4)
    assert [tuple(item.shape[1:]) for item in (pool1, pool2, pool3)] == [(64, 23, 15), (128, 12, 8), (256, 6, 4)]
    assert not any(parameter.requires_grad for parameter in trunk.parameters())
    pool3.mean().backward()
    assert rgb01.grad is not None and rgb01.grad.abs().sum() > 0
    assert set(trunk.state_dict()) == set(expected_shapes(trunk_layers()))


def test_guide_binarisation_uses_the_06_threshold():
    probabilities = np.array([[0.0, 0.6, 0.6001, 1.0]], dtype=np.float32)
    assert edges_for_guide(probabilities).tolist() == [[0, 0, 255, 255]]
    eight_bit = np.array([[0, 153, 154, 255]], dtype=np.uint8)
    assert edges_for_guide(eight_bit).tolist() == [[0, 0, 255, 255]]
    hole = np.array([[True, True, False, True]])
    assert edges_for_guide(probabilities, hole).tolist() == [[0, 0, 0, 255]]
    assert edges_for_guide(probabilities).dtype == np.uint8


def test_guide_binarisation_rejects_bad_input():
    with pytest.raises(ValueError):
        edges_for_guide(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError):
        edges_for_guide(np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError):
        edges_for_guide(np.zeros((2, 2), np.float32), np.zeros((3, 2), bool))


def test_unavailable_without_weights_says_how_to_fetch(weights_dir):
    available, reason = hed_available()
    assert not available
    assert "fetch-hed" in reason
    with pytest.raises(HedUnavailable, match="fetch-hed"):
        detect_edges(np.zeros((8, 8, 3), np.uint8))


def test_weights_that_do_not_match_their_card_are_refused(weights_dir):
    path = store_random_hed(weights_dir)
    assert hed_available()[0]
    with open(path, "r+b") as stream:  # flip one byte of the last tensor's data
        stream.seek(-1, 2)
        last = stream.read(1)
        stream.seek(-1, 2)
        stream.write(bytes([last[0] ^ 1]))
    available, reason = hed_available()
    assert not available and "model card" in reason


def test_detect_edges_keeps_full_resolution_even_when_downscaled(weights_dir):
    store_random_hed(weights_dir)
    assert hed_weights_path().parent == weights_dir
    image = np.random.default_rng(1).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    full = detect_edges(image)
    capped = detect_edges(image, max_long_side=32)
    for edges in (full, capped):
        assert edges.shape == (40, 60) and edges.dtype == np.float32
        assert 0.0 <= edges.min() and edges.max() <= 1.0
    expected = random_hed()(torch.from_numpy(image).permute(2, 0, 1)[None].float())[0, 0]
    assert np.allclose(full, expected.detach().numpy(), atol=1e-5)


def test_detect_edges_rejects_non_rgb_uint8(weights_dir):
    store_random_hed(weights_dir)
    with pytest.raises(ValueError, match="RGB uint8"):
        detect_edges(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        detect_edges(np.zeros((8, 8, 3), np.float32))
