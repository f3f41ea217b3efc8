"""Command line of Inpaint Studio: ``python main.py SUBCOMMAND ...``.

Each subcommand group lives in its own module exposing ``register(subparsers)``, which adds its
parser and sets ``run=function(args) -> int``. Modules never import torch at import time, so
``fill`` with a classical engine and ``engines`` start instantly.

The top layer: may import everything in inference/, never app/.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = (
    "inference.cli.fill",
    "inference.cli.engines",
    "inference.cli.hed",
    "inference.cli.compare",
    "inference.cli.weights",
    "inference.cli.bench",
    "inference.cli.prepare",
    "inference.cli.train",
    "inference.cli.restore",
)

SUBCOMMANDS_HELP = "Run without a subcommand (or with an image path) to open the editor."
# Names with these endings are files, never options, even when they start with "-".
FILE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".pth", ".pt", ".ckpt",
                           ".bin", ".safetensors", ".npz", ".csv", ".md"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Inpaint Studio: fill holes in photos with DeepFill v2, LBAM or OpenCV.",
        epilog=SUBCOMMANDS_HELP,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def subcommand_names() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def looks_like_file(token: str) -> bool:
    """True for a command-line word that names a file: an existing path, or one with a file ending."""
    return os.path.splitext(token)[1].lower() in FILE_SUFFIXES or os.path.lexists(token)


def protect_dash_names(argv: list[str]) -> list[str]:
    """``-photo.png`` becomes ``./-photo.png`` (the same file), so argparse does not read it as an option."""
    protected = []
    for token in argv:
        if token.startswith("-") and not token.startswith("--") and len(token) > 2 and looks_like_file(token):
            token = f"./{token}"
        protected.append(token)
    return protected


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(protect_dash_names(sys.argv[1:] if argv is None else argv))
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep Python's exit-time flush
        # from raising again on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
