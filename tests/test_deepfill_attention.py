"""Contextual attention (spec §5): retrieval, equality with a literal transcription, chunking, memory guard."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inference.engines.deepfill.attention import (
    AttentionTooLarge,
    attention_mask,
    check_memory,
    contextual_attention,
    downscale,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def literal_attention(f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, mode: str, fuse: bool) -> torch.Tensor:
    """Spec §5.1 written out with dense tensors and convolutions, one step per line, no chunking."""
    outputs = []
    for index in range(f.shape[0]):
        fi, bi = f[index : index + 1], b[index : index + 1]
        channels = fi.shape[1]
        raw = F.unfold(bi, 4, stride=2, padding=1)[0]  # step 1
        count = raw.shape[1]
        raw_weight = raw.t().reshape(count, channels, 4, 4)
        f_small, b_small = downscale(fi, mode), downscale(bi, mode)  # step 2
        gh, gw = f_small.shape[-2:]
        patches = F.unfold(b_small, 3, padding=1)[0].t().reshape(count, channels, 3, 3)  # step 3
        valid = (F.unfold(mask[:1], 3, padding=1).mean(dim=1)[0] == 0).float()  # step 4
        norms = patches.flatten(1).norm(dim=1).clamp_min(1e-4).view(count, 1, 1, 1)
        scores = F.conv2d(f_small, patches / norms, padding=1)  # step 5: [1, L, gh, gw]
        if fuse:  # step 6
            identity = torch.eye(3).view(1, 1, 3, 3)
            scores = F.conv2d(scores.view(1, 1, count, gh * gw), identity, padding=1)
            scores = scores.view(1, gh, gw, gh, gw).permute(0, 2, 1, 4, 3).reshape(1, 1, count, gh * gw)
            scores = F.conv2d(scores, identity, padding=1)
            scores = scores.view(1, gw, gh, gw, gh).permute(0, 2, 1, 4, 3).reshape(1, count, gh, gw)
        valid = valid.view(1, count, 1, 1)
        attention = torch.softmax(scores * valid * 10, dim=1) * valid  # step 7
        outputs.append(F.conv_transpose2d(attention, raw_weight, stride=2, padding=1) / 4)  # step 8
    return torch.cat(outputs)


def _hole(batch: int, height: int, width: int, rows: slice, cols: slice) -> torch.Tensor:
    mask = torch.zeros(batch, 1, height, width)
    mask[..., rows, cols] = 1
    return mask


@pytest.mark.parametrize("mode", ["tf", "pt"])
@pytest.mark.parametrize("fuse", [True, False])
def test_equals_literal_transcription_and_chunks_change_nothing(mode, fuse):
    torch.manual_seed(0)
    for height, width in ((16, 16), (12, 20), (14, 10)):  # rectangular grids exercise the fusion wrap
        features = torch.relu(torch.randn(2, 8, height, width))
        full_mask = _hole(2, 4 * height, 4 * width, slice(5, 30), slice(8, 24))
        mask = attention_mask(full_mask, (height, width), mode)
        expected = literal_attention(features, features, mask, mode, fuse)
        whole = contextual_attention(features, features, mask, mode=mode, fuse=fuse, chunk_bytes=2**40)
        assert torch.allclose(whole, expected, atol=1e-5)
        # 5000 bytes hold two foreground positions' score rows: chunk borders fall everywhere.
        chunked = contextual_attention(features, features, mask, mode=mode, fuse=fuse, chunk_bytes=5000)
        assert torch.allclose(chunked, whole, atol=1e-5)


def _copy_scene(copy_present: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Features whose hole (rows/cols 16:28) holds an exact copy of the known block at 2:14."""
    generator = torch.Generator().manual_seed(7)
    features = torch.relu(torch.randn(1, 16, 32, 32, generator=generator)) * 3
    if copy_present:
        features[..., 16:28, 16:28] = features[..., 2:14, 2:14]
    mask = attention_mask(_hole(1, 128, 128, slice(64, 112), slice(64, 112)), (32, 32), "pt")
    return features, mask


@pytest.mark.parametrize("fuse", [False, True])
def test_hole_retrieves_the_copied_patch_features(fuse):
    features, mask = _copy_scene(copy_present=True)
    output = contextual_attention(features, features, mask, mode="pt", fuse=fuse)
    # Inside the hole, away from its border (where 3x3 matches straddle the copy), every pasted
    # 4x4 patch comes from the copy's source in the known region: the output equals the hidden features.
    inner = (..., slice(19, 25), slice(19, 25))
    assert torch.allclose(output[inner], features[inner], atol=1e-4)
    # The hole's own patches are invalid, so this is retrieval, not an identity: without the copy
    # in the known region the same features come out wrong.
    lonely = features.clone()
    lonely[..., 2:14, 2:14] = torch.relu(torch.randn(1, 16, 12, 12, generator=torch.Generator().manual_seed(8))) * 3
    elsewhere = contextual_attention(lonely, lonely, mask, mode="pt", fuse=fuse)
    assert (elsewhere[inner] - features[inner]).abs().max() > 1.0


def test_invalid_patches_get_no_weight():
    # A mask covering everything: no valid background patch, so the weights (and output) are zero.
    features = torch.relu(torch.randn(1, 4, 8, 8))
    mask = torch.ones(1, 1, 4, 4)
    assert torch.count_nonzero(contextual_attention(features, features, mask, mode="pt")) == 0


def test_only_the_first_masks_batch_element_counts():
    torch.manual_seed(3)
    features = torch.relu(torch.randn(2, 8, 16, 16))
    mask = attention_mask(_hole(2, 64, 64, slice(10, 40), slice(20, 50)), (16, 16), "tf")
    other = mask.clone()
    other[1] = 1 - other[1]
    assert torch.equal(
        contextual_attention(features, features, mask, mode="tf"),
        contextual_attention(features, features, other, mode="tf"),
    )


def test_memory_guard_refuses_sizes_that_cannot_fit_and_allows_1024():
    big = torch.empty(1, 96, 1024, 1024, device="meta")  # features of a 4096x4096 image
    with pytest.raises(AttentionTooLarge, match="GiB"):
        check_memory(big, big)
    megapixel = torch.empty(1, 96, 256, 256, device="meta")  # a 1024x1024 image
    check_memory(megapixel, megapixel)
