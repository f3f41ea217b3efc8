"""``python main.py engines``: the registry as a table."""

from __future__ import annotations

import argparse

from inference.engines.registry import engine_specs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "engines", help="list the engines, whether they can run here, and why not",
        description="List every engine of the registry: available or not, and how to make it available.",
    )
    parser.set_defaults(run=run)


def engine_rows() -> list[tuple[str, str, str, str, str]]:
    rows = []
    for spec in engine_specs():
        state = spec.check()
        status = "available" if state.available else "unavailable"
        guide = "yes" if spec.accepts_guide else "no"
        detail = "" if state.available else f"{state.reason}; {state.fix}"
        rows.append((spec.name, spec.label, guide, status, detail))
    return rows


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def helper_model_rows() -> list[tuple[str, str, str, str]]:
    """Models that are not engines but that features depend on (edge detection for the Guide)."""
    from inference.edges import hed_available

    ready, detail = hed_available()
    status = "available" if ready else "unavailable"
    used_for = "Show edges, Suggest edges, training Guides"
    return [("hed", "HED edge detector", status, used_for if ready else detail)]


def run(_args: argparse.Namespace) -> int:
    print_table(("engine", "label", "guide", "status", "why / how to fix"), engine_rows())
    print()
    print_table(("model", "label", "status", "used for / how to fix"), helper_model_rows())
    return 0
