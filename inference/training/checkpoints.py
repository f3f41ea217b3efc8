"""Resumable training checkpoints: one folder of safetensors shards (each file <= 15 MiB) + state.json.

::

    step-0004000/
      state.json                       step, samples seen, settings, losses, metrics, pack, file list
      generator-00.safetensors ...     fp32 master weights and buffers of the generator
      discriminator-00.safetensors ... fp32 weights and buffers (spectral-norm u vectors, BatchNorm stats)
      optim-generator-00.safetensors   Adam moments (bf16 by default, fp32 with moments="fp32") + step counts
      optim-discriminator-00.safetensors
      rng.safetensors                  torch CPU (and CUDA) generator states

Files are split so none exceeds :data:`SHARD_LIMIT` (a tensor larger than that is stored in row
chunks ``key#0``, ``key#1`` ...). A checkpoint is written into ``<name>.partial`` and renamed when
complete, and state.json records every file's sha256, so a truncated copy is refused on load.
What "resume exactly" means is stated in docs/training.md and tested in tests/test_training_*.py.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from inference.weights.store import sha256_of

FORMAT = "inpaint-studio-training-checkpoint"
VERSION = 1
STATE_FILE = "state.json"
LATEST_FILE = "LATEST"
SHARD_LIMIT = 15 * 2**20 - 256 * 1024  # 15 MiB minus room for the safetensors header
MOMENT_DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}
_CHUNK_MARK = "#"


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete, corrupt or does not fit the run."""


# --------------------------------------------------------------------------------------- shards


def _split_large(tensors: Mapping[str, torch.Tensor], limit: int) -> dict[str, torch.Tensor]:
    pieces: dict[str, torch.Tensor] = {}
    for key, tensor in tensors.items():
        tensor = tensor.detach().cpu().contiguous()
        if _CHUNK_MARK in key:
            raise CheckpointError(f"tensor name {key!r} contains {_CHUNK_MARK!r}")
        size = tensor.numel() * tensor.element_size()
        if size <= limit or tensor.ndim == 0:
            pieces[key] = tensor
            continue
        flat = tensor.reshape(-1)
        per_chunk = max(1, limit // tensor.element_size())
        for index, start in enumerate(range(0, flat.numel(), per_chunk)):
            pieces[f"{key}{_CHUNK_MARK}{index}"] = flat[start:start + per_chunk].clone()
        pieces[f"{key}{_CHUNK_MARK}shape"] = torch.tensor(tensor.shape, dtype=torch.int64)
    return pieces


def _join_chunks(pieces: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    chunked: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in pieces.items():
        base, mark, part = key.partition(_CHUNK_MARK)
        if mark:
            chunked.setdefault(base, {})[part] = tensor
        else:
            tensors[key] = tensor
    for base, parts in chunked.items():
        shape = tuple(int(n) for n in parts.pop("shape"))
        ordered = [parts[str(index)] for index in range(len(parts))]
        tensors[base] = torch.cat(ordered).reshape(shape)
    return tensors


def save_sharded(folder: Path, prefix: str, tensors: Mapping[str, torch.Tensor],
                 limit: int = SHARD_LIMIT) -> list[str]:
    """Write ``tensors`` as ``<prefix>-NN.safetensors`` files of at most ``limit`` bytes of data each."""
    shards: list[dict[str, torch.Tensor]] = [{}]
    used = 0
    for key, tensor in _split_large(tensors, limit).items():
        size = tensor.numel() * tensor.element_size()
        if shards[-1] and used + size > limit:
            shards.append({})
            used = 0
        shards[-1][key] = tensor
        used += size
    names = []
    for index, shard in enumerate(shards):
        name = f"{prefix}-{index:02d}.safetensors"
        save_file(shard, str(folder / name))
        names.append(name)
    return names


def load_sharded(folder: Path, names: list[str]) -> dict[str, torch.Tensor]:
    pieces: dict[str, torch.Tensor] = {}
    for name in names:
        pieces.update(load_file(str(folder / name)))
    return _join_chunks(pieces)


# --------------------------------------------------------------------------------------- optimiser


def optimizer_tensors(optimizer: torch.optim.Optimizer, moments: str) -> tuple[dict[str, torch.Tensor], list]:
    """(tensors, param_groups) of an optimiser; moment tensors cast to ``moments`` precision."""
    dtype = MOMENT_DTYPES[moments]
    state_dict = optimizer.state_dict()
    tensors = {}
    for index, slots in state_dict["state"].items():
        for slot, value in slots.items():
            if not isinstance(value, torch.Tensor):
                raise CheckpointError(f"optimiser slot {slot} is not a tensor")
            keep = slot == "step" or not value.is_floating_point()
            tensors[f"{index}.{slot}"] = value if keep else value.to(dtype)
    groups = json.loads(json.dumps(state_dict["param_groups"]))  # tuples -> lists, checked serialisable
    return tensors, groups


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], groups: list) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        index, _, slot = key.partition(".")
        state.setdefault(int(index), {})[slot] = value
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    # load_state_dict casts the moments back to each parameter's dtype and device.
    optimizer.load_state_dict({"state": state, "param_groups": groups})


# --------------------------------------------------------------------------------------- rng


def rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, value in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{index}"] = value
    return tensors


def restore_rng(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """Restore the generators; returns notes about states that could not apply here."""
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[key] for key in sorted(tensors) if key.startswith("torch_cuda_")]
    if not cuda:
        return []
    if not torch.cuda.is_available() or torch.cuda.device_count() < len(cuda):
        return ["the checkpoint's CUDA random state was not restored (no matching GPU here)"]
    torch.cuda.set_rng_state_all(cuda)
    return []


# --------------------------------------------------------------------------------------- save / load



def save_checkpoint(
    folder: Path,
    *,
    modules: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    state: Mapping[str, Any],
    moments: str = "bf16",
) -> Path:
    """Write a complete checkpoint to ``folder`` (atomically: ``folder.partial`` renamed at the end)."""
    if moments not in MOMENT_DTYPES:
        raise CheckpointError(f"moments must be one of {sorted(MOMENT_DTYPES)}, got {moments!r}")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    files: dict[str, list[str]] = {}
    for name, module in modules.items():
        files[name] = save_sharded(partial, name, {k: v.float() if v.is_floating_point() else v
                                                   for k, v in module.state_dict().items()})
    groups: dict[str, list] = {}
    for name, optimizer in optimizers.items():
        tensors, groups[name] = optimizer_tensors(optimizer, moments)
        files[f"optim-{name}"] = save_sharded(partial, f"optim-{name}", tensors)
    files["rng"] = save_sharded(partial, "rng", rng_tensors())
    document = {
        **state, "format": FORMAT, "version": VERSION, "moments": moments,
        "param_groups": groups, "files": files,
        "sha256": {name: sha256_of(partial / name) for names in files.values() for name in names},
    }
    (partial / STATE_FILE).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint folder from a folder, its state.json, or a run/checkpoints folder (its latest)."""
    path = Path(path)
    if path.is_file() and path.name == STATE_FILE:
        path = path.parent
    for candidate in (path, path / "checkpoints"):
        latest = candidate / LATEST_FILE
        if latest.is_file():
            path = candidate / latest.read_text(encoding="utf-8").strip()
            break
    if not (path / STATE_FILE).is_file():
        raise CheckpointError(f"{path} is not a training checkpoint (no {STATE_FILE})")
    return path


def read_state(folder: Path) -> dict[str, Any]:
    folder = resolve_checkpoint(folder)
    document = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise CheckpointError(f"{folder} is not a version-{VERSION} training checkpoint")
    return document


def verify_files(folder: Path, document: Mapping[str, Any], parts: list[str]) -> None:
    for part in parts:
        for name in document["files"].get(part, []):
            path = folder / name
            if not path.is_file():
                raise CheckpointError(f"{path} is missing (incomplete copy of the checkpoint?)")
            if sha256_of(path) != document["sha256"][name]:
                raise CheckpointError(f"{path} is corrupt (sha256 differs from state.json)")


def load_module_state(folder: Path, part: str = "generator") -> dict[str, torch.Tensor]:
    """The fp32 state dict of one module (``generator`` or ``discriminator``), checked against state.json."""
    folder = resolve_checkpoint(folder)
    document = read_state(folder)
    if part not in document["files"]:
        raise CheckpointError(f"{folder} holds no {part}")
    verify_files(folder, document, [part])
    return load_sharded(folder, document["files"][part])


def load_checkpoint(
    folder: Path,
    *,
    modules: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
) -> tuple[dict[str, Any], list[str]]:
    """Restore modules, optimisers and random state in place; returns (state.json, notes)."""
    folder = resolve_checkpoint(folder)
    document = read_state(folder)
    parts = [*modules, *(f"optim-{name}" for name in optimizers), "rng"]
    missing = [part for part in parts if part not in document["files"]]
    if missing:
        raise CheckpointError(f"{folder} lacks {', '.join(missing)}")
    verify_files(folder, document, parts)
    for name, module in modules.items():
        module.load_state_dict(load_sharded(folder, document["files"][name]), strict=True)
    for name, optimizer in optimizers.items():
        tensors = load_sharded(folder, document["files"][f"optim-{name}"])
        restore_optimizer(optimizer, tensors, document["param_groups"][name])
    notes = restore_rng(load_sharded(folder, document["files"]["rng"]))
    return document, notes


def mark_latest(checkpoints: Path, folder: Path, keep: int) -> None:
    """Point ``LATEST`` at ``folder`` and delete all but the ``keep`` newest step folders."""
    (checkpoints / LATEST_FILE).write_text(folder.name + "\n", encoding="utf-8")
    steps = sorted(p for p in checkpoints.glob("step-*") if p.is_dir() and not p.name.endswith(".partial"))
    for old in steps[:-keep] if keep > 0 else []:
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)


TRAVEL_BYTES = 60 * 2**20  # what one device call may carry or return, less room for the code
TRAVEL_FILES = 8


def travel_groups(folder: Path, limit: int = TRAVEL_BYTES, max_files: int = TRAVEL_FILES) -> list[list[Path]]:
    """The checkpoint's files packed (first fit, largest first) into groups of at most ``max_files``
    files and ``limit`` bytes: each group can come back from, or be carried to, the GPU machine in
    one call. The group holding state.json is listed last, so a copy is complete once it arrives."""
    folder = resolve_checkpoint(folder)
    files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: (-p.stat().st_size, p.name))
    groups: list[list[Path]] = []
    sizes: list[int] = []
    for path in files:
        size = path.stat().st_size
        fits = [i for i, group in enumerate(groups) if len(group) < max_files and sizes[i] + size <= limit]
        if fits:
            groups[fits[0]].append(path)
            sizes[fits[0]] += size
        else:
            groups.append([path])
            sizes.append(size)
    ordered = list(groups)
    ordered.sort(key=lambda members: any(p.name == STATE_FILE for p in members))
    return ordered
