"""Importing weight files safely, for every architecture, and loading stored weights into a network.

``import_weights(path, name=None)`` reads a file without ever running code from it, recognises the
architecture from the tensor names, validates every key and shape, loads it strictly into a freshly
built network as a final check, and stores ``weights/<name>.safetensors`` plus its JSON model card.
It prints nothing and raises :class:`~inference.weights.store.WeightsError` with one clear sentence,
so the CLI and the editor's "Import weights…" both use it as is.

Readable files: ``.safetensors``; ``.npz`` (numpy, no pickles) holding TensorFlow checkpoint tensor
names; anything else goes through ``torch.load(weights_only=True)``, which refuses pickles that would
call code (those are rejected with "refused: the file contains pickled code …"). A dict with the
generator under ``'G'`` (nipponjo's training snapshots) or ``'state_dict'`` is unwrapped, and a
``module.`` prefix (DataParallel) is stripped.

The architecture protocol (subclass :class:`Architecture`; each ``inference.<model>.checkpoint``
module exposes one instance as ``ARCHITECTURE``, listed in ``weights_store.ARCHITECTURE_MODULES``):

* ``name`` — the card's ``architecture`` value, e.g. "deepfill_v2";
* ``detect(state) -> dict | None`` — card fields if the tensor names are this architecture's
  (at least ``architecture``; plus whatever ``build`` needs and a ``licence`` note), else None;
* ``normalise(state, info) -> (state, info)`` — optional: convert foreign naming (e.g. TensorFlow)
  to the stored layout, fill in tolerated constants; default: unchanged;
* ``expected_shapes(info) -> dict[key, shape]`` and ``optional_keys(info) -> set`` — used by the
  default ``validate(state, info)``, which raises WeightsError naming the first missing key, wrong
  shape or unexpected key;
* ``build(info) -> torch.nn.Module`` — the network described by a card (also used by
  :func:`load_network` for stored files);
* ``default_name(info) -> str`` — the stored name when the user gives none;
* ``overridable`` — card fields that a safetensors file's metadata may set (e.g. colour order).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from inference.weights.reading import State, first_line, read_state
from inference.weights.store import (
    PAIR_KEY,
    StoredWeights,
    WeightsError,
    architectures,
    replace_pair,
    sha256_of,
    weights_dir,
)

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_STORED_DTYPES = (torch.float32, torch.float16)
UNKNOWN_LICENCE = (
    "not stated in the file: check where it came from. Weights trained by Inpaint Studio on "
    "../shared/data are research artefacts (the photos carry non-commercial terms)."
)


class Architecture:
    """Base of the ``ARCHITECTURE`` objects; see the module docstring for the protocol."""

    name = ""
    overridable: tuple[str, ...] = ("licence",)

    def detect(self, state: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
        raise NotImplementedError

    def normalise(self, state: State, info: dict[str, Any]) -> tuple[State, dict[str, Any]]:
        return state, info

    def expected_shapes(self, info: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        return {key: tuple(value.shape) for key, value in self.build(info).state_dict().items()}

    def optional_keys(self, info: Mapping[str, Any]) -> set[str]:
        return set()

    def validate(self, state: Mapping[str, torch.Tensor], info: Mapping[str, Any]) -> None:
        expected = self.expected_shapes(info)
        optional = self.optional_keys(info)
        for key, shape in expected.items():
            if key not in state:
                if key in optional:
                    continue
                raise WeightsError(f"missing key {key} (expected shape {list(shape)})")
            if tuple(state[key].shape) != shape:
                raise WeightsError(
                    f"key {key} has shape {list(state[key].shape)}, expected {list(shape)}"
                )
        for key in state:
            if key not in expected:
                raise WeightsError(f"unexpected key {key} for {self.name} ({info.get('layout', 'layout')})")

    def build(self, info: Mapping[str, Any]) -> torch.nn.Module:
        raise NotImplementedError

    def default_name(self, info: Mapping[str, Any]) -> str:
        return self.name


# --------------------------------------------------------------------------------- recognising
def recognise(state: Mapping[str, torch.Tensor]) -> tuple[Architecture, dict[str, Any]]:
    """The architecture whose ``detect`` accepts these tensor names, and its card fields."""
    for architecture in architectures():
        info = architecture.detect(state)
        if info is not None:
            return architecture, dict(info)
    sample = ", ".join(list(state)[:3])
    raise WeightsError(f"unknown weight layout (first keys: {sample}); no known architecture matches")


def architecture_named(name: str) -> Architecture:
    for architecture in architectures():
        if architecture.name == name:
            return architecture
    raise WeightsError(f"no architecture called {name!r} is installed")


def _apply_metadata(architecture: Architecture, info: dict[str, Any], metadata: Mapping[str, str]) -> None:
    for key in architecture.overridable:
        if key in metadata:
            try:
                info[key] = json.loads(metadata[key])
            except ValueError:
                info[key] = metadata[key]


# --------------------------------------------------------------------------------- importing
def import_weights(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    overwrite: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> StoredWeights:
    """Validate and convert a weight file into ``weights/<name>.safetensors`` plus its model card.

    ``overrides`` sets card fields the file cannot tell (e.g. ``{"colour_order": "rgb"}``). Nothing
    is written unless every check passes. Raises WeightsError.
    """
    source = Path(path)
    state, metadata = read_state(source)
    architecture, info = recognise(state)
    if source.suffix.lower() == ".safetensors":
        # Our own format: the published-weights licence an architecture assumes need not apply.
        info["licence"] = UNKNOWN_LICENCE
    _apply_metadata(architecture, info, metadata)
    info.update(overrides or {})
    return store_weights(
        state, info, name, architecture=architecture, source=source, overwrite=overwrite
    )


def checked_network(
    architecture: Architecture,
    state: Mapping[str, torch.Tensor],
    info: Mapping[str, Any],
    subject: str = "the weights",
) -> tuple[dict[str, torch.Tensor], dict[str, Any], torch.nn.Module]:
    """Normalise ``state``, validate it key by key, and load it strictly into a freshly built network.

    Returns the normalised state, card fields and the loaded network; raises :class:`WeightsError`
    naming the first problem. Importing and exporting our own trained weights both go through here.
    """
    state, info = architecture.normalise(dict(state), dict(info))
    architecture.validate(state, info)
    network = architecture.build(info)
    _check_dtypes(state, network.state_dict(), subject)
    try:
        network.load_state_dict(state, strict=True)
    except (RuntimeError, NotImplementedError) as error:
        raise WeightsError(f"the network refused {subject}: {first_line(error)}") from None
    return state, info, network


def _check_dtypes(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], subject: str) -> None:
    # load_state_dict would silently cast int64 or bool into float parameters.
    for key, target in expected.items():
        value = state.get(key)
        if value is not None and target.is_floating_point() and not value.is_floating_point():
            raise WeightsError(f"{subject}: tensor {key} is {str(value.dtype).removeprefix('torch.')}; "
                               "weights must be floating point")


def store_weights(
    state: Mapping[str, torch.Tensor],
    info: Mapping[str, Any],
    name: str | None = None,
    *,
    architecture: Architecture | None = None,
    source: Path | None = None,
    overwrite: bool = False,
) -> StoredWeights:
    """Validate ``state`` against ``info`` (card fields, incl. ``architecture``) and store it.

    Also the way to save weights trained here (they may be fp16; published weights stay fp32).
    """
    architecture = architecture or architecture_named(str(info.get("architecture")))
    state, info, network = checked_network(architecture, state, info)
    name = _target_name(name, architecture.default_name(info), source, overwrite)
    target = weights_dir() / f"{name}.safetensors"
    storable = _storable(state)
    pair_id = uuid.uuid4().hex  # in the file's metadata and in its card: a reader pairs only matching ones
    card = dict(info)
    card.update(
        name=name,
        architecture=architecture.name,
        parameter_count=sum(p.numel() for p in network.parameters()),
        dtype=stored_dtype(storable),
        imported=_dt.date.today().isoformat(),
        **{PAIR_KEY: pair_id},
    )
    if source is not None:
        card.update(source_file=source.name, source_sha256=sha256_of(source))
    metadata = {**_metadata(architecture, info), PAIR_KEY: pair_id}
    replace_pair(target, lambda path: save_file(storable, str(path), metadata=metadata), card)
    return StoredWeights(target, card)


def stored_dtype(state: Mapping[str, torch.Tensor]) -> str:
    """The floating-point type the stored tensors have, or "mixed (…)" when they differ."""
    kinds = sorted({str(value.dtype).removeprefix("torch.") for value in state.values() if value.is_floating_point()})
    return kinds[0] if len(kinds) == 1 else f"mixed ({', '.join(kinds)})"


def _metadata(architecture: Architecture, info: Mapping[str, Any]) -> dict[str, str]:
    # The fields a card cannot recover from tensor names travel inside the file, so that
    # re-importing a stored file (e.g. on another machine) gives the same card.
    fields = {key: json.dumps(info[key]) for key in architecture.overridable if key in info}
    return {"architecture": architecture.name, **fields}


def _target_name(name: str | None, default: str, source: Path | None, overwrite: bool) -> str:
    if name is not None:
        if not _NAME_PATTERN.match(name):
            raise WeightsError(f"invalid name {name!r}: use letters, digits, '_', '-' or '.'")
        if not overwrite and (weights_dir() / f"{name}.safetensors").exists():
            raise WeightsError(f"weights/{name}.safetensors already exists; choose another --name or --force")
        return name
    if overwrite or not (weights_dir() / f"{default}.safetensors").exists():
        return default
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.stem if source is not None else "copy")
    candidate = f"{default}_{stem}"
    if (weights_dir() / f"{candidate}.safetensors").exists():
        raise WeightsError(f"weights/{default}.safetensors and {candidate}.safetensors exist; pass --name")
    return candidate


def _storable(state: Mapping[str, torch.Tensor]) -> State:
    # Own, contiguous copies (safetensors refuses shared storage); other float types become fp32.
    stored = {}
    for key, value in state.items():
        value = value.detach().cpu()
        if value.is_floating_point() and value.dtype not in _STORED_DTYPES:
            value = value.float()
        stored[key] = value.contiguous().clone()
    return stored


# --------------------------------------------------------------------------------- loading stored
def load_network(stored: StoredWeights) -> torch.nn.Module:
    """Build the network a stored file's card describes and load the file into it (strict), on the CPU."""
    architecture = architecture_named(str(stored.card.get("architecture")))
    try:
        state = load_file(str(stored.path))
    except (OSError, RuntimeError, ValueError, SafetensorError) as error:
        raise WeightsError(f"cannot read {stored.path.name}: {first_line(error)}") from None
    network = architecture.build(stored.card)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise WeightsError(f"{stored.path.name} does not fit its model card: {error}") from error
    return network.eval()
