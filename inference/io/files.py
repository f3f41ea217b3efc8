"""Files at the edge of the program: checking what a path is before reading it, and atomic writes.

Every refusal is an :class:`ImageError` with one sentence naming the file and the cause.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import tempfile
import time
from pathlib import Path


class ImageError(ValueError):
    """A photo cannot be opened or saved; the message is one sentence naming the file."""


def check_readable_file(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as error:
        raise ImageError(_unreadable(path, error)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{path} is a folder, not an image file.")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{path} is not a regular file (a pipe, socket or device), so it is not opened.")
    if info.st_size == 0:
        raise ImageError(f"{path} is empty (0 bytes).")


def _unreadable(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return f"{path} is a symbolic link loop."
    if error.errno == errno.ENOENT and path.is_symlink():
        return f"{path} is a symbolic link to a missing file."
    if error.errno == errno.ENOENT:
        return f"{path} does not exist."
    if error.errno == errno.ENAMETOOLONG:
        return f"{path} has a name too long for the file system."
    return f"{path} cannot be read ({short_reason(error)})."


def lexists(path: Path) -> bool:
    """True when something (a file, folder or link, even a broken one) has this name; never raises."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def is_folder(path: Path) -> bool:
    """``path.is_dir()`` that answers False for over-long names and link loops instead of raising."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def safe_resolve(path: Path) -> Path:
    """``path`` made absolute with its links followed, or just absolute when they loop or cannot be read."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def tiff_size(path: Path) -> tuple[int, int]:
    """Width and height from the first directory of a TIFF, read before anything is decoded."""
    with open(path, "rb") as stream:
        head = stream.read(8)
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None or len(head) < 8 or struct.unpack(order + "H", head[2:4])[0] != 42:
            raise ImageError(f"{path} is not an image in a supported format (PNG, JPEG, TIFF, WebP, BMP).")
        stream.seek(struct.unpack(order + "I", head[4:8])[0])
        count_bytes = stream.read(2)
        count = struct.unpack(order + "H", count_bytes)[0] if len(count_bytes) == 2 else 0
        sizes = {}
        for _ in range(min(count, 512)):
            entry = stream.read(12)
            if len(entry) < 12:
                break
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag in (256, 257):
                sizes[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), entry[8:10] if kind == 3 else entry[8:12])[0]
    if len(sizes) != 2:
        raise ImageError(f"{path} is a TIFF without a readable size; it is truncated or corrupt.")
    return sizes[256], sizes[257]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def short_reason(error: BaseException) -> str:
    text = str(error).strip().rstrip(".")
    return text[:120] if text else type(error).__name__


def write_atomically(path: Path, write) -> None:
    """Run ``write(stream)`` into a hidden temporary beside ``path`` and rename it into place.

    Every failure, creating the temporary included, is an :class:`ImageError` naming ``path``;
    the temporary never outlives the call.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not is_folder(folder):
        raise ImageError(f"{path} cannot be written: folder {folder} does not exist.")
    remove_stale_temporaries(folder)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path.name), suffix=".tmp", dir=folder)
    except OSError as error:
        # /proc, /sys, read-only or foreign folders: the cause is the folder, not a hidden temporary's name.
        raise ImageError(f"{path} cannot be written: no new file can be created in {folder} "
                         f"({error.strerror or short_reason(error)}).") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except OSError as error:
        _discard(temporary)
        raise ImageError(f"{path} cannot be written ({error.strerror or short_reason(error)}).") from None
    except BaseException:
        _discard(temporary)
        raise


def _temporary_prefix(name: str) -> str:
    # A long name plus mkstemp's ".XXXXXXXX.tmp" must still fit the 255-byte name limit.
    short = name.encode("utf-8")[:180].decode("utf-8", errors="ignore")
    return f".{short}."


def _discard(temporary: str | None) -> None:
    if temporary is not None:
        try:
            Path(temporary).unlink(missing_ok=True)
        except OSError:
            pass


# ".NAME." + mkstemp's eight characters + ".tmp": what an interrupted write_atomically leaves.
_TEMPORARY_PATTERN = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
STALE_AFTER_SECONDS = 120.0


def remove_stale_temporaries(folder: str | os.PathLike, min_age_seconds: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Delete the hidden ``.NAME.XXXXXXXX.tmp`` files interrupted saves left in ``folder``; return them.

    Only regular files of our own pattern untouched for ``min_age_seconds`` go, so a save running
    right now in another process keeps its temporary. Errors are ignored: this is housekeeping.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMPORARY_PATTERN.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime >= min_age_seconds:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
