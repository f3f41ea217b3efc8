"""Opening and saving photos with Pillow, at the edge of the program.

Everything inside works on RGB uint8 arrays. Opening applies the EXIF orientation and turns
grayscale, palette, CMYK, 16-bit and RGBA images into RGB; an alpha channel is kept aside, and the
EXIF and ICC profile are carried along so that saving writes them back. Grey and deep sources
(16-bit, 32-bit integer, float) also keep their stored samples (inference/io/depth.py), so saving
writes pixels outside the Hole back bit-identical in the source's own depth and mode. A damaged
EXIF block is ignored with a warning line in ``LoadedImage.warnings``. The one pixel limit is ours
(200 M, ``INPAINT_STUDIO_MAX_PIXELS``). Every refusal is one sentence naming the file and the cause.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from inference.io.depth import SourceSamples, encode_samples, merged_samples, source_samples
from inference.io.files import (
    ImageError,
    check_readable_file,
    is_folder,
    lexists,
    remove_stale_temporaries,
    safe_resolve,
    short_reason,
    tiff_size,
    write_atomically,
)
from inference.io.jpeg_quality import jpeg_quality, jpeg_subsampling

__all__ = [
    "ImageError", "LoadedImage", "is_folder", "lexists", "open_image", "remove_stale_temporaries", "safe_resolve", "save_image",
    "save_like", "write_atomically",
]

DEFAULT_MAX_PIXELS = 200_000_000
MAX_PIXELS_ENV = "INPAINT_STUDIO_MAX_PIXELS"
SAVE_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
    ".webp": "WEBP", ".bmp": "BMP",
}
OPEN_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "WEBP", "BMP"}
DEFAULT_JPEG_QUALITY = 95
# What a damaged file can make Pillow raise while decoding, besides OSError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)


@dataclass
class LoadedImage:
    """A photo as the editor works on it, plus what saving needs to write back."""

    pixels: np.ndarray  # RGB uint8 (H, W, 3), upright
    path: Path
    format: str
    alpha: np.ndarray | None = None  # uint8 (H, W) when the file had transparency
    exif: bytes | None = None
    icc_profile: bytes | None = None
    bit_depth: int = 8
    samples: SourceSamples | None = None  # the stored samples when grey or deeper than 8-bit RGB
    warnings: list[str] = field(default_factory=list)  # one line each, e.g. damaged EXIF ignored
    jpeg_quality: int | None = None  # a JPEG's quality, read from its tables (saving keeps it)
    jpeg_subsampling: int | None = None  # Pillow's code: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.pixels.shape[0], self.pixels.shape[1]


def configured_max_pixels() -> int:
    """The one pixel limit: ``INPAINT_STUDIO_MAX_PIXELS`` when set to a positive integer, else 200 million."""
    text = os.environ.get(MAX_PIXELS_ENV, "").replace("_", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_PIXELS


def _limit_text(limit: int) -> str:
    return f"limit {limit:,} pixels, set {MAX_PIXELS_ENV} to change it"


def open_image(path: str | os.PathLike, max_pixels: int | None = None) -> LoadedImage:
    """Open a PNG, JPEG, TIFF (8/16/32 bit, float), WebP or BMP as upright RGB; raise :class:`ImageError` otherwise."""
    path = Path(path)
    limit = max_pixels or configured_max_pixels()
    check_readable_file(path)
    notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught, _pillow_limit_off():
            warnings.simplefilter("always")
            loaded = _open_with_pillow(path, limit, notes)
    except ImageError:
        raise
    except PermissionError:
        raise ImageError(f"{path} cannot be read (permission denied).") from None
    except MemoryError:
        raise ImageError(f"{path} is too large to open in the memory available.") from None
    except _DECODE_ERRORS as error:
        raise ImageError(f"{path} is truncated or corrupt ({short_reason(error)}).") from None
    notes += [f"{path}: damaged metadata ignored ({short_reason(warning.message)})" for warning in caught]
    loaded.warnings = list(dict.fromkeys(notes))
    return loaded


_LIMIT_LOCK = threading.Lock()


@contextmanager
def _pillow_limit_off():
    # Pillow's own bomb limit (about 89.5 Mpx) would refuse photos below ours with a wrong
    # message; ours is the one limit, checked on the header before any pixel is decoded.
    with _LIMIT_LOCK:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _open_with_pillow(path: Path, limit: int, notes: list[str]) -> LoadedImage:
    try:
        image = Image.open(path)
    except UnidentifiedImageError:
        if path.suffix.lower() in (".tif", ".tiff"):
            return _open_tiff_with_opencv(path, limit)
        raise ImageError(f"{path} is not an image in a supported format (PNG, JPEG, TIFF, WebP, BMP).") from None
    with image:
        _check_format_and_size(path, image, limit)
        image.load()
        loaded = _to_loaded(path, image, notes)
        if image.format == "JPEG":
            loaded.jpeg_quality, loaded.jpeg_subsampling = jpeg_quality(image), jpeg_subsampling(image)
        return loaded


def _open_tiff_with_opencv(path: Path, limit: int) -> LoadedImage:
    """TIFFs Pillow cannot decode (float colour, for instance) through OpenCV, keeping their samples."""
    width, height = tiff_size(path)
    if width * height > limit:
        raise ImageError(f"{path} is too large to open safely ({width}×{height} = {width * height:,} pixels, "
                         f"{_limit_text(limit)}).")
    array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if array is None or array.ndim not in (2, 3) or array.dtype not in (np.uint8, np.uint16, np.float32):
        raise ImageError(f"{path} is a TIFF whose sample format cannot be read (supported: 8/16-bit, 32-bit float).")
    if array.ndim == 3:
        order = cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB
        array = cv2.cvtColor(array[..., :4] if array.shape[2] >= 4 else array[..., :3], order)
    return _loaded_from_samples(path, "TIFF", array, None, None)


def _check_format_and_size(path: Path, image: Image.Image, max_pixels: int) -> None:
    if image.format not in OPEN_FORMATS:
        raise ImageError(f"{path} is a {image.format} file, which is not supported (PNG, JPEG, TIFF, WebP, BMP).")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            f"{path} is too large to open safely ({width}×{height} = {width * height:,} pixels, "
            f"{_limit_text(max_pixels)})."
        )


def _to_loaded(path: Path, image: Image.Image, notes: list[str]) -> LoadedImage:
    exif = image.info.get("exif")
    icc = image.info.get("icc_profile")
    source_format = image.format or "PNG"
    try:
        upright = ImageOps.exif_transpose(image)
        if exif and upright is not image:
            exif = _exif_without_orientation(upright)
    except _DECODE_ERRORS:
        notes.append(f"{path}: its EXIF metadata is damaged and was ignored (orientation not applied)")
        upright, exif = image, None
    samples = _stored_samples(path, image, upright)
    if samples is not None:
        return _loaded_from_samples(path, source_format, samples, exif, icc)
    if upright.mode == "CMYK":
        upright, icc = _cmyk_to_srgb(upright, icc), _SRGB_ICC
    elif icc and _profile_space(icc) != "RGB":
        # A grey or CMYK profile would mis-describe the RGB pixels we write back.
        icc = None
    pixels, alpha = _rgb_and_alpha(upright)
    return LoadedImage(pixels, path, source_format, alpha, exif or None, icc or None, 8)


def _loaded_from_samples(path: Path, file_format: str, samples: np.ndarray,
                         exif: bytes | None, icc: bytes | None) -> LoadedImage:
    source = source_samples(samples)
    alpha = None
    if samples.ndim == 3 and samples.shape[2] == 4:
        alpha = source_samples(samples[..., 3]).view[..., 0].copy()
    if icc and _profile_space(icc) != ("GRAY" if source.is_grey else "RGB"):
        icc = None
    return LoadedImage(source.view.copy(), path, file_format, alpha, exif or None, icc or None,
                       source.bit_depth, source)


_GREY_MODES = {"L": np.uint8, "I;16": np.uint16, "I;16B": np.uint16, "I;16L": np.uint16,
               "I;16N": np.uint16, "I": np.int32, "F": np.float32}


def _stored_samples(path: Path, image: Image.Image, upright: Image.Image) -> np.ndarray | None:
    """Grey samples in their own type, or 16-bit colour samples (read by OpenCV); None for plain 8-bit colour."""
    if upright.mode in _GREY_MODES:
        return np.asarray(upright).astype(_GREY_MODES[upright.mode])
    if upright.mode in ("RGB", "RGBA") and _colour_bits(path, image) == 16:
        array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if array is not None and array.dtype == np.uint16 and array.ndim == 3:
            order = cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB
            return _oriented(cv2.cvtColor(array, order), image, upright)
    return None


def _colour_bits(path: Path, image: Image.Image) -> int:
    if image.format == "TIFF":
        bits = image.tag_v2.get(258, (8,))
        return int(bits[0]) if isinstance(bits, tuple) and bits else int(bits or 8)
    if image.format == "PNG":
        with open(path, "rb") as stream:
            header = stream.read(25)
        return header[24] if len(header) == 25 else 8  # IHDR bit depth
    return 8


def _oriented(array: np.ndarray, image: Image.Image, upright: Image.Image) -> np.ndarray:
    # OpenCV's unchanged read ignores EXIF orientation; repeat the turn Pillow made.
    if upright is image:
        return array
    orientation = image.getexif().get(0x0112, 1)
    turns = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
             5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
             7: lambda a: np.rot90(a, 1)[::-1], 8: lambda a: np.rot90(a, 1)}
    turned = turns.get(orientation, lambda a: a)(array)
    return np.ascontiguousarray(turned)


_SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _profile_space(icc: bytes) -> str:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError):
        return ""


def _cmyk_to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert CMYK through its embedded profile when it has one, else with Pillow's naive formula."""
    if icc and _profile_space(icc) == "CMYK":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (OSError, ImageCms.PyCMSError):
            pass
    return image.convert("RGB")


def _exif_without_orientation(image: Image.Image) -> bytes | None:
    # The pixels are already upright; a stale orientation tag would rotate them a second time.
    exif = image.getexif()
    exif.pop(0x0112, None)
    return exif.tobytes() if len(exif) else None


def _rgb_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    mode = image.mode
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        array = np.asarray(rgba)
        return array[..., :3].copy(), array[..., 3].copy()
    # np.array, not asarray: callers get a writable array of their own.
    return np.array(image.convert("RGB")), None


def save_image(
    path: str | os.PathLike,
    pixels: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    quality: int = DEFAULT_JPEG_QUALITY,
    samples: SourceSamples | None = None,
    subsampling: int | None = None,
) -> None:
    """Write RGB ``pixels`` (with ``alpha`` re-attached where the format keeps it) atomically.

    The format follows the extension; the file appears complete or not at all (temp file + rename).
    With the ``samples`` of a grey or deep source, a format that can hold them gets the source's
    own samples back, converted from ``pixels`` only where ``pixels`` changed.
    """
    path = Path(path)
    file_format = SAVE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        known = ", ".join(sorted(SAVE_FORMATS))
        raise ImageError(f"{path} has an unsupported extension (use one of {known}).")
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImageError(f"{path} cannot be written: pixels must be RGB uint8, got {pixels.dtype} {pixels.shape}.")
    options = _save_options(file_format, exif, icc_profile, quality, subsampling)
    if samples is not None and samples.view.shape == pixels.shape:
        encoded = encode_samples(merged_samples(pixels, samples), file_format, options)
        if encoded is not None:
            write_atomically(path, lambda stream: stream.write(encoded))
            return
    image = _with_alpha(pixels, alpha, file_format)
    write_atomically(path, lambda stream: image.save(stream, format=file_format, **options))


def save_like(path: str | os.PathLike, pixels: np.ndarray, source: LoadedImage, quality: int | None = None) -> None:
    """Save ``pixels`` carrying the alpha, EXIF, ICC profile, bit depth and mode of the photo they came from.

    A JPEG source's quality and chroma subsampling are kept too; ``quality`` (1–100) overrides the quality.
    """
    save_image(path, pixels, alpha=source.alpha, exif=source.exif, icc_profile=source.icc_profile,
               samples=source.samples, quality=quality or source_quality(source),
               subsampling=source.jpeg_subsampling)


def source_quality(source: LoadedImage) -> int:
    """The JPEG/WebP quality a save of ``source`` uses unless told otherwise: the source's own when known."""
    return source.jpeg_quality or DEFAULT_JPEG_QUALITY


def _with_alpha(pixels: np.ndarray, alpha: np.ndarray | None, file_format: str) -> Image.Image:
    if alpha is not None and alpha.shape == pixels.shape[:2] and file_format in ("PNG", "TIFF", "WEBP"):
        return Image.fromarray(np.dstack([pixels, alpha]), "RGBA")
    return Image.fromarray(pixels, "RGB")


def _save_options(file_format: str, exif: bytes | None, icc: bytes | None, quality: int,
                  subsampling: int | None = None) -> dict:
    options: dict = {}
    if exif and file_format in ("JPEG", "PNG", "TIFF", "WEBP"):
        options["exif"] = exif
    if icc and file_format in ("JPEG", "PNG", "TIFF", "WEBP"):
        options["icc_profile"] = icc
    if file_format == "JPEG":
        chroma = subsampling if subsampling is not None else (0 if quality >= 90 else 2)
        options.update(quality=quality, subsampling=chroma)
    elif file_format == "WEBP":
        options.update(quality=quality)
    return options
