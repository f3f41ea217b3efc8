"""The engine contract, stated once.

Every engine fills a Hole through ``inpaint(image, mask, guide=None) -> image``:

* image: RGB ``uint8`` array of shape (H, W, 3);
* mask:  ``bool`` array of shape (H, W), True marks the Hole (pixels to synthesise);
* guide: ``uint8`` array of shape (H, W) (sketch / edge map, non-zero = line) or None.

The result is an RGB ``uint8`` array of the same shape in which every pixel outside the Hole
is bit-identical to the input. An empty mask returns a copy of the input without running anything.

Engines subclass :class:`Engine` and implement ``_fill``; the base class checks the inputs at the
boundary, short-circuits the empty mask and enforces the unmasked-pixels guarantee, so no engine
can break the contract by accident. Engines that work crop by crop through the shared region helper
override ``_fill_into`` instead and paste only Hole pixels into the result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CancelCheck = Callable[[], bool]
Progress = Callable[[int, int], None]


class InputError(ValueError):
    """An argument of ``inpaint`` has the wrong type, dtype or shape."""


class Cancelled(Exception):
    """Raised by an engine that noticed its Job was cancelled between stages."""


def check_inputs(image: object, mask: object, guide: object = None) -> None:
    """Raise :class:`InputError` with one clear sentence if the inputs break the contract."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InputError(
            f"image must be RGB uint8 of shape (H, W, 3), got {image.dtype} {image.shape}"
        )
    if not isinstance(mask, np.ndarray):
        raise InputError(f"mask must be a numpy array, got {type(mask).__name__}")
    if mask.dtype != np.bool_ or mask.shape != image.shape[:2]:
        raise InputError(
            f"mask must be bool of shape {image.shape[:2]}, got {mask.dtype} {mask.shape}"
        )
    if guide is None:
        return
    if not isinstance(guide, np.ndarray):
        raise InputError(f"guide must be a numpy array or None, got {type(guide).__name__}")
    if guide.dtype != np.uint8 or guide.shape != image.shape[:2]:
        raise InputError(
            f"guide must be uint8 of shape {image.shape[:2]}, got {guide.dtype} {guide.shape}"
        )


def hole_bounds(mask: np.ndarray) -> tuple[slice, slice]:
    """Row and column slices of the smallest rectangle holding every True pixel (empty when none)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


class Engine:
    """Base of every engine. Subclasses set ``name`` and implement :meth:`_fill` (or :meth:`_fill_into`)."""

    name = "engine"
    accepts_guide = False

    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None = None,
        *,
        should_cancel: CancelCheck | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Fill the Hole of ``image`` marked by ``mask``; see the module docstring."""
        check_inputs(image, mask, guide)
        if not mask.any():
            return image.copy()
        if not self.accepts_guide:
            guide = None
        result = image.copy()
        self._fill_into(image, result, mask, guide, should_cancel or _never, progress or _silent)
        return result

    def _fill_into(
        self,
        image: np.ndarray,
        result: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None,
        should_cancel: CancelCheck,
        progress: Progress,
    ) -> None:
        """Write the fill into ``result`` (a copy of ``image``), inside the Hole only.

        The default runs :meth:`_fill` and copies just its Hole pixels, so no engine can change a
        pixel outside the Hole by accident. Engines built on :func:`inference.engines.regions.fill_by_regions`
        override this to paste each crop straight into ``result``: one copy of a 24-megapixel photo
        instead of two.
        """
        filled = self._fill(image, mask, guide, should_cancel, progress)
        if filled.shape != image.shape or filled.dtype != np.uint8:
            raise RuntimeError(
                f"engine {self.name} returned {filled.dtype} {filled.shape}, expected uint8 {image.shape}"
            )
        # Only the Hole's bounding box can differ, so the guarantee costs a crop, not the photo.
        rows, cols = hole_bounds(mask)
        np.copyto(result[rows, cols], filled[rows, cols], where=mask[rows, cols, None])

    def _fill(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        guide: np.ndarray | None,
        should_cancel: CancelCheck,
        progress: Progress,
    ) -> np.ndarray:
        raise NotImplementedError


def _never() -> bool:
    return False


def _silent(done: int, total: int) -> None:
    return None
