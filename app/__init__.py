"""Inpaint Studio Qt user interface.

Importing this package imports no Qt: :func:`launch` loads the editor when it is called, and
``app.document`` stays usable without a display.
"""

from __future__ import annotations


def launch(argv: list[str]) -> int:
    """Start the editor (``argv``: ``[]`` or ``[PATH]``) and return its exit status."""
    from app.window.startup import launch as run_editor

    return run_editor(argv)
