"""Opening and saving photos with Pillow, at the edge of the program.

Everything inside works on RGB uint8 arrays. Opening applies the EXIF orientation and turns
grayscale, palette, CMYK, 16-bit and RGBA images into RGB; an alpha channel is kept aside, and the
EXIF and ICC profile are carried along so that saving writes them back. Every refusal is one
sentence naming the file and the cause.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 200_000_000
SAVE_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
    ".webp": "WEBP", ".bmp": "BMP",
}
OPEN_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "WEBP", "BMP"}
DEFAULT_JPEG_QUALITY = 95


class ImageError(ValueError):
    """A photo cannot be opened or saved; the message is one sentence naming the file."""


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

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.pixels.shape[0], self.pixels.shape[1]


def open_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Open a PNG, JPEG, TIFF (8/16 bit), WebP or BMP as upright RGB; raise :class:`ImageError` otherwise."""
    path = Path(path)
    _check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_format_and_size(path, image, max_pixels)
                image.load()
                return _to_loaded(path, image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{path} is too large to open safely (more than {max_pixels:,} pixels).") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not an image in a supported format (PNG, JPEG, TIFF, WebP, BMP).") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path} is truncated or corrupt ({_short(error)}).") from None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImageError(f"{path} does not exist.")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file.")
    if path.stat().st_size == 0:
        raise ImageError(f"{path} is empty (0 bytes).")


def _check_format_and_size(path: Path, image: Image.Image, max_pixels: int) -> None:
    if image.format not in OPEN_FORMATS:
        raise ImageError(f"{path} is a {image.format} file, which is not supported (PNG, JPEG, TIFF, WebP, BMP).")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            f"{path} is too large to open safely ({width}×{height} = {width * height:,} pixels, "
            f"limit {max_pixels:,})."
        )


def _to_loaded(path: Path, image: Image.Image) -> LoadedImage:
    exif = image.info.get("exif")
    icc = image.info.get("icc_profile")
    source_format = image.format or "PNG"
    upright = ImageOps.exif_transpose(image)
    if exif and upright is not image:
        exif = _exif_without_orientation(upright)
    if upright.mode == "CMYK":
        upright, icc = _cmyk_to_srgb(upright, icc), _SRGB_ICC
    elif icc and _profile_space(icc) != "RGB":
        # A grey or CMYK profile would mis-describe the RGB pixels we write back.
        icc = None
    pixels, alpha, bit_depth = _rgb_and_alpha(upright)
    return LoadedImage(pixels, path, source_format, alpha, exif or None, icc or None, bit_depth)


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


def _rgb_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int]:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "I;16N"):
        # Pillow opens 16-bit grey as an integer mode; map 0..65535 onto 0..255.
        wide = np.asarray(image, dtype=np.float64)
        scale = 255.0 / 65535.0
        gray = np.clip(np.rint(wide * scale), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), None, 16
    if mode == "F":
        gray = np.clip(np.rint(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), None, 32
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        array = np.asarray(rgba)
        return array[..., :3].copy(), array[..., 3].copy(), 8
    # np.array, not asarray: callers get a writable array of their own.
    return np.array(image.convert("RGB")), None, 8


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _short(error: BaseException) -> str:
    text = str(error).strip().rstrip(".")
    return text[:120] if text else type(error).__name__


def save_image(
    path: str | os.PathLike,
    pixels: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    quality: int = DEFAULT_JPEG_QUALITY,
) -> None:
    """Write RGB ``pixels`` (with ``alpha`` re-attached where the format keeps it) atomically.

    The format follows the extension; the file appears complete or not at all (temp file + rename).
    """
    path = Path(path)
    file_format = SAVE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        known = ", ".join(sorted(SAVE_FORMATS))
        raise ImageError(f"{path} has an unsupported extension (use one of {known}).")
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImageError(f"{path} cannot be written: pixels must be RGB uint8, got {pixels.dtype} {pixels.shape}.")
    image = _with_alpha(pixels, alpha, file_format)
    options = _save_options(file_format, exif, icc_profile, quality)
    write_atomically(path, lambda stream: image.save(stream, format=file_format, **options))


def save_like(path: str | os.PathLike, pixels: np.ndarray, source: LoadedImage) -> None:
    """Save ``pixels`` carrying the alpha, EXIF and ICC profile of the photo they came from."""
    save_image(path, pixels, alpha=source.alpha, exif=source.exif, icc_profile=source.icc_profile)


def _with_alpha(pixels: np.ndarray, alpha: np.ndarray | None, file_format: str) -> Image.Image:
    if alpha is not None and alpha.shape == pixels.shape[:2] and file_format in ("PNG", "TIFF", "WEBP"):
        return Image.fromarray(np.dstack([pixels, alpha]), "RGBA")
    return Image.fromarray(pixels, "RGB")


def _save_options(file_format: str, exif: bytes | None, icc: bytes | None, quality: int) -> dict:
    options: dict = {}
    if exif and file_format in ("JPEG", "PNG", "TIFF", "WEBP"):
        options["exif"] = exif
    if icc and file_format in ("JPEG", "PNG", "TIFF", "WEBP"):
        options["icc_profile"] = icc
    if file_format == "JPEG":
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif file_format == "WEBP":
        options.update(quality=quality)
    return options


def write_atomically(path: Path, write) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{path} cannot be written: folder {folder} does not exist.")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ImageError(f"{path} cannot be written ({_short(error)}).") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
