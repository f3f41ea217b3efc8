"""``python main.py weights import FILE [--name NAME]`` and ``python main.py weights list``.

torch is imported only inside ``weights import`` (listing reads cards and checksums only).
"""

from __future__ import annotations

import argparse
import sys

from inference.weights.store import StoredWeights, find_weights, sha256_of, stored_weights, weights_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "weights", help="import model weights, or list the stored ones",
        description="Manage the weight files in weights/ (each a .safetensors file with a JSON model card).",
    )
    commands = parser.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    importer = commands.add_parser(
        "import", help="validate a weight file and store it as weights/NAME.safetensors",
        description=(
            "Read a published PyTorch conversion (.pth, loaded with weights_only: pickled code never runs), "
            "a bare state dict, our own .safetensors, or an .npz of TensorFlow checkpoint tensors; detect the "
            "architecture and layout from the tensor names, check every key and shape, and store it with "
            "a model card."
        ),
    )
    importer.add_argument("file", help="the weight file to import")
    importer.add_argument("--name", help="stored name (default: from the architecture, e.g. deepfill_v2)")
    importer.add_argument(
        "--colour-order", choices=("rgb", "bgr"), default=None,
        help="override the colour order the weights expect (DeepFill v2 states_tf files default to bgr)",
    )
    importer.add_argument("--force", action="store_true", help="replace a stored file of the same name")
    importer.set_defaults(run=run_import)
    listing = commands.add_parser("list", help="list stored weights, their checksums and the engines using them")
    listing.set_defaults(run=run_list)


def run_import(args: argparse.Namespace) -> int:
    from inference.weights.importer import import_weights
    from inference.weights.store import WeightsError

    overrides = {"colour_order": args.colour_order} if args.colour_order else None
    try:
        stored = import_weights(args.file, args.name, overwrite=args.force, overrides=overrides)
    except WeightsError as error:
        print(f"weights import failed: {error}", file=sys.stderr)
        return 1
    card = stored.card
    details = ", ".join(f"{key} {card[key]}" for key in _DETAIL_FIELDS if key in card)
    print(f"stored {stored.path} ({card.get('architecture')}: {details})")
    print(f"parameters {card.get('parameter_count')}, sha256 {card.get('sha256')}")
    if card.get("licence"):
        print(f"licence: {card['licence']}")
    return 0


_DETAIL_FIELDS = ("layout", "mode", "colour_order", "input_channels", "variant", "width", "dtype")

# Engine name -> the stored weights it would use now (the same queries the engines make).
_ENGINE_WEIGHTS = {
    "deepfill_v2": lambda: _deepfill().plain_weights(),
    "deepfill_v2_guided": lambda: _deepfill().guided_weights(),
    "lbam": lambda: find_weights("lbam", prefer="lbam"),
}


def _deepfill():
    from inference.engines.deepfill import selection

    return selection


def engines_using(stored: StoredWeights) -> list[str]:
    """Names of the engines that would load ``stored`` now."""
    users = []
    for engine, resolve in _ENGINE_WEIGHTS.items():
        chosen = resolve()
        if chosen is not None and chosen.path == stored.path:
            users.append(engine)
    if stored.card.get("architecture") == "hed":
        users.append("HED edges for the Guide")
    return users


def weight_rows() -> list[tuple[str, ...]]:
    rows = []
    for stored in stored_weights(include_damaged=True):
        card = stored.card
        digest = sha256_of(stored.path)
        expected = card.get("sha256")
        check = "no checksum in card" if not expected else ("ok" if expected == digest else "CHANGED since import")
        details = ", ".join(f"{key}={card[key]}" for key in _DETAIL_FIELDS if key in card)
        size = f"{stored.path.stat().st_size / 2**20:.1f} MiB"
        users = ", ".join(engines_using(stored)) or "-"
        rows.append((stored.name, str(card.get("architecture", "?")), details, size, f"{digest[:16]} {check}", users))
    return rows


def run_list(_args: argparse.Namespace) -> int:
    from inference.cli.engines import print_table

    rows = weight_rows()
    if not rows:
        print(f"no weights in {weights_dir()} (import some with: python main.py weights import FILE)")
        return 0
    print(f"weights in {weights_dir()}:")
    print_table(("name", "architecture", "details", "size", "sha256", "used by"), rows)
    return 0
