"""The Document: one photo being edited, its Mask and Guide layers, and the file behind it.

Layers are numpy arrays of the photo's size: ``image`` RGB uint8 (H, W, 3), ``mask`` bool (H, W)
(True = Hole), ``guide`` uint8 (H, W) (non-zero = line) and ``exclusion`` bool (H, W) (True = left
out of the Sampling area: a patch-based fill copies nothing from there). The editor paints into them in place
and records :class:`~app.patches.LayerPatch` objects for undo. No Qt here, so all of this is
tested without a display.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.patches import LayerPatch, patch_whole_layer
from inference.engines.regions import Box
from inference.io import masks
from inference.io.images import SAVE_FORMATS, LoadedImage, open_image, save_like

LAYERS = ("image", "mask", "guide", "exclusion")
SAVE_SUFFIX = "_inpainted"
GUIDE_LINE = 255  # value the sketch pen writes into the Guide


@dataclass(frozen=True)
class FillInputs:
    """Private copies of what a fill Job needs, taken when the Job starts."""

    image: np.ndarray
    mask: np.ndarray
    guide: np.ndarray | None  # None when nothing is sketched
    sampling: np.ndarray | None = None  # bool, True = may copy from here; None = anywhere


class Document:
    """A photo with its Mask and Guide, and where it was opened from or last saved to."""

    def __init__(self, source: LoadedImage) -> None:
        self.source = source
        self.image = np.ascontiguousarray(source.pixels.copy())
        height, width = self.image.shape[:2]
        self.mask = np.zeros((height, width), dtype=bool)
        self.guide = np.zeros((height, width), dtype=np.uint8)
        self.exclusion = np.zeros((height, width), dtype=bool)
        self.path: Path = Path(source.path)
        # Where Ctrl+S may write without asking: only a file this Document was saved to.
        self.save_path: Path | None = None
        self.save_quality: int | None = None  # JPEG/WebP quality chosen in Save As; None: the source's own

    @classmethod
    def open(cls, path: str | os.PathLike) -> Document:
        """Open a photo; raises :class:`inference.io.images.ImageError` with one sentence."""
        return cls(open_image(path))

    @classmethod
    def from_pixels(cls, pixels: np.ndarray, path: str | os.PathLike = "untitled.png") -> Document:
        return cls(LoadedImage(np.ascontiguousarray(pixels), Path(path), "PNG"))

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def original(self) -> np.ndarray:
        """The photo as it was opened, before any fill."""
        return self.source.pixels

    @property
    def display_name(self) -> str:
        return self.path.name

    def layer(self, name: str) -> np.ndarray:
        if name not in LAYERS:
            raise KeyError(f"unknown layer {name!r}; layers are {', '.join(LAYERS)}")
        return getattr(self, name)

    def apply_patch(self, patch: LayerPatch, forward: bool):
        return patch.apply(self.layer(patch.layer), forward)

    # --- files -------------------------------------------------------------------------------

    def suggested_save_path(self) -> Path:
        """Where the first save proposes to write: never the original, ``<name>_inpainted.<ext>``."""
        if self.save_path is not None:
            return self.save_path
        suffix = self.path.suffix if self.path.suffix.lower() in SAVE_FORMATS else ".png"
        stem = self.path.stem
        candidate = self.path.with_name(f"{stem}{SAVE_SUFFIX}{suffix}")
        number = 2
        while candidate.exists():
            candidate = self.path.with_name(f"{stem}{SAVE_SUFFIX}_{number}{suffix}")
            number += 1
        return candidate

    def save(self, path: str | os.PathLike, quality: int | None = None) -> None:
        """Write the image (with the source's alpha, EXIF, ICC profile and JPEG quality); raises ImageError.

        ``quality`` (1–100, JPEG/WebP) overrides the source's and is kept for the next Save.
        """
        path = Path(path)
        quality = quality or self.save_quality
        save_like(path, self.image, self.source, quality)
        self.path = path
        self.save_path = path
        self.save_quality = quality

    def export_mask(self, path: str | os.PathLike) -> None:
        masks.save_mask(path, self.mask)

    def read_mask(self, path: str | os.PathLike) -> np.ndarray:
        """A mask file of exactly this photo's size; raises :class:`inference.io.masks.MaskError`."""
        return masks.load_mask(path, expected_shape=self.shape)

    # --- whole-layer operations, returned as patches so the caller can make them undoable ------

    def layer_change(self, name: str, new_values: np.ndarray) -> list[LayerPatch]:
        """Patches that would set layer ``name`` to ``new_values`` (not applied yet)."""
        current = self.layer(name)
        if new_values.shape != current.shape or new_values.dtype != current.dtype:
            raise ValueError(
                f"{name} must be {current.dtype} {current.shape}, got {new_values.dtype} {new_values.shape}"
            )
        return patch_whole_layer(name, current, new_values)

    def sampling_area(self) -> np.ndarray | None:
        """Where a fill may copy from (True), or None when nothing is excluded."""
        return ~self.exclusion if self.exclusion.any() else None

    def fill_inputs(self) -> FillInputs:
        guide = self.guide.copy() if self.guide.any() else None
        return FillInputs(self.image.copy(), self.mask.copy(), guide, self.sampling_area())

    def inputs_before(self, patches: list[LayerPatch], job_mask: np.ndarray) -> FillInputs:
        """The fill inputs as they were before ``patches`` (a fill) were applied, for "Fill again"."""
        image = self.image.copy()
        for patch in patches:
            if patch.layer == "image":
                patch.apply(image, forward=False)
        guide = self.guide.copy() if self.guide.any() else None
        return FillInputs(image, job_mask.copy(), guide, self.sampling_area())

    def result_patches(self, result: np.ndarray, job_mask: np.ndarray, clear_mask: bool) -> list[LayerPatch]:
        """Patches that write ``result`` into the Hole of ``job_mask`` (and clear that Hole).

        Only the Hole pixels are taken from the result, so anything painted while the Job ran
        outside its Hole stays as it is.
        """
        rows = np.flatnonzero(job_mask.any(axis=1))
        columns = np.flatnonzero(job_mask.any(axis=0))
        if rows.size == 0:
            return []
        box = Box(int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1)
        hole = job_mask[box.slices]
        patches = []
        before = self.image[box.slices]
        after = before.copy()
        after[hole] = result[box.slices][hole]
        image_patch = LayerPatch.between("image", box, before, after)
        if image_patch is not None:
            patches.append(image_patch)
        if clear_mask:
            mask_before = self.mask[box.slices]
            mask_patch = LayerPatch.between("mask", box, mask_before, mask_before & ~hole)
            if mask_patch is not None:
                patches.append(mask_patch)
        return patches


def mask_operation(mask: np.ndarray, operation: str, pixels: int = 0) -> np.ndarray:
    """The new Mask for an editor mask action: clear, invert, grow, shrink, select_all, fill_holes."""
    if operation == "clear":
        return np.zeros_like(mask)
    if operation == "select_all":
        return np.ones_like(mask)
    if operation == "invert":
        return masks.invert(mask)
    if operation == "grow":
        return masks.grow(mask, pixels)
    if operation == "shrink":
        return masks.shrink(mask, pixels)
    if operation == "fill_holes":
        return masks.fill_holes(mask)
    raise ValueError(f"unknown mask operation {operation!r}")
