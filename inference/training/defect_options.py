"""Command-line options of ``train defects`` and ``train defects-calibrate``.

Kept apart from the trainer so that the CLI can list them without importing torch.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
DATA = PROJECT.parent / "shared" / "data"
DEFAULT_OUTPUT = PROJECT / "weights" / "defect_detector.safetensors"


def add_training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DATA, help="the folder holding train/ (default ../shared/data)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help="weights file (default weights/defect_detector.safetensors)")
    parser.add_argument("--minutes", type=float, default=50.0, help="stop after this long (the schedule fits it)")
    parser.add_argument("--steps", type=int, default=100_000, help="or after this many steps")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=128, help="crop side in px")
    parser.add_argument("--renders", type=int, default=3, help="differently damaged copies of each photo")
    parser.add_argument("--photos", type=int, default=0, help="use only this many training photos (0: all)")
    parser.add_argument("--val-photos", type=int, default=40, help="train photos held out for calibration")
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 24, 32, 48, 64], help="channels per level")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (cosine down to 5 %%)")
    parser.add_argument("--init", type=Path, help="start from these detector weights (fine-tuning) instead of random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes making examples")


def add_calibration_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("weights", type=Path, help="the detector's .safetensors (its card gets the thresholds)")
    parser.add_argument("--data", type=Path, default=DATA, help="the folder holding train/ (default ../shared/data)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--photos", type=int, default=0, help="only the first N held-out photos (0: all)")
    parser.add_argument("--table", type=Path, help="also write every setting's counts here (JSON lines)")
