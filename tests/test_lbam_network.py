"""LBAM generator and discriminator against the spec (/work/shared/specs/lbam.md, lbam_keys.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from inference.engines.lbam.discriminator import LBAMDiscriminator
from inference.engines.lbam.network import (
    GAUSS_CLAMP,
    GaussActivation,
    LBAMConfig,
    build_generator,
    compose,
    mask_update,
    network_inputs,
    parameter_count,
)

KEYS_JSON = Path(__file__).resolve().parents[2] / "shared" / "specs" / "lbam_keys.json"
SMALL = 1 / 16  # 4..32 channels: fast, same layer names


@pytest.fixture(scope="module")
def published() -> dict:
    if not KEYS_JSON.is_file():
        pytest.skip("../shared/specs/lbam_keys.json is absent")
    return json.loads(KEYS_JSON.read_text(encoding="utf-8"))


def _shapes(module: torch.nn.Module) -> dict[str, list[int]]:
    return {key: list(tensor.shape) for key, tensor in module.state_dict().items()}


def _on_meta(build):
    # Shapes only: the meta device skips allocating and initialising 68 M parameters.
    with torch.device("meta"):
        return build()


def test_current_variant_keys_shapes_and_count_equal_the_published_model(published):
    model = _on_meta(lambda: build_generator(1.0, "current"))
    assert _shapes(model) == published["generator"]
    assert parameter_count(model) == published["generator_param_count"] == 68_304_948


def test_batchnorm_variant_adds_exactly_the_published_bn_keys(published):
    model = _on_meta(lambda: build_generator(1.0, "batchnorm"))
    expected = {**published["generator"], **published["bn_variant_extra_keys"]}
    assert _shapes(model) == expected
    assert parameter_count(model) == published["bn_variant_param_count"]


def test_discriminator_keys_shapes_and_count_equal_the_published_model(published):
    model = _on_meta(LBAMDiscriminator)
    assert _shapes(model) == published["discriminator"]
    assert parameter_count(model) == published["discriminator_param_count"]


@pytest.mark.parametrize("variant", ["current", "batchnorm"])
def test_width_keeps_layer_names_and_scales_channels(variant):
    wide = _on_meta(lambda: build_generator(1.0, variant))
    narrow = _on_meta(lambda: build_generator(0.5, variant))
    wide_shapes, narrow_shapes = _shapes(wide), _shapes(narrow)
    assert list(wide_shapes) == list(narrow_shapes)
    assert narrow_shapes["ec1.conv.conv.weight"] == [32, 4, 4, 4]  # input stays 4 channels
    assert narrow_shapes["ec7.conv.maskConv.weight"] == [256, 256, 4, 4]
    assert narrow_shapes["dc2.conv.weight"] == [512, 256, 4, 4]
    assert narrow_shapes["dc7.weight"] == [64, 3, 4, 4]  # output stays RGB


@pytest.mark.parametrize("width", [0, -0.5, 0.3, 1 / 128])
def test_width_must_be_a_positive_multiple_of_one_64th(width):
    with pytest.raises(ValueError, match="width"):
        LBAMConfig(width=width)


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="variant"):
        LBAMConfig(variant="v3")


def _reference_gauss(x: float, a: float, mu: float, s1: float, s2: float) -> float:
    if x < mu:
        return a * math.exp(-s1 * (x - mu) ** 2)
    return 1 + (a - 1) * math.exp(-s2 * (x - mu) ** 2)


def test_gauss_activation_matches_the_formula_on_both_sides_of_mu():
    a, mu, s1, s2 = 4.0, 1.5, 1.7, 0.6
    activation = GaussActivation(a, mu, s1, s2)
    points = [-2.0, 0.0, 1.0, 1.49, 1.5, 1.51, 2.5, 6.0]
    values = activation(torch.tensor(points, dtype=torch.float64)).tolist()
    for x, value in zip(points, values, strict=True):
        assert value == pytest.approx(_reference_gauss(x, a, mu, s1, s2), rel=1e-6)
    assert values[4] == pytest.approx(a)  # peak and continuity at mu
    far = activation(torch.tensor([-50.0, 50.0])).tolist()
    assert far[0] == pytest.approx(0.0, abs=1e-9) and far[1] == pytest.approx(1.0)


def test_gauss_parameters_receive_gradients_from_both_sides():
    activation = GaussActivation(1.1, 2.0, 1.0, 1.0)
    activation(torch.tensor([0.5, 1.8, 2.3, 3.0])).sum().backward()
    for name in ("a", "mu", "sigma1", "sigma2"):
        grad = getattr(activation, name).grad
        assert grad is not None and grad.item() != 0.0, name


def test_gauss_parameters_are_clamped_in_place_before_use_and_after_loading():
    activation = GaussActivation(9.0, -1.0, 0.1, 5.0)
    activation(torch.zeros(1))
    assert [activation.a.item(), activation.mu.item()] == pytest.approx([6.0, 0.1])
    assert [activation.sigma1.item(), activation.sigma2.item()] == pytest.approx([0.5, 2.0])
    fresh = GaussActivation(1.1, 2.0, 1.0, 1.0)
    fresh.load_state_dict({"a": torch.tensor(0.0), "mu": torch.tensor(7.0),
                           "sigma1": torch.tensor(1.2), "sigma2": torch.tensor(0.0)})
    loaded = {name: getattr(fresh, name).item() for name in GAUSS_CLAMP}
    assert loaded == pytest.approx({"a": 1.01, "mu": 3.0, "sigma1": 1.2, "sigma2": 0.5})


def test_initial_gauss_values_follow_the_spec():
    model = build_generator(SMALL)
    forward = model.ec3.conv.activationFuncG_A
    reverse = model.reverseConv3.activationFuncG_A
    assert [p.item() for p in forward.parameters()] == pytest.approx([1.1, 2.0, 1.0, 1.0])
    assert [p.item() for p in reverse.parameters()] == pytest.approx([1.1, 1.0, 0.5, 0.5])


def test_mask_update_is_relu_to_the_power_0_8():
    x = torch.tensor([-3.0, 0.0, 0.5, 2.0])
    expected = torch.tensor([0.0, 0.0, 0.5**0.8, 2.0**0.8])
    torch.testing.assert_close(mask_update(x), expected)


def _batch(seed: int, height: int = 128, width: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, height, width, generator=generator)
    known = torch.ones(2, 1, height, width)
    known[:, :, height // 4: height // 2, width // 3: width // 2 + 9] = 0
    return image, known


def _reference_forward(state: dict[str, torch.Tensor], inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The spec's §5 pass written with functional ops on the state dict (current variant)."""

    def gauss(x, prefix):
        a, mu, s1, s2 = (state[f"{prefix}.activationFuncG_A.{n}"] for n in ("a", "mu", "sigma1", "sigma2"))
        return torch.where(x < mu, a * torch.exp(-s1 * (x - mu) ** 2), 1 + (a - 1) * torch.exp(-s2 * (x - mu) ** 2))

    def conv(x, key):
        return F.conv2d(x, state[key], stride=2, padding=1)

    x, m, skips, fmaps, rmaps = inputs, mask, [], [], []
    for k in range(1, 8):
        raw, mc = conv(x, f"ec{k}.conv.conv.weight"), conv(m, f"ec{k}.conv.maskConv.weight")
        attention = gauss(mc, f"ec{k}.conv")
        x, m = F.leaky_relu(raw * attention, 0.2), F.relu(mc) ** 0.8
        skips.append(raw)
        fmaps.append(attention)
    r = 1 - mask
    for k in range(1, 7):
        rc = conv(r, f"reverseConv{k}.reverseMaskConv.weight")
        rmaps.append(gauss(rc, f"reverseConv{k}"))
        r = F.relu(rc) ** 0.8
    for k in range(1, 7):
        up = F.conv_transpose2d(x, state[f"dc{k}.conv.weight"], stride=2, padding=1)
        attention = torch.cat((fmaps[6 - k], rmaps[6 - k]), 1)
        x = F.leaky_relu(torch.cat((skips[6 - k], up), 1) * attention, 0.2)
    return (torch.tanh(F.conv_transpose2d(x, state["dc7.weight"], stride=2, padding=1)) + 1) / 2


def _lively(model: torch.nn.Module) -> torch.nn.Module:
    """He-normal convolutions and perturbed Gaussian scalars: with the default init the signal fades
    through the attention products and a wrong wiring would hide under the tolerance."""
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for index, (name, parameter) in enumerate(model.named_parameters()):
            if parameter.ndim == 4:
                fan_in = parameter.shape[0] * 4 if name.startswith("dc") else parameter.shape[1] * 16
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * math.sqrt(2 / fan_in))
            elif "G_A" in name:
                parameter.add_(0.05 * ((index % 5) - 2))
    return model


def test_forward_wiring_matches_an_independent_functional_pass():
    model = _lively(build_generator(SMALL)).eval()
    image, known = _batch(1, 128, 256)
    inputs, mask = network_inputs(image, known)
    with torch.no_grad():
        output = model(inputs, mask)
        expected = _reference_forward(model.state_dict(), inputs, mask)
    assert output.std() > 0.05  # the comparison is only meaningful on a non-flat output
    torch.testing.assert_close(output, expected, rtol=1e-5, atol=1e-6)


def test_output_range_heads_and_composition():
    image, known = _batch(2)
    inputs, mask = network_inputs(image, known)
    for variant in ("current", "batchnorm"):
        model = build_generator(SMALL, variant, seed=0).eval()
        with torch.no_grad():
            output = model(inputs, mask)
        assert output.shape == (2, 3, 128, 128)
        assert 0.0 <= output.min().item() and output.max().item() <= 1.0
    result = compose(output, inputs, mask)
    known3 = mask.bool()
    assert torch.equal(result[known3], image[known3])
    assert torch.equal(result[~known3], output[~known3])


def test_hole_pixels_of_the_input_do_not_reach_the_output():
    model = _lively(build_generator(SMALL)).eval()
    image, known = _batch(4)
    noisy = torch.where(known.bool(), image, torch.rand_like(image))
    with torch.no_grad():
        first = model(*network_inputs(image, known))
        second = model(*network_inputs(noisy, known))
    assert torch.equal(first, second)


@pytest.mark.parametrize("size", [(128, 192), (100, 128)])
def test_sizes_not_a_multiple_of_128_are_refused_with_a_clear_message(size):
    model = build_generator(SMALL)
    inputs, mask = network_inputs(torch.rand(1, 3, *size), torch.ones(1, 1, *size))
    with pytest.raises(ValueError, match="multiples of 128"):
        model(inputs, mask)


def test_every_generator_parameter_is_trainable():
    model = build_generator(SMALL, "batchnorm", seed=0).train()
    image, known = _batch(5)
    model(*network_inputs(image, known)).mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
    assert model.dc7.weight.grad.abs().sum() > 0


def test_discriminator_scores_one_value_per_256_image():
    model = LBAMDiscriminator(width=SMALL).eval()
    image = torch.rand(3, 3, 256, 256)
    known = (torch.rand(3, 1, 256, 256) > 0.2).float()
    with torch.no_grad():
        scores = model(image, known)
    assert scores.shape == (3, 1)
    assert ((scores > 0) & (scores < 1)).all()
