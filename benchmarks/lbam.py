"""LBAM generator: parameters, fp16 file size, FLOPs and forward time at 256x256, per width.

    .venv/bin/python benchmarks/lbam.py                 # print the table
    .venv/bin/python benchmarks/lbam.py --write         # also (re)write the "LBAM" section of docs/benchmarks.md

Random weights (speed does not depend on their values). CPU rows run fp32 under inference_mode;
CUDA rows (only where a GPU is present) run fp16 autocast with synchronised timing. The widths
are timed round-robin, one pass each per round, so a change in machine load hits them alike.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.engines.lbam.network import build_generator, parameter_count  # noqa: E402

SIZE = 256
SECTION = "## LBAM"
DOC = ROOT / "docs" / "benchmarks.md"
NO_GPU = "no GPU lent to this issue"
SHIPPING_BUDGET_MB = 40.0  # the largest fp16 weight file we ship


def _inputs(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, SIZE, SIZE, generator=generator)
    known = torch.ones(1, 3, SIZE, SIZE)
    known[:, :, 64:160, 80:200] = 0
    inputs = torch.cat((image * known, known[:, :1]), dim=1)
    return inputs.to(device), known.to(device)


def fp16_file_megabytes(model: torch.nn.Module) -> float:
    """Size of the safetensors file of the state dict in fp16 (header included)."""
    state = {key: tensor.detach().half().contiguous() for key, tensor in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lbam.safetensors"
        save_file(state, str(path))
        return path.stat().st_size / 1e6


def gflops(model: torch.nn.Module) -> float:
    inputs, mask = _inputs("cpu")
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(inputs, mask)
    return counter.get_total_flops() / 1e9


def _one_pass(model: torch.nn.Module, inputs: torch.Tensor, mask: torch.Tensor, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    model(inputs, mask)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_round_robin(models: list[torch.nn.Module], device: str, repeats: int) -> list[list[float]]:
    """Seconds per pass for each model: one warm-up pass each, then ``repeats`` rounds."""
    inputs, mask = _inputs(device)
    samples: list[list[float]] = [[] for _ in models]
    autocast = torch.autocast("cuda", dtype=torch.float16, enabled=device == "cuda")
    with torch.inference_mode(), autocast:
        for model in models:
            _one_pass(model.to(device), inputs, mask, device)
        for _ in range(repeats):
            for index, model in enumerate(models):
                samples[index].append(_one_pass(model, inputs, mask, device))
    return samples


def measure(widths: list[float], repeats: int) -> list[dict[str, object]]:
    models = [build_generator(width, seed=0).eval() for width in widths]
    rows = [
        {"width": w, "params": parameter_count(m), "fp16_mb": fp16_file_megabytes(m), "gflops": gflops(m)}
        for w, m in zip(widths, models, strict=True)
    ]
    for row, samples in zip(rows, time_round_robin(models, "cpu", repeats), strict=True):
        row["cpu_ms"] = (1000 * statistics.median(samples), 1000 * min(samples))
    cuda = time_round_robin(models, "cuda", repeats) if torch.cuda.is_available() else [None] * len(rows)
    for row, samples in zip(rows, cuda, strict=True):
        row["cuda_ms"] = None if samples is None else (1000 * statistics.median(samples), 1000 * min(samples))
    return rows


def _ms(value: object) -> str:
    if value is None:
        return NO_GPU
    median, fastest = value  # type: ignore[misc]
    return f"{median:.0f} (min {fastest:.0f})" if median >= 10 else f"{median:.2f} (min {fastest:.2f})"


def table(rows: list[dict[str, object]]) -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    lines = [
        f"| width | parameters | fp16 file (MB) | GFLOPs @256² | CPU fp32 ms @256² | GPU fp16 ms @256² ({gpu}) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['width']:g} | {row['params']:,} | {row['fp16_mb']:.1f} | {row['gflops']:.1f} "
            f"| {_ms(row['cpu_ms'])} | {_ms(row['cuda_ms'])} |"
        )
    return "\n".join(lines)





def _proposal(rows: list[dict[str, object]]) -> str:
    fitting = [row for row in rows if row["fp16_mb"] <= SHIPPING_BUDGET_MB]
    if not fitting:
        return f"No measured width fits the {SHIPPING_BUDGET_MB:g} MB fp16 budget."
    best = max(fitting, key=lambda row: row["width"])
    return (
        f"Widest measured width whose fp16 file fits {SHIPPING_BUDGET_MB:g} MB (the proposed training width): "
        f"{best['width']:g} ({best['params']:,} parameters, {best['fp16_mb']:.1f} MB)."
    )


def section(rows: list[dict[str, object]], args: argparse.Namespace, loads: tuple[str, str]) -> str:
    machine = f"{report.cpu_name()} ({os.cpu_count()} cores), {torch.get_num_threads()} torch threads"
    widths = " ".join(f"{w:g}" for w in args.widths)
    command = f"python benchmarks/lbam.py --widths {widths} --repeats {args.repeats} --write"
    return "\n".join([
        SECTION,
        "",
        f"Machine: {machine}; torch {torch.__version__}; {platform.system()} {platform.release()}.",
        f"Date: {datetime.date.today().isoformat()}. Command: `{command}`.",
        f"One 1x4x256x256 generator forward pass, random weights; median (and fastest) of {args.repeats} "
        "runs after one warm-up, widths timed round-robin.",
        f"1-minute load average before / after: {loads[0]} / {loads[1]}.",
        "FLOPs: torch.utils.flop_counter.FlopCounterMode (2 per multiply-add; convolutions only).",
        "fp16 file: safetensors of the state dict in float16 (what a trained model is shipped as).",
        _proposal(rows),
        *(args.note or []),
        "",
        table(rows),
        "",
    ])



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=float, nargs="+", default=[1.0, 0.75, 0.5, 0.25])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--note", action="append", help="a line added to the section (repeatable)")
    parser.add_argument("--write", action="store_true", help="(re)write the LBAM section of docs/benchmarks.md")
    args = parser.parse_args()
    before = report.load_average()
    rows = measure(args.widths, args.repeats)
    text = section(rows, args, (before, report.load_average()))
    print(text)
    if args.write:
        report.write_section(SECTION, text, DOC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
