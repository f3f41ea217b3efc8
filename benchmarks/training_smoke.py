"""Training throughput on CPU: smoke runs (a sanity figure only; real training runs on a GPU).

    .venv/bin/python benchmarks/training_smoke.py             # print the section
    .venv/bin/python benchmarks/training_smoke.py --write     # also (re)write "Training (CPU smoke)" in docs/benchmarks.md

Builds a pack of generated photos in a temporary folder, runs each model's --smoke configuration
for --steps steps (one thread, as the smoke tests do) and reports the median samples/s of the steps
after the first two (which include one-off set-up), plus optional full-size single steps on a
real pack (--pack packs/train) at batch 2.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.training.loop import TrainRequest, train  # noqa: E402
from inference.training.pack import prepare_pack  # noqa: E402
from inference.training.synthetic import write_synthetic_photos  # noqa: E402

SECTION = "## Training (CPU smoke)"
DOC = ROOT / "docs" / "benchmarks.md"


def rates(model: str, pack: Path, out: Path, steps: int, smoke: bool, batch: int | None = None) -> list[float]:
    request = TrainRequest(model=model, pack=pack, out=out, steps=steps, smoke=smoke, batch=batch,
                           log_seconds=0.0, compile="off", preview_minutes=1e9, checkpoint_minutes=1e9)
    train(request, log=lambda _line: None)
    with open(out / "log.jsonl", encoding="utf-8") as stream:
        return [json.loads(line)["samples_per_second"] for line in stream]




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--pack", type=Path, help="also time 3 full-size CPU steps (batch 2) on this pack")
    parser.add_argument("--write", action="store_true", help="(re)write the section of docs/benchmarks.md")
    args = parser.parse_args()
    before = report.load_average()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        source = write_synthetic_photos(folder / "source", count=6, seed=0)
        prepare_pack(source / "photos", folder / "pack", edges_folder=source / "edges", log=lambda _line: None)
        for model, shape in (("deepfill", "64² batch 2, full network"), ("lbam", "256² batch 2, width 1/16")):
            measured = rates(model, folder / "pack", folder / model, args.steps, smoke=True)
            rows.append((f"{model} --smoke", shape, "1", statistics.median(measured[2:]), max(measured[2:])))
        if args.pack is not None:
            torch.set_num_threads(2)
            for model, shape in (("deepfill", "256² batch 2, full network"), ("lbam", "256² batch 2, width 0.5")):
                measured = rates(model, args.pack, folder / f"{model}-full", 3, smoke=False, batch=2)
                rows.append((f"{model} (real pack)", shape, str(torch.get_num_threads()),
                             statistics.median(measured[1:]), max(measured[1:])))
    lines = [
        SECTION, "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; torch {torch.__version__}; {platform.system()} "
        f"{platform.release()}.",
        f"Date: {datetime.date.today().isoformat()}. Command: `python benchmarks/training_smoke.py --steps {args.steps}"
        f"{' --pack ' + str(args.pack) if args.pack else ''} --write`.",
        "Samples per second of whole training steps (data, generator, discriminator, both optimiser updates), "
        "fp32, no compile; median (and best) over the steps after the first two (real pack: after the first of 3).",
        f"1-minute load average before / after: {before} / {report.load_average()}. A CPU figure "
        "is a sanity check only: training proper needs a GPU (docs/training.md).",
        "",
        "| run | crops | threads | samples/s (median) | best |",
        "|---|---|---|---|---|",
        *(f"| {name} | {shape} | {threads} | {median:.2f} | {best:.2f} |" for name, shape, threads, median, best in rows),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        report.write_section(SECTION, text, DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
