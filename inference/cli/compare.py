"""``python main.py compare``: run several Engines on the same Image(s) and Mask(s), side by side.

No torch at import: neural Engines import it only when they are built.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.engines.registry import available_engine_names, engine_specs
from inference.evaluation.compare import (
    RECORD_COLUMNS,
    SUMMARY_COLUMNS,
    EngineCache,
    Record,
    Result,
    damaged_input,
    record_cells,
    record_of,
    run_engines,
    summarize,
    summary_cells,
    summary_markdown,
    write_csv,
)
from inference.evaluation.contact_sheet import save_contact_sheet
from inference.evaluation.metrics import format_score
from inference.io.images import (
    SAVE_FORMATS,
    ImageError,
    LoadedImage,
    is_folder,
    lexists,
    open_image,
    safe_resolve,
    save_like,
)
from inference.io.masks import MaskError, check_fillable, hole_ratio, load_mask, resize_mask

IMAGE_SUFFIXES = frozenset(SAVE_FORMATS)
DESCRIPTION = """\
Run several engines on the same image and mask, one after another, and write each engine's result
(OUT/<stem>_<engine>.png), a side-by-side contact sheet (OUT/<stem>_sheet.png) and OUT/metrics.csv
(one row per image and engine: hole ratio, seconds, scores, error). A mask of another size than
its image is resized to it (nearest neighbour, then > 0).

With --ground-truth the image is intact and the mask is simulated damage: the hole is blanked before
any engine sees it, and PSNR / SSIM / L1 over the whole image and inside the hole (definitions in
inference/evaluation/metrics.py) go into the sheet and the CSV.

Folder mode (IMAGE is a folder, --masks a folder or one mask file) does this for every image and
also writes OUT/summary.csv and OUT/summary.md: means per engine and hole-ratio bucket (0-10 %,
10-20 %, ... 50-60 %, >60 %, and all). Pairing: an image takes the mask with the same file stem when
there is one; otherwise image number i (images sorted by name) takes mask number i mod n (masks
sorted by name). A file that cannot be read is reported on one line (file and reason) and skipped.
"""
EPILOG = """\
exit status: 0 all images compared (an engine's failure is a result, recorded in the CSV);
1 some input was skipped or nothing could be compared; 2 usage error.
example: python main.py compare photo.png --mask hole.png --ground-truth -o out/
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="run several engines side by side; contact sheet, metrics CSV, summary",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("image", type=Path, help="photo, or folder of photos")
    parser.add_argument("--mask", "--masks", dest="mask", type=Path, required=True, metavar="MASK",
                        help="mask file (non-zero = hole), or with a folder of photos a folder of masks")
    parser.add_argument("--guide", type=Path, help="sketch/edge guide (non-zero = line), single image only")
    parser.add_argument("--engines", help="comma-separated engine names (default: every available engine); "
                        f"known: {', '.join(spec.name for spec in engine_specs())}")
    parser.add_argument("--ground-truth", action="store_true",
                        help="IMAGE is intact and MASK simulated damage: score every result against IMAGE")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder (created if needed)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace result files left in the output folder by an earlier run")
    parser.set_defaults(run=run)


class UsageError(ValueError):
    """Bad arguments: reported with exit status 2."""


@dataclass(frozen=True)
class Pair:
    image: Path
    mask: Path
    name: str  # stem used for the output files, unique within the run


def run(args: argparse.Namespace) -> int:
    try:
        engines = _engine_names(args.engines)
        if is_folder(args.image):
            if args.guide is not None:
                raise UsageError("--guide applies to a single image, not to a folder")
            pairs = _folder_pairs(args)
            _prepare_output(args, pairs, engines)
            return _compare_folder(args, pairs, engines)
        if is_folder(args.mask):
            raise UsageError(f"{args.mask} is a folder; with a single image --mask names one mask file")
        pair = Pair(args.image, args.mask, args.image.stem)
        _prepare_output(args, [pair], engines)
        return _compare_single(args, pair, engines)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ImageError, OSError) as error:
        # A result that cannot be written (full disk, read-only folder, over-long name).
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename:
        return f"cannot write {error.filename} ({error.strerror or error})"
    return str(error)


def _engine_names(text: str | None) -> list[str]:
    if text is None:
        return available_engine_names()
    known = [spec.name for spec in engine_specs()]
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise UsageError(f"unknown engine(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))


def planned_outputs(folder: Path, pairs: Sequence[Pair], engines: Sequence[str], folder_mode: bool) -> list[Path]:
    """Every file a run writes into ``folder``."""
    names = ["metrics.csv"] + (["summary.csv", "summary.md"] if folder_mode else [])
    for pair in pairs:
        names += [f"{pair.name}_{engine}.png" for engine in engines] + [f"{pair.name}_sheet.png"]
    return [folder / name for name in names]


def _prepare_output(args: argparse.Namespace, pairs: Sequence[Pair], engines: Sequence[str]) -> None:
    """Refuse to write over an input of this run ever, or over earlier results without --overwrite."""
    folder = args.output
    if lexists(folder) and not is_folder(folder):
        raise UsageError(f"{folder} exists and is not a folder")
    outputs = planned_outputs(folder, pairs, engines, folder_mode=is_folder(args.image))
    inputs = {safe_resolve(path) for pair in pairs for path in (pair.image, pair.mask)}
    if args.guide is not None:
        inputs.add(safe_resolve(args.guide))
    clobbered = [path for path in outputs if safe_resolve(path) in inputs]
    if clobbered:
        raise UsageError(f"{clobbered[0]} is an input of this run; choose another output folder")
    existing = [path for path in outputs if lexists(path)]
    if existing and not args.overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]} already exists{more}; pass --overwrite or choose another output folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the output folder {folder} ({error.strerror or error})") from None


# --- one image --------------------------------------------------------------------------------------


def _compare_single(args: argparse.Namespace, pair: Pair, engines: list[str]) -> int:
    try:
        photo, mask = _load_pair(pair, announce_resize=True)
        guide = _load_guide(args.guide, photo.size)
    except (ImageError, MaskError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    records = _compare_pair(pair, photo, mask, guide, engines, args, EngineCache(), progress=True)
    write_csv(args.output / "metrics.csv", RECORD_COLUMNS, (record_cells(r) for r in records))
    _print_records(records)
    print(f"wrote {len(records)} results, {pair.name}_sheet.png and metrics.csv to {args.output}")
    return 0


def _load_guide(path: Path | None, size: tuple[int, int]) -> np.ndarray | None:
    if path is None:
        return None
    return load_mask(path, expected_shape=size).astype(np.uint8) * 255


def _print_records(records: Sequence[Record]) -> None:
    for record in records:
        if record.error:
            print(f"{record.engine:<20} failed: {record.error}")
            continue
        line = f"{record.engine:<20} {record.seconds:8.2f} s"
        if record.scores is not None:
            scores = record.scores
            line += (f"  PSNR {format_score(scores.psnr, 2)} / {format_score(scores.psnr_hole, 2)} dB"
                     f"  SSIM {format_score(scores.ssim, 4)} / {format_score(scores.ssim_hole, 4)}"
                     "  (whole / hole)")
        print(line)


# --- shared by both modes -----------------------------------------------------------------------------


def _load_pair(pair: Pair, announce_resize: bool = False) -> tuple[LoadedImage, np.ndarray]:
    photo = open_image(pair.image)
    mask = load_mask(pair.mask)
    if mask.shape != photo.size:
        if announce_resize:
            print(f"note: mask {mask.shape[1]}x{mask.shape[0]} resized to the image's "
                  f"{photo.size[1]}x{photo.size[0]}", file=sys.stderr)
        mask = resize_mask(mask, *photo.size)
    check_fillable(mask, pair.mask)
    for note in photo.warnings:
        _report(f"warning: {note}")
    return photo, mask


def _compare_pair(pair: Pair, photo: LoadedImage, mask: np.ndarray, guide: np.ndarray | None,
                  engines: list[str], args: argparse.Namespace, cache: EngineCache,
                  progress: bool = False) -> list[Record]:
    ground_truth = photo.pixels if args.ground_truth else None
    ratio = hole_ratio(mask)
    results: list[Result] = []
    steps = run_engines(photo.pixels, mask, engines, guide, ground_truth=ground_truth, cache=cache)
    for result in _progress(steps, len(engines), "engine") if progress else steps:
        results.append(result)
        if result.image is not None:
            save_like(args.output / f"{pair.name}_{result.engine}.png", result.image, photo)
    save_contact_sheet(args.output / f"{pair.name}_sheet.png", photo.pixels, damaged_input(photo.pixels, mask),
                       mask, results,
                       original_title="Ground truth" if args.ground_truth else "Original")
    return [record_of(pair.name, result, ratio) for result in results]


def _progress(items: Iterable, total: int, unit: str) -> Iterable:
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, unit=unit, file=sys.stderr)


def _report(line: str) -> None:
    if sys.stderr.isatty():
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


# --- folder -------------------------------------------------------------------------------------------


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _unusable_entries(folder: Path) -> list[Path]:
    """Entries named like images that are not readable files: dangling links, folders, pipes."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_file())


def _ambiguous_masks(images: Sequence[Path], masks: Sequence[Path]) -> list[str]:
    stems = {image.stem for image in images}
    seen: dict[str, list[str]] = {}
    for mask in masks:
        if mask.stem in stems:
            seen.setdefault(mask.stem, []).append(mask.name)
    return [", ".join(sorted(names)) for names in seen.values() if len(names) > 1]


def pair_images_with_masks(images: Sequence[Path], masks: Sequence[Path]) -> list[Pair]:
    """Same stem first; otherwise image i (sorted) takes mask i mod n (sorted). Output names stay unique."""
    images, masks = sorted(images), sorted(masks)
    by_stem = {mask.stem: mask for mask in masks}
    used: set[str] = set()
    pairs = []
    for index, image in enumerate(images):
        mask = by_stem.get(image.stem, masks[index % len(masks)])
        name = image.stem if image.stem not in used else f"{image.stem}_{image.suffix.lstrip('.').lower()}"
        used.add(name)
        pairs.append(Pair(image, mask, name))
    return pairs


def _folder_pairs(args: argparse.Namespace) -> list[Pair]:
    images = _image_files(args.image)
    if not images:
        raise UsageError(f"no images in {args.image}")
    if not args.mask.exists():
        raise UsageError(f"{args.mask} does not exist")
    if args.mask.is_dir() and safe_resolve(args.mask) == safe_resolve(args.image):
        raise UsageError(f"the mask folder {args.mask} is the photo folder; each photo would be its own mask")
    masks = _image_files(args.mask) if args.mask.is_dir() else [args.mask]
    if not masks:
        raise UsageError(f"no masks in {args.mask}")
    ambiguous = _ambiguous_masks(images, masks)
    if ambiguous:
        raise UsageError(f"several masks share a photo's stem in {args.mask} ({ambiguous[0]}); keep only one")
    return pair_images_with_masks(images, masks)


def _compare_folder(args: argparse.Namespace, pairs: list[Pair], engines: list[str]) -> int:
    cache = EngineCache()
    records: list[Record] = []
    unusable = _unusable_entries(args.image)
    for entry in unusable:
        _report(f"skipped {entry}: not a readable file (a dangling link, a folder or a pipe)")
    skipped = len(unusable)
    for pair in _progress(pairs, len(pairs), "image"):
        try:
            photo, mask = _load_pair(pair)
        except (ImageError, MaskError) as error:
            skipped += 1
            _report(f"skipped {pair.image}: {error}")
            continue
        records += _compare_pair(pair, photo, mask, None, engines, args, cache)
    write_csv(args.output / "metrics.csv", RECORD_COLUMNS, (record_cells(r) for r in records))
    summary = summarize(records)
    write_csv(args.output / "summary.csv", SUMMARY_COLUMNS, (summary_cells(row) for row in summary))
    title = f"Comparison of {args.image} with masks {args.mask}"
    (args.output / "summary.md").write_text(summary_markdown(summary, title), encoding="utf-8")
    compared = len(pairs) + len(unusable) - skipped
    note = "" if args.ground_truth else " (no --ground-truth: times only, no scores)"
    print(f"compared {compared} of {len(pairs) + len(unusable)} images with {len(engines)} engines; "
          f"wrote metrics.csv, summary.csv, summary.md to {args.output}{note}")
    for engine, reason in cache.failures.items():
        print(f"engine {engine} failed to start: {reason}", file=sys.stderr)
    return 1 if skipped or not compared else 0
