"""Keeping a photo's own bit depth and mode across an edit.

Engines work on RGB uint8. A photo stored deeper (16-bit, 32-bit integer, float) or as grey keeps
its original samples here: opening makes an 8-bit RGB view of them, and saving writes the
original samples back unchanged wherever the edited 8-bit pixels equal that view, so pixels
outside the Hole stay bit-identical in the source's own depth; only changed pixels are converted
from the 8-bit result into the source depth.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# ITU-R 601 luma, as Pillow's convert("L") uses.
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass
class SourceSamples:
    """The samples of a photo as stored: grey (H, W) or colour (H, W, 3|4), and their 8-bit mapping."""

    samples: np.ndarray  # uint8 grey, uint16, int32 or float32; upright
    low: float  # sample value shown as 0 in the 8-bit view
    high: float  # sample value shown as 255
    view: np.ndarray  # the RGB uint8 view made at opening, to tell which pixels an edit changed

    @property
    def is_grey(self) -> bool:
        return self.samples.ndim == 2

    @property
    def bit_depth(self) -> int:
        return self.samples.dtype.itemsize * 8


def sample_range(samples: np.ndarray) -> tuple[float, float]:
    """The value range the 8-bit view spans: the full range of 8/16-bit types, the data's own otherwise."""
    if samples.dtype == np.uint8:
        return 0.0, 255.0
    if samples.dtype == np.uint16:
        return 0.0, 65535.0
    finite = samples[np.isfinite(samples)] if samples.dtype.kind == "f" else samples
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if samples.dtype.kind == "f" and low >= 0.0 and high <= 1.0:
        return 0.0, 1.0  # the usual convention for float photos
    return low, high if high > low else low + 1.0


def to_view(samples: np.ndarray, low: float, high: float) -> np.ndarray:
    """RGB uint8 (H, W, 3) view of grey or colour samples (alpha dropped)."""
    if samples.ndim == 3:
        samples = samples[..., :3]
    if samples.dtype == np.uint8:
        scaled = samples
    elif samples.dtype == np.uint16:
        # Integer rounding of v·255/65535, without a float copy of a large photo.
        scaled = ((samples.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    else:
        values = np.nan_to_num(samples.astype(np.float64), nan=low, posinf=high, neginf=low)
        scaled = np.clip(np.rint((values - low) * (255.0 / (high - low))), 0, 255).astype(np.uint8)
    return np.repeat(scaled[..., None], 3, axis=2) if scaled.ndim == 2 else scaled


def source_samples(samples: np.ndarray) -> SourceSamples:
    low, high = sample_range(samples)
    return SourceSamples(samples, low, high, to_view(samples, low, high))


def merged_samples(pixels: np.ndarray, source: SourceSamples) -> np.ndarray:
    """The source samples with every pixel that ``pixels`` changed replaced by its converted value."""
    changed = np.any(pixels != source.view, axis=2)
    merged = source.samples.copy()
    if not changed.any():
        return merged
    edited = pixels[changed].astype(np.float64)
    if source.is_grey:
        edited = edited @ _LUMA
    deep = source.low + edited * ((source.high - source.low) / 255.0)
    if source.samples.dtype.kind in "iu":
        info = np.iinfo(source.samples.dtype)
        deep = np.clip(np.rint(deep), info.min, info.max)
    if source.is_grey:
        merged[changed] = deep.astype(source.samples.dtype)
    else:
        merged[..., :3][changed] = deep.astype(source.samples.dtype)
    return merged


def encode_samples(samples: np.ndarray, file_format: str, options: dict) -> bytes | None:
    """The file bytes keeping ``samples`` exactly, or None when ``file_format`` cannot hold them."""
    if samples.ndim == 2:
        return _encode_grey(samples, file_format, options)
    if samples.dtype == np.uint16 and file_format in ("PNG", "TIFF"):
        order = cv2.COLOR_RGBA2BGRA if samples.shape[2] == 4 else cv2.COLOR_RGB2BGR
        ok, encoded = cv2.imencode(".png" if file_format == "PNG" else ".tiff", cv2.cvtColor(samples, order))
        return encoded.tobytes() if ok else None
    if samples.dtype == np.float32 and file_format == "TIFF":
        order = cv2.COLOR_RGBA2BGRA if samples.shape[2] == 4 else cv2.COLOR_RGB2BGR
        ok, encoded = cv2.imencode(".tiff", cv2.cvtColor(samples, order))
        return encoded.tobytes() if ok else None
    return None


def _encode_grey(samples: np.ndarray, file_format: str, options: dict) -> bytes | None:
    # Pillow infers the mode from the dtype: uint8 L, uint16 I;16, int32 I, float32 F.
    keeps = {np.uint8: ("PNG", "TIFF", "BMP", "JPEG", "WEBP"), np.uint16: ("PNG", "TIFF"),
             np.int32: ("TIFF",), np.float32: ("TIFF",)}
    if file_format not in keeps.get(samples.dtype.type, ()):
        return None
    stream = io.BytesIO()
    Image.fromarray(samples).save(stream, format=file_format, **options)
    return stream.getvalue()
