"""Where model weights live and how they are described.

Every weight file is ``<weights dir>/<name>.safetensors`` with a JSON model card beside it,
``<name>.json``. The card's ``architecture`` field ("deepfill_v2", "lbam", "hed") and the fields
that architecture adds (for DeepFill v2: ``input_channels``, ``mode``, ``colour_order``; for LBAM:
``variant``, ``width``) let the registry find the file an engine needs without opening it.

The directory is ``weights/`` at the project root unless ``INPAINT_STUDIO_WEIGHTS`` names another
(tests point it at a temporary folder).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # inference/weights/store.py -> the project
WEIGHTS_ENV = "INPAINT_STUDIO_WEIGHTS"

# Modules that can recognise, validate and build a network from a state dict; each exposes
# ``ARCHITECTURE`` (see :mod:`inference.weights.importer`). Listed once, here.
ARCHITECTURE_MODULES = ("inference.engines.deepfill.checkpoint", "inference.engines.lbam.checkpoint")


class WeightsError(ValueError):
    """A weight file is missing, unreadable, unsafe, or does not match the architecture."""


@dataclass(frozen=True)
class StoredWeights:
    """A safetensors file in the weights directory and its model card."""

    path: Path
    card: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem


def weights_dir() -> Path:
    return Path(os.environ.get(WEIGHTS_ENV, PROJECT_ROOT / "weights"))


def stored_weights() -> list[StoredWeights]:
    """Every ``*.safetensors`` directly in the weights directory that has a readable card."""
    found = []
    for path in sorted(weights_dir().glob("*.safetensors")):
        card_path = path.with_suffix(".json")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(card, dict):
            found.append(StoredWeights(path, card))
    return found


def find_weights(architecture: str, prefer: str | None = None, **required: Any) -> StoredWeights | None:
    """The stored weights of ``architecture`` whose card has every ``required`` field value.

    A file named ``prefer`` wins; otherwise the first by name.
    """
    matches = [
        item for item in stored_weights()
        if item.card.get("architecture") == architecture
        and all(item.card.get(key) == value for key, value in required.items())
    ]
    matches.sort(key=lambda item: (item.name != prefer, item.name))
    return matches[0] if matches else None


def write_card(weights_path: Path, card: dict[str, Any]) -> Path:
    """Write ``card`` as the JSON model card beside ``weights_path``."""
    card_path = weights_path.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return card_path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def architectures() -> list[Any]:
    """The ``ARCHITECTURE`` objects of the modules that are present (imports torch)."""
    found = []
    for module_name in ARCHITECTURE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                continue
            raise
        found.append(module.ARCHITECTURE)
    return found
