"""``python main.py restore``: propose dust and damage on old photos, then fill them with an Engine."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from inference.cli.fill import IMAGE_SUFFIXES, _build_engine, _progress, _report
from inference.engines.contract import Engine
from inference.engines.registry import EngineUnavailable, engine_specs
from inference.io.images import SAVE_FORMATS, ImageError, open_image, save_like
from inference.io.masks import MaskError, save_mask
from inference.restoration import DEFAULT_SENSITIVITY, propose_damage, propose_dust


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "restore", help="find dust, scratches and torn corners on old photos and fill them",
        description=(
            "Propose dust specks and long scratches / torn corners on PHOTO (or on every photo in a folder), "
            "put them into the Hole and fill it with ENGINE. The proposals favour precision: review the "
            "masks (--save-mask) and use the editor's Scratch brush for what they miss. Inputs are never "
            "overwritten."
        ),
    )
    parser.add_argument("photo", type=Path, help="photo, or folder of photos")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file (folder for a folder)")
    names = [spec.name for spec in engine_specs()]
    parser.add_argument("--engine", default="telea", choices=names, help="engine (default: telea)")
    parser.add_argument("--sensitivity", type=float, default=DEFAULT_SENSITIVITY,
                        help=f"0 (only the surest marks) to 1 (more marks, more false ones); default {DEFAULT_SENSITIVITY}")
    parser.add_argument("--detector", choices=("auto", "learned", "classical"), default="auto",
                        help="auto (default): the trained defect detector when weights/defect_detector.safetensors "
                             "is there, else the classical rules; learned: insist on it; classical: the rules")
    parser.add_argument("--save-mask", action="store_true", help="also write the Hole as OUT_mask.png beside each output")
    from inference.cli import ray_batch  # the --ray options; Ray itself is imported only when they are used

    ray_batch.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.sensitivity <= 1.0:
        print(f"error: --sensitivity must be between 0 and 1, got {args.sensitivity}", file=sys.stderr)
        return 2
    try:
        engine = _build_engine(args.engine, None)
    except (EngineUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.photo.is_dir():
        return _restore_folder(engine, args)
    output = args.output / args.photo.name if args.output.is_dir() else args.output
    try:
        marked, seconds = restore_file(engine, args.photo, output, args.sensitivity, args.save_mask, args.detector)
    except (ImageError, MaskError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({marked:.2%} of the photo repaired, {engine.name}, {seconds:.2f} s)")
    return 0


def restore_file(engine: Engine, photo_path: Path, output: Path, sensitivity: float,
                 save_mask_too: bool, method: str = "auto") -> tuple[float, float]:
    """Propose, fill and write one photo; returns (share of pixels repaired, seconds)."""
    if output.resolve() == photo_path.resolve():
        raise ValueError(f"{output} is the input; choose another output path.")
    if output.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(f"{output} has an unsupported extension (use {', '.join(sorted(SAVE_FORMATS))}).")
    photo = open_image(photo_path)
    started = time.perf_counter()
    hole = restoration_hole(photo.pixels, sensitivity, method)
    result = engine.inpaint(photo.pixels, hole) if hole.any() else photo.pixels
    seconds = time.perf_counter() - started
    save_like(output, result, photo)
    if save_mask_too:
        save_mask(mask_path_for(output), hole)
    return float(hole.mean()), seconds


def restoration_hole(image: np.ndarray, sensitivity: float, method: str = "auto") -> np.ndarray:
    """Dust and damage proposals together: the Hole ``restore`` fills."""
    return propose_dust(image, sensitivity, method=method) | propose_damage(image, sensitivity, method=method)


def mask_path_for(output: Path) -> Path:
    return output.with_name(f"{output.stem}_mask.png")


def restore_listed(engine: Engine, photo_path: Path, args: argparse.Namespace) -> None:
    """Restore one photo of a folder run: the local loop and every Ray task run this."""
    restore_file(engine, photo_path, args.output / photo_path.name, args.sensitivity, args.save_mask, args.detector)


def _restore_folder(engine: Engine, args: argparse.Namespace) -> int:
    if args.output.exists() and not args.output.is_dir():
        print(f"error: {args.output} exists and is not a folder", file=sys.stderr)
        return 2
    photos = sorted(p for p in args.photo.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not photos:
        print(f"error: no images in {args.photo}", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    if getattr(args, "ray", None) is not None:  # the same per-file function, as Ray tasks
        from inference.cli.ray_batch import FolderWork, run_folder_on_ray

        return run_folder_on_ray(args, photos, FolderWork(restore_listed, _build_engine, "photos restored"))
    failures = 0
    for photo_path in _progress(photos):
        try:
            restore_listed(engine, photo_path, args)
        except (ImageError, MaskError, ValueError) as error:
            failures += 1
            _report(f"failed: {photo_path}: {error}")
    print(f"{len(photos) - failures} of {len(photos)} photos restored into {args.output}; {failures} failed")
    return 1 if failures else 0
