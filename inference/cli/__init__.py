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


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
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
