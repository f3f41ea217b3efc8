"""What the editor remembers between sessions, in QSettings (an INI file in the user's config).

Tests redirect the INI location to a temporary folder with ``QSettings.setPath``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from inference.io.images import safe_resolve

ORGANIZATION = "InpaintStudio"
APPLICATION = "Inpaint Studio"
MAX_RECENT = 10


def open_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class Preferences:
    """Typed access to the editor's settings."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings or open_settings()

    def _get(self, key: str, default, kind):
        value = self.settings.value(key, default)
        try:
            return kind(value) if value is not None else default
        except (TypeError, ValueError):
            return default

    # --- files -----------------------------------------------------------------------------

    def recent_files(self) -> list[Path]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [Path(item) for item in (value or []) if item]

    def add_recent(self, path: Path) -> None:
        path = safe_resolve(path)  # a link loop keeps its own name instead of raising
        files = [path] + [item for item in self.recent_files() if item != path]
        self.settings.setValue("files/recent", [str(item) for item in files[:MAX_RECENT]])

    def remove_recent(self, path: Path) -> None:
        path = safe_resolve(path)  # a link loop keeps its own name instead of raising
        self.settings.setValue("files/recent", [str(item) for item in self.recent_files() if item != path])

    def clear_recent(self) -> None:
        self.settings.setValue("files/recent", [])

    @property
    def last_folder(self) -> str:
        return self._get("files/last_folder", str(Path.home()), str)

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self.settings.setValue("files/last_folder", str(folder))

    # --- tools and engine --------------------------------------------------------------------

    def brush_sizes(self) -> dict[str, int]:
        sizes = {}
        for key in ("mask", "sketch", "sketch_eraser", "sampling"):
            value = self._get(f"tools/size_{key}", None, int)
            if value is not None:
                sizes[key] = value
        return sizes

    def set_brush_size(self, key: str, value: int) -> None:
        self.settings.setValue(f"tools/size_{key}", int(value))

    def brush_fractions(self) -> dict[str, float]:
        """Brush sizes as shares of the photo's long side (see app.tools.painting.ToolSizes)."""
        fractions = {}
        for key in self.settings.allKeys():
            if key.startswith("tools/fraction_"):
                value = self._get(key, None, float)
                if value is not None:
                    fractions[key.removeprefix("tools/fraction_")] = value
        return fractions

    def set_brush_fraction(self, key: str, value: float | None) -> None:
        if value is not None:
            self.settings.setValue(f"tools/fraction_{key}", float(value))

    @property
    def jpeg_quality(self) -> int | None:
        """The quality last chosen in Save As for a photo whose own quality is unknown."""
        return self._get("files/jpeg_quality", None, int)

    @jpeg_quality.setter
    def jpeg_quality(self, value: int) -> None:
        self.settings.setValue("files/jpeg_quality", int(value))

    @property
    def tool(self) -> str:
        return self._get("tools/current", "brush", str)

    @tool.setter
    def tool(self, name: str) -> None:
        self.settings.setValue("tools/current", name)

    @property
    def engine(self) -> str:
        return self._get("fill/engine", "patch", str)

    @engine.setter
    def engine(self, name: str) -> None:
        self.settings.setValue("fill/engine", name)

    @property
    def clear_mask_after_fill(self) -> bool:
        return self._get("fill/clear_mask", "true", str).lower() in ("true", "1")

    @clear_mask_after_fill.setter
    def clear_mask_after_fill(self, value: bool) -> None:
        self.settings.setValue("fill/clear_mask", "true" if value else "false")

    @property
    def grow_pixels(self) -> int:
        return self._get("mask/grow_pixels", 8, int)

    @grow_pixels.setter
    def grow_pixels(self, value: int) -> None:
        self.settings.setValue("mask/grow_pixels", int(value))

    # --- window ------------------------------------------------------------------------------

    def geometry(self) -> QByteArray | None:
        value = self.settings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.settings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.settings.setValue("window/geometry", geometry)
        self.settings.setValue("window/state", state)

    def sync(self) -> None:
        self.settings.sync()
