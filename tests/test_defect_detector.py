"""The defect detector network: built from its card, random weights, loading, thresholds, training."""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest
import torch

from inference.engines.regions import Box
from inference.restoration import detector as detector_module
from inference.restoration import propose_damage, propose_dust, refine_stroke
from inference.restoration.detector import Detector, detector_for, load_detector
from inference.restoration.network import DAMAGE_KINDS, DefectNet, DetectorConfig
from inference.training.defect_options import add_training_options
from inference.training.defect_trainer import save_detector, train
from inference.training.defects import make_examples, stroke_hints
from inference.weights.store import WeightsError

SMALL = DetectorConfig((4, 6, 8))


def random_detector(seed: int = 0, config: DetectorConfig = SMALL) -> Detector:
    torch.manual_seed(seed)
    return Detector(DefectNet(config).eval(), {"thresholds": {"refine_stroke": 0.5}})


@pytest.mark.parametrize("shape", [(37, 53), (64, 64), (1, 9)])
def test_probabilities_have_the_image_size_for_odd_sizes(shape):
    image = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    stroke = np.zeros(shape, bool)
    stroke[: shape[0] // 2 + 1] = True
    for hint in (None, stroke):
        probability = random_detector().probabilities(image, hint)
        assert probability.shape == (len(DAMAGE_KINDS), *shape)
        assert probability.dtype == np.float32 and 0 <= probability.min() and probability.max() <= 1


def test_the_stroke_hint_changes_the_answer():
    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    stroke = np.zeros((32, 32), bool)
    stroke[8:24, 8:24] = True
    detector = random_detector(3)
    assert not np.allclose(detector.probabilities(image), detector.probabilities(image, stroke))


def test_config_round_trips_through_the_card_and_bad_cards_are_refused():
    assert DetectorConfig.from_card(SMALL.to_card()) == SMALL
    with pytest.raises(ValueError, match="widths"):
        DetectorConfig.from_card({"kinds": ["dust"]})
    with pytest.raises(ValueError, match="unusable"):
        DetectorConfig.from_card({"widths": [8], "kinds": ["dust"]})


def test_saved_weights_load_strictly_and_give_the_same_answer(tmp_path):
    detector = random_detector(2)
    path = tmp_path / "defect_detector.safetensors"
    save_detector(detector.network, path, {"architecture": "defect_detector", **SMALL.to_card()})
    loaded = load_detector(path)
    assert list(loaded.network.state_dict()) == list(detector.network.state_dict())
    image = np.random.default_rng(4).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    # fp16 storage: the same network to within its rounding
    assert np.abs(loaded.probabilities(image) - detector.probabilities(image)).max() < 0.01


def test_weights_that_do_not_fit_their_card_are_refused(tmp_path):
    path = tmp_path / "defect_detector.safetensors"
    save_detector(random_detector().network, path, {"architecture": "defect_detector", **SMALL.to_card()})
    card = json.loads(path.with_suffix(".json").read_text())
    card["widths"] = [4, 6, 10]
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="does not fit"):
        load_detector(path)
    card["widths"] = [4, 6, 8, 8]
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="missing"):
        load_detector(path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(WeightsError, match="model card"):
        load_detector(path)


def test_threshold_falls_as_sensitivity_rises():
    detector = random_detector()
    values = [detector.threshold("refine_stroke", s) for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert values == sorted(values, reverse=True)
    assert values[2] == pytest.approx(0.5)


def test_methods_without_weights(monkeypatch, tmp_path, weights_dir):
    monkeypatch.setattr(detector_module, "SHIPPED", tmp_path / "none.safetensors")
    assert detector_for("auto") is None and detector_for("classical") is None
    with pytest.raises(WeightsError, match="train defects"):
        detector_for("learned")
    with pytest.raises(ValueError, match="method"):
        detector_for("magic")
    image = np.full((40, 60, 3), 128, np.uint8)
    with pytest.raises(WeightsError):
        propose_dust(image, method="learned")


def test_a_broken_weights_file_falls_back_to_the_rules_with_a_warning(monkeypatch, tmp_path):
    broken = tmp_path / "defect_detector.safetensors"
    broken.write_bytes(b"not a safetensors file")
    broken.with_suffix(".json").write_text(json.dumps({"architecture": "defect_detector", **SMALL.to_card()}))
    monkeypatch.setattr(detector_module, "SHIPPED", broken)
    monkeypatch.setattr(detector_module, "find_weights", lambda *_args, **_kw: None)
    with pytest.warns(UserWarning, match="classical"):
        assert detector_for("auto") is None


def test_learned_marks_stay_inside_the_stroke_and_the_region(monkeypatch):
    detector = random_detector(5)
    detector.card["thresholds"] = {"refine_stroke": 0.3, "propose_dust": 0.3, "propose_damage": 0.3}
    monkeypatch.setattr(detector_module, "load_detector", lambda path=None: detector)
    image = np.random.default_rng(6).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    stroke = np.zeros((70, 90), bool)
    stroke[30:40, 10:80] = True
    found = refine_stroke(image, stroke, 0.9, grow_px=0, method="learned")
    assert found.shape == stroke.shape and not (found & ~stroke).any()
    region = np.zeros((70, 90), bool)
    region[:, :30] = True
    assert not propose_dust(image, 0.9, region, method="learned")[:, 30:].any()
    assert propose_damage(image, 0.9, method="learned").shape == (70, 90)


def fake_train_folder(tmp_path, photos: int = 3):
    rng = np.random.default_rng(0)
    (tmp_path / "train" / "images").mkdir(parents=True)
    rows = ["filename,category,colour,source,licence,original_size"]
    for index in range(photos):
        picture = cv2.GaussianBlur(rng.integers(0, 256, (200, 260, 3), dtype=np.uint8), (0, 0), 4)
        name = f"images/photo{index}.png"
        cv2.imwrite(str(tmp_path / "train" / name), picture)
        rows.append(f"{name},{'scene' if index % 2 else 'face'},colour,made here,CC0,260x200")
    rows.append("images/old.png,old,mono,made here,CC0,260x200")
    (tmp_path / "train" / "index.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_examples_carry_masks_borders_and_strokes(tmp_path):
    data = fake_train_folder(tmp_path)
    examples = make_examples(sorted((data / "train" / "images").glob("*.png")), seed=1, size=64, renders=2)
    assert examples.images.shape == (24, 64, 64, 3) and examples.masks.shape == (24, len(DAMAGE_KINDS), 64, 64)
    assert examples.masks.any() and examples.borders.any()
    strokes, modes = stroke_hints(examples.masks, np.random.default_rng(0), stroke_share=1.0)
    assert modes.all() and strokes.any()
    damaged = examples.masks.any(axis=1)
    # A Stroke is painted over some of a crop's damaged parts (at least 30 % of them, usually more).
    assert (strokes[damaged] > 0).mean() > 0.5


def test_training_a_few_steps_writes_weights_that_load(tmp_path):
    data = fake_train_folder(tmp_path / "data", photos=4)
    parse = argparse.ArgumentParser()
    add_training_options(parse)
    output = tmp_path / "out" / "defect_detector.safetensors"
    args = parse.parse_args(["--data", str(data), "-o", str(output), "--steps", "3", "--size", "32",
                             "--widths", "4", "6", "--renders", "1", "--val-photos", "1", "--workers", "1",
                             "--threads", "1", "--batch", "2"])
    train(args)
    card = json.loads(output.with_suffix(".json").read_text())
    assert card["steps"] == 3 and card["held_out_photos"] and "old.png" not in card["held_out_photos"]
    assert load_detector(output).network.config.widths == (4, 6)
    again = tmp_path / "out" / "tuned.safetensors"
    train(parse.parse_args(["--data", str(data), "-o", str(again), "--init", str(output), "--steps", "2", "--size", "32",
                            "--widths", "4", "6", "--renders", "1", "--val-photos", "1", "--workers", "1",
                            "--threads", "1", "--batch", "2", "--lr", "1e-4"]))
    tuned = json.loads(again.with_suffix(".json").read_text())
    assert tuned["steps"] == 5 and [stage["steps"] for stage in tuned["stages"]] == [3, 2]
    assert tuned["held_out_photos"] == card["held_out_photos"]


def test_the_fused_network_gives_the_same_probabilities():
    detector = random_detector(3)
    generator = torch.Generator().manual_seed(4)
    for module in detector.network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):  # trained-looking statistics, not the identity
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.3)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    image = np.random.default_rng(1).integers(0, 256, (37, 45, 3), dtype=np.uint8)
    with torch.inference_mode():
        pixels = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1
        pixels = torch.nn.functional.pad(pixels, (0, 3, 0, 3), mode="replicate")
        hint = torch.zeros(1, 3, 40, 48)
        hint[0, 2, 0, :45] = hint[0, 2, 36, :45] = hint[0, 2, :37, 0] = hint[0, 2, :37, 44] = 1
        expected = torch.sigmoid(detector.network(pixels, hint))[0, :, :37, :45].numpy()
    assert np.abs(detector.probabilities(image) - expected).max() < 1e-4
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in detector.quick_network.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in detector.network.modules())  # the card's layout stays


def test_seed_thresholds_follow_sensitivity_and_never_fall_below_the_threshold():
    detector = random_detector()
    detector.card["thresholds"] = {"propose_dust": 0.2}
    assert detector.thresholds("propose_dust", 0.5) == (pytest.approx(0.2), pytest.approx(0.2))
    detector.card["seed_thresholds"] = {"propose_dust": 0.6}
    pairs = [detector.thresholds("propose_dust", s) for s in (0.0, 0.5, 1.0)]
    assert pairs[1] == (pytest.approx(0.2), pytest.approx(0.6))
    assert all(seed > low for low, seed in pairs)
    assert [seed for _, seed in pairs] == sorted((seed for _, seed in pairs), reverse=True)


def test_kind_thresholds_default_to_the_common_one():
    detector = random_detector()
    detector.card["thresholds"] = {"refine_stroke": 0.3}
    assert detector.kind_thresholds("refine_stroke", 0.5) == pytest.approx([0.3] * len(DAMAGE_KINDS))
    detector.card["kind_thresholds"] = {"refine_stroke": {"crack": 0.1}}
    at_default = detector.kind_thresholds("refine_stroke", 0.5)
    assert at_default[DAMAGE_KINDS.index("crack")] == pytest.approx(0.1)
    assert at_default[DAMAGE_KINDS.index("dust")] == pytest.approx(0.3)
    assert (detector.kind_thresholds("refine_stroke", 0.9) < at_default).all()


def test_whole_photo_damage_draws_on_the_outputs_the_card_names():
    detector = random_detector()
    assert detector.proposed_damage == ("scratch", "crack", "torn")
    detector.card["proposed_damage"] = ["scratch", "torn"]
    assert detector.proposed_damage == ("scratch", "torn")
    detector.card["thresholds"] = {"propose_damage": 0.3}
    assert detector.damage_channels(0.5) == [(("scratch", "torn"), pytest.approx(0.3), pytest.approx(0.3))]


def test_each_damage_channel_has_its_own_bar_and_sensitivity_moves_them_all():
    detector = random_detector()
    detector.card["damage_channels"] = [{"outputs": ["torn", "scratch"], "threshold": 0.2, "seed": 0.6},
                                        {"outputs": ["crack"], "threshold": 0.5, "seed": 0.9}]
    assert detector.proposed_damage == ("scratch", "crack", "torn")
    (lines, low, seed), (cracks, crack_low, crack_seed) = detector.damage_channels(0.5)
    assert lines == ("torn", "scratch") and cracks == ("crack",)
    assert (low, seed, crack_low, crack_seed) == pytest.approx((0.2, 0.6, 0.5, 0.9))
    keener = detector.damage_channels(0.8)
    assert all(k[1] < d[1] and k[2] < d[2] for k, d in zip(keener, detector.damage_channels(0.5), strict=True))
    detector.card["damage_channels"] = detector.card["damage_channels"][:1]
    assert detector.proposed_damage == ("scratch", "torn")


def test_damage_marks_join_the_channels(monkeypatch):
    from inference.restoration import learned

    detector = random_detector()
    probability = np.full((len(DAMAGE_KINDS), 60, 60), 0.05, np.float32)
    probability[DAMAGE_KINDS.index("scratch"), 10, 5:55] = 0.5
    probability[DAMAGE_KINDS.index("crack"), 30, 5:55] = 0.5  # below the crack channel's seed
    probability[DAMAGE_KINDS.index("crack"), 45, 5:55] = 0.95
    detector.card["damage_channels"] = [{"outputs": ["scratch", "torn"], "threshold": 0.3, "seed": 0.4},
                                        {"outputs": ["crack"], "threshold": 0.3, "seed": 0.9}]
    monkeypatch.setattr(learned, "whole_photo", lambda _detector, _image: probability)
    marks = learned.damage_marks(detector, np.zeros((120, 120, 3), np.uint8), 0.5)
    assert marks.shape == (120, 120), "marks come back at the photo's size"
    assert marks[20, 10:110].all() and marks[90, 10:110].all() and not marks[60].any()
    one_channel = dict(detector.card["damage_channels"][1], seed=0.4)
    detector.card["damage_channels"] = [one_channel]
    assert learned.damage_marks(detector, np.zeros((120, 120, 3), np.uint8), 0.5)[60, 10:110].all()


def test_the_restore_panel_note_says_when_cracks_are_left_to_the_scratch_brush(monkeypatch, tmp_path):
    path = tmp_path / "defect_detector.safetensors"
    path.write_bytes(b"")
    monkeypatch.setattr(detector_module, "find_weights", lambda *_args, **_kw: None)
    monkeypatch.setattr(detector_module, "SHIPPED", path)
    card = {"architecture": "defect_detector", **SMALL.to_card(), "proposed_damage": ["scratch", "crack", "torn"]}
    path.with_suffix(".json").write_text(json.dumps(card))
    assert detector_module.describe_detector() == "Using the trained defect detector (defect_detector.safetensors)."
    path.with_suffix(".json").write_text(json.dumps(dict(card, proposed_damage=["scratch", "torn"])))
    assert "trace cracks with the Scratch brush" in detector_module.describe_detector()
    channels = [{"outputs": ["scratch", "torn"], "threshold": 0.3, "seed": 0.5}]
    path.with_suffix(".json").write_text(json.dumps(dict(card, damage_channels=channels)))
    assert "trace cracks with the Scratch brush" in detector_module.describe_detector()


def test_the_whole_photo_search_sees_a_photo_and_its_mirror_image_alike():
    from inference.restoration.learned import whole_photo

    detector = random_detector(7)
    image = np.random.default_rng(8).integers(0, 256, (33, 50, 3), dtype=np.uint8)
    seen = whole_photo(detector, image)
    mirrored = whole_photo(detector, np.ascontiguousarray(image[:, ::-1]))
    assert seen.shape == (len(DAMAGE_KINDS), 33, 50)
    assert np.abs(mirrored[:, :, ::-1] - seen).max() < 1e-5
    assert np.abs(seen - detector.probabilities(image)).max() > 0  # not the single view


def test_dust_and_damage_of_one_photo_share_one_pass_of_the_network(monkeypatch):
    from inference.cli.restore import restoration_hole

    detector = random_detector(9)
    monkeypatch.setattr(detector_module, "load_detector", lambda path=None: detector)
    calls = []
    probabilities = detector.probabilities
    monkeypatch.setattr(detector, "probabilities", lambda *args, **kw: calls.append(1) or probabilities(*args, **kw))
    image = np.random.default_rng(10).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    first = restoration_hole(image, 0.5, method="learned")
    assert len(calls) == 2  # the photo and its mirror image, once for both proposals
    assert np.array_equal(restoration_hole(image, 0.5, method="learned"), first) and len(calls) == 2
    changed = image.copy()
    changed[20, 20] = 255 - changed[20, 20]
    restoration_hole(changed, 0.5, method="learned")
    assert len(calls) == 4  # another photo: looked at afresh


def test_speck_contrast_is_off_without_a_card_entry_and_eases_with_sensitivity():
    detector = random_detector()
    assert detector.speck_contrast(0.5) == 0.0 and detector.speck_contrast(0.5, "refine_speck_contrast") == 0.0
    detector.card.update(speck_contrast=1.5, refine_speck_contrast=1.0)
    assert detector.speck_contrast(0.5) == pytest.approx(1.5)
    assert detector.speck_contrast(1.0) == pytest.approx(0.75) and detector.speck_contrast(0.0) == pytest.approx(3.0)
    assert detector.speck_contrast(0.5, "refine_speck_contrast") == pytest.approx(1.0)


def test_a_stroke_keeps_a_speck_on_flat_paper_and_drops_a_fleck_of_foliage():
    from inference.restoration.learned import stroke_marks_from

    rng = np.random.default_rng(5)
    grey = np.full((40, 40), 128.0)
    grey[20:] += rng.normal(0, 40, (20, 40))
    grey[5:8, 5:8] = 200
    grey[30:33, 30:33] = 160  # as bright above its surroundings as the foliage's own flecks
    image = np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    probability = np.zeros((len(DAMAGE_KINDS), 40, 40), np.float32)
    probability[DAMAGE_KINDS.index("dust"), 5:8, 5:8] = probability[DAMAGE_KINDS.index("dust"), 30:33, 30:33] = 0.9
    stroke = np.ones((40, 40), bool)
    box = Box(0, 0, 40, 40)
    everything = stroke_marks_from(probability, box, image, stroke, 0.5, "auto")
    assert everything[6, 6] and everything[31, 31]
    standing_out = stroke_marks_from(probability, box, image, stroke, 0.5, "auto", speck_contrast=1.5)
    assert standing_out[6, 6] and not standing_out[31, 31]
