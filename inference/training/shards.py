"""Sharded training packs: a photo set of any size as tar files of at most N MiB, built one photo at a time.

A folder pack (:mod:`.pack`) decodes every photo into memory to fit a byte budget; that cannot work
for a Places2-sized set. A sharded pack instead encodes each photo once, at a fixed long side and
JPEG quality, and appends it to the current shard::

    pack.json                  manifest: "layout": "shards", one entry per photo with its shard and byte spans
    shards/shard-000000.tar    <name>.jpg and <name>.edges.png members (plain tar, readable with any tar tool)
    feature_trunk.safetensors  optional, as in a folder pack

Every entry records where its bytes lie inside its shard (``image_span`` / ``edges_span`` =
[offset, size]), so the trainer reads exactly the photos a batch needs with one ``pread`` each
(:class:`~inference.training.packfile.ShardReader`) and never holds the set in memory. The
batches are the same seeded, category-balanced ones as from a folder pack.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
from pathlib import Path

import numpy as np

from inference.io.images import open_image
from inference.training.pack import (
    TRUNK_NAME,
    EdgeCache,
    EdgeDetector,
    Log,
    PackSummary,
    _check_output,
    _copy_trunk_fp16,
    _encode_all,
    _Prepared,
    _summary,
    edges_from_folder,
    find_source_photos,
    fitted_size,
    pack_manifest,
    photo_edges,
)
from inference.training.packfile import (
    MANIFEST_NAME,
    PackError,
    PackPhoto,
    is_grey,
)

SHARD_FOLDER = "shards"
_BLOCK = tarfile.BLOCKSIZE
_END_OF_ARCHIVE = tarfile.RECORDSIZE  # the closing zero blocks, padded to a whole record


class ShardWriter:
    """Appends photos to ``shard-NNNNNN.tar`` files, starting a new one before a shard would exceed ``limit``."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.names: list[str] = []
        self._tar: tarfile.TarFile | None = None

    def add(self, members: list[tuple[str, bytes]]) -> tuple[str, list[list[int]]]:
        """Store ``members`` (name, bytes) together in one shard; returns (shard, [offset, size] each)."""
        needed = sum(3 * _BLOCK + -(-len(data) // _BLOCK) * _BLOCK for _, data in members)
        if needed + _END_OF_ARCHIVE > self.limit:
            raise PackError(f"{members[0][0]} alone needs {needed / 2**20:.1f} MiB, more than one shard holds")
        if self._tar is None or self._tar.offset + needed + _END_OF_ARCHIVE > self.limit:
            self._start_shard()
        spans = []
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            # addfile writes the header (512 bytes, more for long names) and then the data.
            header = len(info.tobuf(self._tar.format, self._tar.encoding, self._tar.errors))
            start = self._tar.offset
            self._tar.addfile(info, io.BytesIO(data))
            spans.append([start + header, len(data)])
        return f"{SHARD_FOLDER}/{self.names[-1]}", spans

    def _start_shard(self) -> None:
        self.close()
        self.names.append(f"shard-{len(self.names):06d}.tar")
        self._tar = tarfile.open(self.folder / self.names[-1], "w", format=tarfile.PAX_FORMAT)

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()
            self._tar = None


def prepare_sharded_pack(
    source: Path,
    out: Path,
    *,
    shard_mib: float,
    max_side: int = 1024,
    quality: int = 90,
    detector: EdgeDetector | None = None,
    edges_folder: Path | None = None,
    edge_cache: Path | None = None,
    trunk: Path | None = None,
    log: Log = print,
) -> PackSummary:
    """Build a sharded pack in ``out``: every photo of ``source`` at long side <= ``max_side``, JPEG
    ``quality``, in tar shards of at most ``shard_mib`` MiB. Edge maps as in :func:`.pack.prepare_pack`."""
    started = time.perf_counter()
    if detector is not None and edges_folder is not None:
        raise PackError("give an edge detector or a folder of edge maps, not both")
    if shard_mib <= 0:
        raise PackError("--shard-mib must be positive")
    if not (1 <= quality <= 100 and max_side >= 16):
        raise PackError("--quality must be 1..100 and --max-side at least 16")
    photos = find_source_photos(source)
    out = Path(out)
    _check_output(out, Path(source))
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / SHARD_FOLDER).mkdir(parents=True)
    writer = ShardWriter(staging / SHARD_FOLDER, int(shard_mib * 2**20))
    read_edges = edges_from_folder(edges_folder) if edges_folder is not None else None
    cache = EdgeCache(edge_cache)
    entries: list[PackPhoto] = []
    try:
        for number, photo in enumerate(photos, start=1):
            rgb = open_image(photo.path).pixels
            edges = photo_edges(photo, rgb, detector, cache, read_edges)
            entries.append(_store(writer, _Prepared(photo, rgb, edges), max_side, quality))
            if number % 100 == 0 or number == len(photos):
                log(f"stored {number}/{len(photos)} photos in {len(writer.names)} shards "
                    f"({time.perf_counter() - started:.0f} s)")
    except BaseException:
        writer.close()
        shutil.rmtree(staging, ignore_errors=True)  # never leave half a pack behind
        raise
    writer.close()
    edge_kind = "hed" if detector is not None else ("folder" if edges_folder is not None else "none")
    if trunk is not None:
        _copy_trunk_fp16(trunk, staging / TRUNK_NAME)
    manifest = pack_manifest(source, max_side, quality, edge_kind, trunk is not None, entries, layout="shards",
                             shard_mib=shard_mib, shards=[f"{SHARD_FOLDER}/{name}" for name in writer.names])
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return _summary(out, entries, max_side, quality, edge_kind, time.perf_counter() - started)


def _store(writer: ShardWriter, item: _Prepared, max_side: int, quality: int) -> PackPhoto:
    (image_bytes, edge_bytes), = _encode_all([item], max_side, quality)
    photo = item.source
    members = [(f"{photo.name}.jpg", image_bytes)]
    if edge_bytes is not None:
        members.append((f"{photo.name}.edges.png", edge_bytes))
    shard, spans = writer.add(members)
    height, width = fitted_size(*item.rgb.shape[:2], max_side)
    colour = photo.colour or ("mono" if is_grey(np.asarray(item.rgb)) else "colour")
    return PackPhoto(
        photo.name, members[0][0], members[1][0] if edge_bytes is not None else None, width, height,
        photo.category, colour, photo.licence, photo.source,
        shard=shard, image_span=spans[0], edges_span=spans[1] if edge_bytes is not None else None,
    )
