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
import pickle
import pickletools
import re
import uuid
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from inference.weights.store import (
    PAIR_KEY,
    StoredWeights,
    WeightsError,
    architectures,
    replace_pair,
    sha256_of,
    weights_dir,
)

State = dict[str, torch.Tensor]
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_STORED_DTYPES = (torch.float32, torch.float16)
# No inpainting network comes near this; a zip declaring more is a bomb, refused before reading.
MAX_DECLARED_BYTES = 4 << 30
MAX_COMPRESSION_RATIO = 200
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


# --------------------------------------------------------------------------------- reading files
def read_state(path: Path) -> tuple[State, dict[str, str]]:
    """The tensors of a weight file (unwrapped, prefix-stripped) and its safetensors metadata."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"no such file: {path}")
    suffix = path.suffix.lower()
    metadata: dict[str, str] = {}
    _check_declared_sizes(path)
    try:
        # torch and numpy warn about what they are refusing; the refusal below says it in one line.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded, metadata = _load_any(path, suffix)
    except pickle.UnpicklingError as error:
        raise _unpickling_refusal(path, error) from error
    except MemoryError:
        raise WeightsError(f"cannot read {path.name}: it needs more memory than is available") from None
    except Exception as error:  # noqa: BLE001 — a foreign file can make the readers raise anything
        raise WeightsError(f"cannot read {path.name} as a weight file: {_first_line(error)}") from None
    return _plain_state(loaded, path.name), metadata


def _load_any(path: Path, suffix: str) -> tuple[Any, dict[str, str]]:
    if suffix == ".safetensors":
        loaded = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            return loaded, dict(handle.metadata() or {})
    if suffix == ".npz":
        # Our own handle, closed even when numpy gives up on the file half-way.
        with open(path, "rb") as stream, np.load(stream, allow_pickle=False) as archive:
            return {key: torch.from_numpy(np.array(archive[key])) for key in archive.files}, {}
    return torch.load(path, map_location="cpu", weights_only=True), {}


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0][:200] if text else "") or type(error).__name__


def _check_declared_sizes(path: Path) -> None:
    """Refuse a zip archive (.pth, .npz) whose entries declare more than any network needs."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise WeightsError(f"cannot read {path.name}: a damaged zip archive ({_first_line(error)})") from None
    declared = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if declared > MAX_DECLARED_BYTES or declared > MAX_COMPRESSION_RATIO * max(packed, 1 << 20):
        raise WeightsError(
            f"refused: {path.name} declares {declared / 2**30:.2f} GiB of contents in {packed / 2**20:.1f} MiB "
            f"(limit {MAX_DECLARED_BYTES / 2**30:.0f} GiB, ratio {MAX_COMPRESSION_RATIO}); nothing was unpacked"
        )


def _unpickling_refusal(path: Path, error: pickle.UnpicklingError) -> WeightsError:
    # torch's weights-only unpickler names the callable a pickle tried to reach ("GLOBAL posix.system").
    reached = re.search(r"GLOBAL ([\w.]+)", str(error))
    callable_name = reached.group(1) if reached else _pickled_callable(path)
    if callable_name is None:
        return WeightsError(f"cannot read {path.name}: not a PyTorch checkpoint or a damaged one")
    return WeightsError(
        f"refused: the file contains pickled code (it would call {callable_name}); "
        f"nothing from {path.name} was run. Only plain tensors are accepted."
    )


_PICKLE_SCAN_BYTES = 16 << 20


def _pickled_callable(path: Path) -> str | None:
    """The first non-torch callable a pickle names, read from its opcodes without running anything.

    torch's unpickler gives up on newer protocols before naming the callable; this finds it for
    the message. Looks at a bare pickle, or the ``data.pkl`` of a torch zip.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
                if member is None:
                    return None
                with archive.open(member) as stream:
                    data = stream.read(_PICKLE_SCAN_BYTES)
        else:
            with open(path, "rb") as stream:
                data = stream.read(_PICKLE_SCAN_BYTES)
        strings: list[str] = []
        for opcode, argument, _position in pickletools.genops(data):
            if isinstance(argument, str):
                strings.append(argument)
            name = None
            if opcode.name in ("GLOBAL", "INST") and isinstance(argument, str):
                name = argument.replace(" ", ".").replace("\n", ".")
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                name = f"{strings[-2]}.{strings[-1]}"
            if name and not name.startswith(("torch.", "collections.OrderedDict", "_codecs.")):
                return name
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    return None


def _plain_state(loaded: Any, file_name: str) -> State:
    if isinstance(loaded, Mapping):
        for wrapper in ("G", "state_dict"):
            if isinstance(loaded.get(wrapper), Mapping):
                loaded = loaded[wrapper]
                break
    if not isinstance(loaded, Mapping) or not loaded:
        raise WeightsError(f"{file_name} holds no state dict (expected a dict of tensors, or one under 'G')")
    state: State = {}
    for key, value in loaded.items():
        if not isinstance(key, str):
            raise WeightsError(f"{file_name}: key {key!r} is not a tensor name (keys must be strings)")
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"{file_name}: entry {key!r} is not a tensor")
        _check_tensor(file_name, key, value)
        state[key.removeprefix("module.")] = value
    return state


def _check_tensor(file_name: str, key: str, value: torch.Tensor) -> None:
    """Refuse tensors that hold no data, or data no network may run with (named by key)."""
    if value.is_meta or value.layout != torch.strided or value.is_quantized:
        raise WeightsError(f"{file_name}: tensor {key} holds no plain data (meta, sparse or quantized)")
    if value.is_complex() or value.dtype == torch.bool:
        raise WeightsError(f"{file_name}: tensor {key} is {str(value.dtype).removeprefix('torch.')}; "
                           "weights must be floating point")
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise WeightsError(f"{file_name}: tensor {key} holds NaN or infinite values")


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
        raise WeightsError(f"the network refused {subject}: {_first_line(error)}") from None
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
        raise WeightsError(f"cannot read {stored.path.name}: {_first_line(error)}") from None
    network = architecture.build(stored.card)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise WeightsError(f"{stored.path.name} does not fit its model card: {error}") from error
    return network.eval()
