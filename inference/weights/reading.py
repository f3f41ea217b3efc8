"""Reading a foreign weight file into plain tensors, without ever running code from it.

``read_state(path)`` accepts ``.safetensors``, ``.npz`` (no pickles) and anything
``torch.load(weights_only=True)`` reads; a zip archive (``.pth``, ``.npz``) whose entries declare
more than any network needs is refused before anything is unpacked. Every failure is a
:class:`~inference.weights.store.WeightsError` with one sentence: torch and numpy warnings are kept
off stderr, and tensors no network may run with (meta, sparse, non-finite, complex, bool) or keys
that are not names are refused, naming the key.
"""

from __future__ import annotations

import pickle
import pickletools
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from inference.weights.store import WeightsError

State = dict[str, torch.Tensor]
# No inpainting network comes near this; a zip declaring more is a bomb, refused before reading.
MAX_DECLARED_BYTES = 4 << 30
MAX_COMPRESSION_RATIO = 200


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
        raise WeightsError(f"cannot read {path.name} as a weight file: {first_line(error)}") from None
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


def first_line(error: BaseException) -> str:
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
        raise WeightsError(f"cannot read {path.name}: a damaged zip archive ({first_line(error)})") from None
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
