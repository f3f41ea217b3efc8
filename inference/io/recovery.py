"""Crash-recovery folders: the autosaved state of one open Document, written a little at a time.

A recovery folder holds the photo as it was opened (a hard link to the source file when the file
system allows, else a copy, else a PNG of the pixels), every layer cut into square tiles of which
only those differing from the layer's base are stored (base: the original photo for ``image``,
zeros for every other layer), a small thumbnail and ``manifest.json``. Each autosave writes only
the tiles that changed since the last one, then replaces the manifest atomically, then deletes
the tiles it superseded: a crash at any moment leaves the previous or the new state, never a mix.
The layout is described in docs/sessions.md.

:class:`RecoveryWriter` is used from one background thread; :func:`read_recovery` and
:func:`list_recoveries` are what the editor calls at start. No Qt here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inference.io.images import ImageError, LoadedImage, open_image, write_atomically
from inference.io.session import (
    FORMAT_VERSION,
    MANIFEST,
    SessionData,
    SessionError,
    check_manifest,
    data_from_manifest,
    decode_png,
    decodes_to,
    encode_png,
    now_text,
    original_from_members,
    original_members,
    sha256_of_file,
)

RECOVERY_FORMAT = "inpaint-recovery"
TILE = 512  # side of a stored tile: a brush Stroke rewrites a few of them, not the layer
THUMBNAIL_SIDE = 192
_LAYER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # layer names become folder names

TileKey = tuple[int, int]


@dataclass(frozen=True)
class LayerSnapshot:
    """One layer at autosave time: its kind, and copies of the tiles changed since the last autosave."""

    dtype: str
    shape: tuple[int, ...]
    base: str  # "original" (the photo as opened) or "zeros": what a tile not stored holds
    tiles: dict[TileKey, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """What one autosave writes; built on the UI thread from copies, written on a background thread."""

    original: LoadedImage  # never modified once opened, so the writer may read it
    layers: dict[str, LayerSnapshot]
    app_version: str
    save_path: Path | None = None
    summary: str = ""  # e.g. the last History entry, shown in the recovery dialog
    thumbnail: np.ndarray | None = None  # RGB uint8, at most THUMBNAIL_SIDE on its long side


@dataclass(frozen=True)
class RecoveryInfo:
    """A recoverable folder as the recovery dialog lists it."""

    folder: Path
    source_path: Path
    saved_at: str
    summary: str
    thumbnail: Path | None

    @property
    def photo_name(self) -> str:
        return self.source_path.name


def tile_keys(top: int, left: int, bottom: int, right: int, tile: int = TILE) -> list[TileKey]:
    """The tiles a box (clamped by the caller) overlaps."""
    if bottom <= top or right <= left:
        return []
    return [(row, column) for row in range(top // tile, (bottom - 1) // tile + 1)
            for column in range(left // tile, (right - 1) // tile + 1)]


def all_tile_keys(shape: tuple[int, ...], tile: int = TILE) -> list[TileKey]:
    return tile_keys(0, 0, shape[0], shape[1], tile)


def tile_slices(key: TileKey, tile: int = TILE) -> tuple[slice, slice]:
    return slice(key[0] * tile, (key[0] + 1) * tile), slice(key[1] * tile, (key[1] + 1) * tile)


def thumbnail_of(image: np.ndarray, mask: np.ndarray | None = None, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """A small RGB preview by striding (cheap on the UI thread), the Hole tinted red."""
    step = max(1, -(-max(image.shape[:2]) // side))
    small = image[::step, ::step, :3].copy()
    if mask is not None:
        hole = mask[::step, ::step]
        small[hole] = (small[hole] // 2 + np.array([127, 0, 0], dtype=np.uint8))
    return small


class RecoveryWriter:
    """Keeps one recovery folder up to date; every method runs on the same (background) thread."""

    def __init__(self, folder: Path, tile: int = TILE) -> None:
        self.folder = Path(folder)
        self.tile = tile
        self.revision = 0
        self._original: dict | None = None
        self._tiles: dict[str, dict[TileKey, str]] = {}
        self._thumbnail: str | None = None

    def write(self, snapshot: Snapshot) -> int:
        """Store the snapshot's changed tiles and a new manifest; returns the bytes written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        written = 0
        if self._original is None:
            self._original, written = self._store_original(snapshot.original)
        self.revision += 1
        superseded: list[str] = []
        for name, layer in snapshot.layers.items():
            if not _LAYER_NAME.match(name):
                raise SessionError(f"layer name {name!r} cannot be stored (lowercase letters, digits, _).")
            stored = self._tiles.setdefault(name, {})
            for key, values in layer.tiles.items():
                if key in stored:
                    superseded.append(stored.pop(key))
                if not self._equals_base(layer.base, key, values, snapshot.original.pixels):
                    stored[key] = f"{name}/r{self.revision}_{key[0]}_{key[1]}.png"
                    written += self._put(stored[key], encode_png(values, compress_level=1))
        if snapshot.thumbnail is not None:
            if self._thumbnail:
                superseded.append(self._thumbnail)
            self._thumbnail = f"thumbnail_r{self.revision}.png"
            written += self._put(self._thumbnail, encode_png(snapshot.thumbnail))
        manifest = json.dumps(self._manifest(snapshot), indent=1).encode()
        write_atomically(self.folder / MANIFEST, lambda stream: stream.write(manifest))
        for name in superseded:
            (self.folder / name).unlink(missing_ok=True)
        return written + len(manifest)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _equals_base(self, base: str, key: TileKey, values: np.ndarray, original: np.ndarray) -> bool:
        if base == "original":
            return np.array_equal(values, original[tile_slices(key, self.tile)])
        return not values.any()

    def _put(self, name: str, data: bytes) -> int:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())  # on disk before the manifest that names it
        return len(data)

    def _store_original(self, original: LoadedImage) -> tuple[dict, int]:
        """Link (or copy) the source file when it still decodes to the pixels opened; else write a PNG."""
        source = Path(original.path)
        if source.is_file():
            target = self.folder / f"original{source.suffix.lower()}"
            written = _link_or_copy(source, target)
            if decodes_to(target, original.pixels):
                return {"kind": "file", "file": target.name, "sha256": sha256_of_file(target)}, written
            target.unlink(missing_ok=True)
        entry, members = original_members(original)  # a PNG: the source file is gone or changed
        written = sum(self._put(name, data) for name, data in members.items())
        return {"kind": "png", **entry}, written

    def _manifest(self, snapshot: Snapshot) -> dict:
        layers = {}
        for name, layer in snapshot.layers.items():
            tiles = {f"{row}_{column}": file for (row, column), file in self._tiles.get(name, {}).items()}
            layers[name] = {"dtype": layer.dtype, "shape": list(layer.shape), "base": layer.base, "tiles": tiles}
        return {
            "format": RECOVERY_FORMAT, "format_version": FORMAT_VERSION, "app_version": snapshot.app_version,
            "saved_at": now_text(), "revision": self.revision, "pid": os.getpid(),
            "source_path": str(snapshot.original.path), "source_sha256": self._original.get("sha256"),
            "save_path": str(snapshot.save_path) if snapshot.save_path else None,
            "summary": snapshot.summary, "tile": self.tile, "thumbnail": self._thumbnail,
            "original": self._original, "layers": layers,
        }


def _link_or_copy(source: Path, target: Path) -> int:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)  # no bytes written; a later save replacing the source keeps this inode
        return 0
    except OSError:
        shutil.copyfile(source, target)
        return target.stat().st_size


# --- reading -------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SessionError(f"{path} cannot be read ({type(error).__name__}).") from None
    return check_manifest(manifest, path, RECOVERY_FORMAT)


def read_recovery(folder: str | os.PathLike) -> SessionData:
    """The Document state a recovery folder holds; raises SessionError with one sentence."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    try:
        original = _read_original(folder, manifest)
        tile = int(manifest["tile"])
        layers = {name: _read_layer(folder, name, entry, original.pixels, tile)
                  for name, entry in manifest["layers"].items()}
    except SessionError:
        raise
    except (OSError, KeyError, TypeError, ValueError, ImageError) as error:
        raise SessionError(f"{folder} is damaged ({type(error).__name__}: {error}).") from None
    return data_from_manifest(manifest, original, layers)


def _read_original(folder: Path, manifest: dict) -> LoadedImage:
    entry = manifest["original"]
    source_path = Path(manifest["source_path"])
    if entry.get("kind") == "file":
        path = folder / entry["file"]
        if entry.get("sha256") and sha256_of_file(path) != entry["sha256"]:
            raise SessionError(f"{path} changed since it was autosaved; the photo cannot be restored exactly.")
        loaded = open_image(path)
        loaded.path = source_path
        return loaded
    return original_from_members(entry, lambda name: (folder / name).read_bytes(), source_path)


def _read_layer(folder: Path, name: str, entry: dict, original: np.ndarray, tile: int) -> np.ndarray:
    shape, dtype = tuple(entry["shape"]), str(entry["dtype"])
    if entry["base"] == "original":
        if shape != original.shape or dtype != original.dtype.name:
            raise SessionError(f"{folder}: layer {name} does not match the original photo.")
        layer = original.copy()
    else:
        layer = np.zeros(shape, dtype=np.dtype(dtype))
    for key_text, file in entry["tiles"].items():
        row, column = (int(part) for part in key_text.split("_"))
        region = layer[tile_slices((row, column), tile)]
        region[...] = decode_png((folder / file).read_bytes(), dtype, region.shape, f"{folder}/{file}")
    return layer


def list_recoveries(folders: list[Path]) -> list[RecoveryInfo]:
    """The folders among ``folders`` that hold a readable manifest, newest first."""
    found = []
    for folder in folders:
        try:
            manifest = read_manifest(folder)
        except SessionError:
            continue
        thumbnail = folder / manifest["thumbnail"] if manifest.get("thumbnail") else None
        found.append(RecoveryInfo(folder, Path(manifest["source_path"]), str(manifest.get("saved_at", "")),
                                  str(manifest.get("summary", "")), thumbnail))
    return sorted(found, key=lambda info: info.saved_at, reverse=True)


def remove_unreferenced(folder: Path, keep: tuple[str, ...] = ()) -> int:
    """Delete files a crash left behind (tiles written, manifest not yet replaced); returns how many."""
    try:
        manifest = read_manifest(folder)
    except SessionError:
        return 0
    referenced = {MANIFEST, *keep, manifest["original"]["file"]}
    referenced.update(value for key, value in manifest["original"].items() if key in ("exif", "icc"))
    if manifest.get("thumbnail"):
        referenced.add(manifest["thumbnail"])
    for entry in manifest["layers"].values():
        referenced.update(entry["tiles"].values())
    removed = 0
    for path in folder.rglob("*"):
        if path.is_file() and path.relative_to(folder).as_posix() not in referenced:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
