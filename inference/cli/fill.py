"""``python main.py fill``: fill one photo, or a whole folder, on the same pipeline as the editor."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from inference.engines.contract import Engine
from inference.engines.registry import EngineUnavailable, create_engine, engine_specs, get_spec
from inference.io.images import SAVE_FORMATS, ImageError, open_image, save_like
from inference.io.masks import MaskError, load_mask

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fill", help="fill the hole of a photo (or of every photo in a folder)",
        description=(
            "Fill the Hole marked by MASK (8-bit PNG, non-zero = hole) in IMAGE. With a folder as IMAGE, "
            "masks are matched by file stem in the MASK folder, or one MASK file serves every image; "
            "-o then names the output folder. Inputs are never overwritten unless --overwrite is given."
        ),
    )
    parser.add_argument("image", type=Path, help="photo, or folder of photos")
    parser.add_argument("--mask", type=Path, required=True, help="mask file, or folder of masks (matched by stem)")
    parser.add_argument("--guide", type=Path, help="sketch/edge guide image (non-zero = line), for guided engines")
    names = [spec.name for spec in engine_specs()]
    parser.add_argument("--engine", default="telea", choices=names, help="engine (default: telea)")
    parser.add_argument("--radius", type=int, help="neighbourhood radius of the OpenCV engines in px (default 5)")
    parser.add_argument("-o", "--output", type=Path, help="output file (folder in batch mode); default IMAGE_inpainted.EXT")
    parser.add_argument("--overwrite", action="store_true", help="allow writing over an input file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        engine = _build_engine(args.engine, args.radius)
    except (EngineUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.image.is_dir():
        return _fill_folder(engine, args)
    return _fill_one_file(engine, args)


def _build_engine(name: str, radius: int | None) -> Engine:
    options = {}
    if radius is not None:
        if "radius" not in get_spec(name).options:
            raise ValueError(f"--radius applies to the OpenCV engines only, not to {name}")
        options["radius"] = radius
    return create_engine(name, **options)


@dataclass
class FillTask:
    image: Path
    mask: Path
    output: Path


def _fill_one_file(engine: Engine, args: argparse.Namespace) -> int:
    output = args.output or args.image.with_name(f"{args.image.stem}_inpainted{args.image.suffix}")
    if args.output is not None and output.is_dir():
        output = output / args.image.name
    task = FillTask(args.image, args.mask, output)
    try:
        seconds = _fill(engine, task, args.guide, args.overwrite)
    except (ImageError, MaskError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({engine.name}, {seconds:.2f} s)")
    return 0


def _fill(engine: Engine, task: FillTask, guide_path: Path | None, overwrite: bool) -> float:
    """Fill one photo and write the result; returns the engine's seconds."""
    if not overwrite and task.output.resolve() in {task.image.resolve(), task.mask.resolve()}:
        raise ValueError(f"{task.output} is an input; refusing to overwrite it without --overwrite.")
    if task.output.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(f"{task.output} has an unsupported extension (use {', '.join(sorted(SAVE_FORMATS))}).")
    photo = open_image(task.image)
    mask = load_mask(task.mask, expected_shape=photo.size)
    guide = None
    if guide_path is not None:
        guide = (load_mask(guide_path, expected_shape=photo.size).astype("uint8") * 255)
    started = time.perf_counter()
    result = engine.inpaint(photo.pixels, mask, guide)
    seconds = time.perf_counter() - started
    save_like(task.output, result, photo)
    return seconds


def _fill_folder(engine: Engine, args: argparse.Namespace) -> int:
    if args.output is None:
        print("error: -o OUT_DIR is required when IMAGE is a folder", file=sys.stderr)
        return 2
    if args.output.exists() and not args.output.is_dir():
        print(f"error: {args.output} exists and is not a folder", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    images = sorted(p for p in args.image.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not images:
        print(f"error: no images in {args.image}", file=sys.stderr)
        return 2
    failures = 0
    for image_path in _progress(images):
        mask_path = _mask_for(image_path, args.mask)
        try:
            if mask_path is None:
                raise MaskError(f"{image_path.name}: no mask named {image_path.stem}.png in {args.mask}.")
            _fill(engine, FillTask(image_path, mask_path, args.output / image_path.name), args.guide, args.overwrite)
        except (ImageError, MaskError, ValueError) as error:
            failures += 1
            _report(f"failed: {image_path}: {error}")
    done = len(images) - failures
    print(f"{done} of {len(images)} images filled into {args.output}; {failures} failed")
    return 1 if failures else 0


def _mask_for(image_path: Path, mask_source: Path) -> Path | None:
    if mask_source.is_file():
        return mask_source
    for candidate in sorted(mask_source.glob(f"{image_path.stem}.*")):
        if candidate.suffix.lower() in IMAGE_SUFFIXES:
            return candidate
    return None


def _progress(items: list[Path]):
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, unit="image", file=sys.stderr)


def _report(line: str) -> None:
    if sys.stderr.isatty():
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)
