"""Inpaint Studio entry point.

``python main.py``            opens the editor;
``python main.py PHOTO``      opens the editor on a photo;
``python main.py COMMAND …``  runs a command-line subcommand (``python main.py --help`` lists them).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from inference.cli import main as cli_main
    from inference.cli import subcommand_names

    if argv and (argv[0].startswith("-") or argv[0] in subcommand_names()):
        return cli_main(argv)
    from app import launch

    return launch(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
