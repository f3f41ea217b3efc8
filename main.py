"""Inpaint Studio entry point.

``python main.py``            opens the editor;
``python main.py PHOTO``      opens the editor on a photo;
``python main.py COMMAND …``  runs a command-line subcommand (``python main.py --help`` lists them).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from inference.cli import looks_like_file, protect_dash_names, subcommand_names
    from inference.cli import main as cli_main

    # A photo opens the editor; anything else that is not a subcommand (``fil x.png``, ``--help``)
    # goes to the command line, which answers with a usage error instead of opening the editor.
    if argv and (argv[0] in subcommand_names() or not looks_like_file(argv[0])):
        return cli_main(argv)
    from app import launch

    return launch(protect_dash_names(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
