"""Seeded, reproducible training batches from a pack: category-balanced photos, random-scale crops,
flips, Masks from :mod:`inference.evaluation.maskgen` and Guides from :mod:`inference.training.guides`.

Every random choice of batch ``step`` comes from ``numpy.random.default_rng([seed, stream, step,
index])``, never from a running generator. A batch therefore depends only on (seed, step), whichever
worker builds it and however often training was stopped and resumed: resuming at step s replays
exactly the batches an uninterrupted run would have seen from step s on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inference.evaluation.maskgen import mixed_mask
from inference.training.guides import GuideStyle, synthesize_guide
from inference.training.packfile import (
    PackError,
    PackPhoto,
    ShardReader,
    decode_edges,
    decode_photo,
    pack_photos,
    read_manifest,
)

SAMPLE_STREAM, VALIDATION_STREAM = 0, 1
MASK_STREAM_OFFSET = 100  # the shared Mask of stream k draws from stream k + 100


def sample_rng(seed: int, stream: int, step: int, index: int = 0) -> np.random.Generator:
    """The generator of one random decision group; independent for every (seed, stream, step, index)."""
    return np.random.default_rng([seed, stream, step, index])


@dataclass(frozen=True)
class CropSpec:
    """Square crops of side U(min_scale, max_scale) x the photo's short side, resized to ``size``."""

    size: int = 256
    min_scale: float = 0.3
    max_scale: float = 1.0
    flip: bool = True


SHARD_DECODED_PHOTOS = 512  # decoded photos a sharded pack keeps per process (oldest dropped first)


class PackData:
    """The photos (and edge maps) of a pack: their files read once, each decoded on first use and
    kept in memory. Pickling (to a data-loading process) sends only the compressed bytes, so every
    worker decodes its own copy instead of receiving hundreds of MB through a pipe.

    A sharded pack (``prepare --shard-mib``) is streamed instead: a photo's bytes are read from its
    shard when a batch needs it, and at most :data:`SHARD_DECODED_PHOTOS` decoded photos stay in
    memory, so a set far larger than memory trains with the same seeded batches."""

    def __init__(self, folder: Path, *, need_edges: bool = False) -> None:
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self.entries: list[PackPhoto] = pack_photos(self.manifest)
        if not self.entries:
            raise PackError(f"{folder} holds no photos")
        self.has_edges = all(entry.edges is not None for entry in self.entries)
        if need_edges and not self.has_edges:
            raise PackError(f"{folder} has no edge maps; rebuild it with HED edges (`python main.py prepare`)")
        self.sharded = self.manifest.get("layout") == "shards"
        self._shards = ShardReader(self.folder) if self.sharded else None
        self._keep = SHARD_DECODED_PHOTOS if self.sharded else None
        if not self.sharded:
            self._image_bytes = [(self.folder / e.image).read_bytes() for e in self.entries]
            self._edge_bytes = [None if e.edges is None else (self.folder / e.edges).read_bytes()
                                for e in self.entries]
        self._decoded: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_decoded": {}}

    @property
    def categories(self) -> list[str]:
        return [entry.category for entry in self.entries]

    def photo(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(RGB uint8 image, uint8 soft edge map or None) of photo ``index``, decoded once."""
        if index not in self._decoded:
            if self._shards is not None:
                image_bytes, edge_bytes = self._shards.photo_bytes(self.entries[index])
            else:
                image_bytes, edge_bytes = self._image_bytes[index], self._edge_bytes[index]
            if self._keep is not None and len(self._decoded) >= self._keep:
                del self._decoded[next(iter(self._decoded))]  # dicts keep insertion order: the oldest
            self._decoded[index] = (
                decode_photo(image_bytes), None if edge_bytes is None else decode_edges(edge_bytes)
            )
        return self._decoded[index]


class CategoryMix:
    """Photo probabilities that give every category its weight (default: equal), whatever its size.

    The pack of ../shared/data/train is 68 % old photographs; sampled evenly by category, faces,
    scenes and old photos each make a third of the samples.
    """

    def __init__(self, categories: list[str], weights: dict[str, float] | None = None) -> None:
        names = sorted(set(categories))
        weights = dict(weights or {})
        unknown = set(weights) - set(names)
        if unknown:
            raise ValueError(f"no photos of category {', '.join(sorted(unknown))} (have {', '.join(names)})")
        category_weight = {name: float(weights.get(name, 1.0)) for name in names}
        if any(value < 0 for value in category_weight.values()) or sum(category_weight.values()) <= 0:
            raise ValueError("category weights must be >= 0 and not all zero")
        counts = {name: categories.count(name) for name in names}
        total = sum(category_weight.values())
        self.shares = {name: category_weight[name] / total for name in names}
        self.counts = counts
        self.probabilities = np.array([self.shares[c] / counts[c] for c in categories], np.float64)
        self.probabilities /= self.probabilities.sum()
        self._cumulative = np.cumsum(self.probabilities)

    def pick(self, rng: np.random.Generator) -> int:
        index = int(np.searchsorted(self._cumulative, rng.random() * self._cumulative[-1], side="right"))
        return min(index, len(self.probabilities) - 1)

    def expected_share(self, labels: list[str]) -> dict[str, float]:
        """Expected share of samples per label (e.g. each photo's colour/mono) under this mix."""
        shares: dict[str, float] = {}
        for label, probability in zip(labels, self.probabilities, strict=True):
            shares[label] = shares.get(label, 0.0) + float(probability)
        return shares

    def describe(self, colours: list[str]) -> dict:
        """The mix as the model card reports it."""
        return {
            "photos_per_category": self.counts,
            "sample_share_per_category": {name: round(value, 4) for name, value in self.shares.items()},
            "sample_share_per_colour": {
                name: round(value, 4) for name, value in sorted(self.expected_share(colours).items())
            },
        }


def crop_box(height: int, width: int, spec: CropSpec, rng: np.random.Generator) -> tuple[int, int, int]:
    """(top, left, side) of a random square crop."""
    short = min(height, width)
    side = max(1, min(short, round(short * rng.uniform(spec.min_scale, spec.max_scale))))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    return top, left, side


def random_crop(
    image: np.ndarray, edges: np.ndarray | None, spec: CropSpec, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None]:
    """A random-scale square crop of the photo (and the same crop of its edge map), resized and maybe flipped."""
    top, left, side = crop_box(*image.shape[:2], spec, rng)
    flip = spec.flip and rng.random() < 0.5
    # Shrinking averages (INTER_AREA), enlarging interpolates; the edge map follows the photo exactly.
    interpolation = cv2.INTER_AREA if side > spec.size else cv2.INTER_LINEAR
    size = (spec.size, spec.size)
    crop = cv2.resize(image[top:top + side, left:left + side], size, interpolation=interpolation)
    edge_crop = None
    if edges is not None:
        edge_crop = cv2.resize(edges[top:top + side, left:left + side], size, interpolation=interpolation)
    if flip:
        crop = crop[:, ::-1]
        edge_crop = None if edge_crop is None else edge_crop[:, ::-1]
    return np.ascontiguousarray(crop), None if edge_crop is None else np.ascontiguousarray(edge_crop)


@dataclass(frozen=True)
class BatchSpec:
    batch: int
    crop: CropSpec
    seed: int
    shared_mask: bool  # one Mask for the whole batch (DeepFill's contextual attention needs that)
    guides: GuideStyle | None  # None: no Guide (LBAM)


class BatchMaker:
    """Builds batch ``step`` as numpy arrays: ``images`` uint8 [B,S,S,3], ``masks`` bool [B,S,S]
    (True = Hole), ``guides`` uint8 [B,S,S] 0/255 (zeros without guides), ``photos`` int [B].

    ``indices`` (default: all B) picks the samples of each batch this maker builds: one rank of a
    data-parallel run builds its share, and the ranks' shares together are the whole batch."""

    def __init__(self, data: PackData, spec: BatchSpec, mix: CategoryMix, indices: range | None = None) -> None:
        if spec.guides is not None and not data.has_edges:
            raise PackError(f"{data.folder} has no edge maps, which guided training needs")
        self.data = data
        self.spec = spec
        self.mix = mix
        self.indices = range(spec.batch) if indices is None else indices

    def make(self, step: int, stream: int = SAMPLE_STREAM) -> dict[str, np.ndarray]:
        spec = self.spec
        size = spec.crop.size
        count = len(self.indices)
        images = np.empty((count, size, size, 3), np.uint8)
        masks = np.empty((count, size, size), bool)
        guides = np.zeros((count, size, size), np.uint8)
        photos = np.empty(count, np.int64)
        shared = mixed_mask(size, size, sample_rng(spec.seed, MASK_STREAM_OFFSET + stream, step)) if spec.shared_mask else None
        for slot, index in enumerate(self.indices):
            rng = sample_rng(spec.seed, stream, step, index)
            photo = self.mix.pick(rng)
            image, edges = random_crop(*self.data.photo(photo), spec.crop, rng)
            mask = shared if shared is not None else mixed_mask(size, size, rng)
            images[slot], masks[slot], photos[slot] = image, mask, photo
            if spec.guides is not None and edges is not None:
                guides[slot] = synthesize_guide(edges, mask, rng, spec.guides)
        return {"images": images, "masks": masks, "guides": guides, "photos": photos}

    def validation(self, index: int) -> dict[str, np.ndarray]:
        """A fixed batch for previews and metrics, drawn from a stream training never uses."""
        return self.make(index, stream=VALIDATION_STREAM)
