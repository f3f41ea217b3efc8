"""Inputs of the quality bench: categories of photos, seeded mask sets, and their deterministic pairing.

Qt-free and torch-free. The bench works on square Images of one size (256 or 512): every photo is
centre-cropped to a square and resized to ``size``×``size`` (:func:`square_image`), and every Mask
is resized to it with nearest-neighbour sampling, so that all Engines and all runs see the same
pixels.

Pairing (:func:`plan_cases`) is deterministic, so two runs with the same inputs and seed score the
same (Image, Mask) cases: each mask set is shuffled once with ``numpy.random.default_rng(seed)``,
the sets are interleaved round-robin into one sequence (set A's first, set B's first, ..., then
every set's second, ...), and Image number ``i`` of a category (sorted by name) takes the
``per_image`` masks starting at position ``i × per_image`` of that sequence, wrapping around. With
four sets and four masks per Image, every Image gets one mask of each set. Categories use the same
sequence, so faces and scenes are scored on the same holes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from inference.io.images import SAVE_FORMATS, open_image
from inference.io.masks import load_mask, resize_mask

SIZES = (256, 512)
DEFAULT_CATEGORIES = ("faces", "scenes")  # the sub-folders a dev_eval-style root contributes
MASKS_FOLDER = "masks"  # where a dev_eval-style root keeps its mask sets
IMAGE_SUFFIXES = frozenset(SAVE_FORMATS)


class BenchInputError(ValueError):
    """The bench's inputs cannot be used (no images, no masks, ambiguous names); one sentence."""


@dataclass(frozen=True)
class Category:
    """Photos scored together, named after their folder (e.g. 'faces')."""

    name: str
    images: tuple[Path, ...]


@dataclass(frozen=True)
class MaskSet:
    """Seeded masks of one kind and size, named after their folder (e.g. 'lama_thin_256')."""

    name: str
    masks: tuple[Path, ...]


@dataclass(frozen=True)
class Case:
    """One Image of one category with one Mask of one set: what every Engine variant is scored on."""

    category: str
    image: Path
    mask_set: str
    mask: Path

    @property
    def image_name(self) -> str:
        return self.image.stem

    @property
    def mask_name(self) -> str:
        return f"{self.mask_set}/{self.mask.stem}"


def image_files(folder: Path) -> list[Path]:
    """The photos directly inside ``folder`` (by suffix), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _require_folder(folder: Path, what: str) -> None:
    if not folder.is_dir():
        raise BenchInputError(f"{folder} is not a folder ({what})")


def find_categories(folders: Sequence[Path]) -> list[Category]:
    """One category per folder holding photos; a folder without photos of its own (a dev_eval root)
    contributes its sub-folders named in :data:`DEFAULT_CATEGORIES`."""
    categories: list[Category] = []
    for folder in folders:
        _require_folder(folder, "--images")
        photos = image_files(folder)
        if photos:
            categories.append(Category(folder.name, tuple(photos)))
            continue
        found = [Category(name, tuple(image_files(folder / name)))
                 for name in DEFAULT_CATEGORIES if (folder / name).is_dir()]
        found = [category for category in found if category.images]
        if not found:
            raise BenchInputError(f"no photos in {folder}, nor in sub-folders {', '.join(DEFAULT_CATEGORIES)}")
        categories += found
    _refuse_duplicates(category.name for category in categories)
    return categories


def _refuse_duplicates(names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BenchInputError(f"two folders are named {name!r}; results are reported by folder name")
        seen.add(name)


def find_mask_sets(folders: Sequence[Path], size: int) -> list[MaskSet]:
    """Mask sets from ``folders``: a folder holding masks is one set; any other folder (a dev_eval
    root or its masks/ folder) contributes its sub-folders whose names end in ``_<size>``."""
    sets: list[MaskSet] = []
    for folder in folders:
        _require_folder(folder, "--masks")
        masks = image_files(folder)
        if masks:
            sets.append(MaskSet(folder.name, tuple(masks)))
            continue
        parent = folder / MASKS_FOLDER if (folder / MASKS_FOLDER).is_dir() else folder
        found = [MaskSet(sub.name, tuple(image_files(sub))) for sub in sorted(parent.iterdir())
                 if sub.is_dir() and sub.name.endswith(f"_{size}")]
        found = [mask_set for mask_set in found if mask_set.masks]
        if not found:
            raise BenchInputError(f"no masks in {folder}, nor mask sets named *_{size} in {parent}")
        sets += found
    _refuse_duplicates(mask_set.name for mask_set in sets)
    return sets


def drop_small_images(categories: Sequence[Category], size: int) -> tuple[list[Category], list[str]]:
    """The categories without photos whose shorter side is below ``size`` (they would be upscaled),
    and one note per category that lost photos. Reads image headers only."""
    kept_categories, notes = [], []
    for category in categories:
        kept = tuple(path for path in category.images if _short_side(path) >= size)
        if len(kept) < len(category.images):
            notes.append(f"{category.name}: {len(category.images) - len(kept)} of {len(category.images)} "
                         f"photos are smaller than {size} px and were left out (--no-upscale)")
        if kept:
            kept_categories.append(Category(category.name, kept))
    return kept_categories, notes


def _short_side(path: Path) -> int:
    try:
        with Image.open(path) as image:
            return min(image.size)
    except OSError:
        return 0  # unreadable: left out here, as it could not be scored either


def mask_sequence(mask_sets: Sequence[MaskSet], seed: int) -> list[tuple[str, Path]]:
    """Every mask once: each set shuffled with the seed, then the sets interleaved round-robin."""
    rng = np.random.default_rng(seed)
    shuffled = [[(s.name, s.masks[i]) for i in rng.permutation(len(s.masks))] for s in mask_sets]
    longest = max((len(masks) for masks in shuffled), default=0)
    return [masks[row] for row in range(longest) for masks in shuffled if row < len(masks)]


def plan_cases(categories: Sequence[Category], mask_sets: Sequence[MaskSet], per_image: int,
               seed: int = 0) -> list[Case]:
    """Image i of each category × the ``per_image`` masks from position i·per_image of
    :func:`mask_sequence` (wrapping). Cases are ordered category, Image, then mask."""
    if per_image < 1:
        raise BenchInputError(f"masks per image must be at least 1, got {per_image}")
    sequence = mask_sequence(mask_sets, seed)
    if not sequence:
        raise BenchInputError("no masks to pair the photos with")
    cases = []
    for category in categories:
        for index, image in enumerate(category.images):
            for offset in range(per_image):
                set_name, mask = sequence[(index * per_image + offset) % len(sequence)]
                cases.append(Case(category.name, image, set_name, mask))
    return cases


def square_image(pixels: np.ndarray, size: int) -> np.ndarray:
    """The centred square of ``pixels`` (side = the shorter side) resized to ``size``×``size``
    with Lanczos; RGB uint8 in and out."""
    height, width = pixels.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = pixels[top:top + side, left:left + side].copy()  # writable, even when open_image's is not
    if side == size:
        return square
    resized = Image.fromarray(square, "RGB").resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(resized).copy()


def load_square_image(path: Path, size: int) -> np.ndarray:
    """The photo at ``path`` as a ``size``×``size`` RGB uint8 Image (see :func:`square_image`)."""
    return square_image(open_image(path).pixels, size)


def load_square_mask(path: Path, size: int) -> np.ndarray:
    """The mask at ``path`` as bool (size, size); other sizes are resized (nearest neighbour)."""
    return resize_mask(load_mask(path), size, size)
