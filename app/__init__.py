"""Inpaint Studio Qt user interface."""

from __future__ import annotations


def launch(argv: list[str]) -> int:
    """Open the editor (on ``argv[0]`` when given); returns the exit status."""
    print("The editor window is not built yet (see the editor issue); use `python main.py --help` for the command line.")
    return 0
