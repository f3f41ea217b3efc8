"""Session files (``.inpaint``): a photo's whole editing state in one zip, lossless.

A session holds the photo as it was opened (the source file's own bytes while they still decode to
what was opened, else ``original.png`` with its alpha, EXIF and ICC profile kept aside), every layer of the Document as a lossless PNG (``layers/<name>.png``; the ``image``
layer is the current Result) and ``manifest.json`` naming the source file, its sha256, the app
version and the format version. Layers are written generically: whatever names and arrays the
caller passes, so a new layer needs no code here. The format is described in docs/sessions.md.

No Qt here; the editor's Save Session / Open Session and the crash-recovery folder build on it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from inference.io.images import ImageError, LoadedImage, open_image, write_atomically

SESSION_SUFFIX = ".inpaint"
SESSION_FORMAT = "inpaint-session"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_SESSION_PIXELS = 200_000_000

# PNG modes for the layer kinds a Document may hold: (dtype, channels) -> Pillow mode.
_PNG_MODES = {("bool", 0): "1", ("uint8", 0): "L", ("uint8", 3): "RGB", ("uint8", 4): "RGBA", ("uint16", 0): "I;16"}


class SessionError(ValueError):
    """A session file cannot be read or written; the message is one sentence naming the file."""


@dataclass
class SessionData:
    """What a session file or a recovery folder restores."""

    original: LoadedImage  # the photo as it was opened; ``path`` is where it was opened from
    layers: dict[str, np.ndarray]  # every stored layer, by name ("image" is the current Result)
    source_sha256: str | None = None  # of the source file when it was opened, if it was a file
    save_path: Path | None = None  # where the Result was last saved, if it was
    app_version: str = ""
    saved_at: str = ""
    extra: dict = field(default_factory=dict)  # manifest fields this version does not interpret


def session_path_for(photo: str | os.PathLike) -> Path:
    """The session file that belongs beside ``photo``: ``holiday.jpg`` → ``holiday.inpaint``."""
    return Path(photo).with_suffix(SESSION_SUFFIX)


def sha256_of_file(path: str | os.PathLike) -> str | None:
    """Hex sha256 of a file's bytes, or None when it cannot be read."""
    try:
        with open(path, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- layers as PNG -------------------------------------------------------------------------------


def layer_mode(array: np.ndarray) -> str:
    """The PNG mode that stores ``array`` losslessly; raises SessionError for kinds PNG cannot hold."""
    channels = array.shape[2] if array.ndim == 3 else 0
    mode = _PNG_MODES.get((array.dtype.name, channels))
    if mode is None or array.ndim not in (2, 3):
        raise SessionError(f"a layer of {array.dtype} {array.shape} cannot be stored as a lossless PNG.")
    return mode


def encode_png(array: np.ndarray, compress_level: int = 6) -> bytes:
    """Lossless PNG bytes of a layer (bool → 1-bit, uint8 → grey/RGB/RGBA, uint16 → 16-bit grey)."""
    layer_mode(array)
    image = Image.fromarray(np.ascontiguousarray(array))  # Pillow picks exactly the mode above
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def decode_png(data: bytes, dtype: str, shape: tuple[int, ...], where: str) -> np.ndarray:
    """The array stored by :func:`encode_png`, checked against the ``dtype`` and ``shape`` expected."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise SessionError(f"{where} is not a PNG.")
            if image.width * image.height > MAX_SESSION_PIXELS:
                raise SessionError(f"{where} is too large ({image.width}×{image.height}).")
            array = np.array(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        if isinstance(error, SessionError):
            raise
        raise SessionError(f"{where} is corrupt ({error}).") from None
    if array.dtype.name != dtype or tuple(array.shape) != tuple(shape):
        raise SessionError(f"{where} holds {array.dtype} {array.shape}, expected {dtype} {tuple(shape)}.")
    return array


def layer_entry(array: np.ndarray) -> dict:
    return {"dtype": array.dtype.name, "shape": list(array.shape)}


# --- the original photo --------------------------------------------------------------------------


def decodes_to(path: Path, pixels: np.ndarray) -> bool:
    """True when the file at ``path`` opens to exactly ``pixels`` (so its bytes can stand for them)."""
    try:
        return np.array_equal(open_image(path).pixels, pixels)
    except ImageError:
        return False


def original_members(original: LoadedImage, compress_level: int = 1) -> tuple[dict, dict[str, bytes]]:
    """Manifest entry and zip members (name → bytes) storing the photo as it was opened.

    The source file's own bytes when it still opens to the pixels that were opened (no re-encoding,
    and its EXIF, ICC profile and full bit depth come along); else a PNG of the pixels (RGBA with
    the alpha) with the EXIF and ICC profile beside it.
    """
    source = Path(original.path)
    if source.is_file() and decodes_to(source, original.pixels):
        data = source.read_bytes()
        name = f"original{source.suffix.lower()}"
        return {"kind": "file", "file": name, "sha256": hashlib.sha256(data).hexdigest()}, {name: data}
    pixels = original.pixels
    if original.alpha is not None and original.alpha.shape == pixels.shape[:2]:
        pixels = np.dstack([pixels, original.alpha])
    members = {"original.png": encode_png(pixels, compress_level)}
    entry = {"kind": "png", "file": "original.png", "format": original.format, "bit_depth": original.bit_depth,
             "alpha": original.alpha is not None}
    for key, blob, name in (("exif", original.exif, "original.exif"), ("icc", original.icc_profile, "original.icc")):
        if blob:
            members[name] = bytes(blob)
            entry[key] = name
    return entry, members


def original_from_members(entry: dict, read, source_path: Path) -> LoadedImage:
    """The LoadedImage stored by :func:`original_members`; ``read(name)`` gives a member's bytes."""
    data = read(entry["file"])
    if entry.get("kind") == "file":
        if entry.get("sha256") and hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise SessionError(f"the stored photo {entry['file']} is damaged (its sha256 differs).")
        with tempfile.TemporaryDirectory(prefix="inpaint-session-") as folder:
            path = Path(folder) / Path(entry["file"]).name
            path.write_bytes(data)
            loaded = open_image(path)
        loaded.path = source_path
        return loaded
    with Image.open(io.BytesIO(data)) as image:
        array = np.array(image.convert("RGBA" if entry.get("alpha") else "RGB"))
    alpha = array[..., 3].copy() if entry.get("alpha") else None
    pixels = np.ascontiguousarray(array[..., :3])
    return LoadedImage(
        pixels, source_path, str(entry.get("format", "PNG")), alpha,
        read(entry["exif"]) if entry.get("exif") else None,
        read(entry["icc"]) if entry.get("icc") else None,
        int(entry.get("bit_depth", 8)),
    )


# --- writing and reading the zip -----------------------------------------------------------------


def write_session(path: str | os.PathLike, original: LoadedImage, layers: Mapping[str, np.ndarray], *,
                  app_version: str, source_sha256: str | None = None, save_path: Path | None = None,
                  compress_level: int = 1) -> None:
    """Write a ``.inpaint`` file atomically (complete or not at all); raises SessionError.

    ``compress_level`` is zlib's for the layer PNGs: 1 saves a 24-megapixel photo several times
    faster than 6 for a file a little larger.
    """
    path = Path(path)
    original_entry, members = original_members(original, compress_level)
    manifest = {
        "format": SESSION_FORMAT, "format_version": FORMAT_VERSION, "app_version": app_version,
        "saved_at": now_text(), "source_path": str(original.path), "source_sha256": source_sha256,
        "save_path": str(save_path) if save_path else None,
        "original": original_entry, "layers": {},
    }
    for name, array in layers.items():
        member = f"layers/{name}.png"
        members[member] = encode_png(array, compress_level)
        manifest["layers"][name] = {"file": member, **layer_entry(array)}

    def write(stream) -> None:
        # PNG is compressed already: storing the members keeps saving fast.
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            for name, data in members.items():
                archive.writestr(name, data)

    try:
        write_atomically(path, write)
    except ImageError as error:
        raise SessionError(str(error)) from None


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a session file, checked for format and version; raises SessionError."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return check_manifest(json.loads(archive.read(MANIFEST)), path, SESSION_FORMAT)
    except (OSError, zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SessionError(f"{path} is not a readable session file ({type(error).__name__}: {error}).") from None


def check_manifest(manifest: object, where: Path, expected_format: str) -> dict:
    if not isinstance(manifest, dict) or manifest.get("format") != expected_format:
        raise SessionError(f"{where} is not an Inpaint Studio {expected_format} file.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SessionError(f"{where} has format version {version}; this Inpaint Studio reads up to {FORMAT_VERSION}.")
    if not isinstance(manifest.get("layers"), dict) or not isinstance(manifest.get("original"), dict):
        raise SessionError(f"{where} has an incomplete manifest.")
    return manifest


def read_session(path: str | os.PathLike) -> SessionData:
    """Everything a ``.inpaint`` file stores; raises SessionError with one sentence."""
    path = Path(path)
    manifest = read_manifest(path)
    try:
        with zipfile.ZipFile(path) as archive:
            def read(name: str) -> bytes:
                return archive.read(name)

            source_path = Path(manifest.get("source_path") or path)
            original = original_from_members(manifest["original"], read, source_path)
            layers = {}
            for name, entry in manifest["layers"].items():
                layers[name] = decode_png(read(entry["file"]), entry["dtype"], tuple(entry["shape"]),
                                          f"{path}: layer {name}")
    except SessionError:
        raise
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError, ImageError) as error:
        if isinstance(error, SessionError):
            raise
        raise SessionError(f"{path} is damaged ({type(error).__name__}: {error}).") from None
    return data_from_manifest(manifest, original, layers)


def data_from_manifest(manifest: dict, original: LoadedImage, layers: dict[str, np.ndarray]) -> SessionData:
    known = {"format", "format_version", "app_version", "saved_at", "source_path", "source_sha256",
             "save_path", "original", "layers"}
    return SessionData(
        original=original, layers=layers, source_sha256=manifest.get("source_sha256"),
        save_path=Path(manifest["save_path"]) if manifest.get("save_path") else None,
        app_version=str(manifest.get("app_version", "")), saved_at=str(manifest.get("saved_at", "")),
        extra={key: value for key, value in manifest.items() if key not in known},
    )
