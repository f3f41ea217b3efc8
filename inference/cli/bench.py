"""``python main.py bench ...``: benchmarks; ``bench quality`` scores Engines on photos with seeded masks.

No torch at import: neural Engines and HED import it only when they are built.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from inference.evaluation.quality_data import SIZES, BenchInputError

QUALITY_DESCRIPTION = """\
Score engines on intact photos with seeded masks: PSNR, SSIM and L1 inside the hole and over the
whole image (definitions in inference/evaluation/metrics.py), per category (the photo folders) and hole-ratio
bucket.

Images: each photo is centre-cropped to a square (side = its shorter side) and resized to
SIZE x SIZE (Lanczos; smaller photos are upscaled unless --no-upscale). --images names a folder of
photos (its name is the category; repeat the option for several) or a dev_eval root, whose faces/
and scenes/ sub-folders become the categories.

Masks: --masks is a folder of masks, a comma-separated list of them, or a dev_eval root (or its
masks/ folder), from which every mask set named *_SIZE is taken (for 256: deepfill_freeform_256,
lama_thin_256, lama_medium_256, lama_thick_256). Masks of another size are resized to SIZE x SIZE
(nearest neighbour).

Pairing is deterministic: each mask set is shuffled with --seed, the sets are interleaved
round-robin, and photo number i of a category (sorted by name) takes the next --masks-per-image
masks from position i x N (so with 4 sets and 4 masks, one mask of each set).

Engines: an engine that takes a guide runs twice, with an empty guide and with the true HED edges
of the intact photo inside the hole. Engines that cannot run here (no weights) are skipped with a
note, as are the HED variants without HED weights.

Writes to OUT: records.csv (one row per photo x mask x engine), summary.csv and summary.md (means
per category, engine and hole-ratio bucket) and worst_<engine>.png (the cases with the lowest hole
PSNR per engine).
"""
QUALITY_EPILOG = """\
exit status: 0 scored (an engine's failure is a result, recorded in the CSV); 1 nothing could be
scored; 2 usage error.
example: python main.py bench quality --images ../shared/data/dev_eval --masks ../shared/data/dev_eval \\
         --size 256 --engines telea,ns -o bench_out/quality_256
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks (quality of the engines' fills)",
                                   description="Benchmarks of the engines.")
    benches = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    _register_quality(benches)


def _register_quality(benches: argparse._SubParsersAction) -> None:
    parser = benches.add_parser(
        "quality", help="PSNR / SSIM / L1 per engine, category and hole ratio on photos with seeded masks",
        description=QUALITY_DESCRIPTION, epilog=QUALITY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--images", type=Path, action="append", required=True, metavar="DIR",
                        help="folder of photos (a category), or a root with faces/ and scenes/; repeatable")
    parser.add_argument("--masks", required=True, metavar="DIR[,DIR...]",
                        help="mask folder(s), comma-separated, or a root holding mask sets named *_SIZE")
    parser.add_argument("--size", type=int, choices=SIZES, default=256,
                        help="side of the square the photos are cropped and resized to (default 256)")
    parser.add_argument("--engines", help="comma-separated engine names (default: every engine of the "
                        "registry; those that cannot run here are skipped with a note)")
    parser.add_argument("--masks-per-image", type=int, default=4, metavar="N", help="masks per photo (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mask shuffle (default 0)")
    parser.add_argument("--worst", type=int, default=6, metavar="N",
                        help="cases per worst-case contact sheet (default 6; 0: no sheets)")
    parser.add_argument("--no-upscale", action="store_true",
                        help="leave out photos whose shorter side is below SIZE instead of upscaling them")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder (created if needed)")
    parser.set_defaults(run=run_quality)


def _engine_names(text: str | None) -> list[str]:
    from inference.engines.registry import engine_specs

    known = [spec.name for spec in engine_specs()]
    if text is None:
        return known
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise BenchInputError(f"unknown engine(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
    return names


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, for summary.md."""
    words = ["python", "main.py", "bench", "quality"]
    for folder in args.images:
        words += ["--images", str(folder)]
    words += ["--masks", args.masks, "--size", str(args.size)]
    if args.engines:
        words += ["--engines", args.engines]
    words += ["--masks-per-image", str(args.masks_per_image), "--seed", str(args.seed)]
    if args.no_upscale:
        words.append("--no-upscale")
    return shlex.join([*words, "-o", str(args.output)])


def _plan(args: argparse.Namespace):
    from inference.evaluation import quality_data as data
    from inference.evaluation.quality import plan_variants

    if args.output.exists() and not args.output.is_dir():
        raise BenchInputError(f"{args.output} exists and is not a folder")
    categories = data.find_categories(args.images)
    notes: list[str] = []
    if args.no_upscale:
        categories, notes = data.drop_small_images(categories, args.size)
        if not categories:
            raise BenchInputError(f"no photo is at least {args.size} px on its shorter side")
    mask_folders = [Path(part.strip()) for part in args.masks.split(",") if part.strip()]
    mask_sets = data.find_mask_sets(mask_folders, args.size)
    cases = data.plan_cases(categories, mask_sets, args.masks_per_image, args.seed)
    variants, variant_notes = plan_variants(_engine_names(args.engines))
    summary = (f"{len(cases)} cases: " + ", ".join(f"{c.name} {len(c.images)} photos" for c in categories)
               + f" x {args.masks_per_image} masks from {', '.join(s.name for s in mask_sets)}")
    return cases, variants, notes + variant_notes, summary


def run_quality(args: argparse.Namespace) -> int:
    from inference.evaluation.quality import run_benchmark, write_outputs

    try:
        cases, variants, notes, summary = _plan(args)
    except BenchInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not variants:
        print("error: no engine can run here, nothing to score", file=sys.stderr)
        return 1
    print(f"{summary}; {len(variants)} engine variants at {args.size}x{args.size}", file=sys.stderr)
    with _progress(len(cases)) as advance:
        run = run_benchmark(cases, variants, args.size, worst=args.worst, after_case=advance)
    run.notes[:0] = notes
    for note in run.notes[len(notes):]:
        print(f"note: {note}", file=sys.stderr)
    written = write_outputs(run, args.output, f"Quality bench, {args.size}x{args.size}", _command_line(args))
    print(f"scored {len(run.records)} fills ({len(cases) - run.skipped_cases} cases x {len(variants)} "
          f"variants); wrote {', '.join(path.name for path in written)} to {args.output}")
    return 0 if run.records else 1


class _progress:
    """A tqdm bar on a terminal, silence otherwise; used as ``with _progress(n) as advance``."""

    def __init__(self, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="case", file=sys.stderr)

    def __enter__(self):
        return self._advance

    def _advance(self) -> None:
        if self.bar is not None:
            self.bar.update()

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.close()
