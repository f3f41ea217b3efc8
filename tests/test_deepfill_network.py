"""DeepFill v2 generator and discriminator against the spec (/work/shared/specs/deepfill_v2.md, keys JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from inference.engines.deepfill import network
from inference.engines.deepfill.attention import align_corners_indices, resize_nearest_tf
from inference.engines.deepfill.discriminator import Discriminator, hinge_losses
from inference.engines.deepfill.layers import tf_same_padding
from inference.engines.deepfill.network import Generator, GeneratorConfig, parameter_count, seeded_generator
from inference.engines.deepfill.tf_convert import flip_colour_order

KEYS_JSON = Path(__file__).resolve().parents[2] / "shared" / "specs" / "deepfill_v2_keys.json"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def spec_keys() -> dict:
    if not KEYS_JSON.is_file():
        pytest.skip("../shared/specs/deepfill_v2_keys.json is absent")
    return json.loads(KEYS_JSON.read_text(encoding="utf-8"))


def _shapes(module: torch.nn.Module) -> dict[str, list[int]]:
    return {key: list(value.shape) for key, value in module.state_dict().items()}


@pytest.mark.parametrize("layout", ["states_tf", "states_pt"])
def test_state_dict_equals_published_layout(spec_keys, layout):
    for mode in ("tf", "pt"):  # the layout decides the names, the mode only the arithmetic
        generator = Generator(GeneratorConfig(layout=layout, mode=mode))
        shapes = _shapes(generator)
        assert shapes == spec_keys[f"{layout}_generator"]
        assert list(shapes) == list(spec_keys[f"{layout}_generator"])  # same order, too


@pytest.mark.parametrize("layout", ["states_tf", "states_pt"])
def test_guided_first_convolution(spec_keys, layout):
    generator = Generator(GeneratorConfig(input_channels=6, layout=layout))
    first = spec_keys["guided_variant_first_conv"]
    key = first[f"{layout}_key"]
    assert list(generator.state_dict()[key].shape) == first["pytorch_shape"]
    expected = dict(spec_keys[f"{layout}_generator"], **{key: first["pytorch_shape"]})
    assert _shapes(generator) == expected


def test_parameter_counts(spec_keys):
    assert parameter_count(Generator()) == spec_keys["generator_param_count"] == 4_052_478
    assert parameter_count(Generator(GeneratorConfig(input_channels=6))) == 4_053_678  # spec §4


def test_discriminator_keys_and_parameters(spec_keys):
    discriminator = Discriminator(in_channels=4)
    assert _shapes(discriminator) == spec_keys["discriminator"]
    assert parameter_count(discriminator) == 5_946_816
    guided = Discriminator(in_channels=5)
    assert list(guided.state_dict()["conv1.conv_sn.weight"].shape) == [64, 5, 5, 5]


def test_discriminator_output_and_spectral_norm():
    torch.manual_seed(0)
    discriminator = Discriminator(in_channels=4)
    scores = discriminator(torch.randn(2, 4, 128, 64))
    assert scores.shape == (2, 256 * 2 * 1)
    layer = discriminator.conv1.conv_sn
    u_before = layer.weight_u.clone()
    for _ in range(100):
        weight = layer.normalised_weight()
    assert not torch.equal(u_before, layer.weight_u)  # the power iteration state is updated
    largest = torch.linalg.matrix_norm(weight.detach().reshape(weight.shape[0], -1), ord=2)
    assert largest == pytest.approx(1.0, abs=1e-3)
    d_loss, g_loss = hinge_losses(torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5]))
    assert d_loss.item() == pytest.approx(0.5 * 0.25 + 0.5 * 0.75)
    assert g_loss.item() == pytest.approx(0.75)


def test_tf_same_padding_puts_the_extra_pixel_after():
    assert tf_same_padding(64, 3, 2, 1) == (0, 1)  # stride-2 3x3 on an even size (spec §3.3)
    assert tf_same_padding(64, 5, 2, 1) == (1, 2)  # discriminator 5x5 stride 2 (spec §9)
    assert tf_same_padding(64, 3, 1, 16) == (16, 16)
    assert tf_same_padding(63, 3, 2, 1) == (1, 1)


def test_align_corners_rule_matches_the_spec_examples():
    # spec §5.1 step 2: n_in = 64 -> 0, 2, …, 30 then 33, 35, …, 63
    assert align_corners_indices(64, 32).tolist() == list(range(0, 31, 2)) + list(range(33, 64, 2))
    # spec §5.3: H = 256 mask, two steps (256 -> 64 -> 32): rows 0, 8, 16, 24, 32, 40, 49, 57, …
    rows = torch.arange(256.0).view(1, 1, 256, 1)
    two_step = resize_nearest_tf(resize_nearest_tf(rows, 64, 1), 32, 1).flatten().tolist()
    assert two_step[:8] == [0, 8, 16, 24, 32, 40, 49, 57]
    one_step = resize_nearest_tf(rows, 32, 1).flatten().tolist()
    assert one_step[:8] == [0, 8, 16, 25, 33, 41, 49, 58]


def test_generator_input_layout_plain_and_guided():
    image = torch.rand(1, 3, 16, 16) * 2 - 1
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:10, 3:12] = 1
    edge = torch.zeros(1, 1, 16, 16)
    edge[..., :, 6] = 1  # a vertical stroke crossing the hole and the known region
    plain = Generator(GeneratorConfig(input_channels=5))
    x_in, stage1_input = plain.prepare_input(image, mask)
    assert torch.equal(stage1_input[:, :3], x_in)
    assert torch.equal(x_in[mask.expand_as(x_in) > 0], torch.zeros(int(mask.sum()) * 3))
    assert torch.equal(stage1_input[:, 3:4], torch.ones_like(mask))
    assert torch.equal(stage1_input[:, 4:5], mask)
    guided = Generator(GeneratorConfig(input_channels=6))
    _, guided_input = guided.prepare_input(image, mask, edge)
    assert guided_input.shape[1] == 6
    assert torch.equal(guided_input[:, 3:4], edge * mask)  # the Guide only inside the hole
    assert guided_input[:, 3].sum() == 6  # six hole rows of the stroke
    assert torch.equal(guided_input[:, 4:5], torch.ones_like(mask))
    assert torch.equal(guided_input[:, 5:6], mask)
    _, without_edge = guided.prepare_input(image, mask, None)
    assert torch.equal(without_edge[:, 3], torch.zeros_like(mask[:, 0]))


@pytest.mark.parametrize("mode", ["tf", "pt"])
def test_forward_shapes_range_and_composition(mode):
    generator = seeded_generator(GeneratorConfig(mode=mode), seed=1).eval()
    image = torch.rand(1, 3, 48, 64) * 2 - 1
    mask = torch.zeros(1, 1, 48, 64)
    mask[..., 10:30, 20:50] = 1
    with torch.inference_mode():
        stage1, stage2 = generator(image, mask)
        with pytest.raises(ValueError, match="multiples of 8"):
            generator(image[..., :44, :], mask[..., :44, :])
    assert stage1.shape == stage2.shape == image.shape
    assert stage2.abs().max() <= 1.0
    completed = Generator.complete(stage2, image, mask)
    keep = (mask == 0).expand_as(image)
    assert torch.equal(completed[keep], image[keep])


def test_tf_and_pt_modes_differ_only_in_arithmetic():
    # Same weights (names mapped), different padding/resampling: outputs must differ.
    tf_net = seeded_generator(GeneratorConfig(mode="tf", layout="states_tf"), seed=2).eval()
    pt_net = Generator(GeneratorConfig(mode="pt", layout="states_tf")).eval()
    pt_net.load_state_dict(tf_net.state_dict())
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:20, 8:20] = 1
    with torch.inference_mode():
        difference = (tf_net(image, mask)[1] - pt_net(image, mask)[1]).abs().max()
    assert difference > 0.01


def test_colour_flip_of_weights_equals_flipping_the_image():
    bgr_net = seeded_generator(GeneratorConfig(), seed=3).eval()
    rgb_net = Generator(GeneratorConfig()).eval()
    rgb_net.load_state_dict(flip_colour_order(bgr_net.state_dict(), "states_tf"))
    image = torch.rand(1, 3, 32, 40) * 2 - 1
    mask = torch.zeros(1, 1, 32, 40)
    mask[..., 8:24, 10:30] = 1
    with torch.inference_mode():
        from_bgr = bgr_net(image.flip(1), mask)[1].flip(1)
        from_rgb = rgb_net(image, mask)[1]
        unflipped = bgr_net(image, mask)[1]
    assert torch.allclose(from_bgr, from_rgb, atol=1e-5)
    assert not torch.allclose(from_rgb, unflipped, atol=1e-3)  # the colour order matters


@pytest.mark.parametrize("mode", ["tf", "pt"])
def test_hole_only_attention_is_exact_inside_the_hole(mode, monkeypatch):
    generator = seeded_generator(GeneratorConfig(mode=mode), seed=4).eval()
    image = torch.rand(1, 3, 128, 128) * 2 - 1
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., 45:71, 37:60] = 1  # borders off the 8 px grid
    inside = mask.expand(1, 3, 128, 128) > 0
    with torch.inference_mode():
        full = generator(image, mask)[1]
        restricted = generator(image, mask, hole_only=True)[1]
        monkeypatch.setattr(network, "ATTENTION_REACH", 2)
        too_short = generator(image, mask, hole_only=True)[1]
    assert torch.equal(restricted[inside], full[inside])
    assert not torch.equal(restricted, full)  # far from the hole the work was skipped
    assert (too_short[inside] - full[inside]).abs().max() > 1e-3  # the reach matters
