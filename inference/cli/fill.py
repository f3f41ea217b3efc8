"""``python main.py fill``: fill one photo, or a whole folder, on the same pipeline as the editor."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from inference.engines.contract import Engine
from inference.engines.registry import EngineUnavailable, create_engine, engine_specs, get_spec
from inference.io.images import (
    SAVE_FORMATS,
    ImageError,
    is_folder,
    lexists,
    open_image,
    safe_resolve,
    save_like,
)
from inference.io.masks import MaskError, check_fillable, load_mask

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fill", help="fill the hole of a photo (or of every photo in a folder)",
        description=(
            "Fill the Hole marked by MASK (8-bit PNG, non-zero = hole) in IMAGE. With a folder as IMAGE, "
            "masks are matched by file stem in the MASK folder, or one MASK file serves every image; "
            "-o then names the output folder. Inputs, and existing files you did not name with -o, are never "
            "replaced unless --overwrite is given."
        ),
    )
    parser.add_argument("image", type=Path, help="photo, or folder of photos")
    parser.add_argument("--mask", type=Path, required=True, help="mask file, or folder of masks (matched by stem)")
    parser.add_argument("--guide", type=Path, help="sketch/edge guide image (non-zero = line), for guided engines")
    names = [spec.name for spec in engine_specs()]
    parser.add_argument("--engine", default="telea", choices=names, help="engine (default: telea)")
    parser.add_argument("--radius", type=int, help="neighbourhood radius of the OpenCV engines in px (default 5)")
    parser.add_argument("-o", "--output", type=Path, help="output file (folder in batch mode); default IMAGE_inpainted.EXT")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing an input file or an existing output")
    parser.add_argument("--quality", type=_quality, metavar="1-100",
                        help="JPEG/WebP quality of the output (default: the source JPEG's own quality when it can "
                             "be read from the file, else 95)")
    from inference.cli import ray_batch  # the --ray options; Ray itself is imported only when they are used

    ray_batch.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        engine = _build_engine(args.engine, args.radius)
    except (EngineUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if is_folder(args.image):
            return _fill_folder(engine, args)
        return _fill_one_file(engine, args)
    except OSError as error:
        # A path the checks above could not foresee (over-long, unreadable folder, vanished file).
        print(f"error: {error.filename or args.image}: {error.strerror or error}", file=sys.stderr)
        return 1


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
    named: bool = False  # the user named this output file with -o: replacing it is what they asked


def _quality(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"quality must be a whole number from 1 to 100, got {text!r}")
    return value


def _fill_one_file(engine: Engine, args: argparse.Namespace) -> int:
    named = args.output is not None and not is_folder(args.output)
    output = args.output or args.image.with_name(f"{args.image.stem}_inpainted{args.image.suffix}")
    if args.output is not None and is_folder(output):
        output = output / args.image.name
    task = FillTask(args.image, args.mask, output, named)
    try:
        seconds = _fill(engine, task, args.guide, args.overwrite, getattr(args, "quality", None))
    except (ImageError, MaskError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({engine.name}, {seconds:.2f} s)")
    return 0


def _check_output(task: FillTask, guide_path: Path | None, overwrite: bool) -> None:
    """Refuse to replace an input, or an existing file the user did not name, without --overwrite."""
    if task.output.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(f"{task.output} has an unsupported extension (use {', '.join(sorted(SAVE_FORMATS))}).")
    if overwrite:
        return
    inputs = [task.image, task.mask] + ([guide_path] if guide_path is not None else [])
    target = safe_resolve(task.output)
    for source in inputs:
        if target == safe_resolve(source):
            raise ValueError(f"{task.output} is an input; refusing to overwrite it without --overwrite.")
    if not task.named and lexists(task.output):
        raise ValueError(f"{task.output} already exists; refusing to replace it without --overwrite "
                         "(or name it with -o).")


def _fill(engine: Engine, task: FillTask, guide_path: Path | None, overwrite: bool,
          quality: int | None = None) -> float:
    """Fill one photo and write the result (at ``quality``, else the source's); returns the engine's seconds."""
    _check_output(task, guide_path, overwrite)
    photo = open_image(task.image)
    for note in photo.warnings:
        _report(f"warning: {note}")
    mask = load_mask(task.mask, expected_shape=photo.size)
    check_fillable(mask, task.mask)
    guide = None
    if guide_path is not None:
        guide = (load_mask(guide_path, expected_shape=photo.size).astype("uint8") * 255)
    started = time.perf_counter()
    result = engine.inpaint(photo.pixels, mask, guide)
    seconds = time.perf_counter() - started
    save_like(task.output, result, photo, quality)
    return seconds


def _folder_usage_error(args: argparse.Namespace) -> str | None:
    """Why this folder run must not start, or None."""
    if args.output is None:
        return "-o OUT_DIR is required when IMAGE is a folder"
    if lexists(args.output) and not is_folder(args.output):
        return f"{args.output} exists and is not a folder"
    if not lexists(args.output) and args.output.suffix.lower() in IMAGE_SUFFIXES:
        return f"{args.output} looks like a file name; with a folder as IMAGE, -o names an output folder"
    photos = safe_resolve(args.image)
    if is_folder(args.mask) and safe_resolve(args.mask) == photos:
        return f"the mask folder {args.mask} is the photo folder; each photo would be its own mask"
    if is_folder(args.output) and safe_resolve(args.output) in {photos, safe_resolve(args.mask)}:
        return f"{args.output} holds this run's inputs; choose another output folder"
    return None


def _fill_folder(engine: Engine, args: argparse.Namespace) -> int:
    problem = _folder_usage_error(args)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    candidates = sorted(p for p in args.image.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not candidates:
        print(f"error: no images in {args.image}", file=sys.stderr)
        return 2
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"error: cannot create {args.output} ({error.strerror or error})", file=sys.stderr)
        return 1
    if getattr(args, "ray", None) is not None:  # the same per-file function, as Ray tasks
        from inference.cli.ray_batch import FolderWork, run_folder_on_ray

        work = FolderWork(fill_listed, _build_engine, "images filled", failure_line)
        return run_folder_on_ray(args, candidates, work)
    failures = 0
    for image_path in _progress(candidates):
        try:
            fill_listed(engine, image_path, args)
        except (ImageError, MaskError, ValueError) as error:
            failures += 1
            _report(failure_line(image_path, error))
    done = len(candidates) - failures
    print(f"{done} of {len(candidates)} images filled into {args.output}; {failures} failed")
    return 1 if failures else 0


def fill_listed(engine: Engine, image_path: Path, args: argparse.Namespace) -> None:
    """Fill one photo of a folder run: the local loop and every Ray task run this."""
    if not image_path.is_file():
        raise ImageError(_not_a_photo(image_path))
    task = FillTask(image_path, _mask_for(image_path, args.mask), args.output / image_path.name)
    _fill(engine, task, args.guide, args.overwrite, getattr(args, "quality", None))


def failure_line(image_path: Path, error: BaseException) -> str:
    """One line per failed photo, naming it once (most errors already start with the file's name)."""
    message = str(error)
    if str(image_path) in message or image_path.name in message:
        return f"failed: {message}"
    return f"failed: {image_path}: {message}"


def _not_a_photo(path: Path) -> str:
    if path.is_symlink() and not path.exists():
        return "a symbolic link to a missing file (or a link loop)"
    if path.is_dir():
        return "a folder, not an image file"
    return "not a regular file"


def _mask_for(image_path: Path, mask_source: Path) -> Path:
    """The one mask whose stem is exactly the photo's (no glob patterns); refuse none or several."""
    if not is_folder(mask_source):
        return mask_source  # one mask for every photo; open_image names what is wrong with it
    matches = sorted(p for p in mask_source.iterdir()
                     if p.stem == image_path.stem and p.suffix.lower() in IMAGE_SUFFIXES)
    if not matches:
        raise MaskError(f"no mask named {image_path.stem}.png (or another image type) in {mask_source}.")
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches)
        raise MaskError(f"several masks match {image_path.name} ({names}); keep only one.")
    return matches[0]


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
