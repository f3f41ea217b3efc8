"""Undo data for one layer: only the pixels that changed, inside the bounding box of the change.

A :class:`LayerPatch` remembers which pixels of a box changed (one bit each) and their values
before and after, so applying it backwards or forwards restores the layer bit for bit while its
memory follows the change, not the photo. :class:`StrokeRecorder` backs up tiles of a layer the
first time a Stroke touches them, so a Stroke of any length costs memory only where it painted.

No Qt here: the undo commands in :mod:`app.history.commands` wrap these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.engines.regions import Box

TILE = 256  # side of the tiles a Stroke backs up; small enough that a brush dab copies little


def full_box(array: np.ndarray) -> Box:
    return Box(0, 0, array.shape[0], array.shape[1])


def clamp_box(box: Box, shape: tuple[int, ...]) -> Box | None:
    """``box`` cut to an array of ``shape``; None when nothing is left."""
    top, left = max(0, box.top), max(0, box.left)
    bottom, right = min(shape[0], box.bottom), min(shape[1], box.right)
    if bottom <= top or right <= left:
        return None
    return Box(top, left, bottom, right)


def union_boxes(boxes: list[Box]) -> Box | None:
    result = None
    for box in boxes:
        result = box if result is None else result.union(box)
    return result


def _pack_values(values: np.ndarray) -> np.ndarray:
    # A bool layer needs one bit per changed pixel; other layers keep their raw values.
    return np.packbits(values) if values.dtype == np.bool_ else values


def _unpack_values(stored: np.ndarray, dtype: np.dtype, count: int) -> np.ndarray:
    if dtype == np.bool_:
        return np.unpackbits(stored, count=count).astype(bool)
    return stored


@dataclass(frozen=True)
class LayerPatch:
    """The change of one layer inside ``box``: where it changed, and the values before and after."""

    layer: str
    box: Box
    changed_bits: np.ndarray  # np.packbits of the (h, w) map of changed pixels
    count: int  # number of changed pixels
    before: np.ndarray  # values at the changed pixels, row-major (bits for bool layers)
    after: np.ndarray
    dtype: np.dtype

    @classmethod
    def between(cls, layer: str, box: Box, before: np.ndarray, after: np.ndarray) -> LayerPatch | None:
        """The patch turning ``before`` into ``after`` (both the content of ``box``); None if equal."""
        differs = before != after
        if differs.ndim == 3:
            differs = differs.any(axis=2)
        rows = np.flatnonzero(differs.any(axis=1))
        if rows.size == 0:
            return None
        columns = np.flatnonzero(differs.any(axis=0))
        # Shrink to the box of what really changed, so the bit map is as small as it can be.
        inner = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
        changed = differs[inner]
        tight = Box(box.top + int(rows[0]), box.left + int(columns[0]),
                    box.top + int(rows[-1]) + 1, box.left + int(columns[-1]) + 1)
        return cls(
            layer=layer,
            box=tight,
            changed_bits=np.packbits(changed),
            count=int(changed.sum()),
            before=_pack_values(before[inner][changed]),
            after=_pack_values(after[inner][changed]),
            dtype=before.dtype,
        )

    def changed_map(self) -> np.ndarray:
        size = self.box.height * self.box.width
        return np.unpackbits(self.changed_bits, count=size).reshape(self.box.height, self.box.width).astype(bool)

    def apply(self, array: np.ndarray, forward: bool) -> Box:
        """Write the after values (``forward``) or the before values into ``array``; returns the box."""
        stored = self.after if forward else self.before
        region = array[self.box.slices]
        region[self.changed_map()] = _unpack_values(stored, self.dtype, self.count)
        return self.box

    @property
    def nbytes(self) -> int:
        return int(self.changed_bits.nbytes + self.before.nbytes + self.after.nbytes)


class StrokeRecorder:
    """Backs up the tiles of one layer just before a Stroke first paints them.

    Call :meth:`before_change` with the box about to be painted, paint, and at the end of the
    Stroke :meth:`patches` gives the changes of the touched tiles.
    """

    def __init__(self, layer: str, array: np.ndarray) -> None:
        self.layer = layer
        self.array = array
        self._saved: dict[tuple[int, int], np.ndarray] = {}

    def before_change(self, box: Box) -> None:
        box = clamp_box(box, self.array.shape)
        if box is None:
            return
        for tile_row in range(box.top // TILE, (box.bottom - 1) // TILE + 1):
            for tile_column in range(box.left // TILE, (box.right - 1) // TILE + 1):
                key = (tile_row, tile_column)
                if key not in self._saved:
                    self._saved[key] = self.array[self._tile_box(key).slices].copy()

    def _tile_box(self, key: tuple[int, int]) -> Box:
        top, left = key[0] * TILE, key[1] * TILE
        return Box(top, left, min(top + TILE, self.array.shape[0]), min(left + TILE, self.array.shape[1]))

    @property
    def touched(self) -> bool:
        return bool(self._saved)

    def patches(self) -> list[LayerPatch]:
        found = []
        for key, saved in self._saved.items():
            box = self._tile_box(key)
            patch = LayerPatch.between(self.layer, box, saved, self.array[box.slices])
            if patch is not None:
                found.append(patch)
        return found

    def restore(self) -> list[Box]:
        """Put every backed-up tile back (a Stroke abandoned half-way); returns the boxes restored."""
        boxes = []
        for key, saved in self._saved.items():
            box = self._tile_box(key)
            self.array[box.slices] = saved
            boxes.append(box)
        self._saved.clear()
        return boxes


def patch_whole_layer(layer: str, before: np.ndarray, after: np.ndarray) -> list[LayerPatch]:
    """The patches of a layer-wide operation (invert, grow, import…), one per band of rows.

    Working in bands keeps the temporary comparison arrays small on a 24-megapixel photo.
    """
    patches = []
    band = TILE * 4
    for top in range(0, before.shape[0], band):
        bottom = min(top + band, before.shape[0])
        box = Box(top, 0, bottom, before.shape[1])
        patch = LayerPatch.between(layer, box, before[top:bottom], after[top:bottom])
        if patch is not None:
            patches.append(patch)
    return patches
