"""The real HED weights: conversion equals the h5 source, and the edge map peaks on known step edges.

These need `python main.py fetch-hed` to have run (``make test`` runs it first); offline they skip.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from safetensors.numpy import load_file

from inference.edges.detect import clear_network_cache, detect_edges
from inference.edges.fetch import matches_card
from inference.edges.layout import (
    CACHE_DIR,
    H5_FILE,
    H5_SHA256,
    HED_ARCHITECTURE,
    TRUNK_ARCHITECTURE,
    all_layers,
    expected_shapes,
    hed_weights_path,
    trunk_layers,
    trunk_weights_path,
)
from inference.weights.store import sha256_of

NOT_FETCHED = "HED weights not fetched (offline?): run `python main.py fetch-hed`, which `make test` does first"


@pytest.fixture(scope="module")
def hed_state() -> dict[str, np.ndarray]:
    if not matches_card(hed_weights_path(), HED_ARCHITECTURE):
        pytest.skip(NOT_FETCHED)
    return load_file(str(hed_weights_path()))


@pytest.fixture(scope="module")
def cached_h5():
    path = CACHE_DIR / H5_FILE
    if not path.is_file() or sha256_of(path) != H5_SHA256:
        pytest.skip(f"{path} is absent: {NOT_FETCHED}")
    return path


def test_converted_tensors_equal_the_h5_arrays(hed_state, cached_h5):
    assert {key: value.shape for key, value in hed_state.items()} == expected_shapes(all_layers())
    with h5py.File(cached_h5, "r") as h5:
        for layer in all_layers():
            kernel = h5[f"{layer.h5_group}/0"][()]
            np.testing.assert_array_equal(hed_state[f"{layer.key}.weight"], kernel.transpose(3, 2, 0, 1))
            np.testing.assert_array_equal(hed_state[f"{layer.key}.bias"], h5[f"{layer.h5_group}/1"][()])


def test_fuse_layer_has_the_spec_sanity_values(hed_state):
    expected_kernel = [0.20157109, 0.20433572, 0.2062164, 0.20575857, 0.2059862]
    np.testing.assert_allclose(hed_state["fuse.weight"].ravel(), expected_kernel, rtol=1e-6)
    np.testing.assert_allclose(hed_state["fuse.bias"], [-0.0011623616], rtol=1e-6)


def test_trunk_file_is_exactly_the_first_three_blocks(hed_state):
    if not matches_card(trunk_weights_path(), TRUNK_ARCHITECTURE):
        pytest.skip(NOT_FETCHED)
    trunk = load_file(str(trunk_weights_path()))
    assert set(trunk) == set(expected_shapes(trunk_layers()))
    for key, value in trunk.items():
        np.testing.assert_array_equal(value, hed_state[key])


def step_image() -> np.ndarray:
    """128x128: dark background, a bright square over rows/cols 40..87, so steps at 40 and 88."""
    image = np.full((128, 128, 3), 50, np.uint8)
    image[40:88, 40:88] = (210, 190, 170)
    return image


def test_edge_map_peaks_on_the_step_edges(hed_state):
    clear_network_cache()
    edges = detect_edges(step_image(), device="cpu")
    assert edges.shape == (128, 128) and edges.dtype == np.float32
    # Across the middle row the two strongest responses sit on the left and right steps.
    row = edges[64]
    assert abs(int(np.argmax(row[:64])) - 40) <= 1
    assert abs(int(np.argmax(row[64:])) + 64 - 88) <= 1
    column = edges[:, 64]
    assert abs(int(np.argmax(column[:64])) - 40) <= 1
    assert abs(int(np.argmax(column[64:])) + 64 - 88) <= 1
    # Flat regions (inside the square, and background away from the image border) stay quiet.
    on_edge = min(row[38:42].max(), row[86:90].max(), column[38:42].max(), column[86:90].max())
    assert on_edge > 0.6
    assert edges[52:76, 52:76].max() < 0.2
    assert edges[100:116, 12:116].max() < 0.2
    clear_network_cache()
