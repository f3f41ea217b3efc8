"""The training pack's on-disk format: manifest, photo entries, JPEG/PNG encoding and decoding.

Shared by the builder (:mod:`inference.training.pack`) and the readers (sampling, checkpoints,
export); no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

PACK_FORMAT = "inpaint-studio-training-pack"
PACK_VERSION = 1
MANIFEST_NAME = "pack.json"
EDGE_LEVEL_STEP = 17  # 16 levels: 0, 17, ..., 255
EDGE_FLOOR = 51  # p < 0.2 is stored as 0
EDGE_ENCODING = (
    "uint8 = 17 * round(255 p / 17), 0 where p < 0.2; p = HED fused edge probability at full resolution, "
    "resized with the photo; binarise with p > 0.6 (uint8 > 153) after cropping and resizing"
)
GREY_TOLERANCE = 3  # max channel spread (99th percentile) under which a photo is stored as grey JPEG


class PackError(ValueError):
    """A pack cannot be built or read; the message names the folder or file and the cause."""


@dataclass(frozen=True)
class PackPhoto:
    """One manifest entry: the stored files (relative to the pack) and the photo's facts.

    In a sharded pack (``"layout": "shards"``), ``image`` and ``edges`` name members of the tar file
    ``shard`` (relative to the pack), whose bytes lie at ``image_span`` / ``edges_span`` = [offset, size].
    """

    name: str
    image: str
    edges: str | None
    width: int
    height: int
    category: str
    colour: str
    licence: str
    source: str
    shard: str | None = None
    image_span: list[int] | None = None
    edges_span: list[int] | None = None


SHARD_FIELDS = ("shard", "image_span", "edges_span")


def entry_record(photo: PackPhoto) -> dict:
    """The manifest entry of ``photo`` (a folder pack's entries carry no shard fields)."""
    record = asdict(photo)
    for key in SHARD_FIELDS:
        if record[key] is None:
            del record[key]
    return record


class ShardReader:
    """The bytes of pack photos, read on demand from the shard files of a sharded pack.

    File descriptors open lazily, one per shard, and are not pickled: every data-loading process
    opens its own. Nothing is read until a photo is asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._open: dict[str, int] = {}

    def __getstate__(self) -> dict:
        return {"folder": self.folder, "_open": {}}

    def read(self, shard: str, span: list[int]) -> bytes:
        if shard not in self._open:
            try:
                self._open[shard] = os.open(self.folder / shard, os.O_RDONLY)
            except OSError as error:
                raise PackError(f"cannot open pack shard {self.folder / shard} ({error.strerror})") from None
        offset, size = span
        data = os.pread(self._open[shard], size, offset)
        if len(data) != size:
            raise PackError(f"pack shard {self.folder / shard} is truncated (wanted {size} bytes at {offset})")
        return data

    def photo_bytes(self, entry: PackPhoto) -> tuple[bytes, bytes | None]:
        if entry.shard is None or entry.image_span is None:
            raise PackError(f"{entry.name} has no shard position in the manifest")
        edges = None if entry.edges_span is None else self.read(entry.shard, entry.edges_span)
        return self.read(entry.shard, entry.image_span), edges

    def close(self) -> None:
        for descriptor in self._open.values():
            os.close(descriptor)
        self._open.clear()

    def __del__(self) -> None:
        self.close()


def is_grey(rgb: np.ndarray) -> bool:
    """True when the channels agree up to JPEG noise, so a one-channel JPEG loses nothing."""
    small = rgb[::4, ::4].astype(np.int16)
    spread = small.max(axis=2) - small.min(axis=2)
    return float(np.percentile(spread, 99)) <= GREY_TOLERANCE


def encode_photo(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG bytes; grey photos as single-channel JPEG (decoders give RGB back, see decode_photo)."""
    pixels = rgb[..., 0] if is_grey(rgb) else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise PackError("JPEG encoding failed")
    return data.tobytes()


def encode_edges(edges: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", edges, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise PackError("PNG encoding failed")
    return data.tobytes()


def decode_photo(data: bytes) -> np.ndarray:
    """RGB uint8 (H, W, 3) from pack JPEG bytes."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise PackError("a pack photo is not a readable JPEG")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def decode_edges(data: bytes) -> np.ndarray:
    edges = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if edges is None:
        raise PackError("a pack edge map is not a readable PNG")
    return edges



# ------------------------------------------------------------------------------------------- read


def read_manifest(folder: Path) -> dict:
    """The pack's manifest, checked for format and version."""
    path = Path(folder) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{folder} is not a training pack (no {MANIFEST_NAME}); build one with "
                        "`python main.py prepare PHOTOS -o DIR`") from None
    except ValueError as error:
        raise PackError(f"{path} is not valid JSON ({error})") from None
    if manifest.get("format") != PACK_FORMAT or manifest.get("version") != PACK_VERSION:
        raise PackError(f"{path} is not a version-{PACK_VERSION} training pack")
    return manifest


def pack_photos(manifest: dict) -> list[PackPhoto]:
    return [PackPhoto(**entry) for entry in manifest["photos"]]


def pack_fingerprint(folder: Path) -> str:
    """sha256 of the manifest: names the exact pack a checkpoint was trained on."""
    return hashlib.sha256((Path(folder) / MANIFEST_NAME).read_bytes()).hexdigest()[:16]


# CelebA(-HQ / Mask-HQ) are for non-commercial research; FFHQ is CC BY-NC-SA, even where a file only names the set.
_RESTRICTED = re.compile(r"\bnc\b|non-commercial|noncommercial|research|s-lab|celeba|ffhq", re.IGNORECASE)
_UNSTATED = re.compile(r"not stated|no licen[cs]e", re.IGNORECASE)


def licence_summary(photos: list[PackPhoto]) -> dict:
    """How the pack's photos may be used, for the model card (from each photo's stated licence)."""
    by_licence: dict[str, int] = {}
    for photo in photos:
        by_licence[photo.licence] = by_licence.get(photo.licence, 0) + 1
    return {
        "photos": len(photos),
        "non_commercial_or_research_only": sum(bool(_RESTRICTED.search(p.licence)) for p in photos),
        "rights_not_stated": sum(bool(_UNSTATED.search(p.licence)) for p in photos),
        "by_licence": dict(sorted(by_licence.items(), key=lambda item: -item[1])),
    }
