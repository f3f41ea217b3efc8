"""HED edge detector: forward time at 512x512 and 1024x768 on CPU (and CUDA where present).

    .venv/bin/python benchmarks/hed.py                # print the section
    .venv/bin/python benchmarks/hed.py --write        # also (re)write the "HED" section of docs/benchmarks.md

Times the network alone (RGB uint8 already a float tensor) under inference_mode, fp32, random weights:
speed does not depend on their values, so the benchmark runs without the fetched weights.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.edges.network import HED  # noqa: E402

SIZES = ((512, 512), (768, 1024))  # (height, width)
SECTION = "## HED"
DOC = ROOT / "docs" / "benchmarks.md"


def time_forward(network: HED, height: int, width: int, device: str, repeats: int) -> float:
    """Median seconds of one forward pass at height x width, after one warm-up pass."""
    batch = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0)).mul(255).to(device)
    samples = []
    with torch.inference_mode():
        for index in range(repeats + 1):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            network(batch)
            if device == "cuda":
                torch.cuda.synchronize()
            if index:
                samples.append(time.perf_counter() - start)
    return statistics.median(samples)



def measure(repeats: int) -> list[tuple[str, str, float]]:
    torch.manual_seed(0)
    network = HED().eval()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        network = network.to(device)
        for height, width in SIZES:
            seconds = time_forward(network, height, width, device, repeats)
            rows.append((device, f"{width}x{height}", seconds))
            print(f"{device} {width}x{height}: {seconds * 1000:.0f} ms", flush=True)
    return rows


def section(rows: list[tuple[str, str, float]], repeats: int, note: str) -> str:
    command = f"python benchmarks/hed.py --repeats {repeats} --write"  # the note is not part of the recipe
    lines = [
        SECTION,
        "",
        f"Machine: {report.cpu_name()}, {torch.get_num_threads()} torch threads; torch {torch.__version__}; "
        f"{platform.system()} {platform.release()}.",
        f"Date: {datetime.date.today().isoformat()}. Command: `{command}`.",
        f"One HED forward pass (fp32, batch 1, random weights), median of {repeats} runs after one warm-up. "
        "`detect_edges` caps the long side at 1024 px (larger Images run downscaled, result resized back).",
        *([note] if note else []),
        "",
        "| device | size (WxH) | forward ms |",
        "|---|---|---|",
        *(f"| {device} | {size} | {seconds * 1000:.0f} |" for device, size, seconds in rows),
        "",
    ]
    return "\n".join(lines)



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--note", default="", help="a line added to the section (e.g. machine load)")
    parser.add_argument("--write", action="store_true", help="(re)write the HED section of docs/benchmarks.md")
    args = parser.parse_args()
    text = section(measure(args.repeats), args.repeats, args.note)
    print(text)
    if args.write:
        report.write_section(SECTION, text, DOC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
