"""``python main.py train deepfill|lbam|export``: train our own weights and export them (docs/training.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train DeepFill v2 guided or LBAM on a training pack, or export a checkpoint",
        description="Train on a pack built by `python main.py prepare`; see docs/training.md.",
    )
    models = parser.add_subparsers(dest="train_command", metavar="deepfill|lbam|export|travel|defects|defects-calibrate")
    for model, label in (("deepfill", "DeepFill v2 guided (6-channel input)"), ("lbam", "LBAM")):
        _add_model_parser(models, model, label)
    export = models.add_parser("export", help="write a checkpoint's generator as fp16 weights + model card")
    export.add_argument("checkpoint", type=Path, help="checkpoint folder, or a run folder (its latest checkpoint)")
    export.add_argument("-o", "--output", type=Path,
                        help="weights file (default: weights/deepfill_v2_guided.safetensors or weights/lbam.safetensors)")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.set_defaults(run=run_export)
    travel = models.add_parser(
        "travel", help="list a checkpoint's files in small batches, for copying it between machines",
        description="Print the checkpoint's files in batches of at most 8 files and 60 MiB each, for copying "
                    "a checkpoint to or from a remote training machine whose transfers are limited in size "
                    "(see docs/training.md).",
    )
    travel.add_argument("checkpoint", type=Path, help="checkpoint folder, or a run folder (its latest checkpoint)")
    travel.set_defaults(run=run_travel)
    _add_defect_parsers(models)
    parser.set_defaults(run=lambda _args: (parser.print_help(), 2)[1])


def _add_defect_parsers(models: argparse._SubParsersAction) -> None:
    from inference.training.defect_options import add_calibration_options, add_training_options

    defects = models.add_parser(
        "defects", help="train the defect detector (scratches, cracks, dust, stains, torn corners) on synthetic damage",
        description="Train the restoration defect detector on synthetic damage rendered onto the clean train "
                    "photos (CPU or GPU); then run `train defects-calibrate` on the result (docs/restoration.md).")
    add_training_options(defects)
    defects.set_defaults(run=_run_module("inference.training.defect_trainer", "train"))
    calibrate = models.add_parser(
        "defects-calibrate", help="choose the defect detector's thresholds on its held-out train photos",
        description="Score the detector on the train photos its training held out and write the chosen "
                    "thresholds into its model card.")
    add_calibration_options(calibrate)
    calibrate.set_defaults(run=_run_module("inference.training.defect_calibration", "run"))


def _run_module(module: str, function: str):
    def run(args: argparse.Namespace) -> int:
        import importlib

        getattr(importlib.import_module(module), function)(args)
        return 0
    return run


def _add_model_parser(models: argparse._SubParsersAction, model: str, label: str) -> None:
    parser = models.add_parser(model, help=f"train {label}",
                               description=f"Train {label}. Stops at --minutes / --steps with a final checkpoint. Under "
                    "`torchrun --nproc_per_node=N` every process trains one rank of a data-parallel run "
                    "(--batch is the global batch; see docs/training.md).")
    parser.add_argument("--pack", type=Path, required=True, help="training pack folder")
    parser.add_argument("--out", type=Path, required=True, help="run folder (log, previews, checkpoints)")
    parser.add_argument("--minutes", type=float, help="hard time limit of this run, checkpoint included")
    parser.add_argument("--steps", type=int, help="stop when the global step reaches this")
    parser.add_argument("--resume", type=Path, help="checkpoint (or run folder) to continue from")
    parser.add_argument("--batch", type=int, help="batch size (default 16; smoke 2)")
    if model == "lbam":
        parser.add_argument("--width", type=float, help="channel width factor, a multiple of 1/64 (default 0.5)")
    parser.add_argument("--seed", type=int, help="seed of weights init and of the data stream (default 0)")
    parser.add_argument("--category-weights", help="sampling weight per category, e.g. face=1,scene=1,old=0.5 "
                        "(default: every category equally often)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny CPU run: small crops, batch 2, tiny width (LBAM), no compile, no workers")
    parser.add_argument("--workers", type=int, help="data-loading processes (default: cores - 2 on CUDA, 0 on CPU)")
    parser.add_argument("--device", help="cuda, cpu, ... (default: CUDA when available)")
    parser.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                        help="torch.compile (auto: on CUDA; falls back to eager if compiling fails)")
    parser.add_argument("--moments", choices=("bf16", "fp32"), default="bf16",
                        help="precision of the stored Adam moments (fp32: bit-exact resume, larger files)")
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0, help="checkpoint interval (default 5)")
    parser.add_argument("--preview-minutes", type=float, default=3.0, help="preview interval (default 3)")
    parser.add_argument("--log-seconds", type=float, default=30.0, help="log interval (default 30)")
    parser.add_argument("--keep", type=int, default=2, help="checkpoints kept in the run folder (default 2)")
    parser.set_defaults(run=run_train, model=model)


def parse_weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    weights = {}
    for part in text.split(","):
        name, separator, value = part.partition("=")
        if not separator:
            raise ValueError(f"category weight {part!r} is not NAME=NUMBER")
        weights[name.strip()] = float(value)
    return weights


def run_train(args: argparse.Namespace) -> int:
    from inference.training.checkpoints import CheckpointError
    from inference.training.loop import StopSignal, TrainRequest, train
    from inference.training.packfile import PackError

    try:
        request = TrainRequest(
            model=args.model, pack=args.pack, out=args.out, minutes=args.minutes, steps=args.steps,
            resume=args.resume, batch=args.batch, width=getattr(args, "width", None), seed=args.seed,
            category_weights=parse_weights(args.category_weights), smoke=args.smoke, workers=args.workers,
            device=args.device, compile=args.compile, moments=args.moments,
            checkpoint_minutes=args.checkpoint_minutes, preview_minutes=args.preview_minutes,
            log_seconds=args.log_seconds, keep=args.keep,
        )
        if args.smoke and args.steps is None and args.minutes is None:
            request.steps = 3
        with StopSignal().installed() as stop:
            result = train(request, log=lambda line: print(line, flush=True), stop=stop)
    except (PackError, CheckpointError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from inference.training.distributed import ranks_from_environment

    if ranks_from_environment().leader:  # under torchrun, one summary for the run, not one per rank
        ranks = f", {result.ranks} ranks" if result.ranks > 1 else ""
        print(f"done: step {result.step}, {result.samples_seen} samples seen, "
              f"{result.samples_per_second:.1f} samples/s this run{ranks}, checkpoint {result.checkpoint}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from inference.training.checkpoints import CheckpointError
    from inference.training.export import export_checkpoint
    from inference.weights.store import WeightsError

    try:
        path, card = export_checkpoint(args.checkpoint, args.output, overwrite=args.force)
    except (CheckpointError, WeightsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    size = path.stat().st_size / 2**20
    print(f"wrote {path} ({size:.1f} MiB, {card['parameter_count']:,} parameters, step {card['training']['steps']}) "
          f"and {path.with_suffix('.json').name}")
    return 0


def run_travel(args: argparse.Namespace) -> int:
    from inference.training.checkpoints import CheckpointError, travel_groups

    try:
        groups = travel_groups(args.checkpoint)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for index, group in enumerate(groups, start=1):
        size = sum(path.stat().st_size for path in group) / 2**20
        print(f"# batch {index}: {len(group)} files, {size:.1f} MiB")
        print(" ".join(str(path) for path in group))
    return 0
