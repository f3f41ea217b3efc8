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
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.io.images import remove_stale_temporaries

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # inference/weights/store.py -> the project
WEIGHTS_ENV = "INPAINT_STUDIO_WEIGHTS"
# The same random token in a file's safetensors metadata and in its card marks them as one pair.
PAIR_KEY = "pair_id"
_MAX_HEADER_BYTES = 100 << 20  # safetensors' own limit on the JSON header

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


def stored_weights(include_damaged: bool = False) -> list[StoredWeights]:
    """Every ``*.safetensors`` directly in the weights directory with a readable card that belongs to it.

    A file whose header is damaged or truncated, or whose card is from another import (an
    interrupted replacement), is left out unless ``include_damaged`` (the listing shows those too).
    """
    found = []
    for path in sorted(weights_dir().glob("*.safetensors")):
        card_path = path.with_suffix(".json")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(card, dict) and (include_damaged or pair_is_intact(path, card)):
            found.append(StoredWeights(path, card))
    return found


def safetensors_metadata(path: Path) -> dict[str, str] | None:
    """The metadata of a safetensors file whose header is whole and whose tensors fit in it; else None.

    Reads only the header, so listing and engine availability stay instant.
    """
    try:
        with open(path, "rb") as stream:
            prefix = stream.read(8)
            if len(prefix) != 8:
                return None
            length = struct.unpack("<Q", prefix)[0]
            if length > _MAX_HEADER_BYTES:
                return None
            header = json.loads(stream.read(length))
        size = path.stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(header, dict):
        return None
    metadata = header.pop("__metadata__", None) or {}
    try:
        end = max((int(entry["data_offsets"][1]) for entry in header.values()), default=0)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return metadata if isinstance(metadata, dict) and size == 8 + length + end else None


def pair_is_intact(path: Path, card: dict[str, Any]) -> bool:
    """True when the file's header is whole and, for cards that carry one, its pair token matches."""
    metadata = safetensors_metadata(path)
    if metadata is None:
        return False
    return PAIR_KEY not in card or metadata.get(PAIR_KEY) == card[PAIR_KEY]


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
    """Write ``card`` as the JSON model card beside ``weights_path`` (atomically)."""
    card_path = weights_path.with_suffix(".json")
    temporary = _temporary_beside(card_path)
    try:
        _write_text(temporary, json.dumps(card, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, card_path)
    finally:
        temporary.unlink(missing_ok=True)
    return card_path


def replace_pair(target: Path, write_weights: Callable[[Path], None], card: dict[str, Any]) -> None:
    """Store a weights file and its card as one pair: readers see the old pair or the new one, never a mix.

    Both are written to hidden temporaries first; ``card["sha256"]`` is set from the written file.
    Then the file is renamed into place (the old card's pair token no longer matches, so the
    name is hidden for that instant) and the card after it. Leftovers of an interrupted
    replacement are removed by the next one. Raises WeightsError.
    """
    folder = target.parent
    weights_temporary = card_temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
        weights_temporary = _temporary_beside(target)
        write_weights(weights_temporary)
        _fsync(weights_temporary)
        card["sha256"] = sha256_of(weights_temporary)
        card_temporary = _temporary_beside(target.with_suffix(".json"))
        _write_text(card_temporary, json.dumps(card, indent=2, sort_keys=True) + "\n")
        os.replace(weights_temporary, target)
        os.replace(card_temporary, target.with_suffix(".json"))
    except OSError as error:
        raise WeightsError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        for temporary in (weights_temporary, card_temporary):
            if temporary is not None:
                temporary.unlink(missing_ok=True)


def _temporary_beside(path: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())


def _fsync(path: Path) -> None:
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())


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
