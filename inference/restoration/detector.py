"""Loading and running the trained defect detector (:mod:`inference.restoration.network`).

The weights are our own (``weights/defect_detector.safetensors``, fp16, trained on synthetic
damage; see its model card). They are looked for in the weights directory first, then among the
weights that ship with the project, so a user who points ``INPAINT_STUDIO_WEIGHTS`` elsewhere still
has them. Without them every detector falls back to its classical rules.

The card also holds the probability each detector needs at the default sensitivity, chosen on
held-out train photos; sensitivity moves it by up to ``SPREAD / 2`` in logit either way.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.weights.store import PROJECT_ROOT, WeightsError, find_weights

if TYPE_CHECKING:
    from inference.restoration.network import DefectNet

# torch is imported only when the network runs: the CLI and the editor start without it.
ARCHITECTURE = "defect_detector"

SHIPPED = PROJECT_ROOT / "weights" / "defect_detector.safetensors"
SPREAD = 4.0  # logit range that sensitivity 0..1 sweeps
LINE_KINDS = ("scratch", "crack", "torn")  # the outputs whole-photo damage may draw on (the card chooses)


@dataclass
class Detector:
    network: DefectNet
    card: dict

    @functools.cached_property
    def quick_network(self) -> DefectNet:
        """The network with its batch norms folded in (:func:`~inference.restoration.network.fused`): what runs."""
        from inference.restoration.network import fused

        return fused(self.network)

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.network.config.kinds

    def threshold(self, function: str, sensitivity: float) -> float:
        """The probability a pixel needs for ``function`` at ``sensitivity`` (higher sensitivity: lower)."""
        return _shifted(float(self.card.get("thresholds", {}).get(function, 0.5)), sensitivity)  # 0.5 until calibrated

    def kind_thresholds(self, function: str, sensitivity: float) -> np.ndarray:
        """One threshold per network kind: the card's ``kind_thresholds`` where it has them, else
        :meth:`threshold`; all moved by sensitivity alike."""
        own = self.card.get("kind_thresholds", {}).get(function, {})
        common = self.threshold(function, sensitivity)
        return np.array([_shifted(float(own[kind]), sensitivity) if kind in own else common for kind in self.kinds],
                        np.float32)

    @property
    def proposed_damage(self) -> tuple[str, ...]:
        """The kinds Detect damage proposes over the whole photo (see :func:`proposed_damage`)."""
        return proposed_damage(self.card)

    def thresholds(self, function: str, sensitivity: float) -> tuple[float, float]:
        """(threshold, seed) for a proposal at ``sensitivity``: its parts are traced above the
        threshold and kept when they reach the seed somewhere (the card's ``seed_thresholds``, moved
        by sensitivity as the threshold is; the threshold itself when the card has none)."""
        seed = self.card.get("seed_thresholds", {}).get(function)
        return _pair(self.threshold(function, sensitivity), seed, sensitivity)

    def speck_contrast(self, sensitivity: float, key: str = "speck_contrast") -> float:
        """How many times the texture around it a speck's contrast must be: the card's ``key``
        (``speck_contrast`` for Detect dust, ``refine_speck_contrast`` for speck-sized marks in a
        Stroke; 0 when it has none), halved at sensitivity 1, doubled at 0."""
        return float(self.card.get(key, 0.0)) * 2.0 ** (1.0 - 2.0 * float(sensitivity))

    def damage_channels(self, sensitivity: float) -> list[tuple[tuple[str, ...], float, float]]:
        """Whole-photo damage as (outputs, threshold, seed) channels at ``sensitivity``, their marks
        joined: the card's ``damage_channels`` (cracks, which look most like hair and twigs, get a bar
        of their own), else one channel of :attr:`proposed_damage` at ``propose_damage``'s thresholds."""
        channels = self.card.get("damage_channels")
        if not channels:
            return [(self.proposed_damage, *self.thresholds("propose_damage", sensitivity))]
        return [(tuple(channel["outputs"]),
                 *_pair(_shifted(float(channel["threshold"]), sensitivity), channel.get("seed"), sensitivity))
                for channel in channels]

    def probabilities(self, image: np.ndarray, stroke: np.ndarray | None = None,
                      on_border: tuple[bool, bool, bool, bool] = (True, True, True, True)) -> np.ndarray:
        """Per-kind damage probabilities (kinds, H, W) float32 of an RGB uint8 Image.

        ``stroke`` (bool (H, W)) is the Stroke a person painted, or None to search everywhere;
        ``on_border`` says which sides (top, bottom, left, right) of ``image`` are the photo's own
        edges (a crop's cut sides are not).
        """
        height, width = image.shape[:2]
        multiple = self.network.config.multiple
        pad_h, pad_w = -height % multiple, -width % multiple
        border = np.zeros((height, width), np.float32)
        top, bottom, left, right = on_border
        if top:
            border[0] = 1.0
        if bottom:
            border[-1] = 1.0
        if left:
            border[:, 0] = 1.0
        if right:
            border[:, -1] = 1.0
        import torch
        from torch.nn import functional as F

        from inference.restoration.network import hints, image_tensor

        stroke_map = np.zeros((height, width), np.float32) if stroke is None else stroke.astype(np.float32)
        with torch.inference_mode():
            pixels = image_tensor(torch.from_numpy(np.ascontiguousarray(image))[None])
            hint = hints(torch.from_numpy(stroke_map)[None], torch.tensor([0.0 if stroke is None else 1.0]),
                         torch.from_numpy(border)[None])
            # Repeat the photo's last row and column into the padding (zeros would look like a dark
            # frame); the hints stay 0 there.
            pixels = F.pad(pixels, (0, pad_w, 0, pad_h), mode="replicate")
            hint = F.pad(hint, (0, pad_w, 0, pad_h))
            logits = self.quick_network(pixels, hint)[0, :, :height, :width]
            return torch.sigmoid(logits).numpy()


def proposed_damage(card: dict) -> tuple[str, ...]:
    """The kinds Detect damage proposes: those of the card's ``damage_channels`` (or its older
    ``proposed_damage``; calibration leaves out a kind it cannot propose precisely), else
    scratches, cracks and tears."""
    channels = card.get("damage_channels")
    if channels:
        drawn = {kind for channel in channels for kind in channel["outputs"]}
        return tuple(kind for kind in LINE_KINDS if kind in drawn)
    return tuple(card.get("proposed_damage", LINE_KINDS))


def _pair(low: float, seed: float | None, sensitivity: float) -> tuple[float, float]:
    """(threshold, seed) with the card's seed moved by sensitivity; never below the threshold."""
    return low, (low if seed is None else max(low, _shifted(float(seed), sensitivity)))


def _shifted(probability: float, sensitivity: float) -> float:
    """``probability`` at the default sensitivity 0.5, moved by up to ``SPREAD / 2`` in logit (higher sensitivity: lower)."""
    base = min(max(probability, 1e-4), 1 - 1e-4)
    logit = math.log(base / (1 - base)) + (0.5 - float(sensitivity)) * SPREAD
    return 1.0 / (1.0 + math.exp(-logit))


def detector_path() -> Path | None:
    """The detector's weights: the weights directory's, else the shipped file; None when neither exists."""
    found = find_weights(ARCHITECTURE)
    if found is not None:
        return found.path
    return SHIPPED if SHIPPED.is_file() and SHIPPED.with_suffix(".json").is_file() else None


@functools.lru_cache(maxsize=2)
def _load(path: Path, modified: tuple[float, float]) -> Detector:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from inference.restoration.network import DefectNet, DetectorConfig

    card = _card(path)
    config = DetectorConfig.from_card(card)
    network = DefectNet(config)
    try:
        state = {key: value.float() if value.is_floating_point() else value
                 for key, value in load_file(str(path)).items()}
    except (OSError, SafetensorError) as error:
        raise WeightsError(f"cannot read {path.name}: {error}") from None
    problem = _mismatch(network.state_dict(), state)
    if problem:
        raise WeightsError(f"{path.name} does not fit the defect detector its card describes: {problem}")
    network.load_state_dict(state, strict=True)
    network.eval()
    return Detector(network, card)


def _mismatch(expected: dict, found: dict) -> str:
    """One line naming what differs between two state dicts (at most three examples each), or ''."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    reshaped = sorted(key for key in set(expected) & set(found) if expected[key].shape != found[key].shape)
    parts = [f"{len(keys)} {what} (e.g. {', '.join(keys[:3])})"
             for what, keys in (("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped)) if keys]
    return "; ".join(parts)


def load_detector(path: Path | None = None) -> Detector | None:
    """The trained detector (cached while neither file nor card changes), or None when there are no weights."""
    path = path if path is not None else detector_path()
    if path is None:
        return None
    path = Path(path)
    card = path.with_suffix(".json")
    return _load(path, (path.stat().st_mtime, card.stat().st_mtime if card.exists() else 0.0))


def _card(path: Path) -> dict:
    card_path = path.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WeightsError(f"cannot read the model card {card_path}: {error}") from None
    if not isinstance(card, dict) or card.get("architecture") != ARCHITECTURE:
        raise WeightsError(f"{card_path} is not a defect detector's model card")
    return card


METHODS = ("auto", "learned", "classical")


def detector_for(method: str) -> Detector | None:
    """The network a detector function should use for ``method``, or None for the classical rules.

    ``"auto"`` takes the trained detector when its weights are there (and falls back, with a
    warning, when they cannot be read); ``"learned"`` insists on it; ``"classical"`` never uses it.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "classical":
        return None
    if method == "learned":
        detector = load_detector()
        if detector is None:
            raise WeightsError("the defect detector's weights are missing (weights/defect_detector.safetensors); "
                               "train them with `python main.py train defects` or use method 'classical'")
        return detector
    try:
        return load_detector()
    except WeightsError as error:
        warnings.warn(f"{error}; using the classical detectors", stacklevel=3)
        return None


def describe_detector() -> str:
    """One line for the editor: which detector Detect dust / damage and the Scratch brush use."""
    path = detector_path()
    if path is None:
        return "Using the classical rules: the trained defect detector (weights/defect_detector.safetensors) is missing."
    line = f"Using the trained defect detector ({path.name})."
    try:
        proposed = proposed_damage(_card(path))
    except WeightsError:
        return line  # the detector functions warn about it when they run
    if "crack" not in proposed:
        line += " Detect damage proposes scratches and torn corners; trace cracks with the Scratch brush."
    return line
