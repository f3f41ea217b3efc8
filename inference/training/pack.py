"""Training packs: a folder of photos decoded once and stored compactly with their HED edge maps.

A pack is a folder that travels with the code to the GPU machine (64 MiB in all), so it stores
JPEG photos and 8-bit PNG edge maps, never raw arrays, and stays under a byte budget (50 MiB by
default) by re-encoding or downscaling every photo the same way until it fits::

    pack.json                  manifest: settings, one entry per photo (category, colour, licence, source)
    images/<name>.jpg          RGB JPEG (single-channel JPEG for photos whose pixels are grey)
    edges/<name>.png           uint8 round(255 * p) of HED's edge probability p, same size as the photo
    feature_trunk.safetensors  HED's VGG16 conv1_1..conv3_3 (LBAM's perceptual/style features), optional

The edge maps are computed once, on the photo at its full resolution, then resized with the photo;
they stay soft (not binarised) so that binarising at p > 0.6 happens after the training crop is
resized, as DeepFill's official pipeline does. Nothing here imports torch except the HED detector.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inference.io.images import open_image
from inference.training.packfile import (
    EDGE_ENCODING,
    EDGE_FLOOR,
    EDGE_LEVEL_STEP,
    MANIFEST_NAME,
    PACK_FORMAT,
    PACK_VERSION,
    PackError,
    PackPhoto,
    encode_edges,
    encode_photo,
    entry_record,
    is_grey,
)

TRUNK_NAME = "feature_trunk.safetensors"
DEFAULT_BUDGET_MIB = 50.0
# (long side cap, JPEG quality) tried in order until the pack fits its budget.
ENCODING_LADDER = (
    (1024, 90), (1024, 85), (896, 85), (768, 85), (768, 80), (704, 80), (640, 80), (576, 80), (512, 80),
)
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}

Log = Callable[[str], None]
EdgeDetector = Callable[[np.ndarray], np.ndarray]  # RGB uint8 (H, W, 3) -> float32 (H, W) in [0, 1]


@dataclass(frozen=True)
class SourcePhoto:
    """One photo of the source folder and what its index says about it."""

    path: Path
    name: str
    category: str = "photo"
    colour: str = ""
    licence: str = "not stated"
    source: str = ""


@dataclass
class PackSummary:
    folder: Path
    photos: int
    total_bytes: int
    max_side: int
    quality: int
    seconds: float
    edges: str
    categories: dict[str, int] = field(default_factory=dict)

    @property
    def mib(self) -> float:
        return self.total_bytes / 2**20


# ------------------------------------------------------------------------------------------- source


def find_source_photos(folder: Path) -> list[SourcePhoto]:
    """The photos of ``folder``: those listed in its ``index.csv`` if present, else every image file
    below it (category = the sub-folder name, or "photo")."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PackError(f"{folder} is not a folder of photos")
    index = folder / "index.csv"
    photos = _indexed_photos(folder, index) if index.is_file() else _globbed_photos(folder)
    if not photos:
        raise PackError(f"{folder} holds no photos ({', '.join(sorted(PHOTO_SUFFIXES))})")
    return _unique_names(photos)


def _indexed_photos(folder: Path, index: Path) -> list[SourcePhoto]:
    with open(index, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    photos = []
    for row in rows:
        path = folder / row["filename"]
        if not path.is_file():
            raise PackError(f"{index} lists {row['filename']}, which does not exist")
        photos.append(SourcePhoto(
            path, _clean_name(path.stem), row.get("category") or "photo", row.get("colour") or "",
            row.get("licence") or "not stated", row.get("source") or "",
        ))
    return photos


def _globbed_photos(folder: Path) -> list[SourcePhoto]:
    photos = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in PHOTO_SUFFIXES and path.is_file():
            category = path.parent.name if path.parent != folder else "photo"
            photos.append(SourcePhoto(path, _clean_name(path.stem), category))
    return photos


def _clean_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "photo"


def _unique_names(photos: list[SourcePhoto]) -> list[SourcePhoto]:
    seen: dict[str, int] = {}
    unique = []
    for photo in photos:
        count = seen.get(photo.name, 0)
        seen[photo.name] = count + 1
        unique.append(photo if count == 0 else _renamed(photo, f"{photo.name}-{count + 1}"))
    return unique


def _renamed(photo: SourcePhoto, name: str) -> SourcePhoto:
    return SourcePhoto(photo.path, name, photo.category, photo.colour, photo.licence, photo.source)


# ------------------------------------------------------------------------------------------- edges


def hed_edge_detector(device: str | None = None) -> EdgeDetector:
    """Our HED at the photo's full resolution (raises HedUnavailable when its weights are missing)."""
    from inference.edges.detect import detect_edges, hed_available

    available, reason = hed_available()
    if not available:
        from inference.edges.detect import HedUnavailable

        raise HedUnavailable(reason)
    return lambda rgb: detect_edges(rgb, device, max_long_side=None)


def to_uint8_edges(probability: np.ndarray) -> np.ndarray:
    """float [0, 1] edge probability -> uint8 round(255 p) (what the edge cache keeps)."""
    return np.clip(np.rint(np.asarray(probability, np.float32) * 255.0), 0, 255).astype(np.uint8)


def quantise_edges(edges: np.ndarray) -> np.ndarray:
    """The stored form: 16 levels (multiples of 17), values under p = 0.2 set to 0.

    Full 8-bit soft maps compress worse than the photos themselves; 16 levels move p by at most
    0.033, so only pixels within that of the 0.6 threshold can flip, and the faint background
    (< 0.2) cannot reach the threshold through resizing on its own. Saves about 75 % of the PNG bytes.
    """
    levels = np.rint(edges.astype(np.float32) / EDGE_LEVEL_STEP) * EDGE_LEVEL_STEP
    levels[edges < EDGE_FLOOR] = 0
    return levels.astype(np.uint8)


class EdgeCache:
    """Full-resolution edge maps by photo content hash, so a second ``prepare`` skips HED."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, photo: SourcePhoto, rgb: np.ndarray, detect: EdgeDetector) -> np.ndarray:
        path = None
        if self.folder is not None:
            digest = hashlib.sha256(photo.path.read_bytes()).hexdigest()[:32]
            path = self.folder / f"{digest}.png"
            cached = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
            if cached is not None and cached.shape == rgb.shape[:2]:
                return cached
        edges = to_uint8_edges(detect(rgb))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), edges)
        return edges


def edges_from_folder(folder: Path) -> Callable[[SourcePhoto, tuple[int, int]], np.ndarray]:
    """Precomputed edge maps: ``folder/<photo name>.png`` (8-bit, 255 = certain edge)."""

    def read(photo: SourcePhoto, shape: tuple[int, int]) -> np.ndarray:
        path = Path(folder) / f"{photo.name}.png"
        edges = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if edges is None:
            raise PackError(f"no readable edge map {path} for {photo.path.name}")
        if edges.shape != shape:
            edges = cv2.resize(edges, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        return edges

    return read


# ------------------------------------------------------------------------------------------- encode


def fitted_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) scaled so the long side is at most ``max_side`` (never up)."""
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


@dataclass
class _Prepared:
    """A photo decoded once, with its full-resolution edge map (uint8) if any."""

    source: SourcePhoto
    rgb: np.ndarray
    edges: np.ndarray | None


def _encode_all(prepared: list[_Prepared], max_side: int, quality: int) -> list[tuple[bytes, bytes | None]]:
    encoded = []
    for item in prepared:
        height, width = fitted_size(*item.rgb.shape[:2], max_side)
        rgb, edges = item.rgb, item.edges
        if (height, width) != rgb.shape[:2]:
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            edges = None if edges is None else cv2.resize(edges, (width, height), interpolation=cv2.INTER_AREA)
        encoded.append((encode_photo(rgb, quality), None if edges is None else encode_edges(quantise_edges(edges))))
    return encoded


# ------------------------------------------------------------------------------------------- build


def photo_edges(photo, rgb: np.ndarray, detector, cache, read_edges):
    """One photo's edge map: from the detector (through the cache), a folder of edge maps, or none."""
    if detector is not None:
        return cache.get(photo, rgb, detector)
    return read_edges(photo, rgb.shape[:2]) if read_edges is not None else None


def pack_manifest(source, max_side: int, quality: int, edge_kind: str, has_trunk: bool, entries,
                  **layout) -> dict:
    """The manifest of a pack; ``layout`` adds the fields of a sharded one before the photo list."""
    return {
        "format": PACK_FORMAT, "version": PACK_VERSION, "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "source_folder": str(source), "max_side": max_side, "jpeg_quality": quality, "edges": edge_kind,
        "edge_encoding": EDGE_ENCODING if edge_kind != "none" else None,
        "feature_trunk": TRUNK_NAME if has_trunk else None,
        **layout,
        "photos": [entry_record(entry) for entry in entries],
    }


def prepare_pack(
    source: Path,
    out: Path,
    *,
    detector: EdgeDetector | None = None,
    edges_folder: Path | None = None,
    edge_cache: Path | None = None,
    budget_mib: float = DEFAULT_BUDGET_MIB,
    ladder: tuple[tuple[int, int], ...] = ENCODING_LADDER,
    trunk: Path | None = None,
    log: Log = print,
) -> PackSummary:
    """Build a pack in ``out`` from the photos of ``source``.

    Edge maps come from ``detector`` (e.g. :func:`hed_edge_detector`), from ``edges_folder``
    (precomputed PNGs named like the photos) or, with neither, are left out (such a pack can train
    LBAM but not guided DeepFill). ``trunk`` (a VGG16 trunk safetensors) is stored in the pack in fp16.
    """
    started = time.perf_counter()
    if detector is not None and edges_folder is not None:
        raise PackError("give an edge detector or a folder of edge maps, not both")
    photos = find_source_photos(source)
    _check_output(Path(out), Path(source))
    read_edges = edges_from_folder(edges_folder) if edges_folder is not None else None
    cache = EdgeCache(edge_cache)
    prepared = []
    for number, photo in enumerate(photos, start=1):
        rgb = open_image(photo.path).pixels
        prepared.append(_Prepared(photo, rgb, photo_edges(photo, rgb, detector, cache, read_edges)))
        if number % 25 == 0 or number == len(photos):
            log(f"decoded {number}/{len(photos)} photos ({time.perf_counter() - started:.0f} s)")
    trunk_bytes = trunk.stat().st_size // 2 if trunk is not None else 0  # stored in fp16
    budget = int(budget_mib * 2**20) - trunk_bytes - 256 * 1024  # room for the manifest
    for max_side, quality in ladder:
        encoded = _encode_all(prepared, max_side, quality)
        size = sum(len(image) + len(edges or b"") for image, edges in encoded)
        log(f"long side <= {max_side}, JPEG quality {quality}: {size / 2**20:.1f} MiB")
        if size <= budget:
            edge_kind = "hed" if detector is not None else ("folder" if edges_folder is not None else "none")
            entries = _write_pack(Path(out), prepared, encoded, trunk, max_side, quality, edge_kind, source)
            return _summary(Path(out), entries, max_side, quality, edge_kind, time.perf_counter() - started)
    raise PackError(f"the photos of {source} do not fit in {budget_mib} MiB even at the last encoding step")


def _check_output(out: Path, source: Path) -> None:
    if out.resolve() == source.resolve():
        raise PackError("the pack folder must differ from the source folder")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise PackError(f"{out} exists, is not empty and is not a pack; choose another folder")


def _write_pack(
    out: Path, prepared: list[_Prepared], encoded: list[tuple[bytes, bytes | None]], trunk: Path | None,
    max_side: int, quality: int, edge_kind: str, source: Path,
) -> list[PackPhoto]:
    # Build next to the target and swap, so a failed run never leaves half a pack under its name.
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "images").mkdir(parents=True)
    (staging / "edges").mkdir()
    entries = []
    for item, (image_bytes, edge_bytes) in zip(prepared, encoded, strict=True):
        photo = item.source
        image_path = f"images/{photo.name}.jpg"
        (staging / image_path).write_bytes(image_bytes)
        edge_path = None
        if edge_bytes is not None:
            edge_path = f"edges/{photo.name}.png"
            (staging / edge_path).write_bytes(edge_bytes)
        height, width = fitted_size(*item.rgb.shape[:2], max_side)
        colour = photo.colour or ("mono" if is_grey(item.rgb) else "colour")
        entries.append(PackPhoto(photo.name, image_path, edge_path, width, height, photo.category, colour,
                                 photo.licence, photo.source))
    if trunk is not None:
        _copy_trunk_fp16(trunk, staging / TRUNK_NAME)
    manifest = pack_manifest(source, max_side, quality, edge_kind, trunk is not None, entries)
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return entries


def _copy_trunk_fp16(source: Path, target: Path) -> None:
    """The frozen feature trunk in half precision (half the bytes; features change by ~1e-3 relative)."""
    from safetensors.numpy import load_file, save_file

    tensors = {key: value.astype(np.float16) for key, value in load_file(str(source)).items()}
    save_file(tensors, str(target), metadata={"converted_from": f"{source.name} (float32 -> float16)"})
    target.chmod(0o644)  # safetensors writes owner-only files; these are not secrets


def _summary(out: Path, entries: list[PackPhoto], max_side: int, quality: int, edges: str,
             seconds: float) -> PackSummary:
    categories: dict[str, int] = {}
    for entry in entries:
        categories[entry.category] = categories.get(entry.category, 0) + 1
    return PackSummary(out, len(entries), folder_bytes(out), max_side, quality, seconds, edges, categories)






def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())
