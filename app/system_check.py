"""Before the editor starts on Linux/X11: are the system libraries Qt's xcb plugin loads present?

Qt aborts with "Could not load the Qt platform plugin xcb" and names only the first library it
misses, so a fresh Debian/Ubuntu machine takes three tries. ``make run`` calls
``python -m app.system_check`` first, which names every missing package in one ``apt-get`` line.
Imports no Qt, so it runs even where Qt cannot.
"""

from __future__ import annotations

import ctypes
import os
import sys

# Debian/Ubuntu package -> the shared library Qt's xcb platform plugin opens from it.
XCB_PACKAGES = {
    "libxcb-cursor0": "libxcb-cursor.so.0",
    "libxcb-icccm4": "libxcb-icccm.so.4",
    "libxcb-keysyms1": "libxcb-keysyms.so.1",
}


def library_loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environment: dict[str, str], platform: str | None = None) -> bool:
    """Whether Qt will pick its xcb plugin: Linux, no other platform asked for."""
    if not (platform or sys.platform).startswith("linux"):
        return False
    chosen = environment.get("QT_QPA_PLATFORM", "")
    return chosen == "" or chosen.startswith("xcb")


def missing_packages() -> list[str]:
    return [package for package, soname in XCB_PACKAGES.items() if not library_loads(soname)]


def install_hint(packages: list[str]) -> str:
    return "sudo apt-get install " + " ".join(packages)


def main() -> int:
    if not uses_xcb(dict(os.environ)):
        return 0
    missing = missing_packages()
    if not missing:
        return 0
    print(f"Qt's X11 (xcb) platform plugin needs system libraries that are missing: {', '.join(missing)}.\n"
          f"Install them with:\n    {install_hint(missing)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
