"""``python main.py prepare PHOTOS -o PACK``: build a compact training pack (see docs/training.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference.weights.store import PROJECT_ROOT

DEFAULT_EDGE_CACHE = PROJECT_ROOT / "cache" / "training_edges"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare", help="build a training pack (JPEG photos + HED edge maps) from a folder of photos",
        description=(
            "Decode every photo of PHOTOS once (those listed in its index.csv, if any, with their category, "
            "colour and licence), compute HED edges at full resolution, and write a pack of JPEGs and PNG edge "
            "maps no larger than --budget-mib, re-encoding or downscaling all photos alike until it fits. "
            "HED edges are cached by photo content, so a second run is quick."
        ),
    )
    parser.add_argument("photos", type=Path, help="folder of photos (index.csv optional)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="pack folder to write (replaced if a pack)")
    parser.add_argument("--budget-mib", type=float, default=50.0, help="largest pack size in MiB (default 50)")
    shards = parser.add_argument_group(
        "sharded packs (any number of photos: streamed from tar shards, never all in memory)")
    shards.add_argument("--shard-mib", type=float,
                        help="write tar shards of at most this many MiB instead of a budgeted folder pack")
    shards.add_argument("--max-side", type=int, default=1024, help="long side of sharded photos (default 1024)")
    shards.add_argument("--quality", type=int, default=90, help="JPEG quality of sharded photos (default 90)")
    edges = parser.add_mutually_exclusive_group()
    edges.add_argument("--no-edges", action="store_true", help="store no edge maps (enough for LBAM only)")
    edges.add_argument("--edges-from", type=Path, help="folder of precomputed edge PNGs named like the photos")
    parser.add_argument("--edge-cache", type=Path, default=DEFAULT_EDGE_CACHE,
                        help=f"cache of full-resolution HED edge maps (default {DEFAULT_EDGE_CACHE})")
    parser.add_argument("--no-trunk", action="store_true",
                        help="do not copy HED's VGG16 trunk (LBAM's feature network) into the pack")
    parser.add_argument("--device", help="torch device for HED (default: CUDA if present, else CPU)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inference.training.pack import PackError, hed_edge_detector, prepare_pack

    trunk = None if args.no_trunk else _trunk_path()
    detector = None
    if not args.no_edges and args.edges_from is None:
        from inference.edges.detect import HedUnavailable

        try:
            detector = hed_edge_detector(args.device)
        except HedUnavailable as error:
            print(f"error: {error} (or pass --no-edges / --edges-from DIR)", file=sys.stderr)
            return 2
    edge_options = {"detector": detector, "edges_folder": args.edges_from, "trunk": trunk,
                    "edge_cache": args.edge_cache if detector is not None else None}
    try:
        if args.shard_mib is not None:
            from inference.training.shards import prepare_sharded_pack

            summary = prepare_sharded_pack(args.photos, args.out, shard_mib=args.shard_mib, max_side=args.max_side,
                                           quality=args.quality, log=lambda line: print(line, flush=True),
                                           **edge_options)
        else:
            summary = prepare_pack(args.photos, args.out, budget_mib=args.budget_mib,
                                   log=lambda line: print(line, flush=True), **edge_options)
    except (PackError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    mix = ", ".join(f"{name} {count}" for name, count in sorted(summary.categories.items()))
    print(
        f"wrote {summary.folder}: {summary.photos} photos ({mix}), {summary.mib:.1f} MiB, long side <= "
        f"{summary.max_side} px, JPEG quality {summary.quality}, edges: {summary.edges}, "
        f"feature trunk: {'yes' if trunk else 'no'}, {summary.seconds:.0f} s"
    )
    return 0


def _trunk_path() -> Path | None:
    from inference.edges.layout import trunk_weights_path

    path = trunk_weights_path()
    if path.is_file():
        return path
    print(f"note: {path} is missing (run `python main.py fetch-hed`); the pack gets no VGG16 trunk, "
          "so LBAM training will look for it in weights/", file=sys.stderr)
    return None
